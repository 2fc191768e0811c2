"""BG/NBD purchase counts and Gamma-Gamma spend: a customer base's future, customer by customer.

The BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way")
describes each customer by a purchase rate ``lambda ~ Gamma(r, alpha)`` (purchases per
time unit, Poisson while the customer is alive) and a dropout probability
``p ~ Beta(a, b)`` (after every purchase the customer leaves for good with probability
``p``). From each customer's repeat purchases ``x``, the time of the last one ``t_x``
(from the first purchase) and the time observed ``T``, the four parameters are fitted
by maximum likelihood (closed form) and each customer's future follows from the
posterior: alive or not, and if alive, the rate and dropout probability given what the
customer did.

The Gamma-Gamma model (Fader, Hardie & Lee 2005, "RFM and CLV") gives each customer a
spend per purchase ``z ~ Gamma(p, nu)`` with ``nu ~ Gamma(q, gamma)`` across customers;
a customer's mean spend over ``n`` purchases then updates ``nu`` by conjugacy, so a
customer seen once is shrunk to the pool and a regular keeps close to their own mean.

Times are in any unit (the caller's); alpha and the spend scale ``gamma`` are in that
unit and currency. Internal to alloc: used by
[`alloc.targets.customer_base`][alloc.targets.customer_base].
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

__all__ = [
    "LOG_BOUND",
    "CountFit",
    "SpendFit",
    "bgnbd_loglik",
    "expected_purchases",
    "fit_counts",
    "fit_spend",
    "gamma_gamma_loglik",
    "p_alive",
    "simulate_customers",
]

FloatArray = npt.NDArray[np.float64]

#: Step of the numerical Hessian in log-parameter space.
_HESSIAN_STEP = 1e-3
#: Log-parameters are kept in this box: the likelihood is flat beyond it on real data.
LOG_BOUND = 12.0


class CountFit(NamedTuple):
    """Fitted BG/NBD parameters.

    Attributes
    ----------
    params : numpy.ndarray
        ``(r, alpha, a, b)``.
    log_cov : numpy.ndarray
        Covariance (4 x 4) of the log-parameters from the observed information; zeros
        when the Hessian is not positive definite.
    loglik : float
        Maximised log-likelihood.
    """

    params: FloatArray
    log_cov: FloatArray
    loglik: float


class SpendFit(NamedTuple):
    """Fitted Gamma-Gamma parameters ``(p, q, gamma)`` and the covariance of their logs."""

    params: FloatArray
    log_cov: FloatArray
    loglik: float


def bgnbd_loglik(params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    """Per-customer BG/NBD log-likelihood at ``params = (r, alpha, a, b)``."""
    r, alpha, a, b = params
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    alive = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(
            repeat,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return np.asarray(head + np.logaddexp(alive, left), dtype=np.float64)


def gamma_gamma_loglik(params: FloatArray, n: FloatArray, mean: FloatArray) -> FloatArray:
    """Per-customer Gamma-Gamma log-likelihood of mean spends ``mean`` over ``n`` purchases."""
    p, q, scale = params
    px = p * n
    return np.asarray(
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(scale)
        + (px - 1) * np.log(mean * n)
        + np.log(n)
        - (px + q) * np.log(scale + mean * n),
        dtype=np.float64,
    )


def _fit(loglik: object, start: FloatArray) -> tuple[FloatArray, FloatArray, float]:
    """Maximise a sum of per-customer log-likelihoods over log-parameters."""

    def objective(theta: FloatArray) -> float:
        values = loglik(np.exp(theta))  # type: ignore[operator]
        total = float(values.sum())
        return -total if np.isfinite(total) else 1e300

    bounds = [(-LOG_BOUND, LOG_BOUND)] * start.size
    options = {"ftol": 1e-13, "gtol": 1e-9, "maxiter": 1000}
    best = minimize(objective, start, method="L-BFGS-B", bounds=bounds, options=options)
    return best.x, _log_cov(objective, best.x), -float(best.fun)


def _distinct(*columns: FloatArray) -> tuple[list[FloatArray], FloatArray]:
    """Distinct rows of the columns and how often each occurs (customers share histories)."""
    rows, counts = np.unique(np.column_stack(columns), axis=0, return_counts=True)
    return [rows[:, i] for i in range(rows.shape[1])], counts.astype(np.float64)


def _log_cov(objective: object, theta: FloatArray) -> FloatArray:
    """Inverse of the numerical Hessian of ``objective`` at ``theta`` (zeros if singular)."""
    k, h = theta.size, _HESSIAN_STEP
    f = objective  # type: ignore[assignment]
    hess = np.empty((k, k))
    eye = np.eye(k) * h
    for i in range(k):
        for j in range(i, k):
            value = (
                f(theta + eye[i] + eye[j])  # type: ignore[operator]
                - f(theta + eye[i] - eye[j])  # type: ignore[operator]
                - f(theta - eye[i] + eye[j])  # type: ignore[operator]
                + f(theta - eye[i] - eye[j])  # type: ignore[operator]
            ) / (4 * h * h)
            hess[i, j] = hess[j, i] = value
    try:
        cov = np.linalg.inv(hess)
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return np.zeros((k, k))
    return np.asarray(cov, dtype=np.float64)


def fit_counts(x: FloatArray, t_x: FloatArray, T: FloatArray) -> CountFit:
    """Maximum-likelihood BG/NBD parameters from repeat purchases, recency and age.

    Parameters
    ----------
    x : numpy.ndarray
        Repeat purchases per customer (purchases after the first).
    t_x : numpy.ndarray
        Time of the last purchase since the first (0 when ``x == 0``).
    T : numpy.ndarray
        Time from the first purchase to the end of the fit window (``T >= t_x``).
    """
    mean_t = max(float(np.mean(T)), 1e-9)
    rate = max(float(np.mean(x)), 0.1) / mean_t
    start = np.log([1.0, 1.0 / rate, 1.0, 3.0])
    (ux, ut, uT), weight = _distinct(x, t_x, T)
    theta, cov, value = _fit(lambda prm: weight * bgnbd_loglik(prm, ux, ut, uT), start)
    return CountFit(np.exp(theta), cov, value)


def fit_spend(n: FloatArray, mean: FloatArray) -> SpendFit:
    """Maximum-likelihood Gamma-Gamma parameters from purchases and mean spend per customer.

    Customers with ``n == 0`` or a mean spend <= 0 are left out of the fit.
    """
    keep = (n > 0) & (mean > 0)
    n, mean = n[keep], mean[keep]
    centre = float(np.mean(mean)) if mean.size else 1.0
    start = np.log([2.0, 3.0, 2.0 * centre])
    (un, um), weight = _distinct(n, mean)
    theta, cov, value = _fit(lambda prm: weight * gamma_gamma_loglik(prm, un, um), start)
    return SpendFit(np.exp(theta), cov, value)


def p_alive(params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray) -> FloatArray:
    """Posterior probability that each customer is still active at ``T``.

    ``params`` may hold one row of ``(r, alpha, a, b)`` or one row per draw (shape
    (draws, 4)); the result broadcasts to (draws, customers).
    """
    r, alpha, a, b = (np.asarray(params, dtype=np.float64)[..., i, None] for i in range(4))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_odds = (
            np.log(a) - np.log(b + x - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        )
        odds = np.where(x > 0, np.exp(log_odds), 0.0)
    return np.asarray(1.0 / (1.0 + odds), dtype=np.float64)


def expected_purchases(
    params: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray, t: float
) -> FloatArray:
    """Expected purchases of each customer over the next ``t`` time units (closed form).

    Fader, Hardie & Lee (2005), equation 10. The closed form has a removable
    singularity at ``a = 1``, so ``a`` is moved off it by 1e-6; customers for whom
    ``hyp2f1`` does not return a finite number get the mean of 400 simulated futures.
    """
    r, alpha, a, b = (float(v) for v in params)
    if abs(a - 1) < 1e-6:
        a = 1 + 1e-6
    alive = p_alive(np.asarray(params, dtype=np.float64)[None, :], x, t_x, T)[0]
    z = t / (alpha + T + t)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        tail = ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
        value = (a + b + x - 1) / (a - 1) * (1 - tail) * alive
    bad = ~np.isfinite(value)
    if bad.any():
        rng = np.random.default_rng(0)
        draws = np.tile(np.asarray(params, dtype=np.float64), (400, 1))
        counts = _alive_counts(rng, draws, x[bad], T[bad], t).mean(axis=0)
        value[bad] = alive[bad] * counts
    return np.asarray(value, dtype=np.float64)


def _alive_counts(
    rng: np.random.Generator, params: FloatArray, x: FloatArray, T: FloatArray, t: float
) -> FloatArray:
    """Purchases over the next ``t`` of customers known to be alive, shape (draws, customers)."""
    r, alpha, a, b = (params[:, i, None] for i in range(4))
    shape = (params.shape[0], x.size)
    rate = rng.gamma(r + x, 1.0, size=shape) / (alpha + T)
    dropout = rng.beta(a + np.zeros(shape), b + x)
    arrivals = rng.poisson(rate * t)
    # After each purchase the customer leaves with probability p: the number of
    # purchases up to and including the one after which they leave is geometric.
    lifetime = rng.geometric(np.clip(dropout, 1e-12, 1.0))
    return np.minimum(arrivals, lifetime).astype(np.float64)


def simulate_customers(
    rng: np.random.Generator,
    counts: FloatArray,
    spend: FloatArray,
    data: tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray],
    t: float,
) -> FloatArray:
    """One value per draw and customer: what each customer spends over the next ``t``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the draws.
    counts : numpy.ndarray
        BG/NBD parameters per draw, shape (draws, 4) (parameter uncertainty enters by
        drawing them, one row per draw).
    spend : numpy.ndarray
        Gamma-Gamma parameters per draw, shape (draws, 3).
    data : tuple of numpy.ndarray
        ``(x, t_x, T, n, mean)``: repeat purchases, recency, age, purchases with a
        positive value and their mean value, per customer.
    t : float
        Length of the future window, in the unit of ``t_x`` and ``T``.

    Returns
    -------
    numpy.ndarray
        Shape (draws, customers).
    """
    x, t_x, T, n, mean = data
    alive = rng.random((counts.shape[0], x.size)) < p_alive(counts, x, t_x, T)
    future = np.where(alive, _alive_counts(rng, counts, x, T, t), 0.0)
    p, q, scale = (spend[:, i, None] for i in range(3))
    # Posterior of the customer's spend rate nu: Gamma(q + p n, scale + n * mean).
    nu = rng.gamma(q + p * n, 1.0, size=future.shape) / (scale + n * mean)
    total = rng.gamma(np.maximum(p * future, 1e-300), 1.0) / nu
    return np.where(future > 0, total, 0.0)
