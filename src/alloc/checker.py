"""Independent checker: feasibility and objective of any assignment, from the tables.

This module deliberately shares no code with the solvers or with the compiled model:
it reads the problem's tables and the rules' declared parameters and recomputes every
constraint and the objective with plain pandas. A solver bug therefore cannot hide
behind the same bug in the checker. Only the data parser is shared with the rules:
yes/no columns are read by [`alloc.validation.parse_flags`][alloc.validation.parse_flags], so the
checker and the rules agree on what a flag is. Hard rows are judged by the library's one
comparison rule (`alloc.data.tolerance`: ``load <= limit + 1e-9 * max(1, |limit|)``
on the raw data), the rule every solver's score and model uses too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from alloc import objectives as O
from alloc import rules as R
from alloc.data import tolerance
from alloc.data.problem import Problem
from alloc.errors import InvalidParameterError, format_ids
from alloc.priority_rules import Budget, Lexicographic, StageCap
from alloc.territory_rules import Contiguous, MinimizeDispersion
from alloc.validation import parse_flags

__all__ = [
    "Violation",
    "check",
    "objective_value",
    "rep_loads",
    "soft_window_value",
    "term_value",
    "territory_centres",
]


@dataclass(frozen=True)
class Violation:
    """One broken constraint: the rule, what is wrong in words, and the ids involved."""

    rule: str
    message: str
    ids: tuple[Any, ...] = ()
    amount: float = 0.0

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


def _as_series(problem: Problem, assignment: object) -> pd.Series:
    if isinstance(assignment, pd.DataFrame):
        c_col, r_col = problem.id_columns["customer"], problem.id_columns["rep"]
        if {c_col, r_col} <= set(assignment.columns):
            return pd.Series(assignment[r_col].to_numpy(), index=assignment[c_col].to_numpy())
    if isinstance(assignment, dict):
        return pd.Series(assignment, dtype=object)
    if not isinstance(assignment, pd.Series):
        raise InvalidParameterError(
            "the 'assignment' parameter must be a pandas Series customer_id -> rep_id "
            f"(or a dict / DataFrame with the id columns); got {type(assignment).__name__}."
        )
    return assignment


def _parse(value: object, known: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """A rep's set of values; a ``;``-piece the customers lack is a comma list."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return set()
    if isinstance(value, str):
        out: set[str] = set()
        for piece in (v.strip() for v in value.split(";")):
            if piece in known or "," not in piece:
                out.add(piece)
            else:
                out.update(v.strip() for v in piece.split(","))
        return out - {""}
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray, pd.Series)):
        return {str(v) for v in value}
    return {str(value)}


def _flag(series: pd.Series, column: str) -> pd.Series:
    """A yes/no column read as bools (unknown values raise, as when the rule was built)."""
    return pd.Series(parse_flags(series, column=column, what="customers"), index=series.index)


def _rep_values(problem: Problem, spec: Any) -> pd.Series:
    reps = problem.reps
    if isinstance(spec, str):
        return reps[spec].astype(float)
    return pd.Series(float(spec), index=reps.index)


def _metric_per_customer(problem: Problem, assigned: pd.Series, metric: str) -> pd.Series:
    """Metric value of each customer at its assigned rep (pair column first)."""
    pairs = problem.source_pairs
    c_col, r_col = problem.id_columns["customer"], problem.id_columns["rep"]
    if pairs is not None and metric in pairs.columns:
        lookup = pairs.set_index([c_col, r_col])[metric]
        keys = pd.MultiIndex.from_arrays([assigned.index, assigned.to_numpy()])
        return pd.Series(lookup.reindex(keys).to_numpy(dtype=float), index=assigned.index)
    return problem.customers[metric].astype(float).reindex(assigned.index)


