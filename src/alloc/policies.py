"""Baseline allocation policies behind one [`Policy`][alloc.policies.Policy] protocol.

A *policy* turns a [`Problem`][alloc.Problem] into a plan. alloc ships five, from the
naive to the optimised, so that an optimised plan can be compared with what a sales
organisation would do without it:

| policy | hard rules | objective | needs owner | what it does |
|---|---|---|---|---|
| `RoundRobin` | pairs only | no | no | deals customers, largest first, to reps in turn |
| `RandomPolicy` | pairs only | no | no | a uniformly random eligible rep per customer |
| `Greedy` | yes | yes | no | alloc's constraint-aware construction |
| `StatusQuo` | no | no | yes | keeps every customer with its current owner |
| `Optimized` | yes | yes | no | `alloc.solve` (the full portfolio) |

"Pairs only" means the policy only uses eligible (customer, rep) pairs, so the rules
that prune pairs (``Match``, ``KeyAccounts`` levels, ``Pin``, ``Forbid``) hold, but
capacities, account limits, balance windows, spreads and account families may not.

Every policy returns an [`alloc.Result`][alloc.Result] whose objective is recomputed from the
tables by [`alloc.checker.objective_value`][alloc.checker.objective_value]. Its status says whether
the plan may be used as is:

- ``FEASIBLE`` (``OPTIMAL`` for [`Optimized`][alloc.policies.Optimized] when proven):
  [`alloc.check`][alloc.checker.check] finds no violation.
- ``UNKNOWN`` *with an assignment*: the plan breaks rules (the explanation reads
  ``"plan violates N rules: ..."``). The plan is kept so that its figures can be
  compared with the others; ``result.raise_for_status()`` refuses it.
- ``INFEASIBLE`` without an assignment: some customers have no eligible rep, so no
  plan exists (or [`alloc.solve`][alloc.solve] proved infeasibility).

Capabilities are declared as flags and checked before any work by
[`check_policy`][alloc.policies.check_policy]: a policy that ``needs_owner`` raises
[`InvalidParameterError`][alloc.errors.InvalidParameterError] naming the missing column.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from alloc.checker import Violation, check, objective_value
from alloc.data.problem import Problem
from alloc.errors import InvalidParameterError, format_ids
from alloc.result import Result, SolveStats, Status
from alloc.solvers.greedy import greedy
from alloc.solvers.portfolio import solve
from alloc.solvers.run_state import to_assignment
from alloc.solvers.state import Rows
from alloc.validation import Param, check_param, check_params, is_int, is_real_at_least

__all__ = [
    "BasePolicy",
    "Greedy",
    "Optimized",
    "Policy",
    "RandomPolicy",
    "RoundRobin",
    "StatusQuo",
    "check_policy",
    "default_policies",
    "plan_result",
]

#: How many violations an explanation lists before it says "and N more".
_SHOWN_VIOLATIONS = 3


@runtime_checkable
class Policy(Protocol):
    """What [`alloc.compare`][alloc.comparison.compare] needs of a policy.

    Attributes
    ----------
    name : str
        Label of the policy in tables and plots (unique within one comparison).
    handles_rules : bool
        The policy takes the hard rules into account beyond pair eligibility
        (capacities, limits, balance windows, families). Its plans may still break
        them; the returned status says so.
    handles_objective : bool
        The policy tries to minimise the problem's objective.
    needs_owner : bool
        The policy reads the customers' current owner from the column named by its
        ``owner_col`` attribute (``"owner"`` when it has none).

    Methods
    -------
    allocate(problem, seed=0)
        Return an [`alloc.Result`][alloc.Result] with an assignment of every customer (or
        without an assignment when no plan exists).

    Examples
    --------
    >>> from alloc.policies import Policy, RoundRobin
    >>> isinstance(RoundRobin(), Policy)
    True
    """

    @property
    def name(self) -> str: ...

    @property
    def handles_rules(self) -> bool: ...

    @property
    def handles_objective(self) -> bool: ...

    @property
    def needs_owner(self) -> bool: ...

    def allocate(self, problem: Problem, seed: int = 0) -> Result: ...


# ---- checks -----------------------------------------------------------------------
def check_policy(policy: object, problem: Problem | None = None, *, owner: str = "compare") -> None:
    """Check that ``policy`` is a [`Policy`][alloc.policies.Policy] and can work on ``problem``.

    Runs before any work: [`BasePolicy.allocate`][alloc.policies.BasePolicy.allocate] and
    [`alloc.compare`][alloc.comparison.compare] call it first. It checks the declared members and
    capability flags (a policy that ``needs_owner`` needs its owner column), then the policy's own
    ``check_problem`` hook when it has one (e.g. the ``metric`` column of
    [`RoundRobin`][alloc.policies.RoundRobin]).

    Parameters
    ----------
    policy : object
        The policy to check.
    problem : Problem, optional
        When given, also check that the policy can work on it.
    owner : str
        Name of the calling function, used in error messages.

    Raises
    ------
    InvalidParameterError
        When a member is missing or a flag is not a bool, or the problem lacks a
        column the policy needs; the message names it.

    Examples
    --------
    >>> import alloc
    >>> from alloc.policies import StatusQuo, check_policy
    >>> problem = alloc.datasets.make_problem(20, 3, seed=0)
    >>> check_policy(StatusQuo(), problem)
    >>> check_policy(StatusQuo(owner_col="account_manager"), problem)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    alloc.errors.InvalidParameterError: the 'owner_col' parameter of StatusQuo must name ...
    """
    kind = type(policy).__name__
    name = getattr(policy, "name", None)
    if not isinstance(name, str) or not name:
        raise InvalidParameterError(
            f"the 'policies' parameter of {owner} must hold alloc policies with a non-empty "
            f"string 'name'; got {policy!r} (name {name!r})."
        )
    for flag in ("handles_rules", "handles_objective", "needs_owner"):
        value = getattr(policy, flag, None)
        if not isinstance(value, bool):
            raise InvalidParameterError(
                f"the 'policies' parameter of {owner} must hold alloc policies whose "
                f"{flag!r} flag is a bool; policy {name!r} ({kind}) has {value!r}."
            )
    if not callable(getattr(policy, "allocate", None)):
        raise InvalidParameterError(
            f"the 'policies' parameter of {owner} must hold alloc policies with an "
            f"allocate(problem, seed) method; policy {name!r} ({kind}) has none."
        )
    if problem is None:
        return
    if not isinstance(problem, Problem):
        raise InvalidParameterError(
            f"the 'problem' parameter of {owner} must be an alloc.Problem; "
            f"got {type(problem).__name__}."
        )
    if getattr(policy, "needs_owner", False):
        owner_col = getattr(policy, "owner_col", "owner")
        columns = list(map(str, problem.customers.columns))
        if owner_col not in columns:
            raise InvalidParameterError(
                f"the 'owner_col' parameter of {kind} must name a customer column of "
                f"current owners; got {owner_col!r}, and the customers have "
                f"{format_ids(columns, 12) or 'no columns'}. Add the column or pass "
                f"owner_col=."
            )
    hook = getattr(policy, "check_problem", None)
    if callable(hook):
        hook(problem)


# ---- results ----------------------------------------------------------------------
def _explain(name: str, violations: Sequence[Violation]) -> str:
    n = len(violations)
    shown = "; ".join(str(v) for v in violations[:_SHOWN_VIOLATIONS])
    more = f"; and {n - _SHOWN_VIOLATIONS} more" if n > _SHOWN_VIOLATIONS else ""
    return (
        f"plan violates {n} rule{'s' if n != 1 else ''}: {shown}{more}. The {name} plan is "
        f"kept so that its figures can be compared; do not use it as is."
    )


def plan_result(
    problem: Problem,
    assignment: pd.Series,
    *,
    name: str,
    seed: int = 0,
    time: float = 0.0,
    notes: Sequence[str] = (),
) -> Result:
    """A checked [`alloc.Result`][alloc.Result] for a plan made by a policy.

    The status is ``FEASIBLE`` when [`alloc.check`][alloc.checker.check] finds no violation, else
    ``UNKNOWN`` with the explanation ``"plan violates N rules: ..."``; the assignment is
    kept either way. The objective is recomputed from the tables; no bound is known
    (``-inf``). Use it to write your own policies.

    Parameters
    ----------
    problem : Problem
    assignment : pandas.Series
        customer_id -> rep_id for every customer.
    name : str
        The policy's name (recorded as ``stats.found_by``).
    seed : int
        The seed the plan was made with.
    time : float
        Seconds the policy took.
    notes : sequence of str
        Remarks kept in ``stats.notes`` and appended to the explanation.

    Examples
    --------
    >>> import pandas as pd, alloc
    >>> from alloc.policies import plan_result
    >>> customers = pd.DataFrame({"customer_id": ["a", "b"], "w": [3, 4]})
    >>> reps = pd.DataFrame({"rep_id": ["r1", "r2"], "cap": [5, 5]})
    >>> p = alloc.Problem(customers, reps, rules=[alloc.Capacity("w", limit="cap")])
    >>> plan_result(p, pd.Series({"a": "r1", "b": "r2"}), name="mine").status
    <Status.FEASIBLE: 'feasible'>
    >>> bad = plan_result(p, pd.Series({"a": "r1", "b": "r1"}), name="mine")
    >>> bad.status, bad.explanation[:23]
    (<Status.UNKNOWN: 'unknown'>, 'plan violates 1 rule: C')
    """
    check_param(
        "assignment",
        type(assignment).__name__,
        "plan_result",
        isinstance(assignment, pd.Series),
        "a pandas Series customer_id -> rep_id",
    )
    violations = check(problem, assignment)
    if violations:
        status = Status.UNKNOWN
        explanation = _explain(name, violations)
    else:
        status = Status.FEASIBLE
        explanation = (
            f"Feasible: the {name} plan satisfies every rule. It is a baseline, not an "
            f"optimiser: no bound was computed."
        )
    if notes:
        explanation += " " + " ".join(notes)
    stats = SolveStats(time=time, found_by=name, seed=int(seed), workers=1, notes=tuple(notes))
    objective = objective_value(problem, assignment)
    return Result(
        problem,
        status,
        assignment,
        objective,
        None,
        explanation,
        stats,
        bound_note=f"the {name} policy is a baseline and computes no bound",
    )


def _no_plan(problem: Problem, name: str, seed: int, elapsed: float, why: str) -> Result:
    stats = SolveStats(time=elapsed, found_by=name, seed=int(seed), workers=1)
    return Result(problem, Status.INFEASIBLE, None, math.inf, None, why, stats)


def _without_reps_message(problem: Problem) -> str | None:
    lost = problem.customers_without_reps()
    if not len(lost):
        return None
    return (
        f"Infeasible: {len(lost):,} customers have no eligible rep: {format_ids(lost)}. "
        f"Relax the rules that remove their pairs, or add reps who qualify."
    )


def _eligible(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """CSR of eligible rep codes per customer: (start per customer + 1, rep codes)."""
    pairs = problem.pairs
    c_col, r_col = problem.id_columns["customer"], problem.id_columns["rep"]
    pc = problem.customer_ids.get_indexer(pd.Index(pairs[c_col].to_numpy(), dtype=object))
    pr = problem.rep_ids.get_indexer(pd.Index(pairs[r_col].to_numpy(), dtype=object))
    order = np.lexsort((pr, pc))
    pc, pr = pc[order], pr[order]
    start = np.zeros(problem.n_customers + 1, dtype=np.int64)
    np.cumsum(np.bincount(pc, minlength=problem.n_customers), out=start[1:])
    return start, pr.astype(np.int64)


def _series(problem: Problem, rep_codes: np.ndarray) -> pd.Series:
    return pd.Series(
        problem.rep_ids.to_numpy()[rep_codes],
        index=problem.customer_ids.copy(),
        name=problem.id_columns["rep"],
    )


def _default_metric(problem: Problem) -> str | None:
    """First numeric customer metric of the objective, then of the rules, then potential."""
    customers = problem.customers
    items = (*problem.objective, *problem.rules)
    candidates = [m for item in items for m in getattr(item, "metrics", ())]
    for metric in [*candidates, "potential"]:
        if metric in customers.columns and pd.api.types.is_numeric_dtype(customers[metric]):
            return metric
    return None


def _deal(
    customers: np.ndarray, start: np.ndarray, reps: np.ndarray, n_reps: int, first: int
) -> np.ndarray:
    """Deal ``customers`` (codes, in order) to reps in turn, skipping ineligible reps.

    The turn starts at rep ``first``; each customer goes to its first eligible rep at or
    after the turn (cyclically), and the turn moves to the rep after that one.
    """
    out = np.empty(customers.size, dtype=np.int64)
    eligible = reps.tolist()
    bounds = start.tolist()
    turn = first
    for k, c in enumerate(customers.tolist()):
        lo, hi = bounds[c], bounds[c + 1]
        i = bisect.bisect_left(eligible, turn, lo, hi)
        rep = eligible[i] if i < hi else eligible[lo]
        out[k] = rep
        turn = (rep + 1) % n_reps
    return out


# ---- base class -------------------------------------------------------------------
class BasePolicy:
    """Shared machinery of alloc's policies: parameter checks, timing and the result.

    Subclasses are frozen dataclasses. They declare their capability flags as class
    attributes, their parameters' allowed values in ``_constraints`` (checked on
    construction, in alloc's single message form), and implement ``_plan`` (return an
    assignment) or override ``_result`` (return a [`Result`][alloc.Result]).
    """

    name: str
    handles_rules: ClassVar[bool] = False
    handles_objective: ClassVar[bool] = False
    needs_owner: ClassVar[bool] = False
    #: Declared constraint of each parameter, checked on construction.
    _constraints: ClassVar[dict[str, Param]] = {}

    def __post_init__(self) -> None:
        owner = type(self).__name__
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        check_params(owner, self._constraints, values)

    def check_problem(self, problem: Problem) -> None:
        """Raise ``InvalidParameterError`` if the policy cannot work on it."""

    def allocate(self, problem: Problem, seed: int = 0) -> Result:
        """Allocate every customer of ``problem`` and return a checked result.

        Parameters
        ----------
        problem : Problem
        seed : int
            Random seed; the same seed gives the same plan (for
            [`Optimized`][alloc.policies.Optimized], the same plan when the search completes within
            its time limit).

        Returns
        -------
        Result
            ``FEASIBLE`` (or ``OPTIMAL``) when the plan breaks no rule; ``UNKNOWN`` with
            the plan kept when it breaks rules; ``INFEASIBLE`` without a plan when
            some customers have no eligible rep.
        """
        owner = f"{type(self).__name__}.allocate"
        check_policy(self, problem, owner=owner)
        check_param("seed", seed, owner, is_int(seed), "an integer")
        t0 = time.perf_counter()
        return self._result(problem, int(seed), t0)

    def _result(self, problem: Problem, seed: int, t0: float) -> Result:
        why = _without_reps_message(problem)
        if why is not None:
            return _no_plan(problem, self.name, seed, time.perf_counter() - t0, why)
        assignment, notes = self._plan(problem, seed)
        if assignment is None:
            return _no_plan(problem, self.name, seed, time.perf_counter() - t0, " ".join(notes))
        elapsed = time.perf_counter() - t0
        return plan_result(
            problem, assignment, name=self.name, seed=seed, time=elapsed, notes=notes
        )

    def _plan(self, problem: Problem, seed: int) -> tuple[pd.Series | None, list[str]]:
        raise NotImplementedError


_NAME = Param(lambda v: isinstance(v, str) and bool(v), "a non-empty string")


# ---- policies ---------------------------------------------------------------------
@dataclass(frozen=True)
class RoundRobin(BasePolicy):
    """Deal customers, largest first, to reps in turn, skipping ineligible reps.

    Customers are sorted by ``metric`` (descending; ties in random order) and dealt like
    cards: each goes to the next rep in turn that may serve it. The turn starts at a
    rep chosen by the seed. Only eligible pairs are used; no other rule is considered.

    Parameters
    ----------
    metric : str, optional
        Numeric customer column to sort by. Default: the first customer metric of the
        problem's objective, else of its rules, else ``potential``; table order if none.
    name : str
        Label in comparisons.

    Examples
    --------
    >>> import alloc
    >>> from alloc.policies import RoundRobin
    >>> problem = alloc.datasets.make_problem(60, 4, seed=1)
    >>> result = RoundRobin(metric="potential").allocate(problem, seed=0)
    >>> result.assignment.size, result.status.name in {"FEASIBLE", "UNKNOWN"}
    (60, True)
    """

    metric: str | None = None
    name: str = "round robin"

    _constraints: ClassVar[dict[str, Param]] = {
        "metric": Param(
            lambda v: v is None or (isinstance(v, str) and bool(v)),
            "None or the name of a numeric customer column",
        ),
        "name": _NAME,
    }

    def check_problem(self, problem: Problem) -> None:
        if self.metric is None:
            return
        customers = problem.customers
        if self.metric not in customers.columns or not pd.api.types.is_numeric_dtype(
            customers[self.metric]
        ):
            numeric = [
                str(c) for c in customers.columns if pd.api.types.is_numeric_dtype(customers[c])
            ]
            raise InvalidParameterError(
                f"the 'metric' parameter of RoundRobin must name a numeric customer column; "
                f"got {self.metric!r}, and the numeric customer columns are "
                f"{format_ids(numeric, 12) or 'none'}."
            )

    def _plan(self, problem: Problem, seed: int) -> tuple[pd.Series | None, list[str]]:
        rng = np.random.default_rng(seed)
        metric = self.metric if self.metric is not None else _default_metric(problem)
        n = problem.n_customers
        tie = rng.permutation(n)
        if metric is None:
            order = np.arange(n)
        else:
            values = problem.customers[metric].to_numpy(dtype=float)
            values = np.where(np.isnan(values), -np.inf, values)
            order = tie[np.argsort(-values[tie], kind="stable")]
        start, reps = _eligible(problem)
        first = int(rng.integers(problem.n_reps))
        dealt = _deal(order, start, reps, problem.n_reps, first)
        codes = np.empty(n, dtype=np.int64)
        codes[order] = dealt
        note = [] if metric is not None else ["Customers were dealt in table order."]
        return _series(problem, codes), note


@dataclass(frozen=True)
class RandomPolicy(BasePolicy):
    """A uniformly random eligible rep for each customer.

    Only eligible pairs are used; no other rule is considered. A floor for any
    allocation method: a policy that cannot beat it adds nothing.

    Parameters
    ----------
    name : str
        Label in comparisons.

    Examples
    --------
    >>> import alloc
    >>> from alloc.policies import RandomPolicy
    >>> problem = alloc.datasets.make_problem(60, 4, seed=1)
    >>> a = RandomPolicy().allocate(problem, seed=3).assignment
    >>> b = RandomPolicy().allocate(problem, seed=3).assignment
    >>> a.equals(b)
    True
    """

    name: str = "random"

    _constraints: ClassVar[dict[str, Param]] = {"name": _NAME}

    def _plan(self, problem: Problem, seed: int) -> tuple[pd.Series | None, list[str]]:
        rng = np.random.default_rng(seed)
        start, reps = _eligible(problem)
        degree = np.diff(start)
        pick = start[:-1] + np.floor(rng.random(problem.n_customers) * degree).astype(np.int64)
        return _series(problem, reps[pick]), []


@dataclass(frozen=True)
class Greedy(BasePolicy):
    """alloc's constraint-aware greedy construction, without any improvement step.

    Units (customers, or account families kept together) are placed hardest first,
    each to the eligible rep that adds the least rule violation, then the least
    objective, then the least squared deviation from fair shares. It respects the rules
    whenever it can but does not guarantee it; the status says whether it did. This is
    step 1 of [`alloc.solve`][alloc.solve].

    Parameters
    ----------
    name : str
        Label in comparisons.

    Examples
    --------
    >>> import alloc
    >>> from alloc.policies import Greedy
    >>> problem = alloc.datasets.make_problem(60, 4, seed=1)
    >>> result = Greedy().allocate(problem, seed=0)
    >>> result.status.name, alloc.check(problem, result.assignment)
    ('FEASIBLE', [])
    """

    name: str = "greedy"
    handles_rules: ClassVar[bool] = True
    handles_objective: ClassVar[bool] = True

    _constraints: ClassVar[dict[str, Param]] = {"name": _NAME}

    def _plan(self, problem: Problem, seed: int) -> tuple[pd.Series | None, list[str]]:
        model = problem.model
        chosen = greedy(model, Rows.from_model(model), seed)
        stuck = np.flatnonzero(chosen < 0)
        if stuck.size:
            customers = problem.customer_ids[np.isin(model.customer_unit, stuck)]
            return None, [
                f"Infeasible: {customers.size:,} customers kept together have no rep who may "
                f"serve them all: {format_ids(customers)}."
            ]
        return to_assignment(problem, chosen), []


@dataclass(frozen=True)
class StatusQuo(BasePolicy):
    """Keep every customer with its current owner.

    Owners are read from ``customers[owner_col]`` and kept as they are, even where the
    pair is not eligible any more ([`alloc.check`][alloc.checker.check] then reports it). Customers
    without an owner, or whose owner is not in the rep table (e.g. a rep who left), are
    dealt to their eligible reps in turn, as [`RoundRobin`][alloc.policies.RoundRobin] does, and the
    explanation says how many.

    Parameters
    ----------
    owner_col : str
        Customer column holding the current owner's rep id.
    name : str
        Label in comparisons.

    Examples
    --------
    >>> import alloc
    >>> from alloc.policies import StatusQuo
    >>> problem = alloc.datasets.make_problem(60, 4, seed=1)
    >>> result = StatusQuo().allocate(problem)
    >>> bool((result.assignment == problem.customers["owner"]).all())
    True
    """

    owner_col: str = "owner"
    name: str = "status quo"
    needs_owner: ClassVar[bool] = True

    _constraints: ClassVar[dict[str, Param]] = {
        "owner_col": Param(lambda v: isinstance(v, str) and bool(v), "a customer column name"),
        "name": _NAME,
    }

    def _result(self, problem: Problem, seed: int, t0: float) -> Result:
        owners = problem.customers[self.owner_col]
        codes = problem.rep_ids.get_indexer(pd.Index(owners.to_numpy(), dtype=object))
        orphans = np.flatnonzero(codes < 0)
        notes: list[str] = []
        if orphans.size:
            start, reps = _eligible(problem)
            lost = orphans[np.diff(start)[orphans] == 0]
            if lost.size:
                why = (
                    f"Infeasible: {lost.size:,} customers have no current owner and no "
                    f"eligible rep: {format_ids(problem.customer_ids[lost])}."
                )
                return _no_plan(problem, self.name, seed, time.perf_counter() - t0, why)
            rng = np.random.default_rng(seed)
            codes[orphans] = _deal(
                orphans, start, reps, problem.n_reps, int(rng.integers(problem.n_reps))
            )
            notes.append(
                f"{orphans.size:,} customers without a current owner in the rep table were "
                f"dealt to eligible reps in turn: {format_ids(problem.customer_ids[orphans])}."
            )
        elapsed = time.perf_counter() - t0
        return plan_result(
            problem, _series(problem, codes), name=self.name, seed=seed, time=elapsed, notes=notes
        )


@dataclass(frozen=True)
class Optimized(BasePolicy):
    """The optimised plan: [`alloc.solve`][alloc.solve] with a time limit.

    The result is [`alloc.solve`][alloc.solve]'s own (``OPTIMAL``/``FEASIBLE`` with a bound and a
    gap, or ``INFEASIBLE``/``UNKNOWN`` without a plan).

    Parameters
    ----------
    time_limit : float
        Seconds per problem.
    workers : int
        CP-SAT threads. The default 1 suits [`alloc.compare`][alloc.comparison.compare], which runs
        several policies in parallel already. A time-limited search is reproducible only when it
        completes within the limit.
    name : str
        Label in comparisons.

    Examples
    --------
    >>> import alloc
    >>> from alloc.policies import Optimized
    >>> problem = alloc.datasets.make_problem(60, 4, seed=1)
    >>> result = Optimized(time_limit=1).allocate(problem, seed=0)
    >>> result.status.has_solution, alloc.check(problem, result.assignment)
    (True, [])
    """

    time_limit: float = 10.0
    workers: int = 1
    name: str = "optimized"
    handles_rules: ClassVar[bool] = True
    handles_objective: ClassVar[bool] = True

    _constraints: ClassVar[dict[str, Param]] = {
        "time_limit": Param(
            lambda v: is_real_at_least(v, 0, strict=True), "a positive number of seconds"
        ),
        "workers": Param(lambda v: is_int(v) and v >= 1, "a positive integer"),
        "name": _NAME,
    }

    def _result(self, problem: Problem, seed: int, t0: float) -> Result:
        return solve(
            problem, time_limit=float(self.time_limit), seed=seed, workers=int(self.workers)
        )


def default_policies(*, time_limit: float = 10.0, owner_col: str | None = "owner") -> list[Any]:
    """The five baseline policies, from the naive to the optimised.

    Parameters
    ----------
    time_limit : float
        Seconds for [`Optimized`][alloc.policies.Optimized].
    owner_col : str or None
        Owner column for [`StatusQuo`][alloc.policies.StatusQuo]; None leaves the status quo out.

    Examples
    --------
    >>> from alloc.policies import default_policies
    >>> [p.name for p in default_policies(time_limit=2)]
    ['round robin', 'random', 'greedy', 'status quo', 'optimized']
    """
    policies: list[Any] = [RoundRobin(), RandomPolicy(), Greedy()]
    if owner_col is not None:
        policies.append(StatusQuo(owner_col=owner_col))
    policies.append(Optimized(time_limit=time_limit))
    return policies
