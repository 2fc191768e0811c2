"""Performance: KPI scorecards, grade bands and exact splits of a team bonus pool.

* [`scorecard`][alloc.performance.scorecard] scores each rep on several KPIs (revenue, volume, new
  customers, collections, satisfaction, ...): completion = actual / target per KPI, capped; the
  score is the weighted mean of completions; a grade band maps the score to a grade and
  a bonus multiplier.
* [`split_pool`][alloc.performance.split_pool] divides a team bonus pool exactly: first across teams
  by team result, then within each team by individual contribution, in whole cents (or any
  unit) that sum to the pool, with optional per-person floors. It uses the integer
  apportionment of `alloc.targets.apportion` (the largest remainder method behind
  [`alloc.targets.split`][alloc.targets.split]) on unit counts.

Inputs are never modified.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from alloc.errors import InvalidParameterError, InvalidProblemError, format_ids
from alloc.targets.apportion import (
    NoWeight,
    as_weights,
    check_unit,
    floor_units,
    from_units,
    split_units,
    to_units,
)
from alloc.validation import check_param, is_int, is_number

__all__ = ["DEFAULT_CAP", "DEFAULT_GRADES", "scorecard", "split_pool"]

DEFAULT_GRADES: tuple[tuple[str, float, float], ...] = (
    ("A", 1.10, 1.5),
    ("B", 1.00, 1.2),
    ("C", 0.90, 1.0),
    ("D", 0.75, 0.5),
    ("E", 0.00, 0.0),
)
"""Default grade bands: (grade, minimum score, bonus multiplier), best first.

A score gets the first band whose minimum it reaches."""

DEFAULT_CAP = 1.5
"""Default cap on each KPI's completion (150 %)."""

# Scores within this distance below a band's minimum still reach it, so that float
# rounding in the weighted mean (e.g. 0.9999999999999999) cannot drop a grade.
_SCORE_TOL = 1e-9


def _grade_bands(grades: object, owner: str) -> list[tuple[str, float, float]]:
    if grades is None:
        return list(DEFAULT_GRADES)
    ok = isinstance(grades, Sequence) and not isinstance(grades, str) and len(grades) > 0
    check_param("grades", grades, owner, ok, "a non-empty list of (name, min_score, multiplier)")
    bands: list[tuple[str, float, float]] = []
    for band in cast(Sequence[Any], grades):
        shape_ok = (
            isinstance(band, tuple | list)
            and len(band) == 3
            and is_number(band[1])
            and is_number(band[2])
            and math.isfinite(float(band[2]))
            and not math.isnan(float(band[1]))
        )
        check_param(
            "grades", grades, owner, shape_ok, "(name, min_score, multiplier) triples of numbers"
        )
        bands.append((band[0], float(band[1]), float(band[2])))
    names = [b[0] for b in bands]
    check_param("grades", grades, owner, len(set(names)) == len(names), "bands with distinct names")
    bands.sort(key=lambda b: -b[1])
    mins = [b[1] for b in bands]
    check_param(
        "grades", grades, owner, len(set(mins)) == len(mins), "bands with distinct minimums"
    )
    check_param(
        "grades",
        grades,
        owner,
        bands[-1][1] <= 0,
        "bands whose lowest minimum is 0 or below, so that every score gets a grade",
    )
    return bands


def _kpi_weights(weights: object, owner: str) -> pd.Series:
    ok = isinstance(weights, Mapping | pd.Series) and len(weights) > 0  # type: ignore[arg-type]
    check_param("weights", weights, owner, ok, "a non-empty mapping or Series KPI -> weight")
    raw = (
        weights
        if isinstance(weights, pd.Series)
        else pd.Series(dict(cast(Mapping[Any, Any], weights)))
    )
    series = pd.to_numeric(raw, errors="coerce").astype(np.float64)
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.isnan(values) | ~np.isfinite(values) | (values < 0)
    check_param("weights", weights, owner, not bad.any(), "finite non-negative weights")
    check_param("weights", weights, owner, float(series.sum()) > 0, "weights with a positive sum")
    check_param("weights", weights, owner, not series.index.has_duplicates, "one weight per KPI")
    return series


