"""Solving territory problems: models with contiguity, chosen centres or max dispersion.

``alloc.solve`` hands a problem here when its model's `Geography` asks for more than a
per-pair cost (`needs_territory_solver`). Two paths, by size:

- **exact** (at most `EXACT_UNIT_LIMIT` units and `EXACT_PAIR_LIMIT` eligible pairs):
  a short contiguity-preserving search gives a first plan, then CP-SAT solves the
  model of `alloc.solvers.territory_cp` (flows for contiguity, centre variables, the
  p-median / p-centre objective and every balance row), warm-started from that plan,
  and proves OPTIMAL or INFEASIBLE with its bound;
- **large**: the contiguity-preserving search
  (`alloc.solvers.territory_search.search`) for most of the time (when it has no plan
  half-way, the exact test per unit of `alloc.solvers.territory_units` runs first and
  may prove the problem INFEASIBLE), then CP-SAT on the
  same model *without* the flow rows, a relaxation: its bound is valid for the
  territory problem (and its proof of infeasibility too); when its optimum equals the
  plan's objective, the plan is proven optimal. Up to `FULL_MODEL_FLOW_LIMIT` flow
  variables,
  the time left goes to CP-SAT on the whole model, started from the best plan: it may
  improve the plan, and its bound is kept when it is the better one.

With chosen centres, ``"sum"`` dispersion and interchangeable reps, the p-median LP
without contiguity (`alloc.solvers.territory_lp`, HiGHS) gives a bound too; the better
bound is reported, and ``bound_note`` names its source.

Every plan is checked by `alloc.check` before it is returned; statuses never claim
more than was proven (an approximate integer scaling of the rows never yields
INFEASIBLE or OPTIMAL).
"""

from __future__ import annotations

import math
import sys
import threading
import time

import numpy as np
import pandas as pd

from alloc.checker import check, objective_value, territory_centres
from alloc.data.geography import needs_territory_solver
from alloc.data.model import Model
from alloc.data.problem import Problem
from alloc.errors import format_ids
from alloc.result import Result, SolveStats, Status
from alloc.solvers import territory_search
from alloc.solvers.conflicts import explain_infeasible
from alloc.solvers.cpsat import CpSolution
from alloc.solvers.deadline import Deadline
from alloc.solvers.diagnose import precheck
from alloc.solvers.dispersion import contiguity_breaks
from alloc.solvers.scaling import Scaled, relaxation
from alloc.solvers.state import Rows
from alloc.solvers.territory_centres import CentreCp, build_centre_model
from alloc.solvers.territory_cp import TerritoryCp, build_territory_model, interchangeable_reps
from alloc.solvers.territory_lp import CentreLp
from alloc.solvers.territory_reach import ReachConflict, reach_conflicts
from alloc.solvers.territory_units import UnitConflict, unit_conflict
from alloc.territory_rules import MinimizeDispersion

__all__ = [
    "EXACT_PAIR_LIMIT",
    "EXACT_UNIT_LIMIT",
    "FULL_MODEL_FLOW_LIMIT",
    "needs_territory_solver",
    "solve_territories",
]

#: Territory problems up to this many units (and `EXACT_PAIR_LIMIT` pairs) are solved by
#: the exact CP-SAT flow model. Measured (benchmarks/bench_territory_exact.py, 2 busy
#: cores): 22 units x 4 reps with windows [0.8, 1.2] is proven in well under a second;
#: 60 x 10 grids with fixed bases in a few seconds.
EXACT_UNIT_LIMIT = 60
EXACT_PAIR_LIMIT = 600
#: Share of the time the exact path gives the search for a first plan.
_SEARCH_SHARE_EXACT = 0.15


def _quick_seconds(model: Model) -> float:
    """The exact path's first CP-SAT run, before any search: 0.16 s at 30 pairs, 1.3 s
    at 600."""
    return 0.1 + 2e-3 * model.n_pairs


