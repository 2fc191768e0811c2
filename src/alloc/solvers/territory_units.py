"""Per-unit proof: a unit that no connected territory can hold, shown exactly by CP-SAT.

The reach test (`alloc.solvers.territory_reach`) asks an LP whether a *fractional*
share of the units a territory holding ``c`` can reach meets the windows; it often
passes when no territory exists (Cobb County in Georgia at k = 10: a share of its
suburbs fits population and elderly population together, no connected set of them
does). This module asks the exact question for one unit ``c`` and one rep ``r``: is
there a set ``S`` of the neighbour graph with

- ``c`` in ``S`` (and ``r``'s base unit, when it has one), no other rep's base;
- every unit of ``S`` eligible for ``r`` and in the reach ball of ``c``;
- ``S`` connected: a single-commodity flow from ``c`` sends one unit to every other
  member of ``S`` along arcs between members (``f <= (m - 1) x`` at both ends);
- every hard row's load within the rep's window?

The rows are the integer rows of `alloc.solvers.scaling` (limits rounded outward from
the allowed limits, widened by the rounding's largest drift for approximate data:
`scaling.relaxation`), so a model CP-SAT proves INFEASIBLE has no raw solution either.
When that holds for every rep (class) eligible for ``c``, no plan exists.

Units are tried most constrained first: the heaviest on each hard row in turn (largest
share of the upper limit), interleaved with the smallest reach balls. The first units
get short runs; each pass retries the undecided ones (and one unit more) with runs four
times longer, while the deadline allows; every unit of a territory a run finds is held
by it and is not tested. Passing proves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from alloc.data.model import Model
from alloc.solvers.cpsat import run
from alloc.solvers.deadline import Deadline
from alloc.solvers.scaling import NO_BOUND, Scaled, relaxation
from alloc.solvers.state import Rows
from alloc.solvers.territory_lagrange import prune_ball
from alloc.solvers.territory_reach import ReachBalls, lightest_per_unit

__all__ = ["UnitConflict", "unit_conflict"]

#: First run per (unit, rep class), seconds, and units in the first pass; each later
#: pass runs one unit more, each run _GROWTH times longer. Measured (2 busy cores, one
#: worker): units with a territory are mostly found within 2 s; Cobb County's proof
#: (Georgia, population + elderly at k = 10, 99 units in its ball) takes 5-7 s.
_FIRST_RUN = 0.5
_FIRST_WIDTH = 2
_GROWTH = 4.0
#: Reach balls of more units than this are not modelled (the unit stays undecided):
#: its flow model would take longer to build than the runs it gets.
_MAX_BALL = 3_000
#: Balls up to this many units get their path cuts written out (see _path_cuts).
_DIRECT_CUTS = 500
#: Units ranked at most (per ranking); the proof aims at the most constrained units.
_MAX_UNITS = 400


@dataclass(frozen=True)
class UnitConflict:
    """A unit no connected territory can hold, proven by CP-SAT.

    Attributes
    ----------
    unit
        The unit's index.
    ball
        Units in its reach ball for the rep class that reaches furthest.
    rows
        Hard rows whose windows alone cannot be met; empty when only their
        combination fails (or the runs on single rows ran out of time).
    windows
        Every hard row of the proof (the windows that cannot all be met).
    """

    unit: int
    ball: int
    rows: tuple[int, ...]
    windows: tuple[int, ...]


class _UnitModels:
    """The CP-SAT model of one unit's territory, per rep class (see the module)."""

    def __init__(self, model: Model, rows: Rows, balls: ReachBalls, scaled: Scaled):
        geography = model.geography
        assert geography is not None
        self.model, self.rows, self.balls, self.scaled = model, rows, balls, scaled
        self.indptr, self.indices = geography.indptr, geography.indices
        self.held: set[int] = set()  # units seen in a territory that meets the windows

    def status(
        self,
        c: int,
        r: int,
        ball: tuple[np.ndarray, np.ndarray],
        rows: np.ndarray,
        deadline: Deadline,
        seed: int,
        quick: bool = False,
    ) -> str:
        """CP-SAT's status on whether rep ``r`` can hold ``c`` within ``rows``' windows,
        on its ball shrunk by the Lagrangian reach (`territory_lagrange.prune_ball`:
        ``"INFEASIBLE"`` without CP-SAT when that alone shows no territory). ``quick``:
        ``"UNKNOWN"`` without CP-SAT unless the shrinking kept at most half the ball
        (large balls are rarely decided in a short run)."""
        members, fixed = ball
        keep = prune_ball(
            members,
            fixed,
            self.rows.weight[self.balls.elig[members, r]][:, rows],
            self.rows.lo[rows, r],
            self.rows.hi[rows, r],
            self.indptr,
            self.indices,
            deadline,
        )
        if keep is None:
            return "INFEASIBLE"
        if quick and 2 * int(keep.sum()) > keep.size:
            return "UNKNOWN"
        members, fixed = members[keep], fixed[keep]
        cp = cp_model.CpModel()
        where = {int(v): i for i, v in enumerate(members.tolist())}
        x = [cp.new_bool_var(f"x{v}") for v in members.tolist()]
        for i in np.flatnonzero(fixed).tolist():
            cp.add(x[i] == 1)
        self._connect(cp, x, where, where[c])
        pairs = self.balls.elig[members, r]
        for k in rows.tolist():
            weight = self.scaled.weight[pairs, k]
            lo, hi = int(self.scaled.lo[k, r]), int(self.scaled.hi[k, r])
            load = cp_model.LinearExpr.weighted_sum(x, weight.tolist())
            if lo > -NO_BOUND:
                cp.add(load >= lo)
            if hi < NO_BOUND:
                cp.add(load <= hi)
            if (weight >= 0).all():
                # S holds a path from c to each of its units: its load is at least that
                # path's (a cut the flow's LP does not see; the reach test's argument).
                far = self._path_loads(members, where, where[c], weight)
                self._path_cuts(cp, x, load, far, k)
        solution = run(cp, deadline, seed=seed, workers=1)
        if solution.found and solution.solver is not None:
            # Every unit of a territory found is held by one: no need to test it.
            held = [solution.solver.boolean_value(var) for var in x]
            self.held.update(members[np.array(held, dtype=bool)].tolist())
        return solution.status

    @staticmethod
    def _path_cuts(
        cp: cp_model.CpModel,
        x: list[cp_model.IntVar],
        load: cp_model.LinearExpr,
        far: np.ndarray,
        k: int,
    ) -> None:
        """``load >= far[i] x[i]`` for every member: written out on small balls (CP-SAT
        proved Cobb County 2x faster so), through one variable, the longest path's
        load, on large ones (the written-out cuts grow with the square of the ball)."""
        chosen = np.flatnonzero(far > 0).tolist()
        if len(x) <= _DIRECT_CUTS:
            for i in chosen:
                cp.add(load >= int(far[i]) * x[i])
            return
        longest = cp.new_int_var(0, max(int(far.max()), 0), f"path{k}")
        for i in chosen:
            cp.add(longest >= int(far[i]) * x[i])
        cp.add(load >= longest)

    def _path_loads(
        self, members: np.ndarray, where: dict[int, int], root: int, weight: np.ndarray
    ) -> np.ndarray:
        """Lightest load of a path from ``root`` to each member inside the ball (both
        ends counted), as whole numbers (``weight`` is integer)."""
        src, dst = [], []
        for v, i in where.items():
            for u in self.indices[self.indptr[v] : self.indptr[v + 1]].tolist():
                j = where.get(int(u))
                if j is not None:
                    src.append(i)
                    dst.append(j)
        m = members.size
        # Entering a unit costs its weight (+ a hair: csgraph drops zero-weight edges).
        cost = weight[np.array(dst, dtype=np.int64)].astype(float) + 1e-9
        graph = csr_matrix((cost, (src, dst)), shape=(m, m))
        far = dijkstra(graph, indices=root) + float(weight[root])
        far = np.where(np.isfinite(far), np.floor(far + 1e-6), 0.0)
        return far.astype(np.int64)

    def _connect(
        self, cp: cp_model.CpModel, x: list[cp_model.IntVar], where: dict[int, int], root: int
    ) -> None:
        """Flow from ``root``: every other chosen member receives one unit of flow over
        arcs between chosen members, so it is joined to the root inside the set."""
        m = len(x)
        inflow: list[list[cp_model.IntVar]] = [[] for _ in range(m)]
        outflow: list[list[cp_model.IntVar]] = [[] for _ in range(m)]
        for v, i in where.items():
            around = []
            for u in self.indices[self.indptr[v] : self.indptr[v + 1]].tolist():
                j = where.get(int(u))
                if j is None:
                    continue
                around.append(x[j])
                if j == root:
                    continue  # no flow into the root
                f = cp.new_int_var(0, m - 1, f"f{v}_{u}")
                cp.add(f <= (m - 1) * x[i])
                cp.add(f <= (m - 1) * x[j])
                outflow[i].append(f)
                inflow[j].append(f)
            if i != root:
                # A chosen unit other than the root has a chosen neighbour (a valid cut
                # that the flow's LP alone does not see).
                cp.add(x[i] <= sum(around) if around else x[i] == 0)
        for i in range(m):
            if i != root:
                cp.add(sum(inflow[i]) - sum(outflow[i]) == x[i])