def rep_loads(problem: Problem, assignment: pd.Series, metric: str | None) -> pd.Series:
    """Per-rep sum of a metric (count when ``metric`` is None), every rep included."""
    assigned = _as_series(problem, assignment)
    assigned = assigned[assigned.index.isin(problem.customer_ids) & assigned.isin(problem.rep_ids)]
    if metric is None:
        values = pd.Series(1.0, index=assigned.index)
    else:
        values = _metric_per_customer(problem, assigned, metric)
    loads = values.groupby(assigned.to_numpy()).sum()
    return loads.reindex(problem.rep_ids, fill_value=0.0).astype(float)


def _limits(limit: Any, load: pd.Series, absent: float) -> Any:
    """A rule's limit as floats aligned with ``load``'s reps (``absent`` when None)."""
    if limit is None:
        return absent
    if isinstance(limit, pd.Series):
        return limit.reindex(load.index).to_numpy(dtype=float)
    return np.asarray(limit, dtype=float)


def _within(load: pd.Series, lo: Any, hi: Any) -> pd.Series:
    """Per rep, how far ``load`` breaks ``[lo, hi]`` under the one comparison rule."""
    amount = tolerance.excess(
        load.to_numpy(dtype=float), _limits(lo, load, -np.inf), _limits(hi, load, np.inf)
    )
    return pd.Series(amount, index=load.index)


def _shares(problem: Problem, metric: str, share: str | None) -> pd.Series:
    total = problem.customers[metric].astype(float).sum()
    reps = problem.reps
    w = pd.Series(1.0, index=reps.index) if share is None else reps[share].astype(float)
    return total * w / w.sum()


def check(problem: Problem, assignment: Any) -> list[Violation]:
    """List every violated rule of ``problem`` by ``assignment``; ``[]`` means feasible.

    Parameters
    ----------
    problem : Problem
    assignment : pandas.Series
        customer_id -> rep_id for every customer.

    Examples
    --------
    >>> import pandas as pd, alloc
    >>> customers = pd.DataFrame({"customer_id": ["a", "b"], "w": [3, 4]})
    >>> reps = pd.DataFrame({"rep_id": ["r1", "r2"], "cap": [5, 5]})
    >>> p = alloc.Problem(customers, reps, rules=[alloc.Capacity("w", limit="cap")])
    >>> [str(v) for v in alloc.check(p, pd.Series({"a": "r1", "b": "r1"}))]
    ["Capacity(metric='w', limit='cap'): load above limit at reps 'r1' (by 2)"]
    """
    assigned = _as_series(problem, assignment)
    out: list[Violation] = []
    customers, reps = problem.customers, problem.reps
    dup = assigned.index[assigned.index.duplicated()]
    if len(dup):
        out.append(
            Violation("assignment", f"customers assigned twice: {format_ids(dup)}", tuple(dup))
        )
        assigned = assigned[~assigned.index.duplicated()]
    missing = customers.index.difference(assigned.index)
    if len(missing):
        out.append(
            Violation("assignment", f"unassigned customers {format_ids(missing)}", tuple(missing))
        )
    extra = assigned.index.difference(customers.index)
    if len(extra):
        out.append(Violation("assignment", f"unknown customers {format_ids(extra)}", tuple(extra)))
    unknown = assigned[~assigned.isin(reps.index)]
    if len(unknown):
        out.append(
            Violation(
                "assignment",
                f"customers {format_ids(unknown.index)} go to unknown reps "
                f"{format_ids(pd.unique(unknown.to_numpy()))}",
                tuple(unknown.index),
            )
        )
    a = assigned[assigned.index.isin(customers.index) & assigned.isin(reps.index)]
    c_col, r_col = problem.id_columns["customer"], problem.id_columns["rep"]

    pairs = problem.source_pairs
    if pairs is not None:
        allowed = pd.MultiIndex.from_frame(pairs[[c_col, r_col]])
        keys = pd.MultiIndex.from_arrays([a.index, a.to_numpy()])
        bad = a.index[~keys.isin(allowed)]
        if len(bad):
            out.append(
                Violation(
                    "pairs",
                    f"customers {format_ids(bad)} go to reps outside the pair table",
                    tuple(bad),
                )
            )

    for rule in problem.rules:
        out.extend(_check_rule(problem, rule, a, customers, reps))
    return out


