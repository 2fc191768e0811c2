"""``alloc.Problem``: validated, immutable customers, reps, pairs, rules and objective.

Building a problem validates every input once, builds the sparse table of eligible
(customer, rep) pairs with vectorised joins and masks (never a loop per customer), and
compiles rules and objective terms into the array `Model` the
solvers use. Rules are duck-typed: this module never imports them (dependencies point
from rules to data, not back).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from alloc.data.context import Tables
from alloc.data.model import Budget, Constraint, Imbalance, Model
from alloc.data.spatial import compile_geography
from alloc.errors import DataWarning, InvalidParameterError, InvalidProblemError, format_ids

__all__ = ["DENSE_PAIR_LIMIT", "Problem"]

#: Above this many customer x rep combinations, a problem without a pair table or a
#: candidate-generating rule (``Match``) is refused rather than built densely.
DENSE_PAIR_LIMIT = 20_000_000


def _id_hint(frame: pd.DataFrame, arg: str) -> str:
    """``{'rep': 'name'}`` when one column looks like ids (text, unique, no gaps; its
    name says id, name, code or key when several do), else nothing to suggest."""
    key = "customer" if arg == "customers" else "rep"
    candidates = [
        c
        for c in frame.columns
        if isinstance(c, str)
        and not pd.api.types.is_numeric_dtype(frame[c])
        and frame[c].notna().all()
        and frame[c].is_unique
    ]
    named = [c for c in candidates if any(w in c.lower() for w in ("id", "name", "code", "key"))]
    pick = named if len(named) == 1 else candidates
    return f"{{'{key}': {pick[0]!r}}}" if len(pick) == 1 else ""


def _validate_table(frame: object, arg: str, id_col: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise InvalidProblemError(
            f"{arg} must be a pandas DataFrame; got {type(frame).__name__}. "
            f"Build one with pd.DataFrame(...)."
        )
    if len(frame) == 0:  # not frame.empty: a table of ids in its index has no columns
        raise InvalidProblemError(f"{arg} is empty; give at least one row.")
    if id_col in frame.columns:
        ids = frame[id_col]
        table = frame.drop(columns=[id_col]).copy()
        table.index = pd.Index(ids.to_numpy(), name=id_col)
    elif frame.index.name == id_col:
        table = frame.copy()
    else:
        raise InvalidProblemError(
            f"{arg} has no id column {id_col!r} "
            f"(columns: {format_ids(map(str, frame.columns), 8)}). "
            f"Add it, name the index {id_col!r}, or pass id_columns={_id_hint(frame, arg)}."
        )
    if table.index.hasnans:
        raise InvalidProblemError(
            f"{arg}[{id_col!r}] has missing ids in {int(np.sum(table.index.isna()))} rows; "
            f"every row needs an id."
        )
    dup = table.index[table.index.duplicated()].unique()
    if len(dup):
        raise InvalidProblemError(
            f"{arg}[{id_col!r}] has duplicate ids {format_ids(dup)}; ids must be unique. "
            f"Aggregate or drop the duplicates."
        )
    return table


def _validate_pairs(
    pairs: object, customers: pd.DataFrame, reps: pd.DataFrame, c_col: str, r_col: str
) -> pd.DataFrame:
    if not isinstance(pairs, pd.DataFrame):
        raise InvalidProblemError(
            f"pairs must be a pandas DataFrame with columns {c_col!r}, {r_col!r}; "
            f"got {type(pairs).__name__}."
        )
    missing = [c for c in (c_col, r_col) if c not in pairs.columns]
    if missing:
        raise InvalidProblemError(
            f"pairs is missing the id columns {format_ids(missing)}; it needs one row per "
            f"allowed (customer, rep) pair with columns {c_col!r} and {r_col!r}."
        )
    if pairs.empty:
        raise InvalidProblemError("pairs is empty; give at least one allowed pair.")
    c = customers.index.get_indexer(pd.Index(pairs[c_col].to_numpy(), dtype=object))
    r = reps.index.get_indexer(pd.Index(pairs[r_col].to_numpy(), dtype=object))
    if (c < 0).any():
        raise InvalidProblemError(
            f"pairs[{c_col!r}] names unknown customers "
            f"{format_ids(pd.unique(pairs[c_col].to_numpy()[c < 0]))}; every pair must "
            f"refer to a row of customers."
        )
    if (r < 0).any():
        raise InvalidProblemError(
            f"pairs[{r_col!r}] names unknown reps "
            f"{format_ids(pd.unique(pairs[r_col].to_numpy()[r < 0]))}; every pair must "
            f"refer to a row of reps."
        )
    key = c.astype(np.int64) * len(reps) + r
    dup = pd.Index(key).duplicated()
    if dup.any():
        shown = [(customers.index[k // len(reps)], reps.index[k % len(reps)]) for k in key[dup][:5]]
        raise InvalidProblemError(
            f"pairs has duplicate (customer, rep) rows {format_ids(shown)}; keep one row per pair."
        )
    table = pairs.drop(columns=[c_col, r_col]).reset_index(drop=True)
    table.insert(0, "_r", r.astype(np.int64))
    table.insert(0, "_c", c.astype(np.int64))
    return table


def _flatten_objective(objective: object) -> tuple[Any, ...]:
    if objective is None:
        return ()
    if isinstance(objective, Iterable) and not isinstance(objective, (str, bytes)):
        out: list[Any] = []
        for item in objective:
            out.extend(_flatten_objective(item))
        return tuple(out)
    return (objective,)


def _check_kind(items: Sequence[Any], arg: str, method: str) -> None:
    for item in items:
        if not hasattr(item, method):
            raise InvalidParameterError(
                f"the {arg!r} parameter of Problem must hold alloc "
                f"{'rules' if arg == 'rules' else 'objective terms'}; got {item!r}."
            )


class Problem:
    """An allocation problem: customers, reps, eligible pairs, rules and objective.

    Parameters
    ----------
    customers, reps : pandas.DataFrame
        One row per customer / rep with an id column (``customer_id`` / ``rep_id`` by
        default, or the index named so) and any attribute columns.
    pairs : pandas.DataFrame, optional
        Allowed (customer, rep) pairs with per-pair values (fit, cost, distance, pair
        workload). When omitted, every combination is allowed before rules prune it.
    rules : sequence of rules
        Hard constraints (``Match``, ``Capacity``, ``Balance``, ...).
    objective : term, sum of terms or sequence of terms
        Weighted soft goals (``MinimizeImbalance``, ``MaximizeFit``, ...). Empty means
        every feasible assignment is optimal.
    id_columns : mapping, optional
        ``{"customer": "...", "rep": "..."}`` to rename the id columns.

    Raises
    ------
    InvalidProblemError
        On bad data; the message names the argument, the ids or columns, and a fix.

    Examples
    --------
    >>> import pandas as pd, alloc
    >>> customers = pd.DataFrame({"customer_id": ["a", "b", "c"], "potential": [5, 3, 2]})
    >>> reps = pd.DataFrame({"rep_id": ["r1", "r2"]})
    >>> problem = alloc.Problem(customers, reps, objective=alloc.MinimizeImbalance("potential"))
    >>> problem.n_customers, problem.n_reps, problem.n_pairs
    (3, 2, 6)
    """

    def __init__(
        self,
        customers: pd.DataFrame,
        reps: pd.DataFrame,
        pairs: pd.DataFrame | None = None,
        rules: Sequence[Any] = (),
        objective: Any = (),
        *,
        id_columns: Mapping[str, str] | None = None,
    ) -> None:
        ids = {"customer": "customer_id", "rep": "rep_id", **(id_columns or {})}
        c_col, r_col = ids["customer"], ids["rep"]
        cust = _validate_table(customers, "customers", c_col)
        rep_table = _validate_table(reps, "reps", r_col)
        pair_table = (
            None if pairs is None else _validate_pairs(pairs, cust, rep_table, c_col, r_col)
        )
        self._tables = Tables(cust, rep_table, pair_table, c_col, r_col)
        if isinstance(rules, (str, bytes)) or not isinstance(rules, Iterable):
            rules = [rules]
        self._rules = tuple(rules)
        self._objective = _flatten_objective(objective)
        _check_kind(self._rules, "rules", "allowed")
        _check_kind(self._objective, "objective", "linear_cost")
        # Our own copy: later edits to the caller's frame must not reach replace().
        self._source_pairs = None if pairs is None else pairs.copy()
        self._build()

    # ---- construction ---------------------------------------------------------------
    def _build(self) -> None:
        t = self._tables
        for item in (*self._rules, *self._objective):
            item.validate(t)
        pc, pr = self._candidate_pairs()
        removed_by: list[tuple[str, np.ndarray]] = []
        generator = self._generator()
        if generator is not None:
            none = np.flatnonzero(np.bincount(pc, minlength=t.n_customers) == 0)
            if none.size:
                removed_by.append((repr(generator), none))
        for rule in self._rules:
            mask = rule.allowed(t, pc, pr)
            if mask is not None:
                has_before = np.bincount(pc, minlength=t.n_customers) > 0
                pc, pr = pc[mask], pr[mask]
                has_after = np.bincount(pc, minlength=t.n_customers) > 0
                lost = np.flatnonzero(has_before & ~has_after)
                if lost.size:
                    removed_by.append((repr(rule), lost))
        self._pc, self._pr = pc, pr
        self._pruned_by = tuple(removed_by)
        self._warn_idle_reps(pr)
        self._warn_single_rep(pc)
        self._model = self._compile(pc, pr)

    def _warn_idle_reps(self, pr: np.ndarray) -> None:
        """Warn when the rules leave a rep with no customer it may serve."""
        idle = np.flatnonzero(np.bincount(pr, minlength=self._tables.n_reps) == 0)
        if idle.size == 0 or self._tables.n_customers == 0:
            return
        ids = self._tables.reps.index[idle]
        warnings.warn(
            f"rep{'s' if idle.size > 1 else ''} {format_ids(list(ids))} may serve no customer "
            "under the rules (no eligible pair): check their skills, regions or levels, or "
            "the pair table.",
            DataWarning,
            stacklevel=4,
        )

    def _warn_single_rep(self, pc: np.ndarray) -> None:
        """Warn (once, with a count) about customers only one rep may serve.

        They cannot move to balance the loads, so a window can become impossible with
        no rule at fault. Customers a rule pins to a rep (``pinned``) are left out:
        that is deliberate.
        """
        t = self._tables
        single = np.bincount(pc, minlength=t.n_customers) == 1
        for rule in self._rules:
            pinned = getattr(rule, "pinned", None)
            codes = pinned(t) if pinned is not None else None
            if codes is not None:
                single[codes] = False
        n = int(single.sum())
        if n == 0:
            return
        ids = t.customers.index[single]
        warnings.warn(
            f"{n:,} customer{'s have' if n > 1 else ' has'} a single eligible rep under the "
            f"rules ({format_ids(list(ids))}): they cannot move to balance loads, which can "
            "make Balance, Capacity or account limits impossible. Check their "
            "industry/skills, regions or levels, or pin them with Pin if this is meant.",
            DataWarning,
            stacklevel=4,
        )

    def _candidate_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        t = self._tables
        if t.pairs is not None:
            pc, pr = t.pairs["_c"].to_numpy(np.int64), t.pairs["_r"].to_numpy(np.int64)
        else:
            generator = self._generator()
            if generator is not None:
                pc, pr = generator.candidates(t)
            else:
                n, m = t.n_customers, t.n_reps
                if n * m > DENSE_PAIR_LIMIT:
                    raise InvalidProblemError(
                        f"{n:,} customers x {m:,} reps = {n * m:,} pairs is too many to "
                        f"build densely (limit {DENSE_PAIR_LIMIT:,}). Pass pairs= with the "
                        f"allowed pairs or add a Match rule that restricts them."
                    )
                pc = np.repeat(np.arange(n, dtype=np.int64), m)
                pr = np.tile(np.arange(m, dtype=np.int64), n)
        order = np.lexsort((pr, pc))
        return pc[order], pr[order]

    def _generator(self) -> Any:
        """The rule that generates candidate pairs (the first Match), if pairs= is absent."""
        if self._tables.pairs is not None:
            return None
        return next((r for r in self._rules if getattr(r, "candidates", None)), None)

    def _units(self) -> np.ndarray:
        """Unit code per customer: customers kept together (``Together``) share one unit.

        Grouping rules return a group code per customer (-1: no group). Several grouping
        rules are merged by connected components of the customer-group graph.
        """
        t = self._tables
        n = t.n_customers
        groupings = [g for r in self._rules if (g := r.groups(t)) is not None]
        if not groupings:
            return np.arange(n, dtype=np.int64)
        import networkx as nx

        graph = nx.Graph()
        graph.add_nodes_from(range(n))
        for k, groups in enumerate(groupings):
            members = np.flatnonzero(groups >= 0)
            graph.add_edges_from(
                zip(members.tolist(), [(k, g) for g in groups[members].tolist()], strict=True)
            )
        labels = np.empty(n, dtype=np.int64)
        components = sorted(
            (min(c for c in comp if isinstance(c, int)), comp)
            for comp in nx.connected_components(graph)
        )
        for code, (_, comp) in enumerate(components):
            labels[[c for c in comp if isinstance(c, int)]] = code
        return labels

    def _compile(self, pc: np.ndarray, pr: np.ndarray) -> Model:
        t = self._tables
        m = t.n_reps
        unit = self._units()
        n_units = int(unit.max()) + 1
        unit_size = np.bincount(unit, minlength=n_units)
        # A unit may use rep r only if every member customer may.
        key = unit[pc] * m + pr
        ukey, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
        keep = counts == unit_size[ukey // m]
        ukey_kept = ukey[keep]
        new_index = np.full(ukey.size, -1, dtype=np.int64)
        new_index[keep] = np.arange(ukey_kept.size)
        pair_of_cpair = new_index[inverse]  # unit-pair index per customer pair (-1: dropped)
        live = pair_of_cpair >= 0
        n_upairs = ukey_kept.size

        def aggregate(values: np.ndarray) -> np.ndarray:
            return np.bincount(pair_of_cpair[live], weights=values[live], minlength=n_upairs)

        constraints: list[Constraint] = []
        for rule in self._rules:
            for spec in rule.constraints(t, pc, pr):
                label, weight, lo, hi, integral = spec
                lo = np.full(m, -np.inf) if lo is None else np.asarray(lo, dtype=float)
                hi = np.full(m, np.inf) if hi is None else np.asarray(hi, dtype=float)
                constraints.append(
                    Constraint(label, aggregate(np.asarray(weight, float)), lo, hi, rule, integral)
                )
        # Global caps (alloc.Budget): rules with a ``budgets`` hook, duck-typed.
        budgets = [
            Budget(label, aggregate(np.asarray(weight, float)), float(hi), rule)
            for rule in self._rules
            for label, weight, hi in getattr(rule, "budgets", lambda *_: [])(t, pc, pr)
        ]
        cost = np.zeros(n_upairs)
        imbalances: list[Imbalance] = []
        terms = self._compiled_terms()
        for term in terms:
            linear = term.linear_cost(t, pc, pr)
            if linear is not None:
                cost += aggregate(np.asarray(linear, dtype=float))
            spec = term.imbalance(t, pc, pr)
            if spec is not None:
                label, metric, value, share, weight, norm = spec
                imbalances.append(
                    Imbalance(label, metric, aggregate(value), share, weight, norm, term)
                )
        for rule in self._rules:  # soft windows (Balance(soft=True)): priced, not hard
            soft = getattr(rule, "soft_terms", lambda *_: None)(t, pc, pr)
            if soft is not None:
                specs, linear = soft
                cost += aggregate(np.asarray(linear, dtype=float))
                for label, metric, value, share, weight, norm in specs:
                    imbalances.append(
                        Imbalance(label, metric, aggregate(value), share, weight, norm, rule)
                    )
        pair_unit = (ukey_kept // m).astype(np.int64)
        pair_rep = (ukey_kept % m).astype(np.int64)
        unit_start = np.zeros(n_units + 1, dtype=np.int64)
        np.cumsum(np.bincount(pair_unit, minlength=n_units), out=unit_start[1:])
        geography, centre_cost = compile_geography(t, self._rules, terms, unit, n_units, ukey_kept)
        if centre_cost is not None:
            cost += centre_cost
        return Model(
            n_units=n_units,
            n_reps=m,
            unit_start=unit_start,
            pair_unit=pair_unit,
            pair_rep=pair_rep,
            cost=cost,
            constraints=tuple(constraints),
            imbalances=tuple(imbalances),
            customer_unit=unit,
            unit_size=unit_size,
            geography=geography,
            budgets=tuple(budgets),
        )

    def _compiled_terms(self) -> tuple[Any, ...]:
        """The terms the model compiles: a staged objective (``alloc.Lexicographic``,
        duck-typed by ``compiled_terms``) compiles its first stage; the solver runs the
        stages in turn."""
        staged = [item for item in self._objective if hasattr(item, "compiled_terms")]
        if not staged:
            return self._objective
        if len(self._objective) > 1:
            raise InvalidProblemError(
                f"{staged[0]!r} must be the whole objective; it was given with "
                f"{len(self._objective) - 1} other terms. Put them inside its stages."
            )
        return tuple(staged[0].compiled_terms())

    # ---- public read-only views -----------------------------------------------------
    @property
    def customers(self) -> pd.DataFrame:
        """Customer table indexed by customer id (a copy; the problem is immutable)."""
        return self._tables.customers.copy()

    @property
    def reps(self) -> pd.DataFrame:
        """Rep table indexed by rep id (a copy)."""
        return self._tables.reps.copy()

    @property
    def pairs(self) -> pd.DataFrame:
        """Eligible (customer, rep) pairs after every rule pruned them, with pair values."""
        t = self._tables
        frame = pd.DataFrame(
            {
                t.customer_col: t.customers.index.to_numpy()[self._pc],
                t.rep_col: t.reps.index.to_numpy()[self._pr],
            }
        )
        if t.pairs is not None:
            for column in t.pairs.columns:
                if column not in ("_c", "_r"):
                    frame[column] = _align(t.pairs, column, self._pc, self._pr, t.n_reps)
        return frame

    @property
    def source_pairs(self) -> pd.DataFrame | None:
        """The pair table as given (None when omitted)."""
        return None if self._source_pairs is None else self._source_pairs.copy()

    @property
    def rules(self) -> tuple[Any, ...]:
        return self._rules

    @property
    def objective(self) -> tuple[Any, ...]:
        return self._objective

    @property
    def id_columns(self) -> dict[str, str]:
        return {"customer": self._tables.customer_col, "rep": self._tables.rep_col}

    @property
    def customer_ids(self) -> pd.Index:
        return self._tables.customers.index

    @property
    def rep_ids(self) -> pd.Index:
        return self._tables.reps.index

    @property
    def n_customers(self) -> int:
        return self._tables.n_customers

    @property
    def n_reps(self) -> int:
        return self._tables.n_reps

    @property
    def n_pairs(self) -> int:
        return int(self._pc.size)

    @property
    def model(self) -> Model:
        """The compiled array model (internal; for solvers)."""
        return self._model

    @property
    def tables(self) -> Tables:
        """Validated tables (internal; for rules and solvers)."""
        return self._tables

    @property
    def pruned_by(self) -> tuple[tuple[str, np.ndarray], ...]:
        """(rule, customer codes) for rules that removed the last eligible rep of customers."""
        return self._pruned_by

    def customers_without_reps(self) -> pd.Index:
        """Customers with no eligible rep after the rules pruned the pairs."""
        has = np.bincount(self._pc, minlength=self.n_customers) > 0
        return self.customer_ids[~has]

    def metric_names(self) -> list[str]:
        """Metrics used by rules and objective terms (shown in ``Result.loads``)."""
        names: list[str] = []
        for item in (*self._rules, *self._objective):
            for name in getattr(item, "metrics", ()):
                if name not in names:
                    names.append(name)
        return names

    # ---- events: new problems from this one ------------------------------------------
    def replace(self, **changes: Any) -> Problem:
        """A new, re-validated problem with some arguments replaced.

        Accepts ``customers``, ``reps``, ``pairs``, ``rules``, ``objective`` and
        ``id_columns``; tables are given in the same form as to the constructor.
        """
        allowed = {"customers", "reps", "pairs", "rules", "objective", "id_columns"}
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidParameterError(
                f"Problem.replace() got unknown arguments {format_ids(sorted(unknown))}; "
                f"it accepts {format_ids(sorted(allowed), 10)}."
            )
        args: dict[str, Any] = {
            "customers": self._frame("customers"),
            "reps": self._frame("reps"),
            "pairs": self._source_pairs,
            "rules": self._rules,
            "objective": self._objective,
            "id_columns": self.id_columns,
        }
        args.update(changes)
        return Problem(**args)

    def without_reps(self, ids: Iterable[Any]) -> Problem:
        """A new problem without the given reps (e.g. a rep leaves).

        Pins to and forbids with those reps are dropped, and owner columns named by
        ``MinimizeDisruption`` terms lose the departed owners (their customers become
        "no owner"), so the new problem stays valid.
        """
        ids = list(ids)
        codes = self._tables.rep_codes(ids, rule="without_reps")
        gone = set(self.rep_ids[codes])
        reps = self._frame("reps")
        reps = reps[~reps[self._tables.rep_col].isin(gone)]
        if reps.empty:
            raise InvalidProblemError("without_reps would remove every rep; keep at least one.")
        customers = self._frame("customers")
        rules = []
        for rule in self._rules:
            if hasattr(rule, "without_reps"):
                rule = rule.without_reps(gone)
            rules.append(rule)
        for owner_col in self._owner_columns():
            if owner_col in customers.columns:
                customers[owner_col] = customers[owner_col].where(~customers[owner_col].isin(gone))
        pairs = self._source_pairs
        if pairs is not None:
            pairs = pairs[~pairs[self._tables.rep_col].isin(gone)]
        return self.replace(customers=customers, reps=reps, pairs=pairs, rules=rules)

    def _owner_columns(self) -> list[str]:
        """Owner columns of every disruption term, also inside staged objectives
        (``stages``) and caps (``terms``), duck-typed."""
        found: list[str] = []

        def visit(item: Any) -> None:
            column = getattr(item, "owner_col", None)
            if isinstance(column, str) and column not in found:
                found.append(column)
            for inner in getattr(item, "terms", None) or ():
                visit(inner)
            for stage in getattr(item, "stages", None) or ():
                for inner in stage:
                    visit(inner)

        for item in (*self._objective, *self._rules):
            visit(item)
        return found

    def with_reps(self, reps: pd.DataFrame) -> Problem:
        """A new problem with more reps (rows in the same form as the rep table)."""
        new = _validate_table(reps, "reps", self._tables.rep_col).reset_index()
        return self.replace(reps=pd.concat([self._frame("reps"), new], ignore_index=True))

    def with_customers(self, customers: pd.DataFrame) -> Problem:
        """A new problem with more customers (rows in the same form as the customer table)."""
        new = _validate_table(customers, "customers", self._tables.customer_col).reset_index()
        return self.replace(customers=pd.concat([self._frame("customers"), new], ignore_index=True))

    def _frame(self, which: str) -> pd.DataFrame:
        t = self._tables
        table = t.customers if which == "customers" else t.reps
        return table.reset_index()

    def __repr__(self) -> str:
        return (
            f"Problem({self.n_customers:,} customers, {self.n_reps:,} reps, "
            f"{self.n_pairs:,} eligible pairs, {len(self._rules)} rules, "
            f"{len(self._objective)} objective terms)"
        )


def _align(pairs: pd.DataFrame, column: str, pc: np.ndarray, pr: np.ndarray, m: int) -> np.ndarray:
    key = pairs["_c"].to_numpy(np.int64) * m + pairs["_r"].to_numpy()
    order = np.argsort(key, kind="stable")
    pos = np.searchsorted(key[order], pc.astype(np.int64) * m + pr)
    return pairs[column].to_numpy()[order][pos]
