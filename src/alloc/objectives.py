"""Objective terms: what ``alloc.solve`` minimises, declared on the pair table.

A term adds a per-pair cost (fit, cost, disruption, travel: `MaximizeFit`,
`MinimizeCost`, `MinimizeDisruption`, `MinimizeTravel`) or an imbalance term on a
metric's per-rep load (`MinimizeImbalance`). Terms combine with ``+`` into an
`Objective` and scale with ``*``:
``MinimizeImbalance("potential") + 0.5 * MinimizeImbalance("workload")``. The hard
rules are in `alloc.rules`.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from alloc.data.context import Tables
from alloc.errors import InvalidProblemError, format_ids
from alloc.rules import _fair_share
from alloc.validation import check_param, is_number, is_real_at_least

__all__ = [
    "MaximizeFit",
    "MinimizeCost",
    "MinimizeDisruption",
    "MinimizeImbalance",
    "MinimizeTravel",
    "Objective",
    "Term",
]


class Term:
    """Base class of objective terms: ``weight * value``. Combine with ``+`` and ``*``."""

    weight: float

    @property
    def metrics(self) -> tuple[str, ...]:
        return ()

    def validate(self, tables: Tables) -> None:
        """Raise ``InvalidProblemError`` if the tables do not fit the term."""

    def linear_cost(self, tables: Tables, pc: np.ndarray, pr: np.ndarray) -> np.ndarray | None:
        """Per-pair cost contributed by the term (already weighted)."""
        return None

    def imbalance(self, tables: Tables, pc: np.ndarray, pr: np.ndarray) -> Any:
        """(label, metric, value per pair, share per rep, weight, norm) or None."""
        return None

    def __mul__(self, factor: float) -> Term:
        if not is_number(factor):
            return NotImplemented
        return dataclasses.replace(self, weight=self.weight * float(factor))  # type: ignore[type-var]

    __rmul__ = __mul__

    def __add__(self, other: object) -> Objective:
        if isinstance(other, Term):
            return Objective((self, other))
        if isinstance(other, Objective):
            return Objective((self, *other))
        return NotImplemented


class Objective(tuple):  # type: ignore[type-arg]
    """A weighted sum of terms, as built by ``term + term``."""

    def __add__(self, other: object) -> Objective:  # type: ignore[override]
        if isinstance(other, Term):
            return Objective((*self, other))
        if isinstance(other, Objective):
            return Objective((*self, *other))
        return NotImplemented

    def __repr__(self) -> str:
        return " + ".join(map(repr, self))


def _check_weight(weight: object, owner: str) -> None:
    # A negative weight would reward what the term penalises (imbalance, moves, cost) and
    # void the bounds, which assume every term is at least 0; MaximizeFit is the way to
    # reward a column.
    check_param(
        "weight",
        weight,
        owner,
        is_real_at_least(weight, 0),
        "a finite number >= 0 (to reward a column, use MaximizeFit)",
    )


@dataclass(frozen=True)
class MinimizeImbalance(Term):
    """``weight * max_r |load[r] - share[r]| / share[r]`` (``norm="max"``) or the sum over
    reps (``norm="sum"``), where ``share[r] = total * w[r] / sum(w)``."""

    metric: str
    weight: float = 1.0
    share: str | None = None
    norm: str = "max"

    def __post_init__(self) -> None:
        _check_weight(self.weight, "MinimizeImbalance")
        check_param(
            "norm", self.norm, "MinimizeImbalance", self.norm in ("max", "sum"), "'max' or 'sum'"
        )

    @property
    def metrics(self) -> tuple[str, ...]:
        return (self.metric,)

    def validate(self, tables: Tables) -> None:
        _fair_share(tables, self.metric, self.share, repr(self))

    def imbalance(self, tables: Tables, pc: np.ndarray, pr: np.ndarray) -> Any:
        share = _fair_share(tables, self.metric, self.share, repr(self))
        values = tables.customer_column(self.metric, rule=repr(self))[pc]
        return (
            f"imbalance({self.metric})",
            self.metric,
            values,
            share,
            float(self.weight),
            self.norm,
        )


def _pair_or_customer(
    tables: Tables, col: str, pc: np.ndarray, pr: np.ndarray, rule: str, nonnegative: bool
) -> np.ndarray:
    if tables.has_pair_column(col):
        return tables.pair_column(col, pc, pr, rule=rule, nonnegative=nonnegative)
    if col in tables.customers.columns:
        return tables.customer_column(col, rule=rule, nonnegative=nonnegative)[pc]
    raise InvalidProblemError(
        f"{rule}: column {col!r} is neither a pair column nor a customer column. "
        f"Pass pairs= with a {col!r} column."
    )


class _PairTerm(Term):
    """A linear term on a pair (or customer) column: ``sign * weight * sum column[c, r]``."""

    pair_col: str
    _sign: float = 1.0

    @property
    def metrics(self) -> tuple[str, ...]:
        return (self.pair_col,)

    def validate(self, tables: Tables) -> None:
        if not tables.has_pair_column(self.pair_col) and self.pair_col not in tables.customers:
            _pair_or_customer(
                tables, self.pair_col, np.zeros(0, int), np.zeros(0, int), repr(self), False
            )

    def linear_cost(self, tables: Tables, pc: np.ndarray, pr: np.ndarray) -> np.ndarray:
        values = _pair_or_customer(tables, self.pair_col, pc, pr, repr(self), False)
        return self._sign * self.weight * values


@dataclass(frozen=True)
class MaximizeFit(_PairTerm):
    """``-weight * sum_{c -> r} fit[c, r]`` (fit from a pair column)."""

    pair_col: str
    weight: float = 1.0
    _sign = -1.0

    def __post_init__(self) -> None:
        _check_weight(self.weight, "MaximizeFit")


@dataclass(frozen=True)
class MinimizeCost(_PairTerm):
    """``weight * sum_{c -> r} cost[c, r]`` (cost from a pair column)."""

    pair_col: str
    weight: float = 1.0

    def __post_init__(self) -> None:
        _check_weight(self.weight, "MinimizeCost")


@dataclass(frozen=True)
class MinimizeDisruption(Term):
    """``weight * sum_c value[c] * [rep(c) != owner(c)]`` (value 1 when not given).

    Customers without an owner (missing value) cost nothing wherever they go.
    """

    owner_col: str = "owner"
    value: str | None = None
    weight: float = 1.0

    def __post_init__(self) -> None:
        _check_weight(self.weight, "MinimizeDisruption")

    @property
    def metrics(self) -> tuple[str, ...]:
        return () if self.value is None else (self.value,)

    def owner_codes(self, tables: Tables) -> np.ndarray:
        owners = tables.customers[self.owner_col] if self.owner_col in tables.customers else None
        if owners is None:
            tables.customer_column(self.owner_col, rule=repr(self), numeric=False)
            raise AssertionError  # unreachable
        present = owners.notna().to_numpy()
        codes = np.full(len(owners), -1, dtype=np.int64)
        idx = tables.reps.index.get_indexer(pd.Index(owners[present].to_numpy(), dtype=object))
        if (idx < 0).any():
            unknown = pd.unique(owners[present].to_numpy()[idx < 0])
            known = [str(r) for r in tables.reps.index]
            near = [(u, difflib.get_close_matches(str(u).strip(), known, 1, 0.75)) for u in unknown]
            hint = ", ".join(f"{u!r} -> {m[0]!r}" for u, m in near[:5] if m)
            raise InvalidProblemError(
                f"{self!r}: customers[{self.owner_col!r}] names reps not in the rep table: "
                f"{format_ids(unknown)}{f' (near matches: {hint})' if hint else ''}. Set those "
                f"owners to missing (new customers), fix their spelling or add the reps."
            )
        codes[present] = idx
        return codes

    def validate(self, tables: Tables) -> None:
        self.owner_codes(tables)
        if self.value is not None:
            tables.customer_column(self.value, rule=repr(self))

    def linear_cost(self, tables: Tables, pc: np.ndarray, pr: np.ndarray) -> np.ndarray:
        owner = self.owner_codes(tables)[pc]
        moved = (owner >= 0) & (owner != pr)
        value = (
            1.0 if self.value is None else tables.customer_column(self.value, rule=repr(self))[pc]
        )
        return self.weight * value * moved


@dataclass(frozen=True)
class MinimizeTravel(Term):
    """``weight * sum_{c -> r} dist(c, r)``: a pair column ``distance`` if given, else the
    Euclidean distance between customer (x, y) and rep (x, y)."""

    weight: float = 1.0
    distance: str | None = None
    xy: tuple[str, str] = field(default=("x", "y"))

    def __post_init__(self) -> None:
        _check_weight(self.weight, "MinimizeTravel")

    def validate(self, tables: Tables) -> None:
        self.linear_cost(tables, np.zeros(0, np.int64), np.zeros(0, np.int64))

    def linear_cost(self, tables: Tables, pc: np.ndarray, pr: np.ndarray) -> np.ndarray:
        if self.distance is not None:
            if not tables.has_pair_column(self.distance):
                raise InvalidProblemError(
                    f"{self!r}: pairs has no column {self.distance!r}; pass pairs= with it."
                )
            return self.weight * tables.pair_column(self.distance, pc, pr, rule=repr(self))
        x, y = self.xy
        cx = tables.customer_column(x, rule=repr(self), nonnegative=False)
        cy = tables.customer_column(y, rule=repr(self), nonnegative=False)
        rx = tables.rep_column(x, rule=repr(self), nonnegative=False)
        ry = tables.rep_column(y, rule=repr(self), nonnegative=False)
        return self.weight * np.hypot(cx[pc] - rx[pr], cy[pc] - ry[pr])