def _rep_excess(rule: Any, text: str, excess: pd.Series) -> list[Violation]:
    bad = excess[excess > 0]
    if bad.empty:
        return []
    return [
        Violation(
            repr(rule),
            f"{text} at reps {format_ids(bad.index)} (by {bad.max():g})",
            tuple(bad.index),
            float(bad.sum()),
        )
    ]


def _check_rule(
    problem: Problem, rule: Any, a: pd.Series, customers: pd.DataFrame, reps: pd.DataFrame
) -> list[Violation]:
    name = repr(rule)
    if isinstance(rule, R.Match):
        want = customers[rule.customer_col].reindex(a.index)
        # Outer spaces do not count on either side ("retail " is "retail").
        known = {str(v).strip() for v in customers[rule.customer_col].dropna()}
        have = reps[rule.rep_col].map(lambda value: _parse(value, known))
        ok = [
            (pd.isna(w) and rule.missing == "any") or (not pd.isna(w) and str(w).strip() in have[r])
            for w, r in zip(want.to_numpy(), a.to_numpy(), strict=True)
        ]
        bad = a.index[~np.asarray(ok, dtype=bool)] if len(ok) else a.index[:0]
        return (
            [
                Violation(
                    name,
                    f"customers {format_ids(bad)} go to reps without a matching {rule.rep_col!r}",
                    tuple(bad),
                )
            ]
            if len(bad)
            else []
        )
    if isinstance(rule, R.KeyAccounts):
        flag = _flag(customers[rule.flag_col], rule.flag_col).reindex(a.index)
        level = reps[rule.level_col].astype(str).reindex(a.to_numpy()).to_numpy()
        bad = a.index[flag.to_numpy() & ~np.isin(level, list(rule.levels))]
        out = []
        if len(bad):
            out.append(
                Violation(
                    name,
                    f"key accounts {format_ids(bad)} go to reps whose level is "
                    f"not in {list(rule.levels)}",
                    tuple(bad),
                )
            )
        if rule.max_per_rep is not None:
            counts = (
                flag.astype(float).groupby(a.to_numpy()).sum().reindex(reps.index, fill_value=0)
            )
            out += _rep_excess(
                rule,
                "too many key accounts",
                _within(counts, None, _rep_values(problem, rule.max_per_rep)),
            )
        return out
    if isinstance(rule, R.Pin):
        pinned = pd.Series(rule.mapping, dtype=object)
        pinned = pinned[pinned.index.isin(a.index)]
        bad = pinned.index[a.reindex(pinned.index).to_numpy() != pinned.to_numpy()]
        return (
            [
                Violation(
                    name,
                    f"pinned customers {format_ids(bad)} are not with their pinned rep",
                    tuple(bad),
                )
            ]
            if len(bad)
            else []
        )
    if isinstance(rule, R.Forbid):
        forbidden = set(rule.pairs)
        used = [c for c, r in a.items() if (c, r) in forbidden]
        return (
            [Violation(name, f"customers {format_ids(used)} use forbidden pairs", tuple(used))]
            if used
            else []
        )
    if isinstance(rule, R.Together):
        group = customers[rule.group_col].reindex(a.index)
        frame = pd.DataFrame({"g": group.to_numpy(), "r": a.to_numpy()}).dropna(subset=["g"])
        split = frame.groupby("g")["r"].nunique()
        bad = split.index[split > 1]
        return (
            [
                Violation(
                    name, f"account families {format_ids(bad)} are split across reps", tuple(bad)
                )
            ]
            if len(bad)
            else []
        )
    if isinstance(rule, R.Capacity):
        load = rep_loads(problem, a, rule.metric)
        return _rep_excess(
            rule, "load above limit", _within(load, None, _rep_values(problem, rule.limit))
        )
    if isinstance(rule, R.AccountLimit):
        count = rep_loads(problem, a, None)
        lo = None if rule.min is None else _rep_values(problem, rule.min)
        hi = None if rule.max is None else _rep_values(problem, rule.max)
        return _rep_excess(rule, "account count outside limits", _within(count, lo, hi))
    if isinstance(rule, R.Balance) and rule.soft:
        return []  # priced in the objective (soft_window_value), not a hard rule
    if isinstance(rule, R.Balance):
        share = _shares(problem, rule.metric, rule.share)
        load = rep_loads(problem, a, rule.metric)
        low, high = rule.window
        return _rep_excess(
            rule,
            f"load outside the balance window (within {rule.window_text()})",
            _within(
                load, None if low is None else share * low, None if high is None else share * high
            ),
        )
    if isinstance(rule, R.Spread):
        raw = customers[rule.flag_col]
        member = (raw == rule.value) if rule.value is not None else _flag(raw, rule.flag_col)
        n = float(member.sum())
        w = (
            pd.Series(1.0, index=reps.index)
            if rule.share is None
            else reps[rule.share].astype(float)
        )
        target = n * w / w.sum()
        count = member.reindex(a.index).astype(float).groupby(a.to_numpy()).sum()
        count = count.reindex(reps.index, fill_value=0.0)
        return _rep_excess(
            rule,
            "class members not spread evenly",
            _within(count, np.floor(target + 1e-9), np.ceil(target - 1e-9)),
        )
    if isinstance(rule, Contiguous):
        return _check_contiguous(problem, rule, a)
    if isinstance(rule, (Budget, StageCap)):
        return _check_budget(problem, rule, a)
    raise InvalidParameterError(f"check() does not know rule {name}; it cannot certify it.")


