"""[`fit_win_model`][alloc.leads.fit_win_model]: win probabilities from past leads.

A logistic regression fitted by Newton's method (iteratively reweighted least squares)
in numpy, with a ridge penalty on every coefficient but the intercept:

    logit p(lead i, rep r) = b0 + lead_features_i . b + a_r + s_{r, g(i)}

- ``lead_features``: categorical columns (one indicator per value) and numeric columns
  (standardised);
- ``a_r``: one effect per rep (its level or quality);
- ``s_{r, g}``: the rep's skill on group ``g`` of the ``skill_by`` column (e.g. segment).

The penalty (``l2``) keeps the fit finite when a rep never won or never saw a segment,
and shrinks small-sample effects towards 0. No statsmodels: the design is a dense
matrix of a few hundred columns, and Newton converges in a few steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from alloc.errors import InvalidParameterError, InvalidProblemError, format_ids
from alloc.validation import check_param, is_int, is_real_at_least

__all__ = ["WinModel", "fit_win_model"]


@dataclass(frozen=True)
class _Spec:
    categorical: dict[str, list[Any]]
    numeric: dict[str, tuple[float, float]]  # mean, std
    reps: list[Any]
    skill_by: str | None
    skill_levels: list[Any]

    def names(self) -> list[str]:
        out = ["intercept"]
        out += [f"{c}={v}" for c, vs in self.categorical.items() for v in vs]
        out += list(self.numeric)
        out += [f"rep={r}" for r in self.reps]
        out += [f"rep={r} x {self.skill_by}={g}" for r in self.reps for g in self.skill_levels]
        return out

    def design(self, frame: pd.DataFrame, rep_codes: np.ndarray) -> np.ndarray:
        n = len(frame)
        blocks = [np.ones((n, 1))]
        for column, values in self.categorical.items():
            codes = pd.Index(values).get_indexer(frame[column])
            block = np.zeros((n, len(values)))
            known = codes >= 0  # a value unseen in the history adds nothing
            block[np.flatnonzero(known), codes[known]] = 1.0
            blocks.append(block)
        for column, (mean, std) in self.numeric.items():
            x = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
            blocks.append(((np.nan_to_num(x, nan=mean) - mean) / std)[:, None])
        rep_block = np.zeros((n, len(self.reps)))
        rows = np.flatnonzero(rep_codes >= 0)
        rep_block[rows, rep_codes[rows]] = 1.0
        blocks.append(rep_block)
        if self.skill_by is not None:
            g = pd.Index(self.skill_levels).get_indexer(frame[self.skill_by])
            skill = np.zeros((n, len(self.reps) * len(self.skill_levels)))
            ok = np.flatnonzero((rep_codes >= 0) & (g >= 0))
            skill[ok, rep_codes[ok] * len(self.skill_levels) + g[ok]] = 1.0
            blocks.append(skill)
        return np.hstack(blocks)


@dataclass(frozen=True)
class WinModel:
    """A fitted win model (from [`fit_win_model`][alloc.leads.fit_win_model]).

    Attributes
    ----------
    coefficients : pandas.Series
        Fitted coefficients by name (numeric features per standard deviation).
    iterations : int
        Newton steps taken.
    converged : bool
        The last step changed no coefficient by more than the tolerance.
    """

    coefficients: pd.Series
    iterations: int
    converged: bool
    _spec: _Spec

    def predict(self, leads: pd.DataFrame, pairs: pd.DataFrame | None = None) -> pd.DataFrame:
        """Win probabilities ``lead_id, rep_id, p_win`` for the eligible pairs.

        Parameters
        ----------
        leads : pandas.DataFrame
            ``lead_id`` and the model's lead features (and its ``skill_by`` column).
        pairs : pandas.DataFrame, optional
            ``lead_id, rep_id`` of the eligible pairs; every lead x every rep of the
            history when omitted. Reps unseen in the history get no rep effect.

        Returns
        -------
        pandas.DataFrame
            Usable as the ``win_prob`` of [`simulate`][alloc.leads.simulate].
        """
        spec = self._spec
        if pairs is None:
            pairs = pd.DataFrame(
                {
                    "lead_id": np.repeat(leads["lead_id"].to_numpy(), len(spec.reps)),
                    "rep_id": np.tile(np.asarray(spec.reps, dtype=object), len(leads)),
                }
            )
        at = pd.Index(leads["lead_id"]).get_indexer(pairs["lead_id"])
        if (at < 0).any():
            unknown = pairs["lead_id"][at < 0].unique().tolist()
            raise InvalidProblemError(f"pairs name unknown lead_id {format_ids(unknown)}.")
        frame = leads.iloc[at].reset_index(drop=True)
        x = spec.design(frame, pd.Index(spec.reps).get_indexer(pairs["rep_id"]))
        p = 1.0 / (1.0 + np.exp(-(x @ self.coefficients.to_numpy())))
        return pd.DataFrame(
            {
                "lead_id": pairs["lead_id"].to_numpy(),
                "rep_id": pairs["rep_id"].to_numpy(),
                "p_win": p,
            }
        )


def _spec(
    history: pd.DataFrame, lead_features: Sequence[str], skill_by: str | None, rep_col: str
) -> _Spec:
    categorical: dict[str, list[Any]] = {}
    numeric: dict[str, tuple[float, float]] = {}
    for column in lead_features:
        series = history[column]
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            x = series.to_numpy(dtype=float)
            std = float(np.nanstd(x))
            numeric[column] = (float(np.nanmean(x)), std if std > 0 else 1.0)
        else:
            categorical[column] = sorted(series.dropna().unique().tolist(), key=str)
    reps = sorted(history[rep_col].unique().tolist(), key=str)
    levels = (
        [] if skill_by is None else sorted(history[skill_by].dropna().unique().tolist(), key=str)
    )
    return _Spec(categorical, numeric, reps, skill_by, levels)


def _newton(
    x: np.ndarray, y: np.ndarray, l2: float, max_iter: int, tol: float
) -> tuple[np.ndarray, int, bool]:
    """Penalised logistic regression by Newton steps (intercept not penalised)."""
    beta = np.zeros(x.shape[1])
    mean = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
    beta[0] = np.log(mean / (1 - mean))
    penalty = np.full(x.shape[1], float(l2))
    penalty[0] = 0.0
    for step in range(1, max_iter + 1):
        p = 1.0 / (1.0 + np.exp(-(x @ beta)))
        w = p * (1 - p)
        grad = x.T @ (y - p) - penalty * beta
        hess = (x * w[:, None]).T @ x + np.diag(penalty) + 1e-10 * np.eye(x.shape[1])
        delta = np.linalg.solve(hess, grad)
        beta = beta + delta
        if float(np.max(np.abs(delta))) < tol:
            return beta, step, True
    return beta, max_iter, False


def fit_win_model(
    history: pd.DataFrame,
    *,
    lead_features: Sequence[str] = (),
    skill_by: str | None = None,
    rep_col: str = "rep_id",
    outcome: str = "won",
    l2: float = 1.0,
    max_iter: int = 50,
    tol: float = 1e-8,
) -> WinModel:
    """Fit a logistic win model on past leads with outcomes (Newton / IRLS, numpy only).

    Parameters
    ----------
    history : pandas.DataFrame
        One row per past lead: the rep who worked it (``rep_col``), the ``outcome``
        (won: 1/0 or True/False) and the lead attributes.
    lead_features : sequence of str
        Lead columns: categorical (text, bool) or numeric (standardised).
    skill_by : str, optional
        A categorical lead column (e.g. ``"segment"``): each rep gets a skill per value.
    rep_col, outcome : str
        Column names.
    l2 : float
        Ridge penalty (>= 0) on every coefficient except the intercept.
    max_iter : int
        Most Newton steps.
    tol : float
        Stop when no coefficient moves by more than this.

    Returns
    -------
    WinModel

    Examples
    --------
    >>> import alloc.leads as al
    >>> s = al.make_leads(n_leads=3000, n_reps=10, n_days=30, seed=0)
    >>> history = al.make_history(s, seed=1)
    >>> model = al.fit_win_model(history, lead_features=["segment", "source", "quality"],
    ...                          skill_by="segment")
    >>> model.converged
    True
    """
    if not isinstance(history, pd.DataFrame):
        raise InvalidParameterError(
            "the 'history' parameter of fit_win_model must be a DataFrame; got "
            f"{type(history).__name__}."
        )
    check_param("l2", l2, "fit_win_model", is_real_at_least(l2, 0), "a number >= 0")
    check_param(
        "max_iter", max_iter, "fit_win_model", is_int(max_iter) and max_iter >= 1, "an integer >= 1"
    )
    check_param("tol", tol, "fit_win_model", is_real_at_least(tol, 0, strict=True), "a number > 0")
    if isinstance(lead_features, str):
        lead_features = [lead_features]
    needed = [rep_col, outcome, *lead_features, *([skill_by] if skill_by else [])]
    missing = [c for c in needed if c not in history.columns]
    if missing:
        raise InvalidProblemError(
            f"the history lacks column(s) {format_ids(missing)}; it has "
            f"{format_ids(list(map(str, history.columns)), 12)}."
        )
    if history.empty:
        raise InvalidProblemError(
            "the history has no rows; fit_win_model needs past leads with outcomes."
        )
    y_raw = history[outcome]
    y = pd.to_numeric(
        y_raw.astype("float64") if y_raw.dtype == bool else y_raw, errors="coerce"
    ).to_numpy(dtype=float)
    bad = ~np.isin(y, (0.0, 1.0))
    if bad.any():
        raise InvalidProblemError(
            f"column {outcome!r} of the history must hold 1/0 or True/False; rows "
            f"{format_ids(history.index[bad].tolist())} hold {format_ids(y_raw[bad].tolist())}."
        )
    spec = _spec(history, list(lead_features), skill_by, rep_col)
    x = spec.design(
        history.reset_index(drop=True), pd.Index(spec.reps).get_indexer(history[rep_col])
    )
    beta, steps, converged = _newton(x, y, float(l2), int(max_iter), float(tol))
    return WinModel(pd.Series(beta, index=spec.names()), steps, converged, spec)
