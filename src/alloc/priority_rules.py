"""Priorities between objective terms: ``Budget`` (a global cap on one term) and
``Lexicographic`` (the best plan on a first term, then the best on the next among them).

A ``Budget`` is a hard rule on the whole plan, not per rep:
``value(term, plan) <= max``, where ``value`` is the term's value as
[`alloc.objective_value`][alloc.objective_value] computes it for that term alone (its
weight included). It compiles into the model's one global row (`alloc.data.model.Budget`).

``Lexicographic([t1, t2, ...])`` is a whole objective: stage 1 minimises ``t1``; stage
``s`` minimises ``ts`` among the plans whose earlier terms stay within their optimum plus
a relative ``slack``. Every stage but the last must be capped, so it is either linear
(cost, travel, disruption, fit: the cap is a ``Budget`` row) or one max-norm
``MinimizeImbalance`` (the cap is a window per rep, like ``Balance``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from alloc.data.context import Tables
from alloc.errors import InvalidProblemError
from alloc.objectives import (
    MaximizeFit,
    MinimizeCost,
    MinimizeDisruption,
    MinimizeImbalance,
    MinimizeTravel,
    Objective,
    Term,
)
from alloc.rules import Balance, Rule
from alloc.validation import check_param, is_real_at_least

__all__ = ["Budget", "Lexicographic", "StageCap", "stage_cap"]

#: Terms whose value is a sum of per-pair values, so a cap on them is one linear row.
LINEAR_TERMS = (MinimizeCost, MinimizeTravel, MinimizeDisruption, MaximizeFit)


def _is_linear(term: object) -> bool:
    return isinstance(term, LINEAR_TERMS)


def _terms_of(stage: object) -> tuple[Term, ...]:
    """The terms of one stage: a term, a sum of terms or a list of terms."""
    if isinstance(stage, Term):
        return (stage,)
    if isinstance(stage, (Objective, list, tuple)) and all(isinstance(t, Term) for t in stage):
        return tuple(stage)
    return ()


@dataclass(frozen=True)
class Budget(Rule):
    """A global cap on one objective term: ``value(term, plan) <= max``.

    ``value`` is what [`alloc.objective_value`][alloc.objective_value] gives for a problem
    whose objective is ``term`` alone, its weight included: the total distance for
    ``MinimizeTravel()``, the number of customers away from their owner for
    ``MinimizeDisruption("owner")``, their total value with ``value="index"``. So
    ``Budget(MinimizeDisruption("owner", value="index"), max=0.2 * total_index)`` lets at
    most 20 % of the index value change hands. The term need not be in the objective.

    Parameters
    ----------
    term : MinimizeCost, MinimizeTravel, MinimizeDisruption
        A linear term (a sum of per-pair values). To cap an imbalance, use ``Balance``.
    max : float
        The cap, >= 0, in the term's own units.
    """

    term: Term
    max: float

    def __post_init__(self) -> None:
        allowed = (MinimizeCost, MinimizeTravel, MinimizeDisruption)
        check_param(
            "term",
            self.term,
            "Budget",
            isinstance(self.term, allowed),
            "a MinimizeCost, MinimizeTravel or MinimizeDisruption term (to cap an "
            "imbalance, use Balance(metric, tolerance) instead)",
        )
        ok = is_real_at_least(self.max, 0)
        check_param("max", self.max, "Budget", ok, "a finite number >= 0")

    @property
    def terms(self) -> tuple[Term, ...]:
        """The capped terms (one for a Budget)."""
        return (self.term,)

    @property
    def cap(self) -> float:
        return float(self.max)

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(self.term.metrics)

    def validate(self, tables: Tables) -> None:
        self.term.validate(tables)

    def budgets(
        self, tables: Tables, pc: np.ndarray, pr: np.ndarray
    ) -> list[tuple[str, np.ndarray, float]]:
        """The global row: (label, the term's value per pair, cap)."""
        weight = self.term.linear_cost(tables, pc, pr)
        assert weight is not None  # a linear term (checked in __post_init__)
        return [(f"{self.term!r} <= {self.max:g}", weight, float(self.max))]


def _per_stage(name: str, value: object, n_caps: int) -> tuple[float, ...]:
    """One slack per capped stage from a number for all or a list of them (checked)."""
    values = list(value) if isinstance(value, (list, tuple)) else [value] * n_caps
    ok = len(values) == n_caps and all(is_real_at_least(v, 0) for v in values)
    check_param(
        name,
        value,
        "Lexicographic",
        ok,
        f"a number >= 0 or {n_caps} numbers >= 0 (one per stage but the last)",
    )
    return tuple(float(v) for v in values)  # type: ignore[arg-type]


def stage_cap(
    stage: Sequence[Term], value: float, slack: float, absolute: float = 0.0
) -> list[Rule]:
    """Rules that keep a stage's terms within ``value + slack * |value| + absolute``.

    A linear stage becomes one ``Budget`` on the sum of its terms (a ``MinimizeCost``-like
    row (`StageCap`)); a stage of one max-norm ``MinimizeImbalance`` becomes a
    ``Balance`` window of the same fair share (``dev <= cap / weight`` for every rep).
    """
    cap = value + slack * abs(value) + absolute
    if len(stage) == 1 and isinstance(stage[0], MinimizeImbalance):
        term = stage[0]
        dev = max(cap, 0.0) / term.weight
        return [Balance(term.metric, share=term.share, min=max(0.0, 1.0 - dev), max=1.0 + dev)]
    return [StageCap(tuple(stage), cap)]


@dataclass(frozen=True)
class StageCap(Rule):
    """``sum of the stage's linear terms <= cap`` (any sign: ``MaximizeFit`` is negative)."""

    terms: tuple[Term, ...]
    cap: float

    def __repr__(self) -> str:
        return f"StageCap({' + '.join(map(repr, self.terms))} <= {self.cap:.10g})"

    def validate(self, tables: Tables) -> None:
        for term in self.terms:
            term.validate(tables)

    def budgets(
        self, tables: Tables, pc: np.ndarray, pr: np.ndarray
    ) -> list[tuple[str, np.ndarray, float]]:
        weight = np.zeros(pc.size)
        for term in self.terms:
            weight = weight + np.asarray(term.linear_cost(tables, pc, pr), dtype=float)
        return [(repr(self), weight, float(self.cap))]


@dataclass(frozen=True, init=False)
class Lexicographic(Term):
    """Priorities: the best plan on the first stage, then on the next among those.

    ``alloc.Lexicographic([MinimizeTravel(), MinimizeDisruption("owner", value="index")])``
    finds the shortest total distance, then, among the plans of that distance, the least
    disruption. With ``slack=0.05`` a later stage may give up 5 % of an earlier stage's
    optimum (``value + 0.05 * |value|``); ``absolute=0.01`` adds a fixed allowance in the
    stage's own units, which is what a stage whose optimum is near 0 needs (a balance
    stage at a deviation of 0.0001 leaves a relative slack no room; ``absolute=0.01``
    allows 1 point of deviation). It must be the whole objective.

    Parameters
    ----------
    stages : sequence
        Each stage is a term or a sum of terms. Every stage but the last is capped when
        the next one runs, so it must be linear (``MinimizeCost``, ``MinimizeTravel``,
        ``MinimizeDisruption``, ``MaximizeFit``) or a single max-norm
        ``MinimizeImbalance``.
    slack : float or sequence of float
        Relative slack of each capped stage (one number for all, or one per stage but
        the last), >= 0. Default 0: exact priorities.
    absolute : float or sequence of float
        Absolute slack of each capped stage, in the stage's units (a max-norm
        ``MinimizeImbalance`` stage: a fraction of the fair share, times its weight), added
        to the relative one; >= 0, one number for all or one per stage but the last.
        Default 0.

    Notes
    -----
    ``alloc.solve`` solves the stages in turn. The result is OPTIMAL only when every
    stage is proven optimal; ``result.objective`` and ``result.bound`` are the last
    stage's, and ``result.stages`` (shown by ``summary()``) holds every stage's value.
    """

    stages: tuple[tuple[Term, ...], ...]
    slack: tuple[float, ...]
    absolute: tuple[float, ...]
    weight: float

    def __init__(
        self,
        stages: Sequence[Any],
        slack: float | Sequence[float] = 0.0,
        *,
        absolute: float | Sequence[float] = 0.0,
    ) -> None:
        ok = isinstance(stages, (list, tuple, Objective)) and len(stages) > 0
        check_param("stages", stages, "Lexicographic", ok, "a non-empty list of terms")
        parsed = tuple(_terms_of(stage) for stage in stages)
        bad = [i for i, terms in enumerate(parsed) if not terms]
        check_param(
            "stages",
            stages,
            "Lexicographic",
            not bad,
            f"a list of terms or sums of terms (stage {bad[0] + 1 if bad else 0} is not one)",
        )
        for i, terms in enumerate(parsed[:-1]):
            one = terms[0]
            capped = all(map(_is_linear, terms)) or (
                len(terms) == 1 and isinstance(one, MinimizeImbalance) and one.norm == "max"
            )
            check_param(
                "stages",
                [repr(t) for t in terms],
                "Lexicographic",
                capped,
                f"capped stages: stage {i + 1} must be linear terms (cost, travel, disruption, "
                "fit) or one max-norm MinimizeImbalance, since the later stages keep it at "
                "its optimum; put other terms in the last stage",
            )
            for term in terms:
                if isinstance(term, MinimizeImbalance):
                    check_param(
                        "stages", term, "Lexicographic", term.weight > 0, "terms of weight > 0"
                    )
        n_caps = len(parsed) - 1
        object.__setattr__(self, "stages", parsed)
        object.__setattr__(self, "slack", _per_stage("slack", slack, n_caps))
        object.__setattr__(self, "absolute", _per_stage("absolute", absolute, n_caps))
        object.__setattr__(self, "weight", 1.0)

    def __repr__(self) -> str:
        shown = ", ".join(" + ".join(map(repr, stage)) for stage in self.stages)
        tail = "" if not any(self.slack) else f", slack={list(self.slack)}"
        tail += "" if not any(self.absolute) else f", absolute={list(self.absolute)}"
        return f"Lexicographic([{shown}]{tail})"

    def __mul__(self, factor: float) -> Term:
        raise InvalidProblemError(
            "Lexicographic cannot be weighted or added to other terms: it is the whole "
            "objective. Put the terms inside its stages instead."
        )

    __rmul__ = __mul__

    def __add__(self, other: object) -> Objective:
        return self.__mul__(1.0)  # type: ignore[return-value]

    __radd__ = __add__

    @property
    def metrics(self) -> tuple[str, ...]:
        names: list[str] = []
        for stage in self.stages:
            for term in stage:
                names += [m for m in term.metrics if m not in names]
        return tuple(names)

    def compiled_terms(self) -> tuple[Term, ...]:
        """The terms a model of this objective compiles: the first stage's."""
        return self.stages[0]

    def validate(self, tables: Tables) -> None:
        for stage in self.stages:
            for term in stage:
                term.validate(tables)