#: Share of the time the large path gives the search (the rest goes to the bound).
_SEARCH_SHARE_LARGE = 0.7
_REL_TOL = 1e-6
#: The p-median LP (beside CP-SAT, after the search) stops by this share of the time left.
_LP_SHARE = 0.9
#: Share of the time the reach test (`alloc.solvers.territory_reach`) may take at most.
_REACH_SHARE = 0.1
#: The large path's search stops at this share of its time to see whether it has a
#: plan; without one, the per-unit proof (`alloc.solvers.territory_units`, CP-SAT in
#: a thread) runs for up to `_UNIT_PROOF_SHARE` of the time left while the search goes
#: on beside it for `_SECOND_SEARCH` of that time (the rest goes to the relaxation's
#: proof of infeasibility); a proof stops the search. Measured: Cobb County's proof
#: (Georgia, population + elderly, k = 10) takes 5-7 s of CP-SAT on one worker on a
#: quiet machine, 20-30 s at a load of 10 on 2 cores. The proof ran before the second
#: search until stop 26: on the demo's map (Georgia, 5 reps, +-10 %), whose first
#: search sometimes ends without a plan, it took 4 of 12 s and the plan came at 10.7 s.
_FIRST_SEARCH = 0.5
_UNIT_PROOF_SHARE = 0.5
_SECOND_SEARCH = 0.6
#: Before the large path's search, a quick look of the per-unit proof (at most
#: `_EARLY_UNIT_SHARE` of the time): the `_EARLY_UNITS` most constrained units, each
#: ball shrunk by the Lagrangian reach (`alloc.solvers.territory_lagrange`), CP-SAT
#: only on balls it shrank to half or less. Measured (Georgia, population + elderly,
#: k = 10): Cobb County keeps 25 of its 99 units and CP-SAT proves it in 0.06 s
#: (5-7 s on the whole ball); Kentucky towns + area k = 10 falls to the shrinking
#: alone. Giving every unit short CP-SAT runs here instead (8 %, then 4 % of the time)
#: took the search's time on maps with a plan: at 4 % Kentucky towns + area k = 5
#: ended UNKNOWN in one bench run (its balls of all 120 counties decide nothing in 2 s).
_EARLY_UNIT_SHARE = 0.04
_EARLY_UNITS = 16
#: Large problems whose whole model has at most this many flow variables get CP-SAT on
#: it (started from the search's plan) once the relaxation's bound is known. Measured:
#: 100 units x 10 reps with office bases (about 6,000 flow variables) went from a 1.4-2.9
#: % gap to proven optimal in 20-24 s; 100 units with chosen centres (about 58,000, one
#: flow per candidate centre) made no progress and only took time from the relaxation.
FULL_MODEL_FLOW_LIMIT = 20_000
#: Above this many units CP-SAT's presolve probing is skipped: on 60-unit flow models it
#: used the whole budget (no plan, no bound in 20 s; without it, a bound in seconds).
_PROBING_UNIT_LIMIT = 30


class _Territories:
    """One call's state: the best checked plan, its phases, and how to report it."""

    def __init__(self, problem: Problem, time_limit: float, seed: int, workers: int, t0: float):
        self.problem, self.model = problem, problem.model
        self.rows = Rows.from_model(self.model)
        self.seed, self.workers, self.time_limit, self.t0 = seed, workers, time_limit, t0
        self.deadline = Deadline(t0 + time_limit)
        self.plan: pd.Series | None = None
        self.chosen: np.ndarray | None = None  # the plan's pair per unit
        self.objective = math.inf
        self.found_by = ""
        self.phases: list[tuple[str, float, float]] = []
        self.notes: list[str] = []
        self.progress = False
        self.lp_bound = -math.inf  # the p-median LP's bound, when it applies
        self.centre_lp: CentreLp | None = None  # that LP, running beside CP-SAT
        self.closest: np.ndarray | None = None  # the search's best plan when infeasible

    def say(self, phase: str, value: float, what: str = "objective") -> None:
        """Record a phase (``value``: the plan's objective, or a bound with ``what``)."""
        seconds = time.perf_counter() - self.t0
        self.phases.append((phase, seconds, value))
        if self.progress:
            # Same layout as the portfolio's lines; a phase without a plan shows no value.
            shown = f" {what} {value:.6g}" if math.isfinite(value) else ""
            print(f"[{seconds:7.2f}s] {phase:<14}{shown}", file=sys.stderr, flush=True)

    def offer(self, chosen: np.ndarray | None, label: str) -> None:
        """Keep ``chosen`` if alloc.check finds it feasible and it beats the best plan."""
        if chosen is None or (chosen < 0).any():
            return
        assignment = _to_assignment(self.problem, chosen)
        if check(self.problem, assignment):
            self.notes.append(f"a plan from {label} broke a rule and was dropped")
            return
        value = objective_value(self.problem, assignment)
        if value < self.objective - _REL_TOL * max(1.0, abs(value)) or self.plan is None:
            self.plan, self.objective, self.found_by = assignment, value, label
            self.chosen = chosen.copy()
            self.say(label, value)

    def collect_lp(self) -> None:
        """The p-median LP's bound into ``lp_bound``; HiGHS is stopped if still running."""
        if self.centre_lp is not None:
            value = self.centre_lp.bound(wait=False)
            self.centre_lp = None
            if value is not None and value > self.lp_bound:
                self.lp_bound = value
                self.say("p-median LP", value, "bound")

    def finish(self, status: Status, bound: float, explanation: str, note: str) -> Result:
        self.collect_lp()  # no thread outlives the call
        centres: dict[object, object] = {}
        geography = self.model.geography
        if self.plan is not None and geography is not None and geography.chooses_centres:
            term = next(t for t in self.problem.objective if isinstance(t, MinimizeDispersion))
            centres = territory_centres(self.problem, self.plan, term)[0]
        stats = SolveStats(
            time=time.perf_counter() - self.t0,
            phases=tuple(self.phases),
            found_by=self.found_by,
            seed=self.seed,
            workers=self.workers,
            time_limit=self.time_limit,
            notes=tuple(self.notes),
        )
        objective = self.objective if self.plan is not None else math.inf
        return Result(
            self.problem,
            status,
            self.plan,
            objective,
            bound,
            explanation,
            stats,
            bound_note=note,
            centers=centres,
        )