def _check_budget(problem: Problem, rule: Budget | StageCap, a: pd.Series) -> list[Violation]:
    """A global cap: the capped terms' value over the whole plan, from the tables."""
    if len(a) != problem.n_customers:
        return []  # unassigned customers are reported already; the total is not defined
    cap = rule.cap
    value = sum(term_value(problem, a, term) for term in rule.terms)
    over = float(tolerance.excess(np.array([value]), np.array([-np.inf]), np.array([cap]))[0])
    if over <= 0:
        return []
    words = f"the plan's value {value:.10g} is above the cap {cap:.10g}"
    return [Violation(repr(rule), words, (), over)]


# ---- territories: contiguity and dispersion, recomputed with networkx and numpy ---------
def _territory_graph(problem: Problem, rule: Contiguous) -> Any:
    """The customer graph of ``rule``; members of a ``Together`` family count as linked."""
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(problem.customer_ids)
    graph.add_edges_from(rule.neighbors)
    customers = problem.customers
    for together in (r for r in problem.rules if isinstance(r, R.Together)):
        families = customers[together.group_col].dropna()
        for members in families.groupby(families).groups.values():
            graph.add_edges_from((members[0], other) for other in members[1:])
    return graph


def _check_contiguous(problem: Problem, rule: Contiguous, a: pd.Series) -> list[Violation]:
    import networkx as nx

    graph = _territory_graph(problem, rule)
    bases = _rule_bases(problem, rule)
    out: list[Violation] = []
    for rep, members in a.groupby(a.to_numpy()).groups.items():
        pieces = list(nx.connected_components(graph.subgraph(members)))
        if len(pieces) <= 1:
            continue
        base = bases.get(rep)
        main = next((p for p in pieces if base in p), max(pieces, key=len))
        cut = sorted((c for p in pieces if p is not main for c in p), key=str)
        out.append(
            Violation(
                repr(rule),
                f"the territory of rep {rep!r} is in {len(pieces)} pieces: customers "
                f"{format_ids(cut)} are not connected to the rest",
                tuple(cut),
                float(len(cut)),
            )
        )
    away = [c for rep, c in bases.items() if c in a.index and a[c] != rep]
    if away:
        out.append(
            Violation(
                repr(rule),
                f"base units {format_ids(away)} are not with their rep",
                tuple(away),
                float(len(away)),
            )
        )
    return out


