"""Plots of lead routing and prospecting plans (matplotlib, imported on first use).

Functions draw on a matplotlib ``Axes`` (created when not given) and return it, like
[`alloc.plot`][alloc.plot].
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from alloc.errors import InvalidParameterError
from alloc.leads.prospecting import ProspectPlan
from alloc.leads.simulation import Simulation

__all__ = ["cumulative_value", "prospecting_hours", "share_by_rep"]


def _simulations(
    sims: Simulation | Mapping[str, Simulation] | list[Simulation],
) -> dict[str, Simulation]:
    if isinstance(sims, Simulation):
        return {sims.router: sims}
    if isinstance(sims, Mapping):
        named = dict(sims)
    else:
        named = {s.router: s for s in sims}
    if not named or not all(isinstance(s, Simulation) for s in named.values()):
        raise InvalidParameterError(
            "the 'sims' parameter must be a Simulation, a list of them or a dict "
            f"label -> Simulation; got {type(sims).__name__}."
        )
    return named


def cumulative_value(
    sims: Simulation | Mapping[str, Simulation] | list[Simulation],
    *,
    bound: float | None = None,
    ax: Any = None,
) -> Any:
    """Cumulative expected value over the periods, one line per simulation.

    Parameters
    ----------
    sims : Simulation, list of Simulation or dict label -> Simulation
    bound : float, optional
        A horizontal line, e.g. ``hindsight(...).bound``.
    ax : matplotlib Axes, optional

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import alloc.leads as al
    >>> s = al.make_leads(n_leads=200, n_reps=10, n_days=5, seed=0)
    >>> routers = (al.RoundRobin(), al.BestFit())
    >>> sims = [al.simulate(s.leads, s.reps, r, s.win_prob) for r in routers]
    >>> ax = al.plotting.cumulative_value(sims)
    """
    import matplotlib.pyplot as plt

    named = _simulations(sims)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    for label, sim in named.items():
        per = sim.routes.groupby("period", sort=True)["expected_value"].sum().cumsum()
        ax.plot(np.asarray(per.index), per.to_numpy(), label=label)
    if bound is not None:
        ax.axhline(bound, color="grey", linestyle=":", label="hindsight bound")
    ax.set_xlabel("period")
    ax.set_ylabel("cumulative expected value")
    ax.legend()
    return ax


def share_by_rep(sim: Simulation, *, fairness: float | None = 0.1, ax: Any = None) -> Any:
    """Each rep's share of the routed leads divided by its weight share (1 = on target),
    with the ``1 +- fairness`` band shaded."""
    import matplotlib.pyplot as plt

    if not isinstance(sim, Simulation):
        raise InvalidParameterError(
            f"the 'sim' parameter must be a Simulation; got {type(sim).__name__}."
        )
    by_rep = sim.by_rep
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6.0, 0.2 * len(by_rep)), 3.5))
    ax.bar(np.arange(len(by_rep)), (by_rep["share_gap"] + 1.0).to_numpy())
    if fairness is not None:
        ax.axhspan(1 - fairness, 1 + fairness, color="grey", alpha=0.3)
    ax.set_xlabel("rep")
    ax.set_ylabel("share / weight share")
    ax.set_title(sim.router)
    return ax


def prospecting_hours(plan: ProspectPlan, *, ax: Any = None) -> Any:
    """Planned against free hours per rep (summed over periods)."""
    import matplotlib.pyplot as plt

    if not isinstance(plan, ProspectPlan):
        raise InvalidParameterError(
            f"the 'plan' parameter must be a ProspectPlan; got {type(plan).__name__}."
        )
    per_rep = plan.by_rep_period.groupby("rep_id", sort=False)[
        ["free_hours", "planned_hours"]
    ].sum()
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6.0, 0.3 * len(per_rep)), 3.5))
    x = np.arange(len(per_rep))
    ax.bar(x, per_rep["free_hours"].to_numpy(), color="lightgrey", label="free hours")
    ax.bar(x, per_rep["planned_hours"].to_numpy(), width=0.5, label="prospecting hours")
    ax.set_xticks(x)
    ax.set_xticklabels([str(r) for r in per_rep.index], rotation=90)
    ax.set_ylabel("hours")
    ax.legend()
    return ax