def _to_assignment(problem: Problem, chosen: np.ndarray) -> pd.Series:
    model = problem.model
    rep_codes = model.pair_rep[chosen][model.customer_unit]
    return pd.Series(
        problem.rep_ids.to_numpy()[rep_codes],
        index=problem.customer_ids.copy(),
        name=problem.id_columns["rep"],
    )


def _search(state: _Territories, deadline: Deadline, start: np.ndarray | None = None) -> None:
    """The contiguity-preserving search (issue 14's territory_search) for a first plan,
    from ``start`` (a plan, one pair per unit) when given."""
    geography = state.model.geography
    assert geography is not None
    plan = territory_search.search(state.model, geography, deadline, seed=state.seed, start=start)
    if plan.feasible:
        state.offer(np.asarray(plan.chosen), "territory search")
    elif (np.asarray(plan.chosen) >= 0).all():
        state.closest = np.asarray(plan.chosen).copy()


def _search_or_prove(state: _Territories, share: float) -> UnitConflict | None:
    """The large path's search, with the exact test per unit when it stalls.

    The exact test per unit first gets `_EARLY_UNIT_SHARE` of the time (short runs on
    the most constrained units). The search then runs for `_FIRST_SEARCH` of its share;
    with a plan it goes on from that
    plan to the end of its share. Without one, the exact test per unit
    (`alloc.solvers.territory_units`) runs for up to `_UNIT_PROOF_SHARE` of the time
    left beside the search, which goes on from its closest plan for `_SECOND_SEARCH`
    of that time. Returns the unit proof's conflict, if any.
    """
    search_end = state.deadline.share(share)
    early = unit_conflict(
        state.model,
        state.rows,
        state.deadline.share(_EARLY_UNIT_SHARE),
        seed=state.seed,
        sweep=_EARLY_UNITS,
    )
    state.say("unit proof", math.nan)
    if early is not None:
        return early
    _search(state, state.deadline.share(share * _FIRST_SEARCH))
    if state.plan is not None:
        _search(state, search_end, start=state.chosen)
        return None
    return _prove_beside_search(state)