def _rule_bases(problem: Problem, rule: Contiguous) -> dict[Any, Any]:
    """rep_id -> base customer id of a Contiguous rule (reps without a base left out)."""
    if rule.base is None:
        return {}
    column = problem.reps[rule.base]
    return dict(column[column.notna()].items())


def _distance(a: np.ndarray, b: np.ndarray, haversine: bool) -> np.ndarray:
    """Row-wise distances between points a[i] and b[i] (km on the sphere for degrees)."""
    if not haversine:
        return np.hypot(a[:, 0] - b[:, 0], a[:, 1] - b[:, 1])
    lat1, lon1, lat2, lon2 = (np.radians(v) for v in (a[:, 0], a[:, 1], b[:, 0], b[:, 1]))
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def _fixed_centres(problem: Problem, columns: tuple[str, str]) -> pd.DataFrame | None:
    """Each rep's centre as (column0, column1): its own location, else its base unit."""
    reps = problem.reps
    if all(c in reps.columns for c in columns):
        own = reps[list(columns)].apply(pd.to_numeric, errors="coerce")
        if own.notna().all(axis=None):
            return own.astype(float)
    bases: dict[Any, Any] = {}
    for rule in problem.rules:
        if isinstance(rule, Contiguous):
            bases.update(_rule_bases(problem, rule))
    if not bases:
        return None
    spots = problem.customers[list(columns)].astype(float)
    return spots.reindex([bases[r] for r in reps.index]).set_axis(reps.index)


def territory_centres(
    problem: Problem, assignment: Any, term: MinimizeDispersion
) -> tuple[dict[Any, Any], pd.Series]:
    """(rep_id -> chosen centre, distance of each customer to its centre) for ``term``.

    Fixed centres (rep locations or base units) give an empty dict; otherwise each
    territory's best centre is found by brute force over its customers.
    """
    a = _as_series(problem, assignment)
    if term.distances is not None:
        return _matrix_centres(problem, a, term)
    customers = problem.customers
    xy = all(c in customers.columns for c in term.xy)
    columns = term.xy if xy else term.latlon
    points = customers[list(columns)].astype(float).reindex(a.index)
    fixed = _fixed_centres(problem, columns)
    if fixed is not None:
        at = fixed.reindex(a.to_numpy()).to_numpy(float)
        return {}, pd.Series(_distance(points.to_numpy(float), at, not xy), index=a.index)

    def table_of(members: pd.Index) -> np.ndarray:
        spots = points.loc[members].to_numpy(float)
        n = len(members)
        table = _distance(np.repeat(spots, n, axis=0), np.tile(spots, (n, 1)), not xy)
        return table.reshape(n, n)  # table[i, j]: member i to candidate centre j

    return _best_centres(a, term, table_of)


def _matrix_centres(
    problem: Problem, a: pd.Series, term: MinimizeDispersion
) -> tuple[dict[Any, Any], pd.Series]:
    """`territory_centres` with a distance table (rows: units, columns: centres)."""
    frame = term.distances.astype(float)
    bases: dict[Any, Any] = {}
    for rule in problem.rules:
        if isinstance(rule, Contiguous):
            bases.update(_rule_bases(problem, rule))
    if bases:
        centre = [bases[r] for r in a.to_numpy()]
        values = [float(frame.at[c, v]) for c, v in zip(a.index, centre, strict=True)]
        return {}, pd.Series(values, index=a.index)
    return _best_centres(a, term, lambda members: frame.loc[members, members].to_numpy(float))


def _best_centres(
    a: pd.Series, term: MinimizeDispersion, table_of: Any
) -> tuple[dict[Any, Any], pd.Series]:
    """Each territory's best centre by brute force over its members."""
    centres: dict[Any, Any] = {}
    dist = pd.Series(0.0, index=a.index)
    for rep, members in a.groupby(a.to_numpy()).groups.items():
        table = table_of(members)
        score = table.sum(axis=0) if term.kind == "sum" else table.max(axis=0)
        best = int(np.argmin(score))
        centres[rep] = members[best]
        dist.loc[members] = table[:, best]
    return centres, dist


