"""Core search: CP-SAT (and HiGHS) on growing cores of low-reduced-cost pairs.

For objectives made of linear terms (cost, fit, travel, disruption) with hard rows, the
Lagrangian relaxation's reduced costs say which few reps each customer plausibly goes
to. CP-SAT searches a core of about 1.5 pairs per customer far better than the whole
model, and once a core holds every pair that could be in a better plan (reduced-cost
fixing), its optimum is optimal for the whole model. HiGHS gets turns on narrow cores
in long solves, or searches the whole of a small model beside CP-SAT.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from alloc.data.model import Model
from alloc.solvers.bounds import Lagrangian
from alloc.solvers.cpsat import solve_cpsat
from alloc.solvers.deadline import Deadline
from alloc.solvers.mip import MipResult, MipSearch, solve_mip
from alloc.solvers.scaling import Scaled
from alloc.solvers.state import Rows, Score, score_of

__all__ = ["CoreOutcome", "CoreSearch", "feasible"]


@dataclass(frozen=True)
class CoreOutcome:
    chosen: np.ndarray | None
    status: str  # CP-SAT status of the last core ("INFEASIBLE" only for the whole model)
    proven: bool  # the plan is optimal for the whole model
    # CP-SAT proved its integer model optimal, but rows were rounded for it, so the plan
    # is not proven optimal for the true data.
    blocked_by_scaling: bool = False
    found_by: str = "cp-sat core"  # the search that found the plan
    proven_by: str = "CP-SAT"
    bound: float = -math.inf  # a lower bound proven on the way (HiGHS's), if any


#: Core sizes tried in turn, in pairs per unit (the whole model comes last).
_CORE_SIZES = (1.5, 2.0, 3.0, 5.0, 8.0)
MIP_MIN_SECONDS = 20.0  # core search time from which HiGHS gets a share
MIP_MAX_PAIRS_PER_UNIT = 2.5  # widest second core HiGHS gets a turn on
MIP_BESIDE_MAX_PAIRS = 5_000  # models HiGHS searches whole, beside CP-SAT
MIP_TINY_PAIRS = 1_000  # models HiGHS searches whole beside CP-SAT at any time limit


class CoreSearch:
    """CP-SAT on growing cores of the pairs with the smallest Lagrangian reduced costs.

    Most units of a cost-driven problem have one or two plausible reps; the reduced
    costs say which. CP-SAT searches a core of about 1.5 pairs per unit far better than
    the whole model (measured on the GAP suite, 10 s, 900-1,600 customers x 40-80 reps:
    0.06-1.7 % from the best known values, where the whole model ended 1-150 % off).
    Every core holds the best plan's pairs; the first is searched without a hint, later
    ones from the best plan, each wider than the last. Pairs whose reduced
    cost exceeds ``incumbent - bound`` cannot be in a better plan, so once the core holds
    every other pair, CP-SAT's optimum on it is optimal for the whole model.
    """

    def __init__(
        self,
        model: Model,
        rows: Rows,
        scaled: Scaled,
        relaxation: Lagrangian,
        chosen: np.ndarray,
        best: Score,
        deadline: Deadline,
        seed: int,
        workers: int,
        say: Callable[..., None],
    ) -> None:
        self.model, self.rows, self.scaled, self.relaxation = model, rows, scaled, relaxation
        self.deadline, self.seed, self.workers, self.say = deadline, seed, workers, say
        self.rc = relaxation.reduced
        self.integral = bool(np.allclose(model.cost, np.round(model.cost), rtol=0, atol=1e-9))
        # As for the whole model: rows rounded for CP-SAT block a proof; fractional costs
        # do not (CP-SAT scales a float objective itself and proves within its tolerance).
        self.exact_data = scaled.error == 0
        # One cheapest pair per unit keeps every core feasible for the assignment rows.
        self.first = np.zeros(model.n_pairs, dtype=bool)
        self.first[relaxation.assignment] = True
        self.sorted_rc = np.sort(self.rc)
        self.current = chosen.copy() if best.penalty == 0 else None
        self.current_obj = (
            float(model.cost[self.current].sum()) if self.current is not None else math.inf
        )
        self.current_by = "cp-sat core"
        # Reduced costs are often tied (integer costs: on the GAP type D suite 3-4 pairs
        # per unit sit at 0, and the best plans use them all), so a core cut at a count
        # would drop tied pairs at random; each cut takes every pair within `tie` of it.
        self.tie = 1e-3 * float(np.mean(np.abs(model.cost)))
        self.beside: MipSearch | None = None
        self.mip_bound = -math.inf
        self.cp_workers = workers
        self.use_mip = False
        self.status, self.proven, self.whole = "UNKNOWN", False, False
        self.blocked, self.proven_by = False, "CP-SAT"
        self.level, self.last_delta = 0, -math.inf

    def keep(self, plan: np.ndarray | None, label: str, pairs: int) -> None:
        """Keep a plan that meets the true rows and costs less than the current one."""
        if plan is None or not feasible(self.model, self.rows, plan):
            return
        obj = float(self.model.cost[plan].sum())
        # Without an incumbent any feasible plan is kept (inf - 1e-9 * inf would be NaN).
        if self.current is None or obj < self.current_obj - 1e-9 * max(1.0, abs(self.current_obj)):
            self.current, self.current_obj, self.current_by = plan, obj, label
            self.say(label, None, f"objective {obj:.6g} on {pairs} pairs")

    def cut(self, level: int) -> float:
        """Largest reduced cost in the core of ``_CORE_SIZES[level]`` pairs per unit."""
        size = int(_CORE_SIZES[level] * self.model.n_units)
        return float(self.sorted_rc[size]) + self.tie if size < self.model.n_pairs else math.inf

    def settle(self, found: MipResult) -> bool:
        """Keep HiGHS's plan and bound; True when no better plan can exist."""
        self.keep(found.chosen, "mip", self.model.n_pairs)
        self.mip_bound = max(self.mip_bound, found.bound)
        if self.current is None or not math.isfinite(found.bound):
            return False
        slack = 1.0 - 1e-6 if self.integral else 1e-9 * max(1.0, abs(self.current_obj))
        return found.status == "OPTIMAL" and self.current_obj - found.bound < slack

    def _plan_highs(self) -> None:
        """Give HiGHS core turns, or start it on the whole model beside CP-SAT.

        Long solves also give HiGHS a turn (see alloc.solvers.mip) when the second core
        is narrow; short ones keep all the time for CP-SAT, which finds good plans
        sooner. On wide cores (many tied reduced costs: GAP type D, 4 pairs per
        customer) HiGHS found nothing in 15 s, and the time was lost to CP-SAT
        (measured, 60 s runs).
        """
        model, P = self.model, self.model.n_pairs
        second_pairs = int(np.sum(self.rc <= self.cut(1)))
        self.use_mip = (
            self.deadline.remaining() >= MIP_MIN_SECONDS
            and second_pairs <= MIP_MAX_PAIRS_PER_UNIT * model.n_units
        )
        # Small models: HiGHS on the whole model in its own thread, beside CP-SAT's cores
        # (one worker fewer). It proves optimality where the cores cannot (GAP e20100,
        # 2,000 pairs: optimal in about 47 s, where the cores ended 0.1-0.2 % above it).
        # Larger models keep the core turns: there HiGHS does far better on a narrow
        # core than on the whole model, and CP-SAT's first core needs every worker (GAP
        # e40400, 60 s: 44,569 with the core turns, 44,627-44,673 with HiGHS on the
        # whole model).
        # Tiny models get HiGHS at any time limit: on floats (distances, money) CP-SAT's
        # scaled model cannot prove the optimum, and HiGHS often does in well under a
        # second (100 x 10 with distances and a Balance window: proven where CP-SAT's
        # cores ended 1.3 % above the Lagrangian bound).
        tiny = P <= MIP_TINY_PAIRS
        if (self.use_mip or tiny) and P <= MIP_BESIDE_MAX_PAIRS and self.workers >= 2:
            self.say("mip", None, f"HiGHS on all {P} pairs beside CP-SAT")
            self.beside = MipSearch(
                model,
                self.rows,
                pair_mask=np.ones(P, dtype=bool),
                deadline=self.deadline,
                start=self.current,
            ).start()
            self.cp_workers, self.use_mip = self.workers - 1, False

    def _beside_proved(self) -> bool:
        """Collect HiGHS beside CP-SAT once it has ended; True when it proved optimality."""
        if self.beside is None or self.beside.running():
            return False
        done, self.beside, self.cp_workers = self.beside.finish(), None, self.workers
        # settle() re-checks HiGHS's plan on the true rows before the proof counts.
        if self.settle(done):
            self.status, self.proven, self.proven_by = "OPTIMAL", True, "HiGHS"
            return True
        return False

    def _next_core(self) -> tuple[np.ndarray, bool]:
        """The next core (wider than the last) and whether it is exact."""
        # Every pair that could be in a strictly better plan.
        allowance = math.inf
        if self.current is not None:
            allowance = self.current_obj - self.relaxation.bound - (1.0 if self.integral else 0.0)
            allowance += 1e-6 * max(1.0, abs(self.current_obj))
        # The next cut that is wider than the last one (tied cuts are skipped).
        delta = math.inf
        while self.level < len(_CORE_SIZES):
            delta = self.cut(self.level)
            if delta > self.last_delta:
                break
            self.level += 1
        if self.level >= len(_CORE_SIZES):
            delta = math.inf
        self.last_delta = delta
        mask = (self.rc <= min(delta, allowance)) | self.first
        if self.current is not None:
            mask[self.current] = True
        self.whole = bool(mask.all())
        return mask, delta >= allowance

    def _highs_turn(self, mask: np.ndarray) -> str:
        """HiGHS first on each wider core while it closes them.

        On a core it cannot close, CP-SAT goes on from the best plan and HiGHS gets no
        further turn. Returns "next" (HiGHS closed the core: try the next one), "stop"
        (no time left) or "cp-sat".
        """
        found = solve_mip(self.model, self.rows, pair_mask=mask, deadline=self.deadline.share(0.5))
        self.keep(found.chosen, "mip core", int(mask.sum()))
        if found.status == "OPTIMAL" and not self.whole and self.level < len(_CORE_SIZES):
            self.level += 1  # CP-SAT cannot beat HiGHS's optimum on the same core
            return "next"
        self.use_mip = found.status == "OPTIMAL"
        return "stop" if self.deadline.remaining() < 0.1 else "cp-sat"

    def _cp_sat_turn(self, mask: np.ndarray, exact: bool) -> bool:
        """CP-SAT on the core; True when the search ends (proof, or nothing left)."""
        remaining = self.deadline.remaining()
        share = (0.45 if self.use_mip else 0.75) if self.level == 0 else 0.5
        turn = (
            self.deadline
            if exact or self.whole
            else self.deadline.share(max(share, min(1.0, 1.0 / max(remaining, 1e-9))))
        )
        res = solve_cpsat(
            self.model,
            self.rows,
            self.scaled,
            deadline=turn,
            seed=self.seed + self.level,
            workers=self.cp_workers,
            # The first core is searched without a hint: a hint from a local-search
            # plan traps CP-SAT near it (measured on the GAP suite).
            hint=self.current if self.level > 0 else None,
            pair_mask=None if self.whole else mask,
            # CP-SAT stops when HiGHS has proven its plan optimal (checked before).
            stop=self.beside.proved if self.beside is not None else None,
        )
        self.keep(res.chosen, "cp-sat core", int(mask.sum()))
        self.status = res.status
        # CP-SAT's optimum proves only a plan at least as good as its own (its plan may
        # have been refused on the raw rows).
        own = math.inf if res.chosen is None else float(self.model.cost[res.chosen].sum())
        kept = self.current is not None and self.current_obj <= own + 1e-9 * max(1.0, abs(own))
        if (res.status == "OPTIMAL" and (exact or self.whole) and kept) or (
            res.status == "INFEASIBLE" and exact and self.current is not None
        ):
            # Optimal on a core that holds every improving pair (or no better plan).
            self.proven, self.blocked = self.exact_data, not self.exact_data
            return True
        if res.status == "INFEASIBLE" and self.whole:
            return True
        if self.level >= len(_CORE_SIZES):
            return True
        self.level += 1
        return False

    def run(self) -> CoreOutcome:
        self._plan_highs()
        while not self._beside_proved() and self.deadline.remaining() >= 0.1:
            mask, exact = self._next_core()
            if self.use_mip and self.level > 0 and not exact:
                turn = self._highs_turn(mask)
                if turn == "next":
                    continue
                if turn == "stop":
                    break
            if self._cp_sat_turn(mask, exact):
                break
        if self.beside is not None and self.settle(self.beside.finish()) and not self.proven:
            self.status, self.proven, self.blocked, self.proven_by = "OPTIMAL", True, False, "HiGHS"
        if self.status == "INFEASIBLE" and not self.whole:
            self.status = "UNKNOWN"  # a core without a plan says nothing about the whole model
        return CoreOutcome(
            self.current,
            self.status,
            self.proven,
            self.blocked,
            self.current_by,
            self.proven_by,
            self.mip_bound,
        )


def feasible(model: Model, rows: Rows, chosen: np.ndarray) -> bool:
    """True when a plan meets every hard row on the true (unscaled) data."""
    return score_of(model, rows, chosen, rows.loads(model, chosen)).penalty == 0
