"""Lead-routing inputs: check the leads, reps and win probabilities, and index them.

Every public function of [`alloc.leads`][alloc.leads] starts here. The tables are
checked before any work (unknown ids, probabilities outside [0, 1], negative caps raise
[`InvalidProblemError`][alloc.errors.InvalidProblemError] naming them) and turned into
arrays: a period index per lead, a cap and a weight share per rep, and the eligible
(lead, rep) pairs with their win probability. A lead without any pair is kept: routers
send it to the fallback queue with a reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from alloc.errors import InvalidParameterError, InvalidProblemError, format_ids

__all__ = ["LeadInputs", "PeriodBatch", "WinProb", "prepare_inputs"]

#: A long table ``lead_id, rep_id, p_win`` of eligible pairs, or a callable that returns
#: one for a batch (a DataFrame) of leads.
WinProb = pd.DataFrame | Callable[[pd.DataFrame], pd.DataFrame]


@dataclass(frozen=True)
class PeriodBatch:
    """The leads of one period, as dense arrays over all reps (what a router sees).

    Attributes
    ----------
    period : int
        Position of the period in the horizon (0 for the first).
    leads : numpy.ndarray
        Global row numbers of the leads, in arrival order.
    value : numpy.ndarray
        Deal value of each lead.
    p_win : numpy.ndarray
        ``(leads, reps)`` win probabilities, 0 where the pair is not eligible.
    eligible : numpy.ndarray
        ``(leads, reps)`` bool: the pair is listed in the win probabilities.
    """

    period: int
    leads: np.ndarray
    value: np.ndarray
    p_win: np.ndarray
    eligible: np.ndarray

    @property
    def expected(self) -> np.ndarray:
        """``p_win * value`` per pair, ``-inf`` where the pair is not eligible."""
        ev = self.p_win * self.value[:, None]
        return np.where(self.eligible, ev, -np.inf)


@dataclass(frozen=True)
class LeadInputs:
    """Checked, indexed lead-routing inputs (from
    [`prepare_inputs`][alloc.leads.data.prepare_inputs])."""

    lead_ids: np.ndarray
    period_of_lead: np.ndarray  # 0..n_periods-1, in arrival order of periods
    period_labels: np.ndarray  # the arrival value (or day) of each period
    value: np.ndarray
    rep_ids: np.ndarray
    cap: np.ndarray  # most leads per period, per rep
    weight_share: np.ndarray  # target share of leads, sums to 1
    pair_lead: np.ndarray  # sorted by (period, arrival order, rep)
    pair_rep: np.ndarray
    pair_p: np.ndarray
    order: np.ndarray  # lead rows in arrival order
    period_start: np.ndarray  # offsets into ``order`` per period (length n_periods + 1)
    pair_start: np.ndarray  # offsets into the pair arrays per period (length n_periods + 1)

    @property
    def n_leads(self) -> int:
        return int(self.lead_ids.size)

    @property
    def n_reps(self) -> int:
        return int(self.rep_ids.size)

    @property
    def n_periods(self) -> int:
        return int(self.period_labels.size)

    def batch(self, period: int) -> PeriodBatch:
        """The leads arriving in ``period`` with dense pair arrays."""
        rows = self.order[self.period_start[period] : self.period_start[period + 1]]
        position = np.full(self.n_leads, -1, dtype=np.int64)
        position[rows] = np.arange(rows.size)
        lo, hi = self.pair_start[period], self.pair_start[period + 1]
        local = position[self.pair_lead[lo:hi]]
        reps = self.pair_rep[lo:hi]
        p_win = np.zeros((rows.size, self.n_reps))
        eligible = np.zeros((rows.size, self.n_reps), dtype=bool)
        p_win[local, reps] = self.pair_p[lo:hi]
        eligible[local, reps] = True
        return PeriodBatch(period, rows, self.value[rows], p_win, eligible)


def _periods(arrival: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Period index per lead and the period labels (integers, or days for timestamps)."""
    if pd.api.types.is_datetime64_any_dtype(arrival):
        if arrival.isna().any():
            bad = arrival.index[arrival.isna()].tolist()
            raise InvalidProblemError(
                f"column 'arrival' of leads has missing timestamps at rows {format_ids(bad)}; "
                "fill them or drop those leads."
            )
        days = arrival.dt.floor("D")
        labels, index = np.unique(days.to_numpy(), return_inverse=True)
        return index.astype(np.int64), labels
    if not pd.api.types.is_integer_dtype(arrival):
        raise InvalidProblemError(
            f"column 'arrival' of leads must hold integer periods or timestamps; got dtype "
            f"{arrival.dtype}. Convert it with astype(int) or pandas.to_datetime."
        )
    labels, index = np.unique(arrival.to_numpy(), return_inverse=True)
    return index.astype(np.int64), labels


