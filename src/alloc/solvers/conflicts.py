"""Minimal named conflicts of an infeasible problem, in words with numbers.

When CP-SAT proves that the hard rows cannot all hold, its core of assumption literals
names some rules, usually more than needed and never the reps. This module shrinks it
to a minimal set with a *deletion filter*: first over whole rules (one assumption
literal per rule), then, inside the rules kept, over their rows rep by rep (one literal
per rule and rep). An item stays only when dropping it makes the rest feasible (or not
proven infeasible in its small budget: then the set is reported as possibly not
minimal). Every set tried is solved on the same integer relaxation of the raw rows as
the proof (`alloc.solvers.scaling.relaxation`), so a set named is infeasible on the raw
data.

The words are computed from the data, not from CP-SAT: for a rule and a set of reps,
the most their eligible customers can bring against the sum of their lower limits, or
the least the customers only they may serve need against the sum of their upper limits.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from alloc.data.context import parse_sets
from alloc.data.model import Constraint, Model
from alloc.data.problem import Problem
from alloc.errors import format_ids
from alloc.rules import Balance, Match
from alloc.solvers.cpsat import CpBuild, build_model, run
from alloc.solvers.deadline import Deadline
from alloc.solvers.scaling import Scaled
from alloc.solvers.state import Rows

__all__ = [
    "FILTER_PAIR_LIMIT",
    "Conflict",
    "FeasibilityRun",
    "describe_conflict",
    "explain_infeasible",
    "feasibility_run",
    "minimal_conflict",
    "rule_name",
]


#: Models with more eligible pairs are not filtered: the proof's rules are named as they
#: are, on every rep, and said to be possibly not minimal.
FILTER_PAIR_LIMIT = 50_000


@dataclass(frozen=True)
class FeasibilityRun:
    """A feasibility-only CP-SAT run: its status, the rules of its core, a plan if found."""

    status: str
    core: tuple[object, ...]
    chosen: np.ndarray | None


@dataclass(frozen=True)
class Conflict:
    """Rules and, for each, the reps whose rows together cannot hold.

    ``reps[i]`` holds the rep codes of ``rules[i]``'s rows in the conflict. ``minimal``
    is False when a budget ran out before every item was tried.
    """

    rules: tuple[object, ...]
    reps: tuple[np.ndarray, ...]
    minimal: bool


#: An assumption key: a rule index, or a (rule index, rep) pair.
Key = int | tuple[int, int]


def _rule_keys(model: Model) -> tuple[list[int], list[object]]:
    """A key per hard row: the index of its rule among the distinct rules (by identity).

    Rules are told apart by identity, not equality: a rule need not be hashable.
    """
    rules: list[object] = []
    index: dict[int, int] = {}
    keys = []
    for con in model.constraints:
        if id(con.source) not in index:
            index[id(con.source)] = len(rules)
            rules.append(con.source)
        keys.append(index[id(con.source)])
    return keys, rules


class _Assumptions:
    """One CP-SAT feasibility model whose rows are switched by assumption literals.

    Keys are rule indices (`_rule_keys`), or ``(rule index, rep)`` for the rules in
    ``per_rep``.
    """

    def __init__(
        self, model: Model, rows: Rows, scaled: Scaled, per_rep: Sequence[int] = ()
    ) -> None:
        keys, self.rules = _rule_keys(model)
        self.build: CpBuild = build_model(
            model, rows, scaled, enforce=keys, per_rep=per_rep, objective=False
        )

    @property
    def items(self) -> list[Key]:
        return [key for key in self.build.literals if isinstance(key, (int, tuple))]

    def solve(
        self, items: Sequence[Key], deadline: Deadline, seed: int
    ) -> tuple[str, list[Key], np.ndarray | None]:
        """Status with ``items`` enforced (the others free); the core when INFEASIBLE."""
        cp, literals = self.build.cp, self.build.literals
        cp.clear_assumptions()
        cp.add_assumptions([literals[i] for i in items])
        solution = run(self.build, deadline, seed=seed, symmetry=True)
        if solution.found:
            return solution.status, [], self.build.chosen(solution)
        if solution.status != "INFEASIBLE" or solution.solver is None:
            return solution.status, [], None
        core = set(solution.solver.sufficient_assumptions_for_infeasibility())
        named = [i for i in items if literals[i].index in core]
        # An empty core (infeasibility found in presolve) names no item: keep them all.
        return "INFEASIBLE", named or list(items), None


def feasibility_run(
    model: Model, rows: Rows, relaxed: Scaled, deadline: Deadline, seed: int = 0
) -> FeasibilityRun:
    """Feasibility-only CP-SAT on the hard rows of ``relaxed`` (no objective).

    ``relaxed`` must be a relaxation of the raw rows (`alloc.solvers.scaling.relaxation`):
    then an INFEASIBLE is a proof for the raw model. A plan found meets ``relaxed``'s
    rows only; the caller re-scores it on the raw data.
    """
    solver = _Assumptions(model, rows, relaxed)
    status, core, chosen = solver.solve(solver.items, deadline, seed)
    rules = tuple(solver.rules[i] for i in core if isinstance(i, int))
    return FeasibilityRun(status, rules, chosen)


def _deletion_filter(
    solver: _Assumptions, items: list[Key], deadline: Deadline, seed: int
) -> tuple[list[Key], bool]:
    """Drop from the infeasible set ``items`` every item the rest is infeasible without.

    Returns the items kept and whether each was shown necessary (the rest feasible).
    An item shown necessary stays in every infeasible subset of the set, so shrinking
    the set to a new core never drops one.
    """
    kept, i, minimal = list(items), 0, True
    while i < len(kept) and len(kept) > 1:
        if deadline.expired(0.01):
            return kept, False
        trial = kept[:i] + kept[i + 1 :]
        status, core, _ = solver.solve(trial, deadline.share(1.0 / (len(kept) - i)), seed)
        if status == "INFEASIBLE":
            in_core = set(core)
            kept = [k for k in trial if k in in_core]
            continue
        minimal &= status in ("OPTIMAL", "FEASIBLE")
        i += 1
    return kept, minimal


def minimal_conflict(
    model: Model,
    rows: Rows,
    relaxed: Scaled,
    core: Sequence[object],
    deadline: Deadline,
    seed: int = 0,
) -> Conflict:
    """A minimal set of rules and per-rep rows that cannot hold together.

    Parameters
    ----------
    model, rows : Model, Rows
    relaxed : Scaled
        The integer relaxation the infeasibility was proven on.
    core : sequence
        Rules (constraint sources) of a proven infeasible core; empty: all rules.
    deadline : Deadline
        Budget of the whole filter; when it runs out the set may not be minimal.
    seed : int

    Returns
    -------
    Conflict
    """
    _, sources = _rule_keys(model)
    in_core = {id(rule) for rule in core}
    rules = [i for i, s in enumerate(sources) if id(s) in in_core] or list(range(len(sources)))
    if model.n_pairs > FILTER_PAIR_LIMIT:
        # Each step builds and solves the whole model: too slow here to be worth it.
        every = np.arange(model.n_reps, dtype=np.int64)
        return Conflict(tuple(sources[i] for i in rules), (every,) * len(rules), False)
    minimal = True
    if len(rules) > 1:
        kept_rules, minimal = _deletion_filter(
            _Assumptions(model, rows, relaxed), list[Key](rules), deadline.share(0.4), seed
        )
        rules = [i for i in kept_rules if isinstance(i, int)]
    per_rep = _Assumptions(model, rows, relaxed, per_rep=rules)
    items: list[Key]
    items = [key for key in per_rep.items if isinstance(key, tuple) and key[0] in rules]
    status, first, _ = per_rep.solve(items, deadline.share(0.3), seed)
    if status == "INFEASIBLE":
        kept, rows_minimal = _deletion_filter(per_rep, first, deadline, seed)
        minimal &= rows_minimal
    else:  # not proven again in its budget: name every rep of the rules
        kept, minimal = items, False
    pairs = [key for key in kept if isinstance(key, tuple)]
    reps = tuple(
        np.array(sorted(int(r) for i, r in pairs if i == rule), dtype=np.int64) for rule in rules
    )
    return Conflict(tuple(sources[i] for i in rules), reps, minimal)


# ---- words ------------------------------------------------------------------------------
def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.4g}"


def _and(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def rule_name(rule: object) -> str:
    """A short name of a rule: the first required field by position, then the fields not
    at their default by name (``Balance('potential', tolerance=0.05)``)."""
    if not dataclasses.is_dataclass(rule) or isinstance(rule, type):
        return repr(rule)
    parts: list[str] = []
    for f in dataclasses.fields(rule):
        value = getattr(rule, f.name)
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and not parts:  # the leading required field, as usually written
            parts.append(repr(value))
        elif required or value != f.default:
            parts.append(f"{f.name}={value!r}")
    return f"{type(rule).__name__}({', '.join(parts)})"


@dataclass(frozen=True)
class _Reach:
    """For one row and a set of reps S: what the customers can give and need."""

    n_customers: int  # customers with an eligible rep in S
    most: float  # largest load S can reach (each customer at most once)
    n_only: int  # customers whose every eligible rep is in S
    least: float  # least load those customers put on S


def _reach(model: Model, weight: np.ndarray, in_set: np.ndarray) -> _Reach:
    at_set = in_set[model.pair_rep]
    best = np.zeros(model.n_units)
    np.maximum.at(best, model.pair_unit[at_set], weight[at_set])
    reaches = np.zeros(model.n_units, dtype=bool)
    reaches[model.pair_unit[at_set]] = True
    outside = np.ones(model.n_units, dtype=bool)
    outside[model.pair_unit[~at_set]] = False  # units with a pair outside S
    least = np.full(model.n_units, np.inf)
    np.minimum.at(least, model.pair_unit[at_set], weight[at_set])
    only = outside & reaches
    return _Reach(
        int(model.unit_size[reaches].sum()),
        float(best[reaches].sum()),
        int(model.unit_size[only].sum()),
        float(least[only].sum()) if only.any() else 0.0,
    )


def _eligibility(problem: Problem, reps: np.ndarray) -> tuple[str, str]:
    """Who decides which customers the reps may serve, and a hint to check it."""
    matches = [r for r in problem.rules if isinstance(r, Match)]
    if not matches:
        return ("the pair table" if problem.source_pairs is not None else "the rules"), ""
    match = matches[0]
    ids = problem.rep_ids[reps]
    sets = problem.reps.loc[ids, match.rep_col]
    shown = "; ".join(f"{i} {_set_text(v)}" for i, v in zip(ids, sets, strict=True))
    return (
        f"their {match.rep_col}",
        f" (check their {match.rep_col}: {shown}{_typos(problem, match, sets)})",
    )


def _typos(problem: Problem, match: Match, sets: pd.Series) -> str:
    """Rep values no customer has, with the near match (usually a misspelling)."""
    known = {str(v) for v in problem.customers[match.customer_col].dropna().tolist()}
    values = parse_sets(sets, known=known).explode().dropna().astype(str)
    words = []
    for value in dict.fromkeys(values.tolist()):
        if value in known:
            continue
        near = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.75)
        words.append(
            f"{value!r} matches no customer" + (f" (did you mean {near[0]!r}?)" if near else "")
        )
    return "; " + "; ".join(words) if words else ""


def _set_text(value: object) -> str:
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray)):
        return repr("; ".join(map(str, value)))
    return repr(value)


def _names(problem: Problem, reps: np.ndarray) -> str:
    ids = [str(i) for i in problem.rep_ids[reps]]
    if not ids:
        # The per-rep filter ran out of time before it kept any rep of this rule.
        return "the reps"
    return _and(ids) if len(ids) <= 8 else f"{len(ids):,} reps ({format_ids(ids, limit=8)})"


def _metric(rule: object, con: Constraint) -> str:
    """What a row counts: the rule's metric, "customers" for counts, else its label."""
    metric = getattr(rule, "metric", None)
    if isinstance(metric, str):
        return metric
    return "customers" if np.all(con.weight == 1) else con.label


