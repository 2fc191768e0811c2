"""Hard rules: declarative objects that compile onto the pair table.

A rule either removes pairs (``Match``, ``KeyAccounts`` levels, ``Pin``, ``Forbid``),
adds per-rep rows ``lo[r] <= sum weight <= hi[r]`` (``Capacity``, ``AccountLimit``,
``Balance``, ``Spread``, ``KeyAccounts(max_per_rep=...)``) or merges customers into one
unit (``Together``). Objective terms are in `alloc.objectives`.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from alloc.data.context import Tables, parse_sets
from alloc.data.soft_windows import soft_window
from alloc.errors import DataWarning, InvalidProblemError, format_ids
from alloc.validation import check_fraction, check_param, is_number, is_real_at_least, parse_flags

__all__ = [
    "AccountLimit",
    "Balance",
    "Capacity",
    "Forbid",
    "KeyAccounts",
    "Match",
    "Pin",
    "Rule",
    "Spread",
    "Together",
]

ConstraintSpec = tuple[str, np.ndarray, "np.ndarray | None", "np.ndarray | None", bool]
Limit = float | int | str | None


def _check_limit(value: Limit, name: str, owner: str) -> None:
    ok = value is None or isinstance(value, str) or (is_number(value) and float(value) >= 0)  # type: ignore[arg-type]
    check_param(name, value, owner, ok, "None, a non-negative number or a rep column name")


def _read_flags(tables: Tables, column: str, rule: str, hint: str = "") -> np.ndarray:
    """A yes/no customer column as 0/1 floats; errors name the rule, column and rows."""
    tables.customer_column(column, rule=rule, numeric=False)  # raises if it is missing
    try:
        flags = parse_flags(tables.customers[column], column=column, what="customers")
    except InvalidProblemError as exc:
        raise InvalidProblemError(f"{rule}: {exc}{hint}") from None
    return flags.astype(float)


class Rule:
    """Base class of hard rules. Subclasses override the hooks they need."""

    #: Metrics (customer or pair columns) whose per-rep loads the rule constrains.
    @property
    def metrics(self) -> tuple[str, ...]:
        return ()

    def validate(self, tables: Tables) -> None:
        """Raise ``InvalidProblemError`` if the tables do not fit the rule."""

    def allowed(self, tables: Tables, pc: np.ndarray, pr: np.ndarray) -> np.ndarray | None:
        """Mask of pairs the rule allows (None: allows all)."""
        return None

    def constraints(self, tables: Tables, pc: np.ndarray, pr: np.ndarray) -> list[ConstraintSpec]:
        """Per-rep rows (label, weight per pair, lo per rep, hi per rep, integral)."""
        return []

    def groups(self, tables: Tables) -> np.ndarray | None:
        """Group code per customer for rules that keep customers together."""
        return None

    def pinned(self, tables: Tables) -> np.ndarray | None:
        """Codes of the customers the rule puts on one rep on purpose (None: none)."""
        return None


# ---- rules that prune pairs -----------------------------------------------------------
#: A warning names at most this many unmatched values (then says how many more).
MAX_VALUES_NAMED = 8


def _hint(value: str, known: Iterable[str]) -> str:
    """`` (did you mean 'Retail'?)`` when ``value`` is close to one of ``known``, else ``""``.

    A value equal but for case and spaces (``'retail '`` for ``'Retail'``) is the usual
    slip in typed tables, so it is preferred over a merely similar spelling.
    """

    def norm(text: str) -> str:
        return " ".join(str(text).split()).casefold()

    options = sorted(known)
    same = [k for k in options if norm(k) == norm(value)]
    if same:
        return f" (did you mean {same[0]!r}?)"
    by_norm = {norm(k): k for k in options}
    near = difflib.get_close_matches(norm(value), list(by_norm), n=1, cutoff=0.75)
    return f" (did you mean {by_norm[near[0]]!r}?)" if near else ""


@dataclass(frozen=True)
class Match(Rule):
    """Customer value must be in the rep's set: ``customers[c] in reps[r]``.

    ``rep_col`` holds a list/set or a ``;``-separated string (e.g. ``"retail;health"``),
    or a single value. Commas separate values too (``"retail, health"``) unless the
    customers have the value with its comma (``"Food, Beverages"``). Customers whose
    value is missing match no rep unless ``missing="any"``.
    """

    customer_col: str
    rep_col: str
    missing: str = "none"

    def __post_init__(self) -> None:
        check_param(
            "missing", self.missing, "Match", self.missing in ("none", "any"), "'none' or 'any'"
        )

    def validate(self, tables: Tables) -> None:
        tables.customer_column(self.customer_col, rule=repr(self), numeric=False)
        tables.rep_column(self.rep_col, rule=repr(self), numeric=False)
        self._warn_unmatched(tables)

    def _customer_text(self, tables: Tables) -> pd.Series:
        """The customers' values as text without outer spaces (``None`` where missing),
        as the reps' ``;``-separated values are read."""
        column = tables.customers[self.customer_col]
        return column.map(lambda v: None if pd.isna(v) else str(v).strip())

    def _known(self, tables: Tables) -> set[str]:
        """The customers' values, as text."""
        return set(self._customer_text(tables).dropna().tolist())

    def rep_sets(self, tables: Tables) -> pd.Series:
        """Each rep's values, split on ``;`` (and on commas the customers' values lack)."""
        return parse_sets(tables.reps[self.rep_col], known=self._known(tables))

    def _rep_values(self, tables: Tables) -> set[str]:
        """The reps' values, as text."""
        return {str(v) for v in self.rep_sets(tables).explode().dropna().tolist()}

    def _warn_unmatched(self, tables: Tables) -> None:
        """Warn about values one side has and the other lacks: usually a misspelling.

        A rep value no customer has narrows that rep; a customer value no rep has leaves
        the customer with no eligible rep (the solve then stops as infeasible).
        """
        known = self._known(tables)
        rep_sets = self.rep_sets(tables).explode().dropna()
        unknown = rep_sets[~rep_sets.astype(str).isin(known)]
        if not unknown.empty and known:
            parts = []
            for value, reps in unknown.groupby(unknown.astype(str)).groups.items():
                parts.append(f"{value!r} of rep {format_ids(list(reps))}{_hint(str(value), known)}")
            warnings.warn(
                f"{self!r}: no customer has {self.customer_col!r} equal to "
                + "; ".join(parts)
                + f". Those reps match fewer customers than their {self.rep_col!r} suggests; "
                "fix the spelling, or ignore this warning if the value is meant for later.",
                DataWarning,
                stacklevel=5,
            )
        if self.missing == "none" and not rep_sets.empty:
            parts = self._customer_values_unmatched(tables)
            if parts:
                warnings.warn(
                    f"{self!r}: " + "; ".join(parts) + ". Those customers have no eligible "
                    "rep; fix the spelling, or add the value to a rep's "
                    f"{self.rep_col!r}.",
                    DataWarning,
                    stacklevel=5,
                )

    def _customer_values_unmatched(
        self, tables: Tables, customers: np.ndarray | None = None
    ) -> list[str]:
        """``"'industry' 'retail ' of customer 'C2' is in no rep's 'skills' (did you mean
        'Retail'?)"`` for each customer value (of ``customers``, codes; default all) that
        no rep has."""
        text = self._customer_text(tables)
        if customers is not None:
            text = text.iloc[customers]
        text = text.dropna()
        have = self._rep_values(tables)
        lacking = text[~text.isin(have)]
        groups = list(lacking.groupby(lacking).groups.items())
        parts = [
            f"{self.customer_col!r} {value!r} of customer {format_ids(list(ids))} is in no "
            f"rep's {self.rep_col!r}{_hint(str(value), have)}"
            for value, ids in groups[:MAX_VALUES_NAMED]
        ]
        if len(groups) > MAX_VALUES_NAMED:
            parts.append(f"and {len(groups) - MAX_VALUES_NAMED} more values")
        return parts

    def explain_unmatched(self, tables: Tables, customers: np.ndarray) -> str:
        """Why ``customers`` (codes) have no eligible rep under this rule, in words."""
        parts = self._customer_values_unmatched(tables, customers)
        missing = tables.customers[self.customer_col].iloc[customers].isna()
        if missing.any() and self.missing == "none":
            ids = list(tables.customers.index[customers][missing.to_numpy()])
            parts.append(
                f"{format_ids(ids)} {'has' if len(ids) == 1 else 'have'} no "
                f"{self.customer_col!r} (Match(..., missing='any') lets them go to any rep)"
            )
        return "; ".join(parts)

    def _codes(self, tables: Tables) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(customer value code, exploded rep code, exploded value code)."""
        cust_str = self._customer_text(tables)
        rep_sets = self.rep_sets(tables).explode()
        rep_codes = tables.reps.index.get_indexer(rep_sets.index)
        valid = rep_sets.notna().to_numpy()
        values = pd.Index(
            pd.unique(
                np.concatenate(
                    [
                        cust_str.dropna().to_numpy(dtype=object),
                        rep_sets[valid].to_numpy(dtype=object),
                    ]
                )
            )
        )
        c_code = values.get_indexer(pd.Index(cust_str.to_numpy(dtype=object)))
        c_code[cust_str.isna().to_numpy()] = -1
        v_code = values.get_indexer(pd.Index(rep_sets[valid].to_numpy(dtype=object)))
        return c_code, rep_codes[valid].astype(np.int64), v_code.astype(np.int64)

    def candidates(self, tables: Tables) -> tuple[np.ndarray, np.ndarray]:
        """Eligible pairs by a join on the value (no customers x reps product)."""
        c_code, rep_codes, v_code = self._codes(tables)
        left = pd.DataFrame({"v": c_code, "c": np.arange(c_code.size)})
        right = pd.DataFrame({"v": v_code, "r": rep_codes}).drop_duplicates()
        joined = left[left["v"] >= 0].merge(right, on="v")
        pc = joined["c"].to_numpy(np.int64)
        pr = joined["r"].to_numpy(np.int64)
        if self.missing == "any":
            lone = np.flatnonzero(c_code < 0)
            m = tables.n_reps
            pc = np.concatenate([pc, np.repeat(lone, m)])
            pr = np.concatenate([pr, np.tile(np.arange(m), lone.size)])
        return pc, pr

    def allowed(self, tables: Tables, pc: np.ndarray, pr: np.ndarray) -> np.ndarray:
        c_code, rep_codes, v_code = self._codes(tables)
        n_values = int(max(c_code.max(initial=-1), v_code.max(initial=-1))) + 2
        have = np.unique(rep_codes * n_values + v_code)
        want = pr * n_values + c_code[pc]
        ok = np.isin(want, have)
        if self.missing == "any":
            ok |= c_code[pc] < 0
        return ok


@dataclass(frozen=True)
class KeyAccounts(Rule):
    """Key accounts go to reps of the given levels: ``key[c] => level[r] in levels``.

    ``flag_col`` is a yes/no column (true/false, yes/no, 1/0, empty for no; read by
    [`alloc.validation.parse_flags`][alloc.validation.parse_flags]).

    With ``max_per_rep``, also ``sum_{c -> r} key[c] <= max_per_rep`` (number or rep
    column).
    """

    flag_col: str
    levels: Iterable[str] = ("senior",)
    max_per_rep: Limit = None
    level_col: str = "level"

    def __post_init__(self) -> None:
        if isinstance(self.levels, str):
            object.__setattr__(self, "levels", (self.levels,))
        object.__setattr__(self, "levels", tuple(self.levels))
        _check_limit(self.max_per_rep, "max_per_rep", "KeyAccounts")

    def _flags(self, tables: Tables) -> np.ndarray:
        return _read_flags(tables, self.flag_col, repr(self))

    def validate(self, tables: Tables) -> None:
        self._flags(tables)
        levels = tables.rep_column(self.level_col, rule=repr(self), numeric=False)
        known = set(map(str, pd.unique(levels)))
        if not any(lvl in known for lvl in self.levels):
            raise InvalidProblemError(
                f"{self!r}: no rep has a level in {list(self.levels)}; reps[{self.level_col!r}] "
                f"holds {format_ids(sorted(known))}. Fix levels= or the rep table."
            )
        tables.per_rep(self.max_per_rep, rule=repr(self), arg="max_per_rep")

    def allowed(self, tables: Tables, pc: np.ndarray, pr: np.ndarray) -> np.ndarray:
        flags = self._flags(tables) > 0
        levels = tables.reps[self.level_col].astype(str).isin(self.levels).to_numpy()
        return ~flags[pc] | levels[pr]

    def constraints(self, tables: Tables, pc: np.ndarray, pr: np.ndarray) -> list[ConstraintSpec]:
        hi = tables.per_rep(self.max_per_rep, rule=repr(self), arg="max_per_rep")
        if hi is None:
            return []
        return [
            (f"key accounts per rep <= {self.max_per_rep}", self._flags(tables)[pc], None, hi, True)
        ]


@dataclass(frozen=True)
class Pin(Rule):
    """Pinned customers go to the given rep: ``x[c, mapping[c]] = 1``."""

    mapping: Mapping[Any, Any]  # a dict or a pandas Series customer_id -> rep_id

    def __post_init__(self) -> None:
        ok = isinstance(self.mapping, (Mapping, pd.Series))
        check_param("mapping", self.mapping, "Pin", ok, "a dict or Series customer_id -> rep_id")
        object.__setattr__(self, "mapping", dict(self.mapping.items()))

    def __hash__(self) -> int:
        return hash(tuple(sorted(map(repr, self.mapping.items()))))

    def __repr__(self) -> str:
        return f"Pin({format_ids([f'{k}->{v}' for k, v in self.mapping.items()], 3)})"

    def validate(self, tables: Tables) -> None:
        tables.customer_codes(self.mapping.keys(), rule="Pin")
        tables.rep_codes(self.mapping.values(), rule="Pin")

    def without_reps(self, gone: set[Any]) -> Pin:
        return Pin({c: r for c, r in self.mapping.items() if r not in gone})

    def pinned(self, tables: Tables) -> np.ndarray:
        return tables.customer_codes(self.mapping.keys(), rule="Pin")

    def allowed(self, tables: Tables, pc: np.ndarray, pr: np.ndarray) -> np.ndarray:
        target = np.full(tables.n_customers, -1, dtype=np.int64)
        if self.mapping:
            target[tables.customer_codes(self.mapping.keys(), rule="Pin")] = tables.rep_codes(
                self.mapping.values(), rule="Pin"
            )
        return (target[pc] < 0) | (target[pc] == pr)


@dataclass(frozen=True)
class Forbid(Rule):
    """Forbidden pairs are never used: ``x[c, r] = 0`` for each (c, r) given."""

    pairs: Any

    def __post_init__(self) -> None:
        if isinstance(self.pairs, pd.DataFrame):
            items = list(map(tuple, self.pairs.iloc[:, :2].itertuples(index=False)))
        else:
            try:
                items = [tuple(p) for p in self.pairs]
            except TypeError:
                items = None  # type: ignore[assignment]
        ok = items is not None and all(len(p) == 2 for p in items)
        check_param("pairs", self.pairs, "Forbid", ok, "(customer_id, rep_id) pairs")
        object.__setattr__(self, "pairs", tuple(items or ()))

    def __repr__(self) -> str:
        return f"Forbid({format_ids(self.pairs, 3)})"

    def without_reps(self, gone: set[Any]) -> Forbid:
        return Forbid([p for p in self.pairs if p[1] not in gone])

    def validate(self, tables: Tables) -> None:
        tables.customer_codes([p[0] for p in self.pairs], rule="Forbid")
        tables.rep_codes([p[1] for p in self.pairs], rule="Forbid")

    def allowed(self, tables: Tables, pc: np.ndarray, pr: np.ndarray) -> np.ndarray:
        if not self.pairs:
            return np.ones(pc.size, dtype=bool)
        c = tables.customer_codes([p[0] for p in self.pairs], rule="Forbid")
        r = tables.rep_codes([p[1] for p in self.pairs], rule="Forbid")
        m = tables.n_reps
        return ~np.isin(pc * m + pr, c * m + r)


@dataclass(frozen=True)
class Together(Rule):
    """Customers sharing a value of ``group_col`` (an account family) get one rep.

    Missing values mean "no family". Members are merged into one unit for the solvers.
    """

    group_col: str

    def validate(self, tables: Tables) -> None:
        tables.customer_column(self.group_col, rule=repr(self), numeric=False)

    def groups(self, tables: Tables) -> np.ndarray:
        col = tables.customers[self.group_col]
        codes, _ = pd.factorize(col)
        return codes.astype(np.int64)


# ---- rules that add per-rep rows ------------------------------------------------------
@dataclass(frozen=True)
class Capacity(Rule):
    """Load within capacity: ``sum_{c -> r} metric[c, r] <= limit[r]``.

    ``metric`` is a customer column or a pair column (rep-dependent workload);
    ``limit`` a rep column or a number.
    """

    metric: str
    limit: Limit

    def __post_init__(self) -> None:
        _check_limit(self.limit, "limit", "Capacity")
        check_param(
            "limit", self.limit, "Capacity", self.limit is not None, "a number or rep column"
        )

    @property
    def metrics(self) -> tuple[str, ...]:
        return (self.metric,)

    def validate(self, tables: Tables) -> None:
        tables.per_rep(self.limit, rule=repr(self), arg="limit")

    def constraints(self, tables: Tables, pc: np.ndarray, pr: np.ndarray) -> list[ConstraintSpec]:
        weight = tables.metric(self.metric, pc, pr, rule=repr(self))
        hi = tables.per_rep(self.limit, rule=repr(self), arg="limit")
        return [(f"{self.metric} <= {self.limit}", weight, None, hi, False)]


@dataclass(frozen=True)
class AccountLimit(Rule):
    """Account counts: ``min[r] <= |{c -> r}| <= max[r]`` (numbers or rep columns)."""

    min: Limit = None
    max: Limit = None

    def __post_init__(self) -> None:
        _check_limit(self.min, "min", "AccountLimit")
        _check_limit(self.max, "max", "AccountLimit")
        check_param(
            "min/max",
            None,
            "AccountLimit",
            self.min is not None or self.max is not None,
            "set (at least one of them)",
        )

    def validate(self, tables: Tables) -> None:
        lo = tables.per_rep(self.min, rule=repr(self), arg="min")
        hi = tables.per_rep(self.max, rule=repr(self), arg="max")
        if lo is not None and hi is not None and (lo > hi).any():
            bad = tables.reps.index[lo > hi]
            raise InvalidProblemError(
                f"{self!r}: min exceeds max for reps {format_ids(bad)}; fix the limits."
            )

    def constraints(self, tables: Tables, pc: np.ndarray, pr: np.ndarray) -> list[ConstraintSpec]:
        lo = tables.per_rep(self.min, rule=repr(self), arg="min")
        hi = tables.per_rep(self.max, rule=repr(self), arg="max")
        return [(f"accounts in [{self.min}, {self.max}]", np.ones(pc.size), lo, hi, True)]


def _fair_share(tables: Tables, metric: str, share: str | None, rule: str) -> np.ndarray:
    values = tables.customer_column(metric, rule=rule)
    total = values.sum()
    if total <= 0:
        raise InvalidProblemError(
            f"{rule}: customers[{metric!r}] sums to {total:g}; a fair share needs a positive "
            f"total. Use another metric or drop the rule."
        )
    return total * tables.share_weights(share, rule=rule)


@dataclass(frozen=True, repr=False)
class Balance(Rule):
    """Each rep's load within a window around its fair share ``share[r]``:
    ``lo * share[r] <= sum_{c -> r} metric[c] <= hi * share[r]``.

    Give either ``tolerance`` (``lo, hi = 1 - tol, 1 + tol``: ``Balance("x", 0.05)``) or
    ``min`` and/or ``max`` as multiples of the share (``Balance("x", min=0.8, max=1.2)``;
    a missing side is open). ``share`` names a rep column of weights (e.g. ``"fte"``);
    default equal shares.

    With ``soft=True`` the window is not a hard rule: each rep's load outside it is
    priced into the objective, ``penalty * sum_r excess[r] / share[r]`` (``excess`` the
    load beyond the nearer end of the window; see `alloc.data.soft_windows`).
    """

    metric: str
    tolerance: float | None = None
    share: str | None = None
    min: float | None = field(default=None, kw_only=True)
    max: float | None = field(default=None, kw_only=True)
    soft: bool = field(default=False, kw_only=True)
    penalty: float | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        has_window = self.min is not None or self.max is not None
        check_param(
            "tolerance/min/max",
            None,
            "Balance",
            (self.tolerance is None) == has_window,
            "exactly one of tolerance= or min=/max= (e.g. Balance('x', 0.05) or "
            "Balance('x', min=0.8, max=1.2))",
        )
        if self.tolerance is not None:
            check_fraction("tolerance", self.tolerance, "Balance")
        for name in ("min", "max"):
            value = getattr(self, name)
            ok = value is None or is_real_at_least(value, 0)
            check_param(name, value, "Balance", ok, "None or a multiple of the share >= 0")
        if self.min is not None and self.max is not None:
            check_param("min", self.min, "Balance", self.min <= self.max, f"at most max={self.max}")
        check_param("soft", self.soft, "Balance", isinstance(self.soft, bool), "True or False")
        ok = (
            (self.penalty is None)
            if not self.soft
            else is_real_at_least(self.penalty, 0, strict=True)
        )
        check_param(
            "penalty",
            self.penalty,
            "Balance",
            ok,
            "a number > 0 with soft=True (the price of one fair share outside the window), "
            "and None without it",
        )

    def __repr__(self) -> str:
        # The tolerance form prints as before the window form existed (messages and
        # saved reports name rules by their repr).
        head = f"Balance(metric={self.metric!r}"
        tail = f", soft=True, penalty={self.penalty!r})" if self.soft else ")"
        if self.tolerance is not None:
            return f"{head}, tolerance={self.tolerance!r}, share={self.share!r}{tail}"
        return f"{head}, share={self.share!r}, min={self.min!r}, max={self.max!r}{tail}"

    @property
    def window(self) -> tuple[float | None, float | None]:
        """(low, high) multiples of the fair share; None for an open side."""
        if self.tolerance is not None:
            return 1.0 - float(self.tolerance), 1.0 + float(self.tolerance)
        return (
            None if self.min is None else float(self.min),
            None if self.max is None else float(self.max),
        )

    def window_text(self) -> str:
        """The window in words, e.g. ``+-5.0%`` or ``[0.8, 1.2] x share``."""
        if self.tolerance is not None:
            return f"+-{float(self.tolerance):.1%} of share"
        low, high = self.window
        low_text = "0" if low is None else f"{low:g}"
        high_text = "inf" if high is None else f"{high:g}"
        return f"[{low_text}, {high_text}] x share"

    @property
    def metrics(self) -> tuple[str, ...]:
        return (self.metric,)

    def validate(self, tables: Tables) -> None:
        _fair_share(tables, self.metric, self.share, repr(self))

    def soft_terms(self, tables: Tables, pc: np.ndarray, pr: np.ndarray) -> Any:
        """A soft window's imbalance specs and per-pair cost (None for a hard window)."""
        if not self.soft:
            return None
        share = _fair_share(tables, self.metric, self.share, repr(self))
        values = tables.customer_column(self.metric, rule=repr(self))[pc]
        terms, cost = soft_window(values, pr, pc, share, *self.window, float(self.penalty))  # type: ignore[arg-type]
        label = f"soft window({self.metric}"
        specs = [
            (f"{label}, {side})", self.metric, values, ref, w, "sum") for side, ref, w in terms
        ]
        return specs, cost

    def constraints(self, tables: Tables, pc: np.ndarray, pr: np.ndarray) -> list[ConstraintSpec]:
        if self.soft:
            return []
        share = _fair_share(tables, self.metric, self.share, repr(self))
        values = tables.customer_column(self.metric, rule=repr(self))[pc]
        low, high = self.window
        return [
            (
                f"{self.metric} within {self.window_text()}",
                values,
                None if low is None else share * low,
                None if high is None else share * high,
                False,
            )
        ]