def _ranked(balls: ReachBalls, rows: Rows, deadline: Deadline) -> list[int]:
    """Units to test, most constrained first: the heaviest on each hard row in turn and
    the smallest reach balls, interleaved, each once."""
    model = balls.model
    hard = balls.hard[np.isfinite(rows.hi[balls.hard]).any(axis=1)]
    rankings: list[np.ndarray] = []
    if hard.size:
        lightest = lightest_per_unit(model, np.abs(rows.weight[:, hard]))
        limit = np.nanmax(np.where(np.isfinite(rows.hi[hard]), np.abs(rows.hi[hard]), np.nan), 1)
        share = lightest / np.maximum(limit, 1e-300)
        rankings += [np.argsort(-share[:, j], kind="stable")[:_MAX_UNITS] for j in range(hard.size)]
        heaviest = np.argsort(-share.max(axis=1), kind="stable")
    else:
        heaviest = np.arange(model.n_units)
    # Ball sizes of the heaviest units first, within a quarter of the time.
    sized = deadline.share(0.25)
    sizes: dict[int, int] = {}
    for first in range(0, min(heaviest.size, 4 * _MAX_UNITS), 64):
        if sized.expired():
            break
        chunk = heaviest[first : first + 64]
        for c, found in zip(chunk.tolist(), balls.balls(chunk), strict=True):
            sizes[c] = max((members.size for members, _ in found.values()), default=0)
    rankings.append(np.array(sorted(sizes, key=lambda c: sizes[c]), dtype=np.int64)[:_MAX_UNITS])
    order: list[int] = []
    seen: set[int] = set()
    for depth in range(max(len(r) for r in rankings)):
        for ranking in rankings:
            if depth < ranking.size and int(ranking[depth]) not in seen:
                seen.add(int(ranking[depth]))
                order.append(int(ranking[depth]))
    return order


