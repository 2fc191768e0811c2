"""Key account identification and account tracking plans.

This module answers two questions a sales organisation asks about its accounts:

* *Which accounts matter most?* [`identify`][alloc.accounts.identify] classifies customers from a
  transactions table by Pareto (the few customers that make up most of the value),
  ABC (three classes by cumulative value share) or RFM (recency, frequency and monetary
  value scored in quintiles, mapped to named segments and to classes A/B/C).
* *When does each owner visit which account?* [`tracking_plan`][alloc.accounts.tracking_plan] turns
  classes and an owner assignment into a weekly visit schedule: each class gets a visit frequency
  over the horizon, a customer's visits are evenly spaced, and each owner's visits are
  spread evenly across the weeks.

Both are vectorised pandas in, pandas out; neither changes its inputs.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from alloc.errors import InvalidParameterError, InvalidProblemError, format_ids
from alloc.validation import Param, check_param, check_params, is_int, is_number

__all__ = ["RFM_SEGMENTS", "identify", "tracking_plan"]

_DateLike = str | _dt.date | _dt.datetime | np.datetime64 | pd.Timestamp

RFM_SEGMENTS: tuple[tuple[str, ...], ...] = (
    # F=1            F=2              F=3              F=4            F=5
    ("hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose"),  # R=1
    ("hibernating", "hibernating", "at_risk", "at_risk", "cannot_lose"),  # R=2
    ("about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"),  # R=3
    ("promising", "potential_loyalist", "potential_loyalist", "loyal", "loyal"),  # R=4
    ("new", "potential_loyalist", "potential_loyalist", "champions", "champions"),  # R=5
)
"""RFM segment of each (recency score, frequency score) pair: ``RFM_SEGMENTS[R-1][F-1]``.