@dataclass(frozen=True)
class Spread(Rule):
    """Members of a class are spread evenly:
    ``floor(n * w[r]) <= |{c in class, c -> r}| <= ceil(n * w[r])``.

    ``flag_col`` is a yes/no column (read by
    [`alloc.validation.parse_flags`][alloc.validation.parse_flags]), or any column with ``value=``
    naming the class (e.g. ``Spread("abc", value="A")``).
    """

    flag_col: str
    value: Any = None
    share: str | None = None

    def _flags(self, tables: Tables) -> np.ndarray:
        if self.value is not None:
            raw = tables.customer_column(self.flag_col, rule=repr(self), numeric=False)
            return (pd.Series(raw) == self.value).to_numpy(dtype=float)
        hint = f" Or pass value= to name the class, e.g. Spread({self.flag_col!r}, value='A')."
        return _read_flags(tables, self.flag_col, repr(self), hint)

    def validate(self, tables: Tables) -> None:
        self._flags(tables)
        tables.share_weights(self.share, rule=repr(self))

    def constraints(self, tables: Tables, pc: np.ndarray, pr: np.ndarray) -> list[ConstraintSpec]:
        flags = self._flags(tables)
        target = flags.sum() * tables.share_weights(self.share, rule=repr(self))
        eps = 1e-9
        lo = np.floor(target + eps)
        hi = np.ceil(target - eps)
        return [(f"{self.flag_col} spread", flags[pc], lo, hi, True)]