def _rule_rows(model: Model, rule: object) -> list[tuple[int, Constraint]]:
    return [(k, con) for k, con in enumerate(model.constraints) if con.source is rule]


def _one_rule_words(problem: Problem, rows: Rows, rule: object, reps: np.ndarray) -> str | None:
    """Why one rule's rows on ``reps`` cannot hold, from the data alone (None: no
    argument of reach or need applies, e.g. the windows are too narrow for whole
    customers)."""
    model = problem.model
    in_set = np.zeros(model.n_reps, dtype=bool)
    in_set[reps] = True
    names = _names(problem, reps)
    who, check = _eligibility(problem, reps)
    head = f"{rule_name(rule)} for {names}"
    for k, con in _rule_rows(model, rule):
        reach = _reach(model, con.weight, in_set)
        lo, hi = float(rows.lo[k, reps].sum()), float(rows.hi[k, reps].sum())
        metric = _metric(rule, con)
        if np.isfinite(lo) and reach.most < lo:
            return (
                f"{head}: the {reach.n_customers:,} customers {who} allow them to serve hold "
                f"at most {_fmt(reach.most)} of {metric}{_of_share(rule, con, reps, reach.most)}, "
                f"but the rule asks at least {_fmt(float(con.lo[reps].sum()))}"
                f"{_asks(rule, con, reps)}. {_widen(rule)}, or allow {names} more "
                f"customers{check}."
            )
        if np.isfinite(hi) and reach.least > hi:
            return (
                f"{head}: the {reach.n_only:,} customers only they may serve bring at least "
                f"{_fmt(reach.least)} of {metric}, but the rule allows at most "
                f"{_fmt(float(con.hi[reps].sum()))}. {_widen(rule)}, or allow other reps "
                f"to serve these customers{check}."
            )
    return None