def _dispersion_value(problem: Problem, a: pd.Series, term: MinimizeDispersion) -> float:
    _, dist = territory_centres(problem, a, term)
    value = float(dist.sum()) if term.kind == "sum" else float(dist.to_numpy().max(initial=0.0))
    return term.weight * value


def objective_value(problem: Problem, assignment: Any) -> float:
    """The objective of ``assignment`` recomputed from the tables (NaN if incomplete)."""
    a = _as_series(problem, assignment)
    if not (
        a.index.isin(problem.customer_ids).all()
        and a.isin(problem.rep_ids).all()
        and len(a.index.unique()) == problem.n_customers
    ):
        return float("nan")
    terms = problem.objective
    if len(terms) == 1 and isinstance(terms[0], Lexicographic):
        # A staged objective's value is its last stage's (each stage: Result.stages).
        terms = terms[0].stages[-1]
    soft = [r for r in problem.rules if isinstance(r, R.Balance) and r.soft]
    total = sum(term_value(problem, a, term) for term in terms)
    return float(total + sum(soft_window_value(problem, a, rule) for rule in soft))


def soft_window_value(problem: Problem, assignment: Any, rule: R.Balance) -> float:
    """A soft ``Balance``'s price: ``penalty * sum_r excess[r] / share[r]``, where
    ``excess`` is how far rep ``r``'s load lies outside the window."""
    a = _as_series(problem, assignment)
    share = _shares(problem, rule.metric, rule.share)
    load = rep_loads(problem, a, rule.metric)
    low, high = rule.window
    above = (load - share * high).clip(lower=0) if high is not None else 0.0 * load
    below = (share * low - load).clip(lower=0) if low is not None else 0.0 * load
    return float(rule.penalty or 0.0) * float(((above + below) / share).sum())


def term_value(problem: Problem, assignment: Any, term: Any) -> float:
    """The value of one objective term (its weight included) for a complete assignment."""
    a = _as_series(problem, assignment)
    customers, reps = problem.customers, problem.reps
    total = 0.0
    if isinstance(term, O.MinimizeImbalance):
        share = _shares(problem, term.metric, term.share)
        dev = (rep_loads(problem, a, term.metric) - share).abs() / share
        total += term.weight * float(dev.max() if term.norm == "max" else dev.sum())
    elif isinstance(term, (O.MaximizeFit, O.MinimizeCost)):
        pair_total = float(_metric_per_customer(problem, a, term.pair_col).sum())
        sign = -1.0 if isinstance(term, O.MaximizeFit) else 1.0
        total += sign * term.weight * pair_total
    elif isinstance(term, O.MinimizeDisruption):
        owner = customers[term.owner_col].reindex(a.index)
        moved = owner.notna().to_numpy() & (owner.to_numpy() != a.to_numpy())
        value: float | np.ndarray = (
            1.0
            if term.value is None
            else customers[term.value].astype(float).reindex(a.index).to_numpy()
        )
        total += term.weight * float(np.sum(value * moved))
    elif isinstance(term, O.MinimizeTravel):
        if term.distance is not None:
            total += term.weight * float(_metric_per_customer(problem, a, term.distance).sum())
        else:
            x, y = term.xy
            c = customers.reindex(a.index)
            r = reps.reindex(a.to_numpy())
            d = np.hypot(
                c[x].to_numpy(float) - r[x].to_numpy(float),
                c[y].to_numpy(float) - r[y].to_numpy(float),
            )
            total += term.weight * float(d.sum())
    elif isinstance(term, MinimizeDispersion):
        total += _dispersion_value(problem, a, term)
    else:
        raise InvalidParameterError(f"objective_value() does not know term {term!r}.")
    return total
