"""The one CP-SAT formulation of an allocation model, and the wrappers that solve it.

Every CP-SAT model of the library is built here (`build_model`): the exact
model, the large-neighbourhood sub-models, the infeasibility cores and rebalance's
budgeted models (which add their own rows and objective through `CpBuild`).
Only `run` turns a `Deadline` into seconds.

Model (for the units ``U'`` and reps ``R'`` being optimised, everything else fixed)::

    x[p] in {0, 1}                       for each eligible pair p = (u, r), u in U', r in R'
    sum_{p of u} x[p] = 1                for each unit u in U'
    lo[k, r] <= base[k, r] + sum_p w[k, p] x[p] <= hi[k, r]     each hard row k, r in R'
    z[t] >= |R * load[t, r] - T[t]|      max-norm imbalance with equal shares (exact)
    minimise  sum_p cost[p] x[p] + sum_t weight[t] * z[t] / T[t]

Float data are scaled to integers row by row: whole numbers stay as they are, decimals
of up to six places are multiplied by ``10**d`` (exact), other floats are scaled to about
1e6 per largest weight (approximate). Limits are rounded *outward* from the allowed limits
of `alloc.data.tolerance`, so when the weights are exact (``Scaled.error == 0``) the
integer model is a relaxation of the raw one, and an INFEASIBLE from it is a proof. The
scaling is explicit: `Scaled` records its largest relative error, and every
solution CP-SAT returns is re-scored exactly by the caller before it is used. A complete hint (every
``x`` and auxiliary variable implied by it) is passed and ``symmetry_level=0`` keeps the
hint valid in presolve.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Collection, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from alloc.data.model import Model
from alloc.data.tolerance import OPTIMALITY_TOL, bound_closes
from alloc.solvers.deadline import Deadline
from alloc.solvers.scaling import NO_BOUND, Scaled
from alloc.solvers.state import Rows

__all__ = [
    "CpBuild",
    "CpResult",
    "CpSolution",
    "add_imbalance",
    "build_model",
    "exact_imbalance_terms",
    "exact_max_multiplier",
    "fixed_loads",
    "infeasible_core",
    "run",
    "solve_cpsat",
]

#: Resolution of a relative deviation in the max-norm rows with unequal shares.
_Q = 1_000_000


@dataclass(frozen=True)
class CpResult:
    status: str  # "OPTIMAL", "FEASIBLE", "INFEASIBLE", "UNKNOWN"
    chosen: np.ndarray | None  # chosen pair per unit of the optimised set (global ids)
    bound: float  # lower bound on the (scaled) objective of the optimised part
    wall_time: float


# ---- the model ---------------------------------------------------------------------------
@dataclass(eq=False)
class CpBuild:
    """A CP-SAT model of (part of) an allocation model, with its variables and terms.

    Made by `build_model`. ``x[i]`` is the boolean of the global pair
    ``pairs[i]``; ``load(k, r)`` is the scaled load of row ``k`` on rep ``r``, the
    fixed units' ``base`` included. The imbalance variables are ``z[k]`` (max norm, one
    per row) and ``d[k, r]`` (sum norm, one per row and rep); ``terms`` holds the
    imbalance part of the objective as ``(variable, coefficient)`` pairs. ``literals``
    maps each enforcement key to its literal (see ``enforce`` in `build_model`).
    A caller may add rows (`add_row`, `add_pair_row`), variables
    (``cp.new_int_var``), hints (`add_hint`) and its own objective
    (`minimize`) before calling `run`.
    """

    cp: cp_model.CpModel
    model: Model
    rows: Rows
    scaled: Scaled
    units: np.ndarray
    rep_mask: np.ndarray
    base: np.ndarray  # (K, R) int64 scaled loads of the units outside the sub-model
    pairs: np.ndarray  # global pair id of each x
    x: list[cp_model.IntVar]
    by_rep: dict[int, np.ndarray]  # rep -> positions in ``pairs`` of its pairs
    hint_loads: np.ndarray | None = None  # (K, R) loads of the hinted plan, base included
    literals: dict[Hashable, cp_model.IntVar] = field(default_factory=dict)
    z: dict[int, cp_model.IntVar] = field(default_factory=dict)
    d: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    terms: list[tuple[cp_model.IntVar, float]] = field(default_factory=list)
    # Hints of the auxiliary variables at the hinted plan, added after the x hints.
    aux_hints: list[tuple[cp_model.IntVar, int]] = field(default_factory=list, repr=False)
    hinted: bool = field(default=False, repr=False)  # build_model has added its hints

    @property
    def active(self) -> np.ndarray:
        """The reps of the sub-model, in increasing order."""
        return np.flatnonzero(self.rep_mask)

    def load(self, k: int, r: int) -> cp_model.LinearExpr:
        """Scaled load of row ``k`` on rep ``r`` (the fixed units' base included)."""
        idx = self.by_rep[r]
        w = self.scaled.weight[self.pairs[idx], k]
        expr = cp_model.LinearExpr.weighted_sum([self.x[i] for i in idx.tolist()], w.tolist())
        return expr + int(self.base[k, r])

    def pair_sum(self, coeffs: np.ndarray) -> cp_model.LinearExpr:
        """``sum_i coeffs[i] x[i]`` for whole ``coeffs`` aligned with `pairs`."""
        return cp_model.LinearExpr.weighted_sum(self.x, np.asarray(coeffs).tolist())

    def add_row(
        self,
        expr: cp_model.LinearExprT,
        lo: int | None = None,
        hi: int | None = None,
        *,
        enforce: cp_model.IntVar | None = None,
    ) -> None:
        """Add ``lo <= expr <= hi`` (``None``: no bound), only if ``enforce`` when given."""
        # The upper bound first: the order the constraints reach the model in matters
        # to CP-SAT's search.
        if hi is not None:
            self._add(expr <= int(hi), enforce)
        if lo is not None:
            self._add(expr >= int(lo), enforce)

    def _add(self, bounded: Any, enforce: cp_model.IntVar | None) -> None:
        con = self.cp.add(bounded)
        if enforce is not None:
            con.only_enforce_if(enforce)

    def add_pair_row(
        self,
        coeffs: np.ndarray,
        lo: int | None = None,
        hi: int | None = None,
        *,
        enforce: cp_model.IntVar | None = None,
    ) -> cp_model.LinearExpr:
        """Add ``lo <= sum_i coeffs[i] x[i] <= hi``; return the sum for further use."""
        expr = self.pair_sum(coeffs)
        self.add_row(expr, lo, hi, enforce=enforce)
        return expr

    def add_hint(self, var: cp_model.IntVar, value: int) -> None:
        """Hint ``value`` for ``var`` (CP-SAT wants a complete hint: every variable)."""
        self.cp.add_hint(var, value)

    def _hint_aux(self, var: cp_model.IntVar, value: int) -> None:
        """Hint an auxiliary variable: after the ``x`` hints while the model is built."""
        if self.hinted:
            self.cp.add_hint(var, value)
        else:
            self.aux_hints.append((var, value))

    def hint_plan(self, chosen: np.ndarray) -> None:
        """Replace all hints by the ``x`` values of a plan (one global pair per unit)."""
        self.cp.clear_hints()
        _hint_x(self, chosen)

    def minimize(self, objective: cp_model.LinearExprT) -> None:
        """Set the objective (replaces any earlier one)."""
        self.cp.minimize(objective)

    def chosen(self, solution: CpSolution, fixed: np.ndarray | None = None) -> np.ndarray:
        """The plan of a solution: ``fixed`` (or -1) with the sub-model's units replaced."""
        assert solution.x is not None
        sel = self.pairs[solution.x]
        out = np.full(self.model.n_units, -1, dtype=np.int64) if fixed is None else fixed.copy()
        out[self.model.pair_unit[sel]] = sel
        return out


def build_model(
    model: Model,
    rows: Rows,
    scaled: Scaled,
    *,
    units: np.ndarray | None = None,
    rep_mask: np.ndarray | None = None,
    base: np.ndarray | None = None,
    other_dev: np.ndarray | None = None,
    hint: np.ndarray | None = None,
    pair_mask: np.ndarray | None = None,
    enforce: Sequence[Hashable] | None = None,
    per_rep: Collection[Hashable] = (),
    objective: bool = True,
) -> CpBuild:
    """Build the CP-SAT model of ``units`` on the reps in ``rep_mask``.

    Parameters
    ----------
    model, rows, scaled : Model, Rows, Scaled
        The model, its stacked rows and their integer scaling.
    units : ndarray, optional
        Units optimised (default all); the others are fixed and contribute ``base``.
    rep_mask : ndarray of bool, optional
        Reps the units may go to (default all).
    base : ndarray, optional
        ``(K, R)`` scaled loads of the fixed units (see `fixed_loads`).
    other_dev : ndarray, optional
        ``(K,)`` max-norm deviation already reached on reps outside ``rep_mask``.
    hint : ndarray, optional
        A complete plan (one global pair per unit): hinted for ``x`` and for every
        auxiliary variable, so CP-SAT starts from it.
    pair_mask : ndarray of bool, optional
        Keeps only the flagged pairs (a core).
    enforce : sequence, optional
        One key per hard row (``model.constraints``): each distinct key gets a literal
        (``CpBuild.literals``, made before ``x``) that enforces its rows.
    per_rep : collection, optional
        Keys of ``enforce`` whose rows get one literal per rep instead, keyed
        ``(key, r)`` (an explanation can then name the reps of a conflict).
    objective : bool
        With True, the imbalance terms and the model's objective are added; with False,
        only the assignment and the hard rows (see `CpBuild.minimize`).

    Returns
    -------
    CpBuild

    Examples
    --------
    >>> import alloc
    >>> from alloc.solvers.state import Rows
    >>> problem = alloc.datasets.make_problem(30, 3, seed=1)
    >>> rows = Rows.from_model(problem.model)
    >>> build = build_model(problem.model, rows, Scaled.from_rows(problem.model, rows))
    >>> len(build.x) == problem.model.n_pairs, sorted(build.z)
    (True, [2, 3])
    """
    K, R = rows.n_rows, model.n_reps
    units = np.arange(model.n_units) if units is None else units
    rep_mask = np.ones(R, dtype=bool) if rep_mask is None else rep_mask
    base = np.zeros((K, R), dtype=np.int64) if base is None else base
    other_dev = np.zeros(K) if other_dev is None else other_dev
    cp = cp_model.CpModel()
    literals: dict[Hashable, cp_model.IntVar] = {}
    for key in enforce or ():
        if key in per_rep:
            for r in np.flatnonzero(rep_mask).tolist():
                if (key, r) not in literals:
                    literals[key, r] = cp.new_bool_var(f"rule{len(literals)}")
        elif key not in literals:
            literals[key] = cp.new_bool_var(f"rule{len(literals)}")
    pairs = _sub_pairs(model, units, rep_mask, pair_mask)
    x = [cp.new_bool_var(f"x{p}") for p in pairs.tolist()]
    pair_rep = model.pair_rep[pairs]
    by_rep = {int(r): np.flatnonzero(pair_rep == r) for r in np.flatnonzero(rep_mask)}
    build = CpBuild(cp, model, rows, scaled, units, rep_mask, base, pairs, x, by_rep)
    build.literals = literals
    if hint is not None:
        build.hint_loads = _hint_loads(build, hint)
    _add_assignment(build)
    keys = list(enforce) if enforce is not None else None
    _add_hard_rows(build, keys, per_rep)
    if objective:
        add_imbalance(build, other_dev)
        _minimize_default(build)
    if hint is not None:
        _hint_x(build, hint)
        for var, val in build.aux_hints:
            cp.add_hint(var, val)
        build.hinted = True
    return build


def _sub_pairs(
    model: Model, units: np.ndarray, rep_mask: np.ndarray, pair_mask: np.ndarray | None
) -> np.ndarray:
    """Global ids of the pairs of ``units`` on reps in ``rep_mask`` (and in ``pair_mask``)."""
    start = model.unit_start
    pairs = (
        np.concatenate([np.arange(start[u], start[u + 1]) for u in units.tolist()])
        if units.size
        else np.zeros(0, np.int64)
    )
    keep = rep_mask[model.pair_rep[pairs]]
    if pair_mask is not None:
        keep &= pair_mask[pairs]
    return pairs[keep]


def _hint_loads(build: CpBuild, hint: np.ndarray) -> np.ndarray:
    model, scaled = build.model, build.scaled
    hp = hint[build.units]
    hp = hp[build.rep_mask[model.pair_rep[hp]]]
    loads = np.zeros((build.rows.n_rows, model.n_reps), dtype=np.int64)
    for k in range(build.rows.n_rows):
        loads[k] = np.bincount(
            model.pair_rep[hp], weights=scaled.weight[hp, k], minlength=model.n_reps
        ).astype(np.int64)
    return loads + build.base


def _hint_x(build: CpBuild, plan: np.ndarray) -> None:
    hinted = set(plan[build.units].tolist())
    for i, p in enumerate(build.pairs.tolist()):
        build.cp.add_hint(build.x[i], p in hinted)


def _add_assignment(build: CpBuild) -> None:
    """Each unit of the sub-model on exactly one of its pairs."""
    owner = build.model.pair_unit[build.pairs]
    order = np.argsort(owner, kind="stable")
    starts = np.searchsorted(owner[order], build.units)
    ends = np.searchsorted(owner[order], build.units, side="right")
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        build.cp.add_exactly_one([build.x[i] for i in order[a:b].tolist()])


def _add_hard_rows(
    build: CpBuild, keys: list[Hashable] | None, per_rep: Collection[Hashable] = ()
) -> None:
    """``lo <= load <= hi`` for each hard row and rep (enforced by its key's literal)."""
    rows, scaled = build.rows, build.scaled
    for k in range(rows.n_rows):
        if rows.is_max[k] or rows.is_sum[k]:
            continue
        lit = build.literals[keys[k]] if keys is not None and keys[k] not in per_rep else None
        for r in build.by_rep:
            if keys is not None and keys[k] in per_rep:
                lit = build.literals[keys[k], r]
            lo, hi = int(scaled.lo[k, r]), int(scaled.hi[k, r])
            b = int(build.base[k, r])  # "no bound" is judged net of the fixed units' load
            build.add_row(
                build.load(k, r),
                lo if lo - b > -NO_BOUND else None,
                hi if hi - b < NO_BOUND else None,
                enforce=lit,
            )


def add_imbalance(build: CpBuild, other_dev: np.ndarray | None = None) -> None:
    """Add the imbalance variables and terms of every soft row (``z``, ``d``, ``terms``)."""
    rows, scaled = build.rows, build.scaled
    other = np.zeros(rows.n_rows) if other_dev is None else other_dev
    for k in range(rows.n_rows):
        if not (rows.is_max[k] or rows.is_sum[k]) or int(scaled.total[k]) <= 0:
            continue
        if rows.is_max[k] and scaled.equal_share[k]:
            _max_equal(build, k, float(other[k]))
        elif rows.is_max[k]:
            _max_weighted(build, k, float(other[k]))
        elif scaled.share_den[k] > 0:
            _sum_exact(build, k)
        else:
            _sum_rounded(build, k)


def _max_equal(build: CpBuild, k: int, other_dev: float) -> None:
    """``z >= |R load[r] - T|`` for every rep: the max norm with equal shares, exact."""
    R, T = build.model.n_reps, int(build.scaled.total[k])
    cp = build.cp
    z = cp.new_int_var(0, R * T + T, f"z{k}")
    floor = int(math.ceil(other_dev * T - 1e-9))
    cp.add(z >= floor)
    for r in build.by_rep:
        load = build.load(k, r)
        cp.add(z >= R * load - T)
        cp.add(z >= T - R * load)
    build.z[k] = z
    build.terms.append((z, float(build.rows.imb_weight[k]) / T))
    if build.hint_loads is not None:
        dev = np.abs(R * build.hint_loads[k, build.active] - T)
        build._hint_aux(z, max(int(dev.max(initial=0)), floor))


#: Largest coefficient x domain product the exact weighted max norm may create (CP-SAT
#: sums must stay far inside int64).
_EXACT_MAX_LIMIT = 10**15


def exact_imbalance_terms(scaled: Scaled, rows: Rows) -> bool:
    """True when the integer model's imbalance terms are exactly the true ones.

    Max-norm terms are exact with equal shares (``|R * load - total|``) and with
    small-denominator rational shares (``fte`` 1 : 2 : 2, see `exact_max_multiplier`);
    sum-norm terms when their share weights are such rationals too. The rows' own
    scaling (``scaled.error``) is the caller's to check.
    """
    for k in np.flatnonzero(rows.is_max).tolist():
        if not (scaled.equal_share[k] or exact_max_multiplier(scaled, k)):
            return False
    return bool(np.all(scaled.share_den[rows.is_sum] > 0))


def exact_max_multiplier(scaled: Scaled, k: int) -> int:
    """``L`` for the exact weighted max norm of row ``k``, or 0 when it cannot be exact.

    With rational shares ``share[r] = T m[r] / M`` the relative deviation of rep ``r`` is
    ``|M load[r] - T m[r]| / (T m[r])``; multiplied by ``T L`` with ``L = lcm(m)`` every
    rep's deviation becomes a whole number, ``|M load[r] - T m[r]| L / m[r]``, so the
    maximum is modelled exactly. 0 when the shares are not small-denominator rationals
    or the numbers would be too large for CP-SAT.
    """
    den = int(scaled.share_den[k])
    if den <= 0:
        return 0
    lcm = 1
    for m in scaled.share_num[k].tolist():
        lcm = math.lcm(lcm, int(m))
        if lcm > _EXACT_MAX_LIMIT:
            return 0
    T = int(scaled.total[k])
    return lcm if den * max(T, 1) * lcm <= _EXACT_MAX_LIMIT else 0


def _max_weighted(build: CpBuild, k: int, other_dev: float) -> None:
    """The max norm with unequal shares: exact when the shares are rational.

    Exact: ``z >= |M load[r] - T m[r]| L / m[r]`` (see `exact_max_multiplier`),
    objective ``weight z / (T L)``. Otherwise ``z >= Q |load[r] - s[r]| / s[r]`` with
    ``Q = 1e6`` and shares ``s`` rounded to whole scaled units (an approximation that
    never proves optimality).
    """
    cp, scaled = build.cp, build.scaled
    L = exact_max_multiplier(scaled, k)
    if L:
        T, den = int(scaled.total[k]), int(scaled.share_den[k])
        num = scaled.share_num[k]
        z = cp.new_int_var(0, den * T * L, f"z{k}")
        floor = int(math.ceil(other_dev * T * L - 1e-9))
        cp.add(z >= floor)
        for r in build.by_rep:
            load, c = build.load(k, r), L // int(num[r])
            cp.add(z >= c * (den * load - T * int(num[r])))
            cp.add(z >= c * (T * int(num[r]) - den * load))
        build.z[k] = z
        build.terms.append((z, float(build.rows.imb_weight[k]) / (T * L)))
        if build.hint_loads is not None:
            act = build.active
            dev = np.abs(den * build.hint_loads[k, act] - T * num[act]) * (L // num[act])
            build._hint_aux(z, max(int(dev.max(initial=0)), floor))
        return
    share = build.rows.share[k] * scaled.factor[k]
    z = cp.new_int_var(0, 100 * _Q, f"z{k}")
    cp.add(z >= int(math.ceil(other_dev * _Q - 1e-9)))
    for r in build.by_rep:
        s_r = max(1, int(round(share[r])))
        load = build.load(k, r)
        cp.add(_Q * (load - s_r) <= s_r * z)
        cp.add(_Q * (s_r - load) <= s_r * z)
    build.z[k] = z
    build.terms.append((z, float(build.rows.imb_weight[k]) / _Q))


def _sum_exact(build: CpBuild, k: int) -> None:
    """Sum norm, exact: ``|load - T m/M| / (T m/M) = |M load - T m| / (T m)``."""
    cp, scaled = build.cp, build.scaled
    T, den = int(scaled.total[k]), int(scaled.share_den[k])
    weight = float(build.rows.imb_weight[k])
    for r in build.by_rep:
        m_r = int(scaled.share_num[k, r])
        d = cp.new_int_var(0, den * T + T * m_r, f"d{k}_{r}")
        load = build.load(k, r)
        cp.add(d >= den * load - T * m_r)
        cp.add(d >= T * m_r - den * load)
        build.d[k, r] = d
        build.terms.append((d, weight / (T * m_r)))
        if build.hint_loads is not None:
            build._hint_aux(d, int(abs(den * build.hint_loads[k, r] - T * m_r)))


def _sum_rounded(build: CpBuild, k: int) -> None:
    """Sum norm with shares rounded to whole scaled units."""
    cp, T = build.cp, int(build.scaled.total[k])
    share = build.rows.share[k] * build.scaled.factor[k]
    weight = float(build.rows.imb_weight[k])
    for r in build.by_rep:
        s_r = max(1, int(round(share[r])))
        d = cp.new_int_var(0, 2 * T + 2 * s_r, f"d{k}_{r}")
        load = build.load(k, r)
        cp.add(d >= load - s_r)
        cp.add(d >= s_r - load)
        build.d[k, r] = d
        build.terms.append((d, weight / s_r))
        if build.hint_loads is not None:
            build._hint_aux(d, int(abs(build.hint_loads[k, r] - s_r)))


def _minimize_default(build: CpBuild) -> None:
    """The model's objective: pair costs plus the imbalance terms."""
    cost = build.model.cost[build.pairs]
    nzc = np.flatnonzero(cost != 0)
    x = build.x
    if not build.terms and np.allclose(cost[nzc], np.round(cost[nzc]), rtol=0, atol=1e-9):
        # Whole-number costs: an integer objective keeps CP-SAT's LP reasoning exact
        # (a float objective is rescaled internally and searches markedly worse).
        if nzc.size:
            build.minimize(
                cp_model.LinearExpr.weighted_sum(
                    [x[i] for i in nzc.tolist()], np.round(cost[nzc]).astype(np.int64).tolist()
                )
            )
        return
    expr_terms: list[Any] = [x[i] * float(cost[i]) for i in nzc.tolist()]
    expr_terms += [v * c for v, c in build.terms]
    if expr_terms:
        build.minimize(sum(expr_terms))


def fixed_loads(
    model: Model,
    rows: Rows,
    scaled: Scaled,
    units: np.ndarray,
    rep_mask: np.ndarray,
    fixed: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``(base, other_dev)`` of the units outside ``units``, which stay as in ``fixed``.

    ``base[k, r]`` is their scaled load; ``other_dev[k]`` the max-norm deviation they
    already cause on the reps outside ``rep_mask`` (a floor for the sub-model's ``z``).
    """
    K, R = rows.n_rows, model.n_reps
    base = np.zeros((K, R), dtype=np.int64)
    other_dev = np.zeros(K)
    keep = np.ones(model.n_units, dtype=bool)
    keep[units] = False
    fp = fixed[keep]
    for k in range(K):
        base[k] = np.bincount(model.pair_rep[fp], weights=scaled.weight[fp, k], minlength=R).astype(
            np.int64
        )
    for k in np.flatnonzero(rows.is_max).tolist():
        T = max(int(scaled.total[k]), 1)
        if scaled.equal_share[k]:
            dev = np.abs(R * base[k, ~rep_mask] - T) / T
        else:
            share = rows.share[k, ~rep_mask] * scaled.factor[k]
            dev = np.abs(base[k, ~rep_mask] - share) / np.maximum(share, 1)
        other_dev[k] = float(dev.max(initial=0.0))
    return base, other_dev


# ---- solving -----------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CpSolution:
    """What one CP-SAT solve returned: status, ``x`` values and the solver to read more."""

    status: str  # "OPTIMAL", "FEASIBLE", "INFEASIBLE", "MODEL_INVALID", "UNKNOWN"
    x: np.ndarray | None  # value of each x when a solution was found
    bound: float  # best objective bound (-inf without a solution)
    solver: cp_model.CpSolver | None  # None when the deadline had passed before the start

    @property
    def found(self) -> bool:
        """True when CP-SAT returned a solution (optimal or not)."""
        return self.status in ("OPTIMAL", "FEASIBLE")

    @property
    def optimal(self) -> bool:
        return self.status == "OPTIMAL"

    def value(self, var: cp_model.IntVar) -> int:
        """The solution's value of a variable of the model."""
        assert self.solver is not None and self.found
        return int(self.solver.value(var))


def run(
    build: CpBuild | cp_model.CpModel,
    deadline: Deadline,
    *,
    seed: int = 0,
    workers: int = 1,
    stop: threading.Event | None = None,
    symmetry: bool = False,
    zero_gap: bool = False,
    probing: bool = True,
    fine_gap: bool = False,
) -> CpSolution:
    """Solve a model with CP-SAT until ``deadline`` (or ``stop`` is set).

    The only place a deadline becomes CP-SAT's ``max_time_in_seconds``; an expired
    deadline returns ``"UNKNOWN"`` without starting the solver. ``symmetry=False``
    sets ``symmetry_level=0`` (keeps a hint valid in presolve); ``zero_gap`` asks for a
    proof with no absolute or relative gap; ``probing=False`` skips presolve probing
    (on the territory flow models it took the whole budget before any search).
    """
    cp = build.cp if isinstance(build, CpBuild) else build
    seconds = deadline.seconds()
    if seconds <= 0:
        return CpSolution("UNKNOWN", None, -math.inf, None)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.random_seed = seed
    if not symmetry:
        solver.parameters.symmetry_level = 0
    if not probing:
        solver.parameters.cp_model_probing_level = 0
    # CP-SAT's default absolute gap (1e-4) ends the search with OPTIMAL while the plan
    # may still be that far above its bound: on an objective of 0.0007 (a part-timer's
    # window with whole account counts) it called a plan 2 % above the optimum optimal.
    # Above tiny models (``fine_gap``) the gap is left as it is (a smaller one makes
    # CP-SAT scale a float objective more finely, and it then searched far worse: 0.0271
    # against 0.0218 on 300 x 8); such an OPTIMAL is checked against the library's own
    # proof test below instead.
    if zero_gap or fine_gap:
        solver.parameters.absolute_gap_limit = 0.0 if zero_gap else OPTIMALITY_TOL
        solver.parameters.relative_gap_limit = 0.0 if zero_gap else OPTIMALITY_TOL
    solver.parameters.log_search_progress = False
    code = solver.solve(cp) if stop is None else _solve_until(solver, cp, stop)
    found = code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    x = None
    if found and isinstance(build, CpBuild):
        x = np.array([solver.boolean_value(v) for v in build.x], dtype=bool)
    bound = float(solver.best_objective_bound) if found else -math.inf
    status = solver.status_name(code)
    if status == "OPTIMAL" and not zero_gap and _float_objective(cp):
        # Within CP-SAT's absolute gap of its bound but not within the library's: its
        # gap limit may have ended the search. (A bound further off is no such stop:
        # CP-SAT then proved the optimum by search and only left its bound stale, e.g.
        # 28.5 against 43.5 on a 9 x 3 problem.)
        gap = float(solver.objective_value) - bound
        limit = float(solver.parameters.absolute_gap_limit)
        if gap <= limit and not bound_closes(float(solver.objective_value), bound):
            status = "FEASIBLE"
    return CpSolution(status, x, bound, solver)


def _float_objective(cp: Any) -> bool:
    """True when ``cp`` minimises a float objective (CP-SAT's absolute gap applies);
    an integer objective moves in whole steps, which its 1e-4 gap cannot blur."""
    proto = cp.Proto() if hasattr(cp, "Proto") else None
    if proto is None:
        return False
    if hasattr(proto, "has_floating_point_objective"):  # ortools >= 9.12's own proto
        return bool(proto.has_floating_point_objective())
    return bool(proto.HasField("floating_point_objective"))


def _solve_until(solver: Any, cp: Any, stop: threading.Event) -> Any:
    """``solver.solve(cp)``, stopped early once ``stop`` is set."""
    finished = threading.Event()

    def watch() -> None:
        # Until solve() returns: a stop_search() before solve() has started is a no-op.
        while not finished.wait(0.05):
            if stop.is_set():
                solver.stop_search()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        return solver.solve(cp)
    finally:
        finished.set()
        watcher.join()


#: Models up to this many pairs get CP-SAT's fine gap (see `solve_cpsat`) wherever
#: they are solved (whole, on cores, in neighbourhoods).
FINE_GAP_PAIR_LIMIT = 1_000


def solve_cpsat(
    model: Model,
    rows: Rows,
    scaled: Scaled,
    *,
    deadline: Deadline,
    seed: int = 0,
    workers: int = 1,
    hint: np.ndarray | None = None,
    units: np.ndarray | None = None,
    rep_mask: np.ndarray | None = None,
    fixed: np.ndarray | None = None,
    pair_mask: np.ndarray | None = None,
    stop: threading.Event | None = None,
    fine_gap: bool = False,
) -> CpResult:
    """Solve the model (or the sub-problem of ``units`` on reps in ``rep_mask``).

    ``fine_gap``: CP-SAT's gap limits become the library's proof test (1e-7), so that
    its OPTIMAL on a float objective is a proof; always for models up to
    ``FINE_GAP_PAIR_LIMIT`` pairs, not above (a finer gap makes CP-SAT scale the
    objective finely, and a 300 x 8 model then searched far worse).

    ``deadline`` covers building the model too. ``stop``, when set during the search,
    ends it early with the best plan so far (the portfolio sets it when HiGHS, running
    beside, has proven its plan optimal).

    ``fixed`` is a complete assignment whose other units stay where they are.
    ``pair_mask`` (one flag per pair) keeps only the flagged pairs: a *core* problem
    whose optimum is optimal for the whole model only if the dropped pairs provably
    cannot improve it (see `alloc.solvers.bounds.lagrangian`).
    """
    t0 = time.perf_counter()
    R = model.n_reps
    if units is None:
        units = np.arange(model.n_units)
    if rep_mask is None:
        rep_mask = np.ones(R, dtype=bool)
    base = other_dev = None
    if fixed is not None and units.size < model.n_units:
        base, other_dev = fixed_loads(model, rows, scaled, units, rep_mask, fixed)
    build = build_model(
        model,
        rows,
        scaled,
        units=units,
        rep_mask=rep_mask,
        base=base,
        other_dev=other_dev,
        hint=hint,
        pair_mask=pair_mask,
    )
    fine = fine_gap or model.n_pairs <= FINE_GAP_PAIR_LIMIT
    solution = run(build, deadline, seed=seed, workers=workers, stop=stop, fine_gap=fine)
    chosen = build.chosen(solution, fixed) if solution.found else None
    return CpResult(solution.status, chosen, solution.bound, time.perf_counter() - t0)


def infeasible_core(
    model: Model, rows: Rows, scaled: Scaled, *, deadline: Deadline, seed: int = 0
) -> tuple[str, list[object]]:
    """Solve for feasibility with one assumption literal per rule; return the status and
    a set of rules that together cannot be satisfied (when CP-SAT proves infeasibility).
    """
    keys = [con.source for con in model.constraints]
    build = build_model(model, rows, scaled, enforce=keys, objective=False)
    build.cp.add_assumptions(list(build.literals.values()))
    solution = run(build, deadline, seed=seed, symmetry=True)
    if solution.status != "INFEASIBLE" or solution.solver is None:
        return solution.status, []
    core = set(solution.solver.sufficient_assumptions_for_infeasibility())
    return "INFEASIBLE", [src for src, lit in build.literals.items() if lit.index in core]