def _check_columns(table: object, name: str, needed: list[str], owner: str) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise InvalidParameterError(
            f"the {name!r} parameter of {owner} must be a pandas DataFrame; "
            f"got {type(table).__name__}."
        )
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise InvalidProblemError(
            f"the {name!r} table of {owner} lacks column(s) {format_ids(missing)}; it has "
            f"{format_ids(list(map(str, table.columns)), 12) or 'no columns'}."
        )
    return table


def _unique_ids(ids: pd.Series, what: str) -> np.ndarray:
    if ids.isna().any():
        raise InvalidProblemError(
            f"{what} ids must not be missing; rows {format_ids(ids.index[ids.isna()].tolist())}."
        )
    dup = ids[ids.duplicated()].unique().tolist()
    if dup:
        raise InvalidProblemError(
            f"{what} ids must be unique; {format_ids(dup)} appear more than once."
        )
    return ids.to_numpy()


def _numbers(column: pd.Series, what: str, *, low: float) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < low)
    if bad.any():
        raise InvalidProblemError(
            f"{what} must be finite numbers >= {low:g}; rows "
            f"{format_ids(column.index[bad].tolist())} "
            f"hold {format_ids(column[bad].tolist())}."
        )
    return values


def _rep_table(
    reps: pd.DataFrame, capacity: str, owner: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not isinstance(capacity, str) or capacity not in reps.columns:
        raise InvalidProblemError(
            f"the 'capacity' parameter of {owner} must name a reps column of most leads per "
            f"period; got {capacity!r}, and the reps have "
            f"{format_ids(list(map(str, reps.columns)), 12)}."
        )
    rep_ids = _unique_ids(reps["rep_id"], "rep")
    cap_values = pd.to_numeric(reps[capacity], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(cap_values) | (cap_values < 0) | (cap_values != np.round(cap_values))
    if bad.any():
        raise InvalidProblemError(
            f"column {capacity!r} of reps must hold whole numbers >= 0 (most leads per "
            f"period); reps {format_ids(rep_ids[bad].tolist())} have "
            f"{format_ids(reps[capacity][bad].tolist())}."
        )
    if "weight" in reps.columns:
        weight = _numbers(reps["weight"], "column 'weight' of reps", low=0.0)
        if weight.sum() <= 0:
            raise InvalidProblemError("column 'weight' of reps must have a positive total.")
    else:
        weight = np.ones(rep_ids.size)
    return rep_ids, cap_values.astype(np.int64), weight / weight.sum()


def _pairs_table(
    win_prob: WinProb, leads: pd.DataFrame, period_of_lead: np.ndarray, owner: str
) -> pd.DataFrame:
    if isinstance(win_prob, pd.DataFrame):
        table = win_prob
    elif callable(win_prob):
        parts = []
        for p in range(int(period_of_lead.max()) + 1 if period_of_lead.size else 0):
            part = win_prob(leads.iloc[np.flatnonzero(period_of_lead == p)])
            _check_columns(part, "win_prob", ["lead_id", "rep_id", "p_win"], owner)
            parts.append(part[["lead_id", "rep_id", "p_win"]])
        table = (
            pd.concat(parts, ignore_index=True)
            if parts
            else pd.DataFrame({"lead_id": [], "rep_id": [], "p_win": []})
        )
    else:
        raise InvalidParameterError(
            f"the 'win_prob' parameter of {owner} must be a DataFrame (lead_id, rep_id, "
            f"p_win) or a callable returning one; got {type(win_prob).__name__}."
        )
    return _check_columns(table, "win_prob", ["lead_id", "rep_id", "p_win"], owner)


def _index_pairs(
    table: pd.DataFrame, lead_ids: np.ndarray, rep_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lead_pos = pd.Index(lead_ids).get_indexer(table["lead_id"])
    rep_pos = pd.Index(rep_ids).get_indexer(table["rep_id"])
    for pos, column, what in ((lead_pos, "lead_id", "leads"), (rep_pos, "rep_id", "reps")):
        if (pos < 0).any():
            unknown = table[column][pos < 0].unique().tolist()
            raise InvalidProblemError(
                f"win_prob names unknown {column} {format_ids(unknown)} (not in the {what} "
                f"table); drop those rows or add the {what}."
            )
    p = pd.to_numeric(table["p_win"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(p) | (p < 0) | (p > 1)
    if bad.any():
        pairs = list(
            zip(table["lead_id"][bad].tolist(), table["rep_id"][bad].tolist(), strict=True)
        )
        raise InvalidProblemError(
            f"p_win must be a probability in [0, 1]; pairs (lead_id, rep_id) "
            f"{format_ids(pairs)} have {format_ids(table['p_win'][bad].tolist())}."
        )
    key = lead_pos.astype(np.int64) * max(1, rep_ids.size) + rep_pos
    dup = pd.Series(key).duplicated().to_numpy()
    if dup.any():
        pairs = list(
            zip(table["lead_id"][dup].tolist(), table["rep_id"][dup].tolist(), strict=True)
        )
        raise InvalidProblemError(
            f"win_prob lists pairs (lead_id, rep_id) {format_ids(pairs)} more than once; "
            "keep one row per pair."
        )
    return lead_pos.astype(np.int64), rep_pos.astype(np.int64), p


def prepare_inputs(
    leads: Any,
    reps: Any,
    win_prob: WinProb,
    *,
    capacity: str = "daily_cap",
    owner: str = "simulate",
) -> LeadInputs:
    """Check the lead-routing tables and index them; inputs are not modified.

    Parameters
    ----------
    leads : pandas.DataFrame
        ``lead_id`` (unique), ``arrival`` (an integer period or a timestamp, read by
        day), ``value`` (deal size, >= 0) and any attributes.
    reps : pandas.DataFrame
        ``rep_id`` (unique), the ``capacity`` column (most new leads per period, a whole
        number >= 0) and an optional ``weight`` column (target share; equal shares
        without it).
    win_prob : pandas.DataFrame or callable
        ``lead_id, rep_id, p_win`` for the eligible pairs (a missing pair is not
        eligible), or a callable returning that table for a DataFrame of leads; it is
        called once per period.
    capacity : str
        Name of the reps' capacity column.
    owner : str
        Name of the calling function, used in messages.

    Returns
    -------
    LeadInputs

    Raises
    ------
    InvalidProblemError
        Missing columns, duplicate or unknown ids, ``p_win`` outside [0, 1], negative
        or fractional caps, negative values or weights; the message names them.
    """
    leads = _check_columns(leads, "leads", ["lead_id", "arrival", "value"], owner)
    reps = _check_columns(reps, "reps", ["rep_id"], owner)
    lead_ids = _unique_ids(leads["lead_id"], "lead")
    value = _numbers(leads["value"], "column 'value' of leads", low=0.0)
    period_of_lead, labels = _periods(leads["arrival"])
    rep_ids, cap, weight_share = _rep_table(reps, capacity, owner)
    table = _pairs_table(win_prob, leads, period_of_lead, owner)
    pair_lead, pair_rep, pair_p = _index_pairs(table, lead_ids, rep_ids)
    # Arrival order: by period, then by row order within the period (a stable sort).
    order = np.argsort(period_of_lead, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    by = np.lexsort((pair_rep, rank[pair_lead]))
    period_start = np.searchsorted(period_of_lead[order], np.arange(labels.size + 1))
    pair_start = np.searchsorted(period_of_lead[pair_lead[by]], np.arange(labels.size + 1))
    return LeadInputs(
        lead_ids=lead_ids,
        period_of_lead=period_of_lead,
        period_labels=labels,
        value=value,
        rep_ids=rep_ids,
        cap=cap,
        weight_share=weight_share,
        pair_lead=pair_lead[by],
        pair_rep=pair_rep[by],
        pair_p=pair_p[by],
        order=order,
        period_start=period_start,
        pair_start=pair_start,
    )