def unit_conflict(
    model: Model, rows: Rows, deadline: Deadline, seed: int = 0, *, sweep: int | None = None
) -> UnitConflict | None:
    """A unit that no connected territory can hold within its windows (see the module).

    Parameters
    ----------
    model
        A compiled model whose geography asks for contiguity.
    rows
        Its stacked rows (`alloc.solvers.state.Rows.from_model`).
    deadline
        When to stop (units not decided are not claimed either way).
    seed
        CP-SAT's random seed.
    sweep
        A quick first look: one pass over this many of the most constrained units,
        CP-SAT (one short run) only where the Lagrangian reach kept at most half a ball.

    Returns
    -------
    UnitConflict or None
        None when no unit was proven to fail (which proves nothing); otherwise a proof
        that the model has no plan with connected territories.
    """
    geography = model.geography
    if geography is None or not geography.contiguous or model.n_units == 0:
        return None
    balls = ReachBalls(model, rows)
    if balls.hard.size == 0:
        return None
    scaled = relaxation(model, rows, Scaled.from_rows(model, rows))
    models = _UnitModels(model, rows, balls, scaled)
    pending = _ranked(balls, rows, deadline)
    if sweep is not None:
        for c in pending[:sweep]:
            if deadline.expired():
                break
            ball = balls.balls(np.array([c]))[0]
            verdict = _unit_verdict(
                models, c, ball, balls.hard, deadline, _FIRST_RUN, seed, quick=True
            )
            if verdict == "INFEASIBLE":
                return _conflict(models, c, ball, deadline, seed)
        return None
    run_time, width = _FIRST_RUN, _FIRST_WIDTH
    while pending and not deadline.expired():
        # The most constrained units get the longest runs: each pass runs the first
        # `width` undecided units four times longer than the pass before.
        undecided = []
        pending = [c for c in pending if c not in models.held]
        for c in pending[:width]:
            if deadline.expired():
                break
            if c in models.held:
                continue
            ball = balls.balls(np.array([c]))[0]
            verdict = _unit_verdict(models, c, ball, balls.hard, deadline, run_time, seed)
            if verdict == "INFEASIBLE":
                return _conflict(models, c, ball, deadline, seed)
            if verdict == "UNKNOWN":
                undecided.append(c)
        pending = undecided + pending[width:]
        run_time, width = run_time * _GROWTH, width + 1
    return None