The usual RF grid: recent and frequent buyers are champions, frequent buyers who have
not bought for a long time must not be lost, one-time buyers who bought recently are
new, and so on.
"""

_METHODS = ("pareto", "abc", "rfm")
_COUNTS = ("days", "transactions")
# A cumulative share within this distance of a threshold counts as reaching it, so that
# float rounding in the running sum cannot add one customer too many to a class.
_SHARE_TOL = 1e-12
# Largest (shift x customer x visit) array the spread placement builds at once.
_SPREAD_CELLS = 4_000_000


# --------------------------------------------------------------------------- helpers


def _pair_of(value: Any, item: Callable[[object], bool]) -> bool:
    """A sequence of two values that each pass ``item``."""
    return isinstance(value, Sequence) and len(value) == 2 and all(item(v) for v in value)


#: The parameters each classification method reads, with their declared constraints.
_METHOD_PARAMS: dict[str, dict[str, Param]] = {
    "pareto": {
        "share": Param(lambda v: is_number(v) and 0 < v <= 1, "a number in (0, 1]"),
    },
    "abc": {
        "cutoffs": Param(
            lambda v: _pair_of(v, is_number) and 0 < v[0] < v[1] <= 1,
            "a pair (a, b) with 0 < a < b <= 1",
        ),
    },
    "rfm": {
        "count": Param(lambda v: v in _COUNTS, "one of 'days', 'transactions'"),
        "score_cutoffs": Param(
            lambda v: _pair_of(v, is_int) and 3 <= v[1] < v[0] <= 15,
            "a pair of ints (a, b), 3 <= b < a <= 15",
        ),
    },
}


def _require_frame(value: object, name: str, owner: str) -> pd.DataFrame:
    if not isinstance(value, pd.DataFrame):
        raise InvalidParameterError(
            f"the {name!r} parameter of {owner} must be a pandas DataFrame; "
            f"got {type(value).__name__}."
        )
    return value


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], name: str, owner: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidProblemError(
            f"the {name!r} argument of {owner} has no column {format_ids(missing)} "
            f"(its columns are {format_ids(frame.columns, limit=10)}); add the column or "
            f"name the right one with the matching *_col parameter."
        )


def _to_timestamp(value: object, name: str, owner: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"the {name!r} parameter of {owner} must be a date (str, datetime or "
            f"Timestamp); got {value!r}."
        ) from exc
    if pd.isna(stamp):
        raise InvalidParameterError(
            f"the {name!r} parameter of {owner} must be a date; got {value!r}."
        )
    return stamp


def _customer_ids(frame: pd.DataFrame, customer_col: str, name: str, owner: str) -> pd.Index:
    """Customer ids of ``frame``: its ``customer_col`` column, else its index."""
    ids = pd.Index(frame[customer_col]) if customer_col in frame.columns else frame.index
    if ids.hasnans:
        raise InvalidProblemError(
            f"the {name!r} argument of {owner} has missing customer ids at rows "
            f"{format_ids(np.flatnonzero(ids.isna()))}; drop or fill those rows."
        )
    if not ids.is_unique:
        raise InvalidProblemError(
            f"the {name!r} argument of {owner} has duplicate customer ids "
            f"{format_ids(ids[ids.duplicated()].unique())}; give one row per customer."
        )
    return ids


def _quintile_score(values: np.ndarray) -> np.ndarray:
    """Score 1-5: one plus the number of fifths of customers with a strictly lower value.

    ``score = 1 + floor(5 * n_lower / n)``, in exact integer arithmetic. Ties share the
    score of their lowest position, the lowest value always scores 1, and with fewer
    than five distinct values some scores are simply not used.
    """
    n = len(values)
    n_lower = pd.Series(values).rank(method="min").to_numpy(dtype=np.int64) - 1
    return (5 * n_lower) // n + 1


def _value_ranking(value: pd.Series) -> pd.DataFrame:
    """Customers by value, largest first (ties by customer id), with running shares."""
    ordered = value.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    values = ordered.to_numpy(dtype=np.float64)
    total = float(values.sum())
    cum = np.cumsum(values)
    cum_before = np.concatenate(([0.0], cum[:-1])) / total
    return pd.DataFrame(
        {
            "value": values,
            "share": values / total,
            "cum_share": cum / total,
            "rank": np.arange(1, len(values) + 1, dtype=np.int64),
            "_cum_before": cum_before,
        },
        index=ordered.index,
    )


def _inside(cum_before: np.ndarray, threshold: float) -> np.ndarray:
    """Customers whose running share before them is still short of ``threshold``."""
    return cum_before < threshold - _SHARE_TOL


# --------------------------------------------------------------------------- identify


def identify(
    transactions: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    value_col: str = "value",
    date_col: str = "date",
    method: Literal["pareto", "abc", "rfm"] = "pareto",
    share: float = 0.8,
    cutoffs: tuple[float, float] = (0.8, 0.95),
    as_of: _DateLike | None = None,
    count: Literal["days", "transactions"] = "days",
    score_cutoffs: tuple[int, int] = (12, 8),
) -> pd.DataFrame:
    """Classify customers by value (Pareto, ABC) or by purchase behaviour (RFM).

    ``transactions`` has one row per purchase (or per customer: rows of a customer are
    summed). The result has one row per customer, indexed by customer id, with a
    ``class`` column and the figures behind it.

    **pareto** ranks customers by total value, largest first, and marks as ``"key"``
    the fewest top-ranked customers whose value reaches ``share`` of the total; every
    other customer is ``"other"``. *Boundary*: the customer whose value makes the
    running share cross ``share`` is included, so the key customers hold at least
    ``share`` of the value and dropping the smallest of them falls short of it (a running
    share within 1e-12 of ``share`` counts as reaching it). *Ties*: customers with equal
    value are ranked by customer id, so ranks are ``1..n`` without repeats and a tie at
    the boundary is split by id. Customers with zero value are never key.

    **abc** applies the same rule with two cut-offs ``(a, b)``: class ``"A"`` is the
    Pareto key set for ``share=a``, ``"B"`` the further customers needed to reach ``b``,
    ``"C"`` the rest.

    Columns for pareto and abc, rows in rank order: ``value`` (total), ``share`` (of
    the grand total), ``cum_share`` (running share up to and including the customer),
    ``rank`` and ``class``.

    **rfm** scores each customer on three figures:

    * ``recency``: whole days from the last purchase to ``as_of`` (default: the latest
      purchase date plus one day, so the most recent buyers have recency 1);
    * ``frequency``: with ``count="days"`` (default) the number of distinct purchase
      days, so several rows on one day count once; with ``count="transactions"`` the
      number of rows;
    * ``monetary``: total value.

    Each figure gets a quintile score 1-5 (5 best: most recent, most frequent, highest
    value): ``score = 1 + floor(5 * n_worse / n)`` where ``n_worse`` is the number of the
    ``n`` customers with a strictly worse figure. The score is rank based, so any
    distribution and any number of customers work; ties share a score; the worst
    figure always scores 1; with fewer than five distinct values some scores are not
    used (if all customers are equal, all score 1). ``rfm_score`` is the three digits,
    e.g. ``"545"``, and ``rfm_total`` their sum (3-15). ``segment`` comes from the
    recency and frequency scores (R, F) by the grid [`RFM_SEGMENTS`][alloc.accounts.RFM_SEGMENTS]:

    - ``champions``: R = 5 and F >= 4;
    - ``loyal``: R in 3..4 and F >= 4;
    - ``potential_loyalist``: R >= 4 and F in 2..3;
    - ``new``: R = 5 and F = 1;
    - ``promising``: R = 4 and F = 1;
    - ``need_attention``: R = 3 and F = 3;
    - ``about_to_sleep``: R = 3 and F <= 2;
    - ``cannot_lose``: R <= 2 and F = 5;
    - ``at_risk``: R <= 2 and F in 3..4;
    - ``hibernating``: R <= 2 and F <= 2.

    ``class`` comes from the total score: ``"A"`` if ``rfm_total >= score_cutoffs[0]``
    (default 12), ``"B"`` if ``rfm_total >= score_cutoffs[1]`` (default 8), else ``"C"``.
    Columns for rfm, rows in customer-id order: ``last_purchase``, ``recency``,
    ``frequency``, ``monetary``, ``r_score``, ``f_score``, ``m_score``, ``rfm_score``,
    ``rfm_total``, ``segment``, ``class``.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Purchases: a customer id column, a numeric value column and, for rfm, a date
        column (datetime64 or parseable by `pandas.to_datetime`).
    customer_col, value_col, date_col : str
        Column names. ``date_col`` is used by rfm only.
    method : {"pareto", "abc", "rfm"}
        Classification method.
    share : float
        Pareto threshold in (0, 1].
    cutoffs : tuple of float
        ABC thresholds ``(a, b)`` with ``0 < a < b <= 1``.
    as_of : date-like, optional
        RFM reference date; must not be before the latest purchase.
    count : {"days", "transactions"}
        What RFM frequency counts.
    score_cutoffs : tuple of int
        RFM total-score thresholds ``(a, b)`` for classes A and B, ``3 <= b < a <= 15``.

    Returns
    -------
    pandas.DataFrame
        One row per customer, indexed by customer id (index named ``customer_col``).

    Raises
    ------
    InvalidProblemError
        Missing columns, missing ids, values or dates, a non-numeric value column; for
        pareto and abc also customers with negative total value or a zero grand total.
    InvalidParameterError
        A parameter out of its range, or ``as_of`` before a purchase.

    Examples
    --------
    >>> import pandas as pd
    >>> from alloc.accounts import identify
    >>> tx = pd.DataFrame({
    ...     "customer_id": ["a", "b", "c", "d", "e", "a"],
    ...     "value": [30.0, 30.0, 15.0, 10.0, 5.0, 10.0],
    ... })
    >>> identify(tx, method="pareto")  # doctest: +NORMALIZE_WHITESPACE
                 value  share  cum_share  rank  class
    customer_id
    a             40.0   0.40       0.40     1    key
    b             30.0   0.30       0.70     2    key
    c             15.0   0.15       0.85     3    key
    d             10.0   0.10       0.95     4  other
    e              5.0   0.05       1.00     5  other
    >>> identify(tx, method="abc")["class"].tolist()
    ['A', 'A', 'A', 'B', 'C']

    RFM needs dates:

    >>> tx["date"] = pd.to_datetime(
    ...     ["2024-03-01", "2024-01-10", "2024-02-20", "2024-03-05", "2023-12-01", "2024-02-01"]
    ... )
    >>> rfm = identify(tx, method="rfm", as_of="2024-03-06")
    >>> cols = ["recency", "frequency", "monetary", "rfm_score", "segment", "class"]
    >>> rfm[cols]  # doctest: +NORMALIZE_WHITESPACE
                 recency  frequency  monetary rfm_score         segment class
    customer_id
    a                  5          2      40.0       455           loyal     A
    b                 56          1      30.0       214     hibernating     C
    c                 15          1      15.0       313  about_to_sleep     C
    d                  1          1      10.0       512             new     B
    e                 96          1       5.0       111     hibernating     C
    """
    owner = "identify"
    transactions = _require_frame(transactions, "transactions", owner)
    check_param("method", method, owner, method in _METHODS, "one of 'pareto', 'abc', 'rfm'")
    check_params(
        owner,
        _METHOD_PARAMS[method],
        {"share": share, "cutoffs": cutoffs, "count": count, "score_cutoffs": score_cutoffs},
    )

    needed = [customer_col, value_col] + ([date_col] if method == "rfm" else [])
    _require_columns(transactions, needed, "transactions", owner)
    if len(transactions) == 0:
        raise InvalidProblemError(
            "the 'transactions' argument of identify has no rows; pass at least one purchase."
        )
    ids = transactions[customer_col]
    if ids.isna().any():
        raise InvalidProblemError(
            f"the 'transactions' argument of identify has missing {customer_col!r} at rows "
            f"{format_ids(transactions.index[ids.isna().to_numpy()])}; drop or fill them."
        )
    value = transactions[value_col]
    if not pd.api.types.is_numeric_dtype(value) or pd.api.types.is_bool_dtype(value):
        raise InvalidProblemError(
            f"the 'transactions' argument of identify has a non-numeric value column "
            f"{value_col!r} (dtype {value.dtype}); convert it to numbers or pass value_col=."
        )
    bad = value.isna().to_numpy() | ~np.isfinite(value.to_numpy(dtype=np.float64, na_value=0.0))
    if bad.any():
        raise InvalidProblemError(
            f"the 'transactions' argument of identify has missing or infinite {value_col!r} "
            f"for customers {format_ids(pd.unique(ids[bad]))}; drop or fill those rows."
        )

    if method == "rfm":
        return _rfm(transactions, customer_col, value_col, date_col, as_of, count, score_cutoffs)

    total = transactions.groupby(customer_col, sort=True)[value_col].sum().astype(np.float64)
    negative = total.index[total.to_numpy() < 0]
    if len(negative):
        raise InvalidProblemError(
            f"the 'transactions' argument of identify gives customers "
            f"{format_ids(negative)} a negative total {value_col!r}; {method} needs "
            f"non-negative values: drop or net off those customers' returns first."
        )
    if not total.sum() > 0:
        raise InvalidProblemError(
            f"the 'transactions' argument of identify has a total {value_col!r} of 0; "
            f"{method} needs some positive value."
        )
    out = _value_ranking(total)
    cum_before = out.pop("_cum_before").to_numpy()
    if method == "pareto":
        cls = np.where(_inside(cum_before, float(share)), "key", "other")
    else:
        a, b = float(cutoffs[0]), float(cutoffs[1])
        cls = np.where(_inside(cum_before, a), "A", np.where(_inside(cum_before, b), "B", "C"))
    out["class"] = cls
    out.index.name = customer_col
    return out


def _rfm(
    transactions: pd.DataFrame,
    customer_col: str,
    value_col: str,
    date_col: str,
    as_of: _DateLike | None,
    count: str,
    score_cutoffs: tuple[int, int],
) -> pd.DataFrame:
    owner = "identify"
    raw_dates = transactions[date_col]
    if pd.api.types.is_numeric_dtype(raw_dates):
        raise InvalidProblemError(
            f"the 'transactions' argument of identify has a numeric date column {date_col!r} "
            f"(dtype {raw_dates.dtype}); convert it to dates first, e.g. "
            f"pandas.to_datetime(column.astype(str), format='%Y%m%d') for 19970101."
        )
    try:
        dates = pd.Series(pd.to_datetime(raw_dates), index=transactions.index)
    except (TypeError, ValueError) as exc:
        raise InvalidProblemError(
            f"the 'transactions' argument of identify has a date column {date_col!r} that "
            f"cannot be read as dates ({exc}); convert it with pandas.to_datetime."
        ) from exc
    ids = transactions[customer_col]
    if dates.isna().any():
        raise InvalidProblemError(
            f"the 'transactions' argument of identify has missing {date_col!r} for "
            f"customers {format_ids(pd.unique(ids[dates.isna().to_numpy()]))}; drop or "
            f"fill those rows."
        )
    frame = pd.DataFrame(
        {
            "_id": ids.to_numpy(),
            "_date": dates.reset_index(drop=True),
            "_value": transactions[value_col].to_numpy(),
        }
    )
    grouped = frame.groupby("_id", sort=True)
    last = grouped["_date"].max()
    if as_of is None:
        reference = last.max() + pd.Timedelta(days=1)
    else:
        reference = _to_timestamp(as_of, "as_of", owner)
        try:
            late = last.index[(last > reference).to_numpy()]
        except TypeError as exc:
            raise InvalidParameterError(
                f"the 'as_of' parameter of identify must be comparable with the dates in "
                f"{date_col!r} (same time zone awareness); got {as_of!r}."
            ) from exc
        if len(late):
            raise InvalidParameterError(
                f"the 'as_of' parameter of identify must not be before a purchase; got "
                f"{reference}, but customers {format_ids(late)} bought later (latest "
                f"{last.max()}); pass a later as_of or filter the transactions first."
            )
    recency = ((reference - last) // pd.Timedelta(days=1)).astype(np.int64)
    if count == "days":
        frequency = (
            frame.assign(_day=frame["_date"].dt.normalize())
            .groupby("_id", sort=True)["_day"]
            .nunique()
        )
    else:
        frequency = grouped.size()
    monetary = grouped["_value"].sum()
    r = _quintile_score(-recency.to_numpy(dtype=np.float64))
    f = _quintile_score(frequency.to_numpy(dtype=np.float64))
    m = _quintile_score(monetary.to_numpy(dtype=np.float64))
    total = r + f + m
    grid = np.array(RFM_SEGMENTS, dtype=object)
    a, b = score_cutoffs
    out = pd.DataFrame(
        {
            "last_purchase": last.to_numpy(),
            "recency": recency.to_numpy(),
            "frequency": frequency.to_numpy(dtype=np.int64),
            "monetary": monetary.to_numpy(dtype=np.float64),
            "r_score": r,
            "f_score": f,
            "m_score": m,
            "rfm_score": (
                pd.Series(r).astype(str) + pd.Series(f).astype(str) + pd.Series(m).astype(str)
            ).to_numpy(),
            "rfm_total": total,
            "segment": grid[r - 1, f - 1].astype(str),
            "class": np.where(total >= a, "A", np.where(total >= b, "B", "C")),
        },
        index=pd.Index(last.index, name=customer_col),
    )
    return out


# ---------------------------------------------------------------------- tracking plan


def _weeks_in_horizon(horizon: object, start: pd.Timestamp) -> int:
    owner = "tracking_plan"
    if isinstance(horizon, int | np.integer) and not isinstance(horizon, bool | np.bool_):
        ok = bool(horizon >= 1)
        check_param("horizon", horizon, owner, ok, "a number of weeks >= 1 or a date")
        return int(horizon)
    if isinstance(horizon, float | bool | np.bool_ | np.floating):
        check_param("horizon", horizon, owner, False, "an int number of weeks or a date")
    end = _to_timestamp(horizon, "horizon", owner)
    weeks = math.ceil((end - start) / pd.Timedelta(days=7))
    check_param("horizon", horizon, owner, weeks >= 1, f"a date after start ({start.date()})")
    return weeks


def _patterns(frequency: int, weeks: int) -> np.ndarray:
    """Distinct visit-week patterns for ``frequency`` visits in ``weeks`` weeks.

    Row ``q`` (``q = 0 .. weeks * frequency - 1``, duplicates dropped) visits in weeks
    ``floor((q + j * weeks) / frequency) mod weeks`` for ``j = 0..frequency-1``: the
    visits are ``weeks / frequency`` weeks apart from a phase of ``q / frequency``
    weeks, rounded down, so consecutive gaps are the floor or the ceiling of
    ``weeks / frequency``. When ``frequency`` divides ``weeks`` these are the
    ``weeks / frequency`` shifts of the pattern ``0, s, 2s, ...``.
    """
    q = np.arange(weeks * frequency)
    j = np.arange(frequency)
    rows = np.sort(((q[:, None] + j[None, :] * weeks) // frequency) % weeks, axis=1)
    _, first = np.unique(rows, axis=0, return_index=True)
    return rows[np.sort(first)]


def _greedy_group(count: int, frequency: int, load: np.ndarray) -> np.ndarray:
    """Place ``count`` customers one by one on the least loaded patterns; update ``load``.

    Each takes the pattern whose weeks have the lowest total load so far (the least
    increase of the sum of squared weekly loads), then the lowest maximum, then the
    earliest. Returns the visit weeks, one row per customer.
    """
    pats = _patterns(frequency, len(load))
    out = np.empty((count, frequency), dtype=np.int64)
    for i in range(count):
        cost = load[pats]
        best = int(np.lexsort((cost.max(axis=1), cost.sum(axis=1)))[0])
        load[pats[best]] += 1
        out[i] = pats[best]
    return out


def _spread_group(count: int, frequency: int, load: np.ndarray) -> np.ndarray:
    """Give ``count`` customers evenly spread phases, shifted to fit ``load``; update it.

    Customer ``i`` gets phase ``q_i = floor((t + i * W) / count)`` (in units of
    ``1 / frequency`` week), so the group's ``count * frequency`` visits are evenly
    spread and its own weekly counts differ by at most 1. The shifts ``t = 0..W-1``
    give every distinct outcome; all are tried (an evenly spaced subset of them for very
    large groups, to bound memory) and the one leaving the most level total is kept.
    """
    weeks = len(load)
    n_shifts = max(1, min(weeks, _SPREAD_CELLS // (count * frequency)))
    shifts = np.unique((np.arange(n_shifts) * weeks) // n_shifts)
    t = shifts[:, None, None]
    i = np.arange(count)[None, :, None]
    j = np.arange(frequency)[None, None, :]
    q = (t + i * weeks) // count
    visit_weeks = ((q + j * weeks) // frequency) % weeks  # (shift, customer, visit)
    cells = (np.arange(len(shifts))[:, None, None] * weeks + visit_weeks).ravel()
    counts = np.bincount(cells, minlength=len(shifts) * weeks).reshape(len(shifts), weeks)
    total = counts + load[None, :]
    best = int(np.lexsort(((total**2).sum(axis=1), total.max(axis=1) - total.min(axis=1)))[0])
    load += counts[best]
    return np.sort(visit_weeks[best], axis=1)


def _level(freqs: np.ndarray, weeks: int) -> np.ndarray:
    """Visit weeks for one owner's customers (``freqs`` visits each, all > 0).

    Three placements are built, frequencies taken highest first: greedy for every
    frequency, evenly spread phases for every frequency, and spread phases for the
    highest frequency then greedy for the rest. The most level one is kept (smallest
    range of weekly counts, then smallest sum of squares, then the earlier one).
    Returns the weeks of every visit, customers in input order, each customer's weeks
    ascending.
    """
    levels = sorted({int(f) for f in freqs}, reverse=True)
    best_key: tuple[int, int] | None = None
    best: dict[int, np.ndarray] = {}
    for plan in ("greedy", "spread", "hybrid"):
        load = np.zeros(weeks, dtype=np.int64)
        placed: dict[int, np.ndarray] = {}
        for rank, f in enumerate(levels):
            count = int(np.count_nonzero(freqs == f))
            spread = plan == "spread" or (plan == "hybrid" and rank == 0)
            placed[f] = (_spread_group if spread else _greedy_group)(count, f, load)
        key = (int(load.max() - load.min()), int((load**2).sum()))
        if best_key is None or key < best_key:
            best_key, best = key, placed
    out = np.empty(int(freqs.sum()), dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(freqs)[:-1]))
    for f, rows in best.items():
        members = np.flatnonzero(freqs == f)
        out[(starts[members][:, None] + np.arange(f)[None, :]).ravel()] = rows.ravel()
    return out


def tracking_plan(
    customers: pd.DataFrame,
    assignment: pd.Series | Mapping[Any, Any],
    *,
    start: _DateLike,
    frequency: Mapping[Any, int] | None = None,
    horizon: int | _DateLike = 13,
    class_col: str = "class",
    customer_col: str = "customer_id",
    owner_col: str = "rep_id",
) -> pd.DataFrame:
    """Schedule visits per owner: each customer's class sets its number of visits.

    A customer of class ``k`` gets ``frequency[k]`` visits in the horizon of ``W``
    weeks; customers of classes not in ``frequency`` (or with frequency 0) get none.

    *Spacing*: a customer with ``f`` visits is visited every ``W / f`` weeks, rounded
    down: in weeks ``floor((q + j * W) / f) mod W`` for ``j = 0..f-1``, with a phase
    ``q`` chosen per customer. Gaps between consecutive visits (including the wrap into
    the next horizon, so a plan can be repeated) are the floor or the ceiling of
    ``W / f``; when ``f`` divides ``W`` they are all exactly ``W / f``.

    *Load levelling*: per owner, three placements are built, frequencies taken highest
    first, and the most level one kept (smallest range of weekly visit counts, then
    smallest sum of squares):

    1. *greedy*: customer by customer (in the order of ``customers``), each on the
       phase whose weeks have the fewest visits so far (then the lowest maximum, then
       the earliest phase);
    2. *spread*: the ``m`` customers of a frequency get phases evenly spread over the
       period, ``q_i = floor((t + i * W) / m)``, so their own weekly counts differ by
       at most 1; the shift ``t`` that best fits the weeks already filled is kept;
    3. *spread* for the highest frequency, then *greedy* for the rest.

    When every ``W / f`` is a whole number and these spacings divide one another (e.g.
    frequencies 4, 2, 1 over 8 or 12 weeks; 13 and 1 over 13 weeks), every owner's
    weekly visit counts differ by at most 1 (the greedy placement alone ensures it).
    Otherwise this is a heuristic that usually, not always, reaches that; perfect
    levelling can be impossible (over 6 weeks a customer with 3 visits is seen in weeks
    of one parity and one with 2 visits in one week of each parity, so with one of each
    some week has 2 visits and another none).

    Parameters
    ----------
    customers : pandas.DataFrame
        One row per customer, with ids in a ``customer_col`` column or as the index,
        and a ``class_col`` column (e.g. the output of [`identify`][alloc.accounts.identify]).
    assignment : pandas.Series or mapping
        Customer id -> owner (rep) id. Every customer that gets visits needs an owner.
    start : date-like
        First day of week 0 (weeks are 7 days from here; pass a Monday for
        calendar weeks).
    frequency : mapping, optional
        Class -> visits in the horizon, ints in ``0..W``. Default ``{"A": 4, "B": 2}``.
    horizon : int or date-like
        Number of weeks ``W`` (default 13, a quarter), or an end date: then ``W`` is the
        number of weeks starting before it, ``ceil((end - start) / 7 days)``.
    class_col, customer_col, owner_col : str
        Column names; ``owner_col`` names the owner column of the result.

    Returns
    -------
    pandas.DataFrame
        One row per visit, sorted by owner, week and customer order, with columns
        ``customer_col``, ``owner_col``, ``class_col``, ``visit`` (1..f, in date order),
        ``week`` (0..W-1) and ``week_start`` (datetime64: start + 7 * week days).

    Raises
    ------
    InvalidProblemError
        Missing class column, duplicate or missing customer ids, assignment ids not in
        ``customers``, or visited customers without an owner.
    InvalidParameterError
        Negative or non-integer frequencies, a frequency above ``W``, a bad horizon.

    Examples
    --------
    >>> import pandas as pd
    >>> from alloc.accounts import tracking_plan
    >>> customers = pd.DataFrame(
    ...     {"class": ["A", "B", "B", "C"]}, index=pd.Index(["c1", "c2", "c3", "c4"])
    ... )
    >>> owners = pd.Series({"c1": "r1", "c2": "r1", "c3": "r1", "c4": "r1"})
    >>> plan = tracking_plan(
    ...     customers, owners, start="2024-01-01", frequency={"A": 2, "B": 1}, horizon=4
    ... )
    >>> plan
      customer_id rep_id class  visit  week week_start
    0          c1     r1     A      1     0 2024-01-01
    1          c2     r1     B      1     1 2024-01-08
    2          c1     r1     A      2     2 2024-01-15
    3          c3     r1     B      1     3 2024-01-22
    >>> plan.groupby("week").size().tolist()
    [1, 1, 1, 1]
    """
    owner = "tracking_plan"
    customers = _require_frame(customers, "customers", owner)
    start_ts = _to_timestamp(start, "start", owner)
    weeks = _weeks_in_horizon(horizon, start_ts)
    freq_map: Mapping[Hashable, Any] = {"A": 4, "B": 2} if frequency is None else frequency
    check_param("frequency", frequency, owner, isinstance(freq_map, Mapping), "a mapping")
    for cls, f in freq_map.items():
        if not (is_number(f) and float(f).is_integer() and f >= 0):
            raise InvalidParameterError(
                f"the 'frequency' parameter of tracking_plan must map classes to whole "
                f"numbers of visits >= 0; got {f!r} for class {cls!r}."
            )
        if f > weeks:
            raise InvalidParameterError(
                f"the 'frequency' parameter of tracking_plan must not exceed the {weeks} "
                f"weeks of the horizon; got {int(f)} for class {cls!r}; lower it or "
                f"lengthen the horizon."
            )
    _require_columns(customers, [class_col], "customers", owner)
    ids = _customer_ids(customers, customer_col, "customers", owner)

    if isinstance(assignment, pd.Series):
        owners = assignment
    elif isinstance(assignment, Mapping):
        owners = pd.Series(dict(assignment), dtype=object)
    else:
        raise InvalidParameterError(
            f"the 'assignment' parameter of tracking_plan must be a Series or mapping "
            f"customer id -> owner id; got {type(assignment).__name__}."
        )
    if not owners.index.is_unique:
        raise InvalidProblemError(
            f"the 'assignment' argument of tracking_plan lists customers "
            f"{format_ids(owners.index[owners.index.duplicated()].unique())} more than "
            f"once; give each customer one owner."
        )
    unknown = owners.index[~owners.index.isin(ids)]
    if len(unknown):
        raise InvalidProblemError(
            f"the 'assignment' argument of tracking_plan has customer ids "
            f"{format_ids(unknown)} that are not in 'customers'; drop them or add those "
            f"customers (check that both use the same id type)."
        )

    classes = customers[class_col].to_numpy()
    visits = pd.Series(classes).map(lambda c: freq_map.get(c, 0)).fillna(0).to_numpy(dtype=np.int64)
    visited = np.flatnonzero(visits > 0)
    owner_of = owners.reindex(ids[visited])
    orphans = owner_of.index[owner_of.isna().to_numpy()]
    if len(orphans):
        raise InvalidProblemError(
            f"the 'assignment' argument of tracking_plan has no owner for customers "
            f"{format_ids(orphans)}, whose class gets visits; assign them an owner."
        )

    owner_values = owner_of.to_numpy()
    pos_parts: list[np.ndarray] = []
    week_parts: list[np.ndarray] = []
    codes, _ = pd.factorize(owner_values)
    by_owner = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[by_owner])) + 1
    for group in np.split(by_owner, bounds) if len(codes) else []:
        members = visited[group]
        freqs = visits[members]
        week_parts.append(_level(freqs, weeks))
        pos_parts.append(np.repeat(members, freqs))
    rows = np.concatenate(pos_parts) if pos_parts else np.empty(0, dtype=np.int64)
    week = np.concatenate(week_parts) if week_parts else np.empty(0, dtype=np.int64)

    plan = pd.DataFrame(
        {
            customer_col: ids.to_numpy()[rows],
            owner_col: owners.reindex(ids).to_numpy()[rows],
            class_col: classes[rows],
            "_pos": rows,
            "week": week.astype(np.int64),
        }
    )
    plan = plan.sort_values(["_pos", "week"], kind="stable")
    plan["visit"] = plan.groupby("_pos").cumcount().astype(np.int64) + 1
    plan = plan.sort_values([owner_col, "week", "_pos"], kind="stable").reset_index(drop=True)
    plan["week_start"] = start_ts + pd.to_timedelta(plan["week"] * 7, unit="D")
    return plan[[customer_col, owner_col, class_col, "visit", "week", "week_start"]]