def _prove_beside_search(state: _Territories) -> UnitConflict | None:
    """The per-unit proof in a thread (CP-SAT releases the GIL) while the search goes
    on from its closest plan; whichever settles the question first stops the other."""
    proved, searched = threading.Event(), threading.Event()
    proof_deadline = state.deadline.share(_UNIT_PROOF_SHARE).or_when(searched)
    search_deadline = state.deadline.share(_SECOND_SEARCH).or_when(proved)
    found: list[UnitConflict | None] = [None]
    failed: list[BaseException] = []

    def prove() -> None:
        try:
            found[0] = unit_conflict(state.model, state.rows, proof_deadline, seed=state.seed)
        except BaseException as error:  # raised again in the caller's thread below
            failed.append(error)
            proved.set()
            return
        if found[0] is not None:
            proved.set()

    worker = threading.Thread(target=prove, name="alloc-unit-proof", daemon=True)
    worker.start()
    try:
        _search(state, search_deadline, start=state.closest)
    finally:
        if state.plan is not None:
            searched.set()  # a plan settles feasibility: the proof cannot succeed
        worker.join()
    if failed:
        raise failed[0]
    state.say("unit proof", math.nan)
    # A checked plan is the stronger fact: never INFEASIBLE beside it.
    return None if state.plan is not None else found[0]


def solve_territories(
    problem: Problem, time_limit: float, seed: int = 0, workers: int = 1, progress: bool = False
) -> Result:
    """Solve a territory problem (see the module docstring); a checked ``Result``.

    Parameters
    ----------
    problem : Problem
        A problem whose model needs the territory solver (`needs_territory_solver`).
    time_limit : float
        Seconds for the whole call.
    seed, workers : int
        CP-SAT's random seed and worker threads (the search's seed too).
    progress : bool
        Print a line to stderr at each phase.

    Returns
    -------
    Result
    """
    state = _Territories(problem, float(time_limit), seed, workers, time.perf_counter())
    state.progress = progress
    reasons = precheck(problem, state.rows)
    state.say("precheck", math.nan)
    if reasons:
        return state.finish(Status.INFEASIBLE, math.inf, "Infeasible: " + " ".join(reasons), "")
    model = state.model
    conflicts = reach_conflicts(model, state.rows, state.deadline.share(_REACH_SHARE))
    state.say("reach test", math.nan)
    if conflicts:
        return state.finish(Status.INFEASIBLE, math.inf, _reach_words(problem, conflicts), "")
    exact = model.n_units <= EXACT_UNIT_LIMIT and model.n_pairs <= EXACT_PAIR_LIMIT
    share = _SEARCH_SHARE_EXACT if exact else _SEARCH_SHARE_LARGE
    scaled = Scaled.from_rows(model, state.rows)
    exact_rows = scaled.error == 0
    if not exact_rows:
        state.notes.append(
            f"rows scaled to integers with relative error {scaled.error:.2g}: no proof claimed"
        )
    if exact:
        # CP-SAT alone proves tiny maps in a fraction of a second (9 units x 3 reps:
        # 0.03 s, where the search before it took 3 s of a 30 s limit); larger ones
        # (60 units x 4 reps) need the search's plan as a hint, which the next run gets.
        quick = _cp_stage(state, scaled, True, state.deadline.share(0.1, cap=_quick_seconds(model)))
        proven = quick.status == "INFEASIBLE" or (quick.status == "OPTIMAL" and quick.found)
        if proven and exact_rows:
            return _conclude(state, quick.status, quick.bound, exact_rows, _FULL)
        _search(state, state.deadline.share(share))  # its own start: it found better plans
    else:
        unit = _search_or_prove(state, share)
        if unit is not None:
            return state.finish(Status.INFEASIBLE, math.inf, _unit_words(problem, unit), "")
    # The p-median LP takes seconds at a few hundred units (n^2 columns): it runs beside
    # CP-SAT, not beside the search (whose Python loop its interrupt checks would slow:
    # notebook 06's re-plan with pins found no plan in 30 s on a busy machine).
    state.centre_lp = CentreLp(model, state.rows).start(state.deadline.share(_LP_SHARE))
    geography = model.geography
    assert geography is not None
    if exact or not geography.contiguous:  # without contiguity there is nothing to relax
        solution = _cp_stage(state, scaled, True, state.deadline)
        return _conclude(state, solution.status, solution.bound, exact_rows, _FULL)
    full_next = _flow_variables(model) <= FULL_MODEL_FLOW_LIMIT
    relaxed = _cp_stage(
        state, scaled, False, state.deadline.share(0.5) if full_next else state.deadline
    )
    bound = relaxed.bound if relaxed.found else -math.inf
    # A checked plan in hand outranks any proof of the opposite (a guard against a
    # scaling flaw: review of stop 22); only then is CP-SAT's INFEASIBLE reported.
    if relaxed.status == "INFEASIBLE" and exact_rows and state.plan is None:
        return _infeasible_without_contiguity(state, scaled)
    if not full_next or state.plan is None:
        return _conclude(state, relaxed.status, bound, exact_rows, _RELAXED)
    if state.objective - bound <= _REL_TOL * max(1.0, abs(state.objective)):
        return _conclude(state, relaxed.status, bound, exact_rows, _RELAXED)
    # Time left: CP-SAT on the whole model, from the best plan, may improve it and the bound.
    full = _cp_stage(state, scaled, True, state.deadline)
    if full.found and full.bound > bound:
        return _conclude(state, full.status, full.bound, exact_rows, _FULL)
    return _conclude(state, relaxed.status, bound, exact_rows, _RELAXED)


