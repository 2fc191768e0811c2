"""Team sizing: how many reps of which level each region needs for its workload.

[`size_team`][alloc.staffing.size_team] turns a customer table (workload per customer, the region it
belongs to and the rep level it needs) into a count of reps per region and level, with the
fractional bound each count is the ceiling of, so every figure can be checked by hand.

The model is fluid, as the ceiling formula itself: a region's workload is treated as
divisible among its reps. It answers "how many people", not "who serves whom"; an actual
assignment ([`alloc.solve`][alloc.solve]) may need more when single accounts are large compared
with a rep's capacity.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from alloc.errors import InvalidParameterError, InvalidProblemError, format_ids
from alloc.validation import is_number

__all__ = ["size_team"]

# A bound within this relative distance above an integer is rounded down to it, so that
# float noise in workload / (capacity * utilization) does not add a rep; any positive
# bound still needs a rep.
_CEIL_TOL = 1e-12

_COLUMNS = [
    "level",
    "accounts",
    "workload",
    "accounts_above",
    "workload_above",
    "capacity_per_rep",
    "utilization",
    "max_accounts",
    "workload_bound",
    "account_bound",
    "lower_bound",
    "reps_needed",
    "binding",
    "load",
    "resulting_utilization",
]


def _per_level(
    value: object,
    name: str,
    levels: list[Hashable],
    *,
    expected: str,
    ok: Callable[[float], bool],
    optional: bool = False,
) -> np.ndarray:
    """One float per level from a number or a level -> number mapping."""
    if isinstance(value, Mapping):
        missing = [lv for lv in levels if lv not in value]
        if missing and not optional:
            raise InvalidParameterError(
                f"the {name!r} parameter of size_team must give a value for every level; "
                f"levels {format_ids(missing)} are missing."
            )
        extra = [k for k in value if k not in levels]
        if extra:
            raise InvalidParameterError(
                f"the {name!r} parameter of size_team names levels {format_ids(extra)} "
                f"that are not in 'levels' ({format_ids(levels)})."
            )
        items = [value.get(lv, np.inf) for lv in levels]
    else:
        items = [value] * len(levels)
    for lv, item in zip(levels, items, strict=True):
        if item is np.inf and optional:
            continue
        if not (is_number(item) and ok(float(item))):  # type: ignore[arg-type]
            raise InvalidParameterError(
                f"the {name!r} parameter of size_team must be {expected} (a number or a "
                f"mapping level -> number); got {item!r} for level {lv!r}."
            )
    return np.array(items, dtype=np.float64)


def _ceil(bound: np.ndarray) -> np.ndarray:
    return np.ceil(bound * (1.0 - _CEIL_TOL)).astype(np.int64)


def size_team(
    customers: pd.DataFrame,
    levels: Sequence[Hashable],
    capacity: float | Mapping[Any, float],
    *,
    utilization: float | Mapping[Any, float] = 0.85,
    by: str | Sequence[str] | None = "region",
    workload_col: str = "workload",
    level_col: str | None = None,
    max_accounts: float | Mapping[Any, float] | None = None,
    serve_down: bool = True,
    customer_col: str = "customer_id",
) -> pd.DataFrame:
    """Reps needed per region and level to carry the customers' workload.

    ``levels`` are ordered from lowest to highest (e.g. ``["junior", "senior"]``).
    Each customer needs a level (``level_col``; by default every customer needs the
    lowest one); a rep can serve customers of their own level or any lower level, never
    a higher one. A rep of level ``l`` carries at most ``capacity[l] * utilization[l]``
    workload and, when ``max_accounts`` is given, at most ``max_accounts[l]`` accounts.

    Per region, levels are sized from the highest down, so the most demanding work is
    covered by the level that alone can do it:

        reps[l] = ceil(max((W[l] - W_above[l]) / (c[l] * u[l]),
                           (N[l] - N_above[l]) / a[l]))

    where ``W[l]``, ``N[l]`` are the workload and number of customers needing level
    ``l``; ``c[l]``, ``u[l]``, ``a[l]`` the capacity, utilization and max accounts per
    rep; and ``W_above[l]``, ``N_above[l]`` the part of that work taken by the spare
    room that rounding up left on higher levels (``serve_down=True``). Spare room is
    used from the nearest level above first; absorbed accounts carry the level's average
    workload per account, so hours and account slots stay consistent. With
    ``serve_down=False`` nothing is absorbed and each level is sized to its own work:
    ``reps = ceil(max(W / (c u), N / a))``.

    The result is the fewest reps of the highest level, then, given those, the fewest
    of the next level, and so on (each count is the ceiling of a bound that must hold).

    Parameters
    ----------
    customers : pandas.DataFrame
        One row per customer with a ``workload_col`` column (hours or any unit of
        capacity, >= 0), the ``by`` column(s) and optionally ``level_col``.
    levels : sequence
        Rep levels, lowest first, unique.
    capacity : float or mapping
        Workload one rep can carry at full utilization, per level or for all.
    utilization : float or mapping
        Target share of capacity that is planned for, in (0, 1]; per level or for all.
    by : str, list of str or None
        Column(s) defining regions; ``None`` sizes one team for all customers.
    workload_col : str
        Workload column.
    level_col : str, optional
        Column with the level each customer needs (values must be in ``levels``).
    max_accounts : float or mapping, optional
        Second limit: accounts per rep (per level or for all; levels left out of a
        mapping have no limit).
    serve_down : bool
        Let spare room on higher levels take lower-level work before counting more
        reps of the lower level.
    customer_col : str
        Column with customer ids, used in error messages only (default: the index
        when the column does not exist).

    Returns
    -------
    pandas.DataFrame
        One row per region and level (levels lowest first), with the ``by`` columns and:

        - ``level``; ``accounts`` and ``workload``: customers needing this level;
        - ``accounts_above``, ``workload_above``: the part of them served by higher
          levels' spare room;
        - ``capacity_per_rep``, ``utilization`` (target), ``max_accounts`` (``inf``
          when unlimited);
        - ``workload_bound = (workload - workload_above) / (capacity_per_rep *
          utilization)``, ``account_bound = (accounts - accounts_above) /
          max_accounts`` (0 when unlimited), ``lower_bound``: the larger of the two;
        - ``reps_needed = ceil(lower_bound)``; ``binding``: ``"workload"`` or
          ``"accounts"``, the larger bound, which it rests on (``"none"`` when no rep is
          needed);
        - ``load``: workload carried by this level's reps (own work plus work taken
          from lower levels); ``resulting_utilization = load / (reps_needed *
          capacity_per_rep)`` (NaN when no rep is needed), at most ``utilization``.

    Raises
    ------
    InvalidProblemError
        Missing columns, missing or negative workloads, missing regions, unknown
        levels in ``level_col``.
    InvalidParameterError
        Bad ``levels``, capacities <= 0, utilization outside (0, 1], max accounts <= 0.

    Examples
    --------
    >>> import pandas as pd
    >>> from alloc.staffing import size_team
    >>> customers = pd.DataFrame({
    ...     "customer_id": ["c1", "c2", "c3", "c4", "c5"],
    ...     "region": ["north", "north", "north", "south", "south"],
    ...     "workload": [300.0, 500.0, 900.0, 800.0, 400.0],
    ...     "tier": ["senior", "junior", "junior", "junior", "junior"],
    ... })
    >>> team = size_team(
    ...     customers, ["junior", "senior"], {"junior": 500.0, "senior": 400.0},
    ...     utilization=0.8, level_col="tier",
    ... )
    >>> cols = ["region", "level", "workload", "workload_above", "lower_bound",
    ...         "reps_needed", "resulting_utilization"]
    >>> print(team[cols].to_string())
      region   level  workload  workload_above  lower_bound  reps_needed  resulting_utilization
    0  north  junior    1400.0            20.0       3.4500            4                   0.69
    1  north  senior     300.0             0.0       0.9375            1                   0.80
    2  south  junior    1200.0             0.0       3.0000            3                   0.80
    3  south  senior       0.0             0.0       0.0000            0                    NaN

    North's senior rep has 400 * 0.8 = 320 hours of room for 300 senior hours; the
    spare 20 hours take junior work, leaving 1,380 junior hours: 3.45 -> 4 juniors.

    With bigger capacities, a limit of one account per rep binds instead:

    >>> team = size_team(
    ...     customers, ["junior", "senior"], 1500.0, level_col="tier", max_accounts=1
    ... )
    >>> print(team[["region", "level", "accounts", "lower_bound", "reps_needed", "binding"]]
    ...       .to_string())
      region   level  accounts  lower_bound  reps_needed   binding
    0  north  junior         2          2.0            2  accounts
    1  north  senior         1          1.0            1  accounts
    2  south  junior         2          2.0            2  accounts
    3  south  senior         0          0.0            0      none
    """
    owner = "size_team"
    if not isinstance(customers, pd.DataFrame):
        raise InvalidParameterError(
            f"the 'customers' parameter of {owner} must be a pandas DataFrame; "
            f"got {type(customers).__name__}."
        )
    level_list = _level_list(levels, owner)
    if not isinstance(serve_down, bool):
        raise InvalidParameterError(
            f"the 'serve_down' parameter of {owner} must be True or False; got {serve_down!r}."
        )
    cap, util, max_acc = _rep_limits(capacity, utilization, max_accounts, level_list)
    by_cols = [] if by is None else [by] if isinstance(by, str) else list(by)
    work, level_code = _customer_work_and_levels(
        customers, by_cols, workload_col, level_col, customer_col, level_list, owner
    )
    region_codes, regions = _region_codes(customers, by_cols)
    n_levels = len(level_list)
    n_regions = 1 if regions is None else len(regions)
    flat = region_codes * n_levels + level_code
    size = n_regions * n_levels
    work_rl = np.bincount(flat, weights=work, minlength=size).astype(np.float64)
    work_rl = work_rl.reshape(n_regions, n_levels)
    acc_rl = np.bincount(flat, minlength=size).reshape(n_regions, n_levels).astype(np.float64)
    sizing = _size_levels_top_down(work_rl, acc_rl, cap * util, max_acc, serve_down)
    out = _sizing_table(sizing, work_rl, acc_rl, level_list, cap, util, max_acc)
    if regions is not None:
        keys = regions.loc[regions.index.repeat(n_levels)].reset_index(drop=True)
        out = pd.concat([keys, out], axis=1)
    return out[[*by_cols, *_COLUMNS]]


def _level_list(levels: object, owner: str) -> list[Hashable]:
    """The levels as a list, lowest first; non-empty and each level once."""
    if isinstance(levels, str | bytes) or not isinstance(levels, Sequence) or not levels:
        raise InvalidParameterError(
            f"the 'levels' parameter of {owner} must be a non-empty list of levels, lowest "
            f"first; got {levels!r}."
        )
    level_list = list(levels)
    if len(set(level_list)) != len(level_list):
        dup = pd.Index(level_list)
        raise InvalidParameterError(
            f"the 'levels' parameter of {owner} must list each level once; "
            f"{format_ids(dup[dup.duplicated()].unique())} repeat."
        )
    return level_list


def _rep_limits(
    capacity: object, utilization: object, max_accounts: object, level_list: list[Hashable]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per level: capacity, target utilization and max accounts (inf when unlimited)."""
    cap = _per_level(capacity, "capacity", level_list, expected="> 0", ok=lambda x: 0 < x < np.inf)
    util = _per_level(
        utilization, "utilization", level_list, expected="in (0, 1]", ok=lambda x: 0 < x <= 1
    )
    if max_accounts is None:
        max_acc = np.full(len(level_list), np.inf)
    else:
        max_acc = _per_level(
            max_accounts,
            "max_accounts",
            level_list,
            expected="> 0",
            ok=lambda x: x > 0,
            optional=True,
        )
    return cap, util, max_acc


