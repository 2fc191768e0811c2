"""Integer scaling of a model's rows for CP-SAT: exact where the data allow, a relaxation
where they do not.

Rows are scaled one by one: whole numbers stay as they are, decimals of up to six places
are multiplied by ``10**d`` (exact), other floats are scaled to about 1e6 per largest
weight (approximate, recorded in `Scaled.error`). Limits are rounded *outward* from
the allowed limits of `alloc.data.tolerance`, so when the weights are exact the
integer model is a relaxation of the raw one and an INFEASIBLE from it is a proof;
`relaxation` widens the rounded rows so that the same holds for approximate ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from alloc.data.model import Model
from alloc.solvers.state import Rows

__all__ = ["NO_BOUND", "Scaled", "relaxation", "scale_global_row"]

_TARGET = 1_000_000
#: Decimals of up to this many places are scaled exactly (factor ``10**d``)...
_MAX_DECIMALS = 6
#: ... when the largest scaled weight stays within this magnitude.
_MAX_WHOLE = 1e9
#: A scaled weight within this much (relative, floor 1) of a whole number is that number:
#: the float noise of a decimal (2.2 * 10 = 22.000000000000004, 2e-16) and no more. It
#: was 1e-6 absolute, which took float32 data (0.1 read as 0.10000000149) for decimals:
#: the drift summed over a territory then crossed an integer limit and a feasible map
#: was "proven" INFEASIBLE (found by the review of the per-unit territory proof).
#: Summed over any plan the drift stays below the limits' own margin (_LIMIT_NOISE).
_DECIMAL_NOISE = 1e-14
#: Relative float noise allowed for when rounding scaled limits outward.
_LIMIT_NOISE = 1e-12
#: Bounds beyond this magnitude mean "no bound" (Scaled stores absent bounds as +-2**50).
NO_BOUND = 2**49


def _whole(scaled: np.ndarray) -> bool:
    """True when every value is a whole number up to a decimal's float noise."""
    drift = np.abs(scaled - np.round(scaled))
    return bool(np.all(drift <= _DECIMAL_NOISE * np.maximum(1.0, np.abs(scaled))))


def _decimal_places(values: np.ndarray) -> int | None:
    """The fewest decimal places ``d <= 6`` that write every value exactly, or None.

    ``values * 10**d`` must be whole within float noise (``_DECIMAL_NOISE`` of a scaled
    unit) and at most ``_MAX_WHOLE`` in magnitude, so that CP-SAT's integer row is the
    raw row itself (1.7, 2.24 and 0.2 become 170, 224 and 20).
    """
    largest = float(values.max()) if values.size else 0.0
    for d in range(_MAX_DECIMALS + 1):
        scaled = values * 10.0**d
        if largest * 10.0**d > _MAX_WHOLE:
            return None
        if _whole(scaled):
            return d
    return None


def _scale_factor(values: np.ndarray, soft: bool = False, approximate: bool = False) -> float:
    """Integer scale of one row: exact for whole numbers and decimals, else ~1e6 per max.

    Whole numbers keep factor 1 and decimals of up to six places get ``10**d`` (the
    integer row is then exact); other float data are scaled so the largest weight is
    about ``_TARGET`` (an approximation, recorded in `Scaled.error`).

    Imbalance rows (``soft``) take the exact decimal scale only where it stays within
    ``_TARGET``: their totals become objective coefficients ``1 / T``, and CP-SAT's
    float objective loses its bound when ``T`` is in the billions (measured: a
    "best bound" equal to a plan 16 times the optimum). Rows CP-SAT models
    approximately anyway (``approximate``: max-norm with unequal fair shares, sum-norm
    with irrational ones) keep the ``_TARGET`` scale, as before.
    """
    finite = np.abs(values[np.isfinite(values)])
    if finite.size == 0 or finite.max() == 0:
        return 1.0
    if _whole(finite) and finite.max() <= 1e9:
        return 1.0
    largest = float(finite.max())
    places = None if approximate else _decimal_places(finite)
    if places is None or (soft and largest * 10.0**places > _TARGET):
        return _TARGET / largest
    return 10.0**places