def scorecard(
    actuals: pd.DataFrame,
    targets: pd.DataFrame,
    weights: Mapping[str, float] | pd.Series,
    *,
    grades: Sequence[tuple[str, float, float]] | None = None,
    caps: float | Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Score reps on weighted KPI completion and assign grade bands and multipliers.

    For rep ``r`` and KPI ``k``: ``completion[r, k] = clip(actual / target, 0, cap_k)``;
    ``score[r] = sum_k weight_k * completion[r, k] / sum_k weight_k``; the grade is the
    first band (highest minimum first) whose minimum the score reaches, and the
    multiplier is that band's.

    Parameters
    ----------
    actuals, targets : pandas.DataFrame
        Indexed by rep, one column per KPI (any names: revenue, volume,
        new_customers, collections, satisfaction, ...). Both must have the same reps;
        targets must be positive. Extra columns not in ``weights`` are ignored.
    weights : mapping or pandas.Series
        KPI -> non-negative weight (need not sum to 1). Only these KPIs are scored.
    grades : list of (name, min_score, multiplier), optional
        Grade bands in any order; the lowest minimum must be 0 or below so that every
        score gets a grade. Default [`DEFAULT_GRADES`][alloc.performance.DEFAULT_GRADES]: A >= 1.10
        (x1.5), B >= 1.00 (x1.2), C >= 0.90 (x1.0), D >= 0.75 (x0.5), E otherwise (x0).
    caps : float or mapping, optional
        Cap on completion, one number for all KPIs or KPI -> cap (KPIs not named get
        the default); ``math.inf`` for no cap. Default
        [`DEFAULT_CAP`][alloc.performance.DEFAULT_CAP] (1.5).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``targets``: ``<kpi>_completion`` for each scored KPI, then
        ``score``, ``grade`` and ``multiplier``.

    Raises
    ------
    InvalidProblemError
        A weighted KPI missing from ``actuals`` or ``targets``; reps in one table but
        not the other; targets that are zero, negative or missing; missing actuals.
    InvalidParameterError
        Bad ``weights``, ``grades`` or ``caps``.

    Examples
    --------
    >>> import pandas as pd
    >>> from alloc.performance import scorecard
    >>> targets = pd.DataFrame({"revenue": [100, 100], "new_customers": [10, 10]},
    ...                        index=["ann", "bob"])
    >>> actuals = pd.DataFrame({"revenue": [120, 80], "new_customers": [10, 5]},
    ...                        index=["ann", "bob"])
    >>> card = scorecard(actuals, targets, {"revenue": 0.75, "new_customers": 0.25})
    >>> card[["score", "grade", "multiplier"]]
         score grade  multiplier
    ann  1.150     A         1.5
    bob  0.725     E         0.0
    """
    owner = "scorecard"
    for name, frame in (("actuals", actuals), ("targets", targets)):
        if not isinstance(frame, pd.DataFrame):
            raise InvalidParameterError(
                f"the {name!r} parameter of {owner} must be a pandas DataFrame indexed by "
                f"rep with one column per KPI; got {type(frame).__name__}."
            )
    w = _kpi_weights(weights, owner)
    bands = _grade_bands(grades, owner)
    kpis = list(w.index)
    for name, frame in (("actuals", actuals), ("targets", targets)):
        missing = [k for k in kpis if k not in frame.columns]
        if missing:
            raise InvalidProblemError(
                f"the {name!r} argument of {owner} has no column for the KPIs "
                f"{format_ids(missing)} named in weights; add them or drop them from "
                "weights."
            )
        if frame.index.has_duplicates:
            raise InvalidProblemError(
                f"the {name!r} argument of {owner} lists reps more than once: "
                f"{format_ids(frame.index[frame.index.duplicated()].unique())}."
            )
    only_targets = targets.index.difference(actuals.index)
    if len(only_targets):
        raise InvalidProblemError(
            f"the 'actuals' argument of {owner} has no row for the reps "
            f"{format_ids(only_targets)}; add their actuals (0 where nothing was achieved)."
        )
    only_actuals = actuals.index.difference(targets.index)
    if len(only_actuals):
        raise InvalidProblemError(
            f"the 'targets' argument of {owner} has no row for the reps "
            f"{format_ids(only_actuals)}; add their targets or drop their actuals."
        )
    tgt = targets[kpis].apply(pd.to_numeric, errors="coerce").astype(np.float64)
    act = actuals[kpis].apply(pd.to_numeric, errors="coerce").astype(np.float64).loc[tgt.index]
    bad_t = tgt.isna() | (tgt <= 0) | ~np.isfinite(tgt)
    if bad_t.to_numpy().any():
        cells = [(r, k) for r, k in bad_t.stack().loc[lambda s: s].index]
        raise InvalidProblemError(
            f"the 'targets' argument of {owner} has zero, negative or missing targets for "
            f"(rep, KPI) {format_ids(cells)}; completion needs a positive target."
        )
    bad_a = act.isna() | ~np.isfinite(act)
    if bad_a.to_numpy().any():
        cells = [(r, k) for r, k in bad_a.stack().loc[lambda s: s].index]
        raise InvalidProblemError(
            f"the 'actuals' argument of {owner} has missing values for (rep, KPI) "
            f"{format_ids(cells)}; fill them (0 where nothing was achieved)."
        )
    if caps is None:
        cap = pd.Series(DEFAULT_CAP, index=kpis, dtype=np.float64)
    elif is_number(caps):
        cap = pd.Series(float(caps), index=kpis, dtype=np.float64)  # type: ignore[arg-type]
    elif isinstance(caps, Mapping):
        unknown = [k for k in caps if k not in kpis]
        check_param("caps", caps, owner, not unknown, "a mapping over the weighted KPIs")
        cap = pd.Series({k: float(caps.get(k, DEFAULT_CAP)) for k in kpis}, dtype=np.float64)
    else:
        raise InvalidParameterError(
            f"the 'caps' parameter of {owner} must be a number or a mapping KPI -> cap; "
            f"got {type(caps).__name__}."
        )
    check_param("caps", caps, owner, bool((cap > 0).all()), "positive caps")
    completion = (act / tgt).clip(lower=0.0).clip(upper=cap, axis=1)
    # Weights normalised first: a product with a tiny weight can round in the subnormal
    # range (5e-324 * 1.5 -> 1e-323), and a later division by the sum would then give
    # a score above every cap (found by hypothesis: 2.0 with a cap of 1.5).
    score = (completion * (w / float(w.sum()))).sum(axis=1)
    score_values = score.to_numpy(dtype=np.float64)
    grade = np.full(score_values.shape[0], bands[-1][0], dtype=object)
    multiplier = np.full(score_values.shape[0], bands[-1][2], dtype=np.float64)
    for name, minimum, mult in reversed(bands[:-1]):
        reached = score_values >= minimum - _SCORE_TOL
        grade[reached] = name
        multiplier[reached] = mult
    out = completion.add_suffix("_completion")
    out["score"] = score_values
    out["grade"] = grade
    out["multiplier"] = multiplier
    return out


def split_pool(
    pool: float,
    team_results: Mapping[Hashable, float] | pd.Series,
    contributions: pd.DataFrame,
    *,
    floor: float | Mapping[Hashable, float] | pd.Series | None = None,
    unit: float = 0.01,
) -> pd.DataFrame:
    """Split a bonus pool exactly: across teams by result, then within teams by contribution.

    1. Teams: the pool is split over teams in proportion to ``team_results`` (for
       example team score x headcount), each team getting at least the sum of its
       members' floors.
    2. People: each team's amount is split over its members in proportion to their
       ``contribution``, each getting at least their floor.

    Both splits use the largest remainder method on whole units (cents by default), so
    every amount is a multiple of ``unit``, each team's amounts sum exactly to the
    team's share and all amounts sum exactly to ``pool``. With floors, those below their
    floor are raised to it and the rest is re-split among the others by weight.

    Parameters
    ----------
    pool : int or float
        The pool; a non-negative multiple of ``unit``.
    team_results : mapping or pandas.Series
        Team -> non-negative weight. Every team with members in ``contributions`` must
        appear; teams with weight 0 get nothing beyond their members' floors.
    contributions : pandas.DataFrame
        One row per person with columns ``team``, ``rep`` and ``contribution``
        (non-negative; e.g. individual score or revenue). A (team, rep) pair appears
        once.
    floor : number, mapping or pandas.Series, optional
        Minimum amount per person: one number for everybody, or rep -> minimum (reps not
        named get none). Rounded up to a multiple of ``unit``.
    unit : int or float, default 0.01
        Granularity of the amounts (0.01 = cents).

    Returns
    -------
    pandas.DataFrame
        ``contributions`` (same index and row order; columns ``team``, ``rep``,
        ``contribution``) with an ``amount`` column added: int64 when ``pool`` and
        ``unit`` are ints, else float64 multiples of ``unit``.

    Raises
    ------
    InvalidProblemError
        Missing columns, duplicated (team, rep) rows, negative or missing
        contributions, teams without results, teams with a positive result but no
        members, floors summing to more than the pool, or a team share to divide among
        members who all contributed 0.
    InvalidParameterError
        Bad ``pool`` (negative or not a multiple of ``unit``) or ``unit``.

    Examples
    --------
    >>> import pandas as pd
    >>> from alloc.performance import split_pool
    >>> people = pd.DataFrame({
    ...     "team": ["north", "north", "south"],
    ...     "rep": ["ann", "bob", "cid"],
    ...     "contribution": [2, 1, 1],
    ... })
    >>> split_pool(1000.0, {"north": 2, "south": 1}, people)["amount"].tolist()
    [444.45, 222.22, 333.33]
    >>> split_pool(1000.0, {"north": 2, "south": 1}, people, floor=300)["amount"].tolist()
    [366.67, 300.0, 333.33]
    """
    owner = "split_pool"
    check_unit(unit, owner)
    n_units = to_units(pool, unit, "pool", owner)
    as_int = is_int(pool) and is_int(unit)
    people, contribution = _people_table(contributions, owner)
    team_index, team_values = _team_results(team_results, people, owner)
    person_floor_units = floor_units(_person_floors(floor, people, owner), unit)
    team_code = pd.Index(team_index).get_indexer(people["team"])
    team_units = _split_over_teams(
        n_units, pool, unit, team_values, team_code, person_floor_units, owner
    )
    amounts = _split_within_teams(
        team_units, team_index, team_code, contribution, person_floor_units, unit, owner
    )
    people["amount"] = from_units(amounts, unit, as_int)
    return people


def _people_table(contributions: object, owner: str) -> tuple[pd.DataFrame, pd.Series]:
    """The checked ``team``, ``rep``, ``contribution`` columns and the numeric contributions."""
    if not isinstance(contributions, pd.DataFrame):
        raise InvalidParameterError(
            f"the 'contributions' parameter of {owner} must be a DataFrame with columns "
            f"'team', 'rep' and 'contribution'; got {type(contributions).__name__}."
        )
    missing = [c for c in ("team", "rep", "contribution") if c not in contributions.columns]
    if missing:
        raise InvalidProblemError(
            f"the 'contributions' argument of {owner} has no column {format_ids(missing)}; "
            "it needs 'team', 'rep' and 'contribution', one row per person."
        )
    people = contributions[["team", "rep", "contribution"]].copy()
    nulls = people[["team", "rep"]].isna().any(axis=1).to_numpy()
    if nulls.any():
        raise InvalidProblemError(
            f"the 'contributions' argument of {owner} has missing team or rep at rows "
            f"{format_ids(people.index[nulls])}."
        )
    dup = people.duplicated(subset=["team", "rep"]).to_numpy()
    if dup.any():
        raise InvalidProblemError(
            f"the 'contributions' argument of {owner} repeats (team, rep) pairs at rows "
            f"{format_ids(people.index[dup])}; give each person once per team."
        )
    contribution = pd.to_numeric(people["contribution"], errors="coerce")
    bad = (contribution.isna() | (contribution < 0)).to_numpy()
    bad = bad | ~np.isfinite(contribution.to_numpy(dtype=np.float64, na_value=np.nan))
    if bad.any():
        raise InvalidProblemError(
            f"the 'contributions' argument of {owner} has missing or negative "
            f"contributions at rows {format_ids(people.index[bad])}."
        )
    return people, contribution


def _team_results(
    team_results: object, people: pd.DataFrame, owner: str
) -> tuple[pd.Index, npt.NDArray[Any]]:
    """Team labels and weights; every team with members has one, every share has members."""
    team_index, team_values = as_weights(team_results, "team_results", owner)
    members = pd.Index(pd.unique(people["team"].to_numpy()))
    unknown = members.difference(team_index)
    if len(unknown):
        raise InvalidProblemError(
            f"the 'team_results' argument of {owner} has no result for the teams "
            f"{format_ids(unknown)}; give them a result (0 for no share)."
        )
    empty = [t for t, v in zip(team_index, team_values, strict=True) if v > 0 and t not in members]
    if empty:
        raise InvalidProblemError(
            f"the 'team_results' argument of {owner} gives a share to teams without "
            f"members in contributions: {format_ids(empty)}; add their members or give "
            "them result 0."
        )
    return team_index, team_values


def _person_floors(floor: object, people: pd.DataFrame, owner: str) -> npt.NDArray[np.float64]:
    """Each person's floor amount (0 where none), from one number or a rep -> amount map."""
    if floor is None:
        return np.zeros(len(people))
    if is_number(floor):
        check_param("floor", floor, owner, float(floor) >= 0, "a non-negative amount")  # type: ignore[arg-type]
        return np.full(len(people), float(floor))  # type: ignore[arg-type]
    if isinstance(floor, pd.Series | Mapping):
        by_rep = floor if isinstance(floor, pd.Series) else pd.Series(dict(floor))
        strangers = by_rep.index.difference(pd.Index(people["rep"].unique()))
        if len(strangers):
            raise InvalidProblemError(
                f"the 'floor' argument of {owner} names reps that are not in "
                f"contributions: {format_ids(strangers)}."
            )
        values = pd.to_numeric(people["rep"].map(by_rep), errors="coerce").fillna(0.0)
        if (values < 0).any():
            raise InvalidProblemError(f"the 'floor' argument of {owner} has negative floors.")
        return values.to_numpy(dtype=np.float64)
    raise InvalidParameterError(
        f"the 'floor' parameter of {owner} must be a number or a mapping rep -> "
        f"amount; got {type(floor).__name__}."
    )


def _split_over_teams(
    n_units: int,
    pool: float,
    unit: float,
    team_values: npt.NDArray[Any],
    team_code: npt.NDArray[np.intp],
    person_floor_units: npt.NDArray[np.float64],
    owner: str,
) -> npt.NDArray[np.int64]:
    """Step 1: the pool's units per team, by result, each team at least its members' floors.

    Teams without members get nothing (their cap is 0).
    """
    n_teams = len(team_values)
    team_floor = np.bincount(team_code, weights=person_floor_units, minlength=n_teams).astype(
        np.float64
    )
    if float(team_floor.sum()) > n_units:
        raise InvalidProblemError(
            f"the 'floor' argument of {owner} needs {float(team_floor.sum()) * unit:,.10g} "
            f"in total but the pool is {pool!r}; lower the floors or raise the pool."
        )
    team_cap = np.where(np.isin(np.arange(n_teams), team_code), np.inf, 0.0)
    try:
        return split_units(n_units, team_values, team_floor, team_cap)
    except NoWeight as exc:
        raise InvalidProblemError(
            f"the 'team_results' argument of {owner} is 0 for every team, but "
            f"{exc.remaining * unit:,.10g} of the pool is left after the floors; give some "
            "team a positive result."
        ) from None


def _split_within_teams(
    team_units: npt.NDArray[np.int64],
    team_index: pd.Index,
    team_code: npt.NDArray[np.intp],
    contribution: pd.Series,
    person_floor_units: npt.NDArray[np.float64],
    unit: float,
    owner: str,
) -> npt.NDArray[np.int64]:
    """Step 2: each team's units over its members, by contribution, above their floors."""
    amounts = np.zeros(len(team_code), dtype=np.int64)
    contrib = contribution.to_numpy()
    if contrib.dtype.kind not in "iu":
        contrib = contrib.astype(np.float64)
    for t in range(len(team_index)):
        rows = np.flatnonzero(team_code == t)
        if rows.size == 0:
            continue
        try:
            amounts[rows] = split_units(
                int(team_units[t]), contrib[rows], person_floor_units[rows], None
            )
        except NoWeight:
            raise InvalidProblemError(
                f"the 'contributions' argument of {owner} is 0 for every member of team "
                f"{team_index[t]!r} above their floors, but the team's share of "
                f"{int(team_units[t]) * unit:,.10g} must be divided among them; give them "
                "contributions or the team result 0."
            ) from None
    return amounts