def _customer_work_and_levels(
    customers: pd.DataFrame,
    by_cols: list[str],
    workload_col: str,
    level_col: str | None,
    customer_col: str,
    level_list: list[Hashable],
    owner: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's workload and the code of the level it needs, once the columns check."""
    needed = [workload_col, *by_cols] + ([level_col] if level_col is not None else [])
    missing = [c for c in needed if c not in customers.columns]
    if missing:
        raise InvalidProblemError(
            f"the 'customers' argument of {owner} has no column {format_ids(missing)} "
            f"(its columns are {format_ids(customers.columns, limit=10)}); add it or pass "
            f"the right name with workload_col=, by= or level_col=."
        )
    ids = (
        pd.Index(customers[customer_col]) if customer_col in customers.columns else customers.index
    )
    workload = customers[workload_col]
    if not pd.api.types.is_numeric_dtype(workload) or pd.api.types.is_bool_dtype(workload):
        raise InvalidProblemError(
            f"the 'customers' argument of {owner} has a non-numeric workload column "
            f"{workload_col!r} (dtype {workload.dtype}); convert it to numbers."
        )
    work = workload.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(work) | (work < 0)
    if bad.any():
        raise InvalidProblemError(
            f"the 'customers' argument of {owner} has missing, infinite or negative "
            f"{workload_col!r} for customers {format_ids(ids[bad])}; give every customer "
            f"a workload >= 0."
        )
    for col in by_cols:
        na = customers[col].isna().to_numpy()
        if na.any():
            raise InvalidProblemError(
                f"the 'customers' argument of {owner} has no {col!r} for customers "
                f"{format_ids(ids[na])}; fill it so every customer belongs to a region."
            )
    if level_col is None:
        return work, np.zeros(len(customers), dtype=np.int64)
    need = customers[level_col]
    known = need.isin(level_list).to_numpy()
    if not known.all():
        raise InvalidProblemError(
            f"the 'customers' argument of {owner} has levels "
            f"{format_ids(pd.unique(need[~known]))} in {level_col!r} (customers "
            f"{format_ids(ids[~known])}) that are not in 'levels' "
            f"({format_ids(level_list)}); add them to levels or fix the column."
        )
    return work, pd.Index(level_list).get_indexer(pd.Index(need))


def _region_codes(
    customers: pd.DataFrame, by_cols: list[str]
) -> tuple[np.ndarray, pd.DataFrame | None]:
    """Each customer's region code and the regions' ``by`` values (None: one region)."""
    if not by_cols:
        return np.zeros(len(customers), dtype=np.int64), None
    grouped = customers[by_cols].groupby(by_cols, sort=True, dropna=False, observed=True)
    region_codes = grouped.ngroup().to_numpy(dtype=np.int64)
    return region_codes, grouped.size().index.to_frame(index=False)


@dataclass
class _Sizing:
    """Per region (rows) and level (columns): the figures the rep counts rest on."""

    spare_h: np.ndarray  # workload room that rounding up left on the level's reps
    spare_n: np.ndarray  # account slots that rounding up left on the level's reps
    above_h: np.ndarray  # the level's workload taken by higher levels' spare room
    above_n: np.ndarray  # the level's accounts taken by higher levels' spare room
    load: np.ndarray  # workload the level's reps carry (own and absorbed)
    w_bound: np.ndarray  # reps the remaining workload needs (fractional)
    a_bound: np.ndarray  # reps the remaining accounts need (fractional)
    reps: np.ndarray  # reps needed (int64)

    @classmethod
    def zeros(cls, shape: tuple[int, int]) -> _Sizing:
        return cls(
            spare_h=np.zeros(shape),
            spare_n=np.zeros(shape),
            above_h=np.zeros(shape),
            above_n=np.zeros(shape),
            load=np.zeros(shape),
            w_bound=np.zeros(shape),
            a_bound=np.zeros(shape),
            reps=np.zeros(shape, dtype=np.int64),
        )


def _size_levels_top_down(
    work_rl: np.ndarray,
    acc_rl: np.ndarray,
    cap_u: np.ndarray,
    max_acc: np.ndarray,
    serve_down: bool,
) -> _Sizing:
    """Size each level from the highest down, after higher levels' spare room took its share."""
    n_levels = work_rl.shape[1]
    limited = np.isfinite(max_acc)
    sizing = _Sizing.zeros(work_rl.shape)
    for k in reversed(range(n_levels)):
        rem_w = work_rl[:, k].copy()
        rem_n = acc_rl[:, k].copy()
        if serve_down:
            rem_w, rem_n = _absorb_into_higher_levels(sizing, k, rem_w, rem_n)
            sizing.above_h[:, k] = work_rl[:, k] - rem_w
            sizing.above_n[:, k] = acc_rl[:, k] - rem_n
        sizing.w_bound[:, k] = rem_w / cap_u[k]
        sizing.a_bound[:, k] = rem_n / max_acc[k] if limited[k] else 0.0
        reps = _ceil(np.maximum(sizing.w_bound[:, k], sizing.a_bound[:, k]))
        sizing.reps[:, k] = reps
        sizing.spare_h[:, k] = reps * cap_u[k] - rem_w
        sizing.spare_n[:, k] = np.where(
            reps > 0, reps * max_acc[k] - rem_n if limited[k] else np.inf, 0.0
        )
        sizing.load[:, k] += rem_w
    return sizing


def _absorb_into_higher_levels(
    sizing: _Sizing, k: int, rem_w: np.ndarray, rem_n: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Let the spare room of levels above ``k``, nearest first, take level ``k``'s work.

    Absorbed accounts carry the level's average workload per account. Updates the spare
    room and loads of the higher levels in place; returns the workload and accounts left
    for level ``k``'s own reps.
    """
    per_account = np.divide(rem_w, rem_n, out=np.zeros_like(rem_w), where=rem_n > 0)
    for lv in range(k + 1, sizing.reps.shape[1]):
        with np.errstate(over="ignore"):  # tiny per-account work: no hour limit
            by_hours = np.divide(
                sizing.spare_h[:, lv],
                per_account,
                out=np.full_like(rem_w, np.inf),
                where=per_account > 0,
            )
        take = np.minimum(rem_n, np.minimum(sizing.spare_n[:, lv], by_hours))
        hours = np.minimum(take * per_account, rem_w)
        sizing.spare_n[:, lv] -= take
        sizing.spare_h[:, lv] = np.maximum(sizing.spare_h[:, lv] - hours, 0.0)
        rem_n = np.maximum(rem_n - take, 0.0)
        rem_w = np.where(rem_n > 0, np.maximum(rem_w - hours, 0.0), 0.0)
        sizing.load[:, lv] += hours
    return rem_w, rem_n


def _sizing_table(
    sizing: _Sizing,
    work_rl: np.ndarray,
    acc_rl: np.ndarray,
    level_list: list[Hashable],
    cap: np.ndarray,
    util: np.ndarray,
    max_acc: np.ndarray,
) -> pd.DataFrame:
    """One row per region and level with every figure the counts rest on."""
    n_regions = work_rl.shape[0]
    reps, w_bound, a_bound = sizing.reps, sizing.w_bound, sizing.a_bound
    lower = np.maximum(w_bound, a_bound)
    binding = np.where(reps == 0, "none", np.where(a_bound > w_bound, "accounts", "workload"))
    with np.errstate(invalid="ignore", divide="ignore"):
        resulting = np.where(reps > 0, sizing.load / (reps * cap[None, :]), np.nan)
    return pd.DataFrame(
        {
            "level": np.tile(np.array(level_list, dtype=object), n_regions),
            "accounts": acc_rl.ravel().astype(np.int64),
            "workload": work_rl.ravel(),
            "accounts_above": sizing.above_n.ravel(),
            "workload_above": sizing.above_h.ravel(),
            "capacity_per_rep": np.tile(cap, n_regions),
            "utilization": np.tile(util, n_regions),
            "max_accounts": np.tile(max_acc, n_regions),
            "workload_bound": w_bound.ravel(),
            "account_bound": a_bound.ravel(),
            "lower_bound": lower.ravel(),
            "reps_needed": reps.ravel(),
            "binding": binding.ravel(),
            "load": sizing.load.ravel(),
            "resulting_utilization": resulting.ravel(),
        }
    )