def _flow_variables(model: Model) -> int:
    """Flow variables of the whole territory model: one per arc and rep, or per arc and
    candidate centre in the centre-based model."""
    g = model.geography
    assert g is not None
    if not g.contiguous:
        return 0
    per_arc = model.n_reps
    if g.chooses_centres and not model.imbalances and interchangeable_reps(model):
        per_arc = model.n_units
    return int(g.indices.size) * per_arc


_FULL = "CP-SAT's bound on the territory model"
_LP = "the p-median LP without contiguity (HiGHS)"
_RELAXED = "CP-SAT's bound on the model without contiguity (a relaxation)"


def _cp_stage(
    state: _Territories, scaled: Scaled, contiguity: bool, deadline: Deadline
) -> CpSolution:
    """CP-SAT on the territory model (or, without contiguity, its relaxation), started
    from the best plan; a plan it finds with contiguity is offered."""
    model = state.model
    cp: TerritoryCp | CentreCp | None = build_centre_model(
        model, state.rows, scaled, contiguity=contiguity
    )
    if cp is None:
        cp = build_territory_model(model, state.rows, scaled, contiguity=contiguity)
    if state.chosen is not None:
        cp.hint(state.chosen)
    probing = model.n_units <= _PROBING_UNIT_LIMIT
    solution, chosen = cp.solve(deadline, seed=state.seed, workers=state.workers, probing=probing)
    label = "cp-sat" if contiguity else "cp-sat (no contiguity)"
    if contiguity:
        state.offer(chosen, label)
    state.say(label, solution.bound, "bound")
    return solution


def _infeasible_without_contiguity(state: _Territories, scaled: Scaled) -> Result:
    """INFEASIBLE proven on the model without contiguity: that model is the ordinary
    allocation model, so its minimal conflict (rules and reps, with numbers) is found
    and worded as for any allocation problem."""
    model = state.model
    relaxed = relaxation(model, state.rows, scaled)
    words = explain_infeasible(state.problem, state.rows, relaxed, (), state.deadline, state.seed)
    state.say("conflict", math.nan)
    return state.finish(
        Status.INFEASIBLE,
        math.inf,
        words + " (This holds even without contiguity.)",
        "",
    )


def _reach_words(problem: Problem, conflicts: list[ReachConflict]) -> str:
    """The reach test's proof in words: the customers no connected territory can hold."""
    model = problem.model
    labels = [c.label for c in model.constraints]
    units = [c.unit for c in conflicts]
    ids = problem.customer_ids[np.isin(model.customer_unit, units)]
    path = sorted({labels[k] for c in conflicts for k in c.path_rows if k < len(labels)})
    # A window named alone fails alone for every unit named (the sentence is about each).
    shared = set.intersection(*(set(c.rows) for c in conflicts))
    alone = sorted({labels[k] for k in shared if k < len(labels)})
    # Without a window failing alone, the proof rests on every hard row of the LP, not
    # only on the rows bounding the reach (naming those alone claimed that windows which
    # can be met cannot).
    every = sorted({labels[k] for c in conflicts for k in c.windows if k < len(labels)})
    windows = (
        f"the window of {format_ids(alone)} alone"
        if alone
        else f"the windows of {format_ids(every)} together"
    )
    which = "it" if len(ids) == 1 else "one of them"
    return (
        f"Infeasible: no connected territory can hold {format_ids(ids)}. A connected "
        f"territory holding {which} contains only units it reaches by paths whose "
        f"load stays within the upper limits of {format_ids(path)} (at most "
        f"{max(c.reach for c in conflicts)} units), and no share of those units meets "
        f"{windows}. Widen the windows, add neighbour links, or allow more reps."
    )