def _unit_verdict(
    models: _UnitModels,
    c: int,
    ball: dict[int, tuple[np.ndarray, np.ndarray]],
    rows: np.ndarray,
    deadline: Deadline,
    run_time: float,
    seed: int,
    quick: bool = False,
) -> str:
    """CP-SAT's verdict on unit ``c``: ``"INFEASIBLE"`` when no rep class can hold it
    within ``rows``' windows, ``"FEASIBLE"`` when one can, ``"UNKNOWN"`` when a run ran
    out of time, ``"TOO_LARGE"`` when only balls too large to model were left open."""
    verdict = "INFEASIBLE"
    for r, found in ball.items():
        if found[0].size > _MAX_BALL:
            # Too large a model to decide in a short run, now or later: a unit left
            # pending for it would take every pass's time (review of stop 22).
            verdict = "TOO_LARGE" if verdict == "INFEASIBLE" else verdict
            continue
        status = models.status(
            c, r, found, rows, deadline.share(1.0, cap=run_time), seed, quick=quick
        )
        if status in ("FEASIBLE", "OPTIMAL"):
            return "FEASIBLE"
        if status != "INFEASIBLE":
            verdict = "UNKNOWN"
    return verdict


def _conflict(
    models: _UnitModels,
    c: int,
    ball: dict[int, tuple[np.ndarray, np.ndarray]],
    deadline: Deadline,
    seed: int,
) -> UnitConflict:
    """The proven conflict of ``c``, with the rows whose windows alone fail (each
    checked within a share of the time left; undecided rows are not named)."""
    hard = models.balls.hard
    alone = []
    for j, k in enumerate(hard.tolist()):
        share = deadline.share(1.0 / (hard.size - j))
        if _unit_verdict(models, c, ball, np.array([k]), share, share.remaining(), seed) == (
            "INFEASIBLE"
        ):
            alone.append(int(k))
    widest = max((members.size for members, _ in ball.values()), default=0)
    return UnitConflict(c, widest, tuple(alone), tuple(int(k) for k in hard.tolist()))