def _outward_limits(lo: np.ndarray, hi: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """Integer limits of a row rounded outward from its allowed (tolerance-widened) limits.

    ``hi`` rounds down and ``lo`` up only past a margin of float noise, so a plan whose
    raw loads meet the allowed limits always meets the integer ones: the integer model
    never cuts off a raw-feasible plan.
    """
    out_lo = np.full(lo.shape, -(2**50), dtype=np.int64)
    out_hi = np.full(hi.shape, 2**50, dtype=np.int64)
    fin_lo, fin_hi = np.isfinite(lo), np.isfinite(hi)
    s_lo, s_hi = lo[fin_lo] * factor, hi[fin_hi] * factor
    out_lo[fin_lo] = np.ceil(s_lo - _LIMIT_NOISE * np.maximum(1.0, np.abs(s_lo))).astype(np.int64)
    out_hi[fin_hi] = np.floor(s_hi + _LIMIT_NOISE * np.maximum(1.0, np.abs(s_hi))).astype(np.int64)
    return out_lo, out_hi


@dataclass(frozen=True, eq=False)
class Scaled:
    """Integer-scaled rows of a model for CP-SAT."""

    weight: np.ndarray  # (P, K) int64
    lo: np.ndarray  # (K, R) int64 (very negative when absent)
    hi: np.ndarray  # (K, R) int64 (very large when absent)
    factor: np.ndarray  # (K,)
    total: np.ndarray  # (K,) int64: total of each imbalance row (0 for hard rows)
    equal_share: np.ndarray  # (K,) bool
    error: float  # largest relative rounding error of a weight (0: exact integer rows)
    # Share weights as whole numbers: share[k, r] = total[k] * share_num[k, r] / share_den[k]
    # (share_den 0 when the weights are not small-denominator rationals).
    share_num: np.ndarray  # (K, R) int64
    share_den: np.ndarray  # (K,) int64

    @classmethod
    def from_rows(cls, model: Model, rows: Rows) -> Scaled:
        K, R = rows.n_rows, model.n_reps
        weight = np.zeros((model.n_pairs, K), dtype=np.int64)
        lo = np.full((K, R), -(2**50), dtype=np.int64)
        hi = np.full((K, R), 2**50, dtype=np.int64)
        factor = np.ones(K)
        total = np.zeros(K, dtype=np.int64)
        equal = np.zeros(K, dtype=bool)
        share_num = np.zeros((K, R), dtype=np.int64)
        share_den = np.zeros(K, dtype=np.int64)
        error = 0.0
        # One pair per unit carries the unit's weight; a unit without pairs (no eligible
        # rep: the precheck refuses such problems first) has none to read.
        first_pair = model.unit_start[:-1][np.diff(model.unit_start) > 0]
        for k in range(K):
            w = rows.weight[:, k]
            soft = bool(rows.imb_weight[k] != 0 or rows.is_max[k] or rows.is_sum[k])
            if soft:
                equal[k] = bool(np.allclose(rows.share[k], rows.share[k][0]))
                raw_total = float(w[first_pair].sum()) if model.n_pairs else 0.0
                share_den[k], share_num[k] = _rational_weights(rows.share[k], raw_total)
            # Rational shares are modelled exactly in both norms (see _max_weighted).
            approximate = bool((rows.is_max[k] or rows.is_sum[k]) and share_den[k] == 0)
            f = _scale_factor(w, soft, approximate)
            factor[k] = f
            wi = np.round(w * f).astype(np.int64)
            nz = w != 0
            if nz.any() and not _whole(w[nz] * f):
                # Whole numbers and decimals are exact (within float noise): error 0.
                error = max(error, float(np.max(np.abs(wi[nz] / f - w[nz]) / np.abs(w[nz]))))
            weight[:, k] = wi
            lo[k], hi[k] = _outward_limits(rows.lo[k], rows.hi[k], f)
            if soft:
                total[k] = int(wi[first_pair].sum()) if model.n_pairs else 0
        return cls(weight, lo, hi, factor, total, equal, error, share_num, share_den)


def relaxation(model: Model, rows: Rows, scaled: Scaled) -> Scaled:
    """``scaled`` with every hard row's integer limits widened into a sure relaxation.

    Rounding a weight ``w`` to ``round(w f)`` moves a rep's scaled load by at most the
    sum, over the pairs at that rep, of ``|round(w f) - w f|`` (each unit has at most one
    pair per rep). Widening each rep's integer limits by that much keeps every
    raw-feasible plan feasible, so an INFEASIBLE of the widened model proves the raw
    model infeasible. Exact rows (whole numbers, decimals) already are relaxations
    (their limits are rounded outward) and keep their limits; an exact scaling
    (``error == 0``) comes back unchanged.

    Parameters
    ----------
    model, rows, scaled : Model, Rows, Scaled

    Returns
    -------
    Scaled
        The same weights with widened hard-row limits.
    """
    if scaled.error == 0:
        return scaled
    lo, hi = scaled.lo.copy(), scaled.hi.copy()
    hard = np.flatnonzero(rows.pen_scale > 0)
    for k in hard.tolist():
        drift = np.abs(scaled.weight[:, k] - rows.weight[:, k] * scaled.factor[k])
        if not drift.size or _whole(rows.weight[:, k] * scaled.factor[k]):
            continue  # an exact row: its outward limits already are a relaxation
        carry = np.bincount(model.pair_rep, weights=drift, minlength=model.n_reps)
        # floor(a + b) <= floor(a) + ceil(b); the margin covers float noise in carry.
        widen = np.ceil(carry * (1 + 1e-9) + 1e-9).astype(np.int64)
        present_lo, present_hi = lo[k] > -NO_BOUND, hi[k] < NO_BOUND
        lo[k] = np.where(present_lo, lo[k] - widen, lo[k])
        hi[k] = np.where(present_hi, hi[k] + widen, hi[k])
    return replace(scaled, lo=lo, hi=hi)


def scale_global_row(
    weight: np.ndarray, allowed_hi: float, unit_start: np.ndarray
) -> tuple[np.ndarray, int, float, bool]:
    """A global row ``sum weight[p] x[p] <= hi`` (``alloc.Budget``) as integers.

    Returns ``(integer weights, integer hi, factor, exact)`` with the scaling of a hard
    row (whole numbers and decimals exact, other floats about 1e6 per largest weight).
    ``hi`` is rounded outward from the allowed (tolerance-widened) limit and, when the
    weights are approximate, widened by the most the rounding can move the load (the
    largest drift of each unit's pairs, summed), so the integer row is always a
    relaxation of the raw one (as `relaxation` does for per-rep rows).
    """
    factor = _scale_factor(weight)
    scaled = np.round(weight * factor).astype(np.int64)
    drift = np.abs(scaled - weight * factor)
    exact = bool(not drift.size or _whole(weight * factor))
    _, hi = _outward_limits(np.array([-np.inf]), np.array([allowed_hi]), factor)
    limit = int(hi[0])
    if not exact and np.isfinite(allowed_hi):
        carry = float(np.maximum.reduceat(drift, unit_start[:-1]).sum()) if drift.size else 0.0
        limit += int(np.ceil(carry * (1 + 1e-9) + 1e-9))
    return scaled, limit, factor, exact


def _rational_weights(share: np.ndarray, total: float) -> tuple[int, np.ndarray]:
    """(M, m) with share / total == m / M for whole m and a small M, else (0, 0s).

    ``total`` is the row's total load: fair shares sum to it, the reference loads of a
    soft window (``alloc.data.soft_windows``) to a multiple of it.
    """
    if total <= 0:
        return 0, np.zeros(share.size, dtype=np.int64)
    q = share / total
    for den in range(1, 1001):
        num = np.round(q * den)
        if np.allclose(q * den, num, rtol=0, atol=1e-9) and (num > 0).all():
            return den, num.astype(np.int64)
    return 0, np.zeros(share.size, dtype=np.int64)