def _unit_words(problem: Problem, conflict: UnitConflict) -> str:
    """The per-unit proof in words: the customer no connected territory can hold."""
    model = problem.model
    labels = [c.label for c in model.constraints]
    ids = problem.customer_ids[model.customer_unit == conflict.unit]
    together = [labels[k] for k in conflict.windows if k < len(labels)]
    windows = (
        f"the window of {format_ids([labels[k] for k in conflict.rows])} alone"
        if conflict.rows
        else f"the windows of {format_ids(together)} together"
    )
    return (
        f"Infeasible: no connected territory can hold {format_ids(ids)}. CP-SAT proved "
        f"that no connected set of units holding it, among the {conflict.ball} units "
        f"within its reach, meets {windows} (the reach test's fractional bound did "
        "not show it). Widen the windows, add neighbour links, or allow more reps."
    )


def _closest_plan_words(model: Model, rows: Rows, chosen: np.ndarray | None) -> str:
    """How far the search's best infeasible plan is from meeting the rules, in words.

    Names the rows it breaks (by how many territories, and the largest miss as a share
    of the window's middle) and the territories cut in pieces; empty without a plan.
    """
    geography = model.geography
    if chosen is None or geography is None:
        return ""
    loads = rows.loads(model, chosen)
    misses = []
    for k, con in enumerate(model.constraints):
        lo, hi = rows.lo[k], rows.hi[k]
        out = np.maximum(np.nan_to_num(lo - loads[k], neginf=0.0), 0.0)
        out += np.maximum(np.nan_to_num(loads[k] - hi, neginf=0.0), 0.0)
        if not (out > 0).any():
            continue
        raw_lo, raw_hi = rows.raw_lo[k], rows.raw_hi[k]
        middle = np.where(np.isfinite(raw_lo) & np.isfinite(raw_hi), (raw_lo + raw_hi) / 2, np.nan)
        worst = int(np.argmax(out))
        size = abs(middle[worst]) if np.isfinite(middle[worst]) and middle[worst] else None
        # A one-sided window (a Capacity) has no middle: the share is then left out.
        how = (
            f" (largest miss {100 * out[worst] / size:.1f} % of the window's middle)"
            if size
            else ""
        )
        misses.append(f"'{con.label}' for {int((out > 0).sum())}{how}")
    rep_of = model.pair_rep[chosen]
    broken = contiguity_breaks(model, geography, rep_of)
    if broken:
        misses.append(f"contiguity ({broken} territory pieces or bases out of place)")
    if not misses:
        return ""
    return (
        f" The closest plan the search found (of {model.n_reps} territories) breaks "
        + "; ".join(misses)
        + "."
    )


def _conclude(
    state: _Territories, cp_status: str, bound: float, exact_rows: bool, source: str
) -> Result:
    """The status the runs proved: INFEASIBLE and bounds only from exactly scaled rows."""
    bound = bound if exact_rows else -math.inf
    if cp_status == "INFEASIBLE" and exact_rows and state.plan is None:
        what = (
            "the territory model admits"
            if source == _FULL
            else ("even without contiguity, the rules admit")
        )
        return state.finish(
            Status.INFEASIBLE,
            math.inf,
            f"Infeasible: CP-SAT proved that {what} no plan (balance windows, contiguity, "
            "base units and the other rules cannot all hold).",
            "",
        )
    if state.plan is None:
        return state.finish(
            Status.UNKNOWN,
            -math.inf,
            "No plan found in the time given and no proof that none exists; allow more time."
            + _closest_plan_words(state.model, state.rows, state.closest),
            "",
        )
    state.collect_lp()
    if state.lp_bound > bound:
        bound, source = state.lp_bound, _LP
    gap = state.objective - bound
    if math.isfinite(bound) and gap <= _REL_TOL * max(1.0, abs(state.objective)):
        return state.finish(Status.OPTIMAL, bound, f"Proven optimal by {source}.", source)
    note = source if math.isfinite(bound) else "no bound: none was proven in the time given"
    return state.finish(
        Status.FEASIBLE,
        bound,
        "A feasible plan (every territory connected, every rule checked); optimality not "
        "proven in the time given.",
        note,
    )
