"""[`simulate`][alloc.leads.simulate]: run a router over a stream of leads, period by period.

The engine owns the state: each period it builds the batch of arriving leads (dense
pair arrays), asks the router for a [`Decision`][alloc.leads.Decision], checks that it
only uses eligible pairs, records any cap breach (the conformance suite asserts there
are none), and updates the counts the routers see. Routes and per-rep tables come from
[`alloc.leads.reporting`][alloc.leads.reporting], so every router is scored alike.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from alloc.errors import InvalidParameterError, format_ids
from alloc.leads.data import LeadInputs, PeriodBatch, WinProb, prepare_inputs
from alloc.leads.reporting import fallback_reasons, rep_table, route_table
from alloc.leads.routers import Decision, Router, RoutingState, check_router
from alloc.validation import check_param, is_int

__all__ = ["FAIRNESS_CORRECTION", "Simulation", "simulate"]

#: Reason of a lead the fairness repair moved to another rep.
FAIRNESS_CORRECTION = "fairness correction"


@dataclass(frozen=True)
class Simulation:
    """The outcome of [`simulate`][alloc.leads.simulate].

    Attributes
    ----------
    router : str
        The router's name.
    routes : pandas.DataFrame
        One row per lead: ``lead_id, period, rep_id`` (missing when sent to the fallback
        queue), ``p_win, expected_value, won, reason``.
    by_rep : pandas.DataFrame
        One row per rep: ``rep_id, leads, expected_value, won_value, share,
        weight_share, share_gap`` (share / weight share - 1) and ``cap_breaches``
        (periods in which the rep got more leads than its cap).
    seconds : float
        Wall time of the routing (inputs checked and indexed beforehand).
    seed : int
        The seed of the run.
    """

    router: str
    routes: pd.DataFrame
    by_rep: pd.DataFrame
    seconds: float
    seed: int

    @property
    def summary(self) -> dict[str, Any]:
        """Headline figures: expected and won value, routed and fallback leads, the
        largest share gap, cap breaches and routing speed (leads per second)."""
        routed = self.routes["rep_id"].notna()
        n = len(self.routes)
        return {
            "router": self.router,
            "seed": self.seed,
            "expected_value": float(self.routes["expected_value"].sum()),
            "won_value": float(self.by_rep["won_value"].sum()),
            "routed": int(routed.sum()),
            "fallback": int((~routed).sum()),
            "max_share_gap": float(self.by_rep["share_gap"].abs().max())
            if len(self.by_rep)
            else 0.0,
            "cap_breaches": int(self.by_rep["cap_breaches"].sum()),
            "leads_per_second": n / self.seconds if self.seconds > 0 else float("inf"),
        }


def _check_decision(
    decision: object, batch: PeriodBatch, inputs: LeadInputs, name: str
) -> np.ndarray:
    if not isinstance(decision, Decision):
        raise InvalidParameterError(
            f"router {name!r} must return an alloc.leads.Decision from route(); got "
            f"{type(decision).__name__}."
        )
    assign = np.asarray(decision.assign)
    n = batch.leads.size
    if (
        assign.shape != (n,)
        or assign.dtype.kind not in "iu"
        or (assign < -1).any()
        or (assign >= inputs.n_reps).any()
    ):
        raise InvalidParameterError(
            f"router {name!r} must return one rep index in [-1, {inputs.n_reps - 1}] per "
            f"lead of the batch ({n}); got shape {assign.shape}, dtype {assign.dtype}."
        )
    routed = np.flatnonzero(assign >= 0)
    bad = routed[~batch.eligible[routed, assign[routed]]]
    if bad.size:
        pairs = list(
            zip(
                inputs.lead_ids[batch.leads[bad]].tolist(),
                inputs.rep_ids[assign[bad]].tolist(),
                strict=True,
            )
        )
        raise InvalidParameterError(
            f"router {name!r} routed pairs (lead_id, rep_id) {format_ids(pairs)} that are "
            "not eligible (not listed in win_prob)."
        )
    return assign.astype(np.int64)


def run_router(
    inputs: LeadInputs, router: Router, seed: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """Route every period; return the rep per lead row, the moved mask and the time."""
    state = RoutingState(
        rep_ids=inputs.rep_ids,
        cap=inputs.cap.copy(),
        weight_share=inputs.weight_share.copy(),
        counts=np.zeros(inputs.n_reps, dtype=np.int64),
        total=0,
        n_periods=inputs.n_periods,
        seed=seed,
    )
    assign = np.full(inputs.n_leads, -1, dtype=np.int64)
    moved = np.zeros(inputs.n_leads, dtype=bool)
    t0 = time.perf_counter()
    router.start(state)
    for period in range(inputs.n_periods):
        batch = inputs.batch(period)
        decision = router.route(batch, state)
        chosen = _check_decision(decision, batch, inputs, router.name)
        assign[batch.leads] = chosen
        moved[batch.leads] = np.asarray(decision.corrected, dtype=bool) & (chosen >= 0)
        routed = chosen[chosen >= 0]
        state.counts += np.bincount(routed, minlength=inputs.n_reps)
        state.total += int(routed.size)
    return assign, moved, time.perf_counter() - t0


def simulate(
    leads: pd.DataFrame,
    reps: pd.DataFrame,
    router: Router,
    win_prob: WinProb,
    *,
    capacity: str = "daily_cap",
    seed: int = 0,
) -> Simulation:
    """Route a stream of leads period by period with ``router`` and score the routes.

    Parameters
    ----------
    leads : pandas.DataFrame
        ``lead_id``, ``arrival`` (integer period or timestamp, read by day), ``value``
        and any attributes. Within a period, leads arrive in row order.
    reps : pandas.DataFrame
        ``rep_id``, the ``capacity`` column (most leads per period) and an optional
        ``weight`` column (target share of leads).
    router : Router
        One of [`RoundRobin`][alloc.leads.RoundRobin], [`LeastLoaded`][alloc.leads.LeastLoaded],
        [`BestFit`][alloc.leads.BestFit], [`ExpectedValue`][alloc.leads.ExpectedValue] or
        your own object with the [`Router`][alloc.leads.Router] members.
    win_prob : pandas.DataFrame or callable
        ``lead_id, rep_id, p_win`` for the eligible pairs (a missing pair is not
        eligible), or a callable returning that table for a DataFrame of leads.
    capacity : str
        Name of the reps' capacity column.
    seed : int
        Seeds the won/lost draws (one uniform per lead, shared by all routers) and the
        routers' tie order.

    Returns
    -------
    Simulation

    Raises
    ------
    InvalidProblemError
        Bad tables (see [`prepare_inputs`][alloc.leads.data.prepare_inputs]).
    InvalidParameterError
        A bad router or seed, or a router that routes an ineligible pair.

    Examples
    --------
    >>> import alloc.leads as al
    >>> s = al.make_leads(n_leads=300, n_reps=6, n_days=10, seed=1)
    >>> sim = al.simulate(s.leads, s.reps, al.BestFit(), s.win_prob, seed=0)
    >>> int(sim.by_rep["cap_breaches"].sum())
    0
    """
    check_router(router, owner="simulate")
    check_param("seed", seed, "simulate", is_int(seed) and seed >= 0, "an integer >= 0")
    inputs = prepare_inputs(leads, reps, win_prob, capacity=capacity, owner="simulate")
    assign, moved, seconds = run_router(inputs, router, int(seed))
    reason = np.where(moved, FAIRNESS_CORRECTION, router.reason).astype(object)
    reason = fallback_reasons(inputs, assign, reason)
    routes = route_table(inputs, assign, reason, int(seed))
    return Simulation(router.name, routes, rep_table(inputs, assign, routes), seconds, int(seed))
