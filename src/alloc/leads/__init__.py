"""Leads and prospects: route a stream of new leads fairly and by expected value.

>>> import alloc.leads as al
>>> s = al.make_leads(n_leads=400, n_reps=10, n_days=10, seed=0)
>>> sim = al.simulate(s.leads, s.reps, al.ExpectedValue(fairness=0.1), s.win_prob)
>>> sim.summary["cap_breaches"]
0

See the [leads guide](../leads.md): [`simulate`][alloc.leads.simulate] runs a
[`Router`][alloc.leads.Router] period by period; [`hindsight`][alloc.leads.hindsight]
is the offline optimum with the same caps and fairness window.
"""

from __future__ import annotations

from alloc.leads import plotting
from alloc.leads.data import LeadInputs, PeriodBatch, prepare_inputs
from alloc.leads.generate import LeadScenario, make_history, make_leads
from alloc.leads.offline import Hindsight, hindsight
from alloc.leads.prospecting import ProspectPlan, plan_prospecting
from alloc.leads.reporting import FALLBACK_AT_CAP, FALLBACK_NO_REP
from alloc.leads.routers import (
    BaseRouter,
    BestFit,
    Decision,
    ExpectedValue,
    LeastLoaded,
    RoundRobin,
    Router,
    RoutingState,
    check_router,
    default_routers,
)
from alloc.leads.simulation import FAIRNESS_CORRECTION, Simulation, simulate
from alloc.leads.tournament import ROUTER_COLUMNS, compare_routers
from alloc.leads.winmodel import WinModel, fit_win_model

__all__ = [
    "FAIRNESS_CORRECTION",
    "FALLBACK_AT_CAP",
    "FALLBACK_NO_REP",
    "ROUTER_COLUMNS",
    "BaseRouter",
    "BestFit",
    "Decision",
    "ExpectedValue",
    "Hindsight",
    "LeadInputs",
    "LeadScenario",
    "LeastLoaded",
    "PeriodBatch",
    "ProspectPlan",
    "RoundRobin",
    "Router",
    "RoutingState",
    "Simulation",
    "WinModel",
    "check_router",
    "compare_routers",
    "default_routers",
    "fit_win_model",
    "hindsight",
    "make_history",
    "make_leads",
    "plan_prospecting",
    "plotting",
    "prepare_inputs",
    "simulate",
]