def _limits(problem: Problem, rule: object, reps: np.ndarray) -> str:
    """The limits of a rule's rows on ``reps``, and what one customer brings to them."""
    if reps.size == 0:  # the per-rep filter kept none in its time: name the rule alone
        return rule_name(rule)
    model = problem.model
    in_set = np.zeros(model.n_reps, dtype=bool)
    in_set[reps] = True
    at_set = in_set[model.pair_rep]
    parts = []
    for _, con in _rule_rows(model, rule):
        metric = _metric(rule, con)
        lo, hi = float(con.lo[reps].sum()), float(con.hi[reps].sum())
        each = "" if reps.size == 1 else " together"
        if np.isfinite(lo) and np.isfinite(hi):
            window = f"between {_fmt(lo)} and {_fmt(hi)} of {metric}{each}"
        elif np.isfinite(lo):
            window = f"at least {_fmt(lo)} of {metric}{each}"
        else:
            window = f"at most {_fmt(hi)} of {metric}{each}"
        w = con.weight[at_set]
        if w.size and metric != "customers":
            low, high = float(w.min()), float(w.max())
            one = _fmt(low) if low == high else f"{_fmt(low)} to {_fmt(high)}"
            window += f"; a customer brings {one}"
        parts.append(window)
    return f"{rule_name(rule)} for {_names(problem, reps)} ({'; '.join(parts)})"


def _widen(rule: object) -> str:
    if isinstance(rule, Balance):
        return "Widen the tolerance" if rule.tolerance is not None else "Widen the window"
    return "Raise the limits"


def _count_reach(model: Model, reps: np.ndarray) -> str:
    """How many customers may go to at least one of ``reps``."""
    units = np.unique(model.pair_unit[np.isin(model.pair_rep, reps)])
    return f"{int(model.unit_size[units].sum()):,}"


def _fair(rule: object, con: Constraint, reps: np.ndarray) -> float | None:
    """The reps' fair share of a Balance rule (None for other rules)."""
    if not isinstance(rule, Balance):
        return None
    low, high = rule.window
    if high:
        return float(con.hi[reps].sum()) / high
    return float(con.lo[reps].sum()) / low if low else None


def _of_share(rule: object, con: Constraint, reps: np.ndarray, most: float) -> str:
    fair = _fair(rule, con, reps)
    return f" ({most / fair:.1%} of their fair share)" if fair else ""


def _asks(rule: object, con: Constraint, reps: np.ndarray) -> str:
    fair = _fair(rule, con, reps)
    if not fair or not isinstance(rule, Balance):
        return ""
    return f" ({rule.window[0] or 0.0:.0%} of their fair share of {_fmt(fair)})"


def describe_conflict(problem: Problem, rows: Rows, conflict: Conflict) -> str:
    """The explanation of an INFEASIBLE result: the conflict in words with numbers.

    Parameters
    ----------
    problem : Problem
    rows : Rows
    conflict : Conflict

    Returns
    -------
    str
    """
    caveat = (
        ""
        if conflict.minimal
        else " (The search for the smallest conflict ran out of time: these rules and "
        "reps may not be a minimal set.)"
    )
    if not conflict.rules:
        return "Infeasible: CP-SAT proved that the rules cannot all hold together." + caveat
    if len(conflict.rules) == 1:
        words = _one_rule_words(problem, rows, conflict.rules[0], conflict.reps[0])
        if words is not None:
            return "Infeasible: " + words + caveat
    every = np.unique(np.concatenate(conflict.reps))
    who, check = _eligibility(problem, every)
    limits = [
        _limits(problem, rule, reps)
        for rule, reps in zip(conflict.rules, conflict.reps, strict=True)
    ]
    verb = "cannot all hold" if len(limits) > 1 or conflict.reps[0].size > 1 else "cannot hold"
    return (
        f"Infeasible: {' and '.join(limits)} {verb} with each customer on one rep (of the "
        f"{_count_reach(problem.model, every)} customers {who} allow them to serve). Relax "
        f"one of these limits, or allow {_names(problem, every)} other customers{check}." + caveat
    )


def explain_infeasible(
    problem: Problem,
    rows: Rows,
    relaxed: Scaled,
    core: Sequence[object],
    deadline: Deadline,
    seed: int = 0,
) -> str:
    """The minimal conflict of a proven infeasible problem (`minimal_conflict`), in words.

    ``relaxed`` and ``core`` are the relaxation and the rules of the proof; ``deadline``
    bounds the whole search for the smallest conflict.
    """
    conflict = minimal_conflict(problem.model, rows, relaxed, core, deadline, seed)
    return describe_conflict(problem, rows, conflict)
