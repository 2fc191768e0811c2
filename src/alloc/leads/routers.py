"""Lead routers behind one [`Router`][alloc.leads.Router] protocol.

A router decides, one period (batch) at a time, which rep gets each new lead.
[`alloc.leads.simulate`][alloc.leads.simulate] owns the state (caps left, counts so far)
and hands each router the same view, so every router obeys the same contract, checked
by one conformance test: it never gives a rep more leads in a period than its cap, it
routes only eligible pairs, a lead it does not route goes to the fallback queue with a
reason, and it is deterministic for a seed.

| router | reads value | keeps the fairness window | what it does |
|---|---|---|---|
| `RoundRobin` | no | by its turns | the eligible rep furthest below its weighted share |
| `LeastLoaded` | no | no | the eligible rep with the fewest leads this period |
| `BestFit` | yes | no | the eligible rep with the highest expected value |
| `ExpectedValue` | yes | yes | highest expected value minus bid prices, then a fairness repair |

Ties are broken in an order rotated by the seed, so different seeds spread ties
differently and one seed always gives the same routes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from alloc.errors import InvalidParameterError, InvalidProblemError, format_ids
from alloc.leads.batching import repair_window, route_by_score
from alloc.leads.data import PeriodBatch
from alloc.leads.pricing import PriceModel
from alloc.validation import Param, check_fraction, check_params, is_int, is_real_at_least

__all__ = [
    "BaseRouter",
    "BestFit",
    "Decision",
    "ExpectedValue",
    "LeastLoaded",
    "RoundRobin",
    "Router",
    "RoutingState",
    "check_router",
    "default_routers",
]


@dataclass
class RoutingState:
    """What a router knows between periods; [`simulate`][alloc.leads.simulate] updates it.

    Attributes
    ----------
    rep_ids : numpy.ndarray
        Rep ids, in the column order of every batch.
    cap : numpy.ndarray
        Most leads per period per rep.
    weight_share : numpy.ndarray
        Target share of leads per rep (sums to 1).
    counts : numpy.ndarray
        Leads routed to each rep so far (over the horizon).
    total : int
        Leads routed so far (fallback excluded).
    n_periods : int
        Periods in the horizon.
    seed : int
        The run's seed.
    memory : dict
        The router's own notes between periods (e.g. the last batch as a forecast).
    """

    rep_ids: np.ndarray
    cap: np.ndarray
    weight_share: np.ndarray
    counts: np.ndarray
    total: int
    n_periods: int
    seed: int
    memory: dict[str, Any] = field(default_factory=dict)

    def tie_order(self) -> np.ndarray:
        """A rank per rep, rotated by the seed, used to break ties (lower wins)."""
        n = self.rep_ids.size
        return (np.arange(n) - self.seed) % max(n, 1)


@dataclass(frozen=True)
class Decision:
    """A router's answer for one batch: a rep index per lead (``-1``: fallback queue) and
    which leads a fairness correction moved."""

    assign: np.ndarray
    corrected: np.ndarray


@runtime_checkable
class Router(Protocol):
    """What [`alloc.leads.simulate`][alloc.leads.simulate] needs of a router.

    Attributes
    ----------
    name : str
        Label in tables and plots.
    reason : str
        Why a lead it routes went to its rep (the ``reason`` column of the routes).
    uses_value : bool
        The router reads win probabilities and deal values.
    keeps_fairness : bool
        The router steers each rep's cumulative share of leads into its window.

    Methods
    -------
    start(state)
        Called once before the first period (reset notes in ``state.memory``).
    route(batch, state)
        Return a [`Decision`][alloc.leads.Decision] for the batch; never more leads to a
        rep than ``state.cap`` in the period, only eligible pairs.
    """

    @property
    def name(self) -> str: ...

    @property
    def reason(self) -> str: ...

    @property
    def uses_value(self) -> bool: ...

    @property
    def keeps_fairness(self) -> bool: ...

    def start(self, state: RoutingState) -> None: ...

    def route(self, batch: PeriodBatch, state: RoutingState) -> Decision: ...


def check_router(router: object, *, owner: str = "simulate") -> None:
    """Check that ``router`` has the [`Router`][alloc.leads.Router] members, before any work.

    Raises
    ------
    InvalidParameterError
        Naming the missing member or the flag that is not a bool.
    """
    name = getattr(router, "name", None)
    if not isinstance(name, str) or not name:
        raise InvalidParameterError(
            f"the 'router' parameter of {owner} must be an alloc.leads router with a "
            f"non-empty string 'name'; got {router!r}."
        )
    for flag in ("uses_value", "keeps_fairness"):
        if not isinstance(getattr(router, flag, None), bool):
            raise InvalidParameterError(
                f"the 'router' parameter of {owner} must have a bool {flag!r} flag; "
                f"router {name!r} has {getattr(router, flag, None)!r}."
            )
    for method in ("start", "route"):
        if not callable(getattr(router, method, None)):
            raise InvalidParameterError(
                f"the 'router' parameter of {owner} must have a {method}() method; "
                f"router {name!r} ({type(router).__name__}) has none."
            )


class BaseRouter:
    """Shared parts: declared parameters checked at construction, a name, a repr."""

    PARAMS: ClassVar[dict[str, Param]] = {}
    reason: ClassVar[str] = "routed"
    uses_value: ClassVar[bool] = False
    keeps_fairness: ClassVar[bool] = False

    def __init__(self, *, name: str | None = None, **params: Any) -> None:
        check_params(type(self).__name__, self.PARAMS, params)
        if name is not None and (not isinstance(name, str) or not name):
            raise InvalidParameterError(
                f"the 'name' parameter of {type(self).__name__} must be a non-empty string; "
                f"got {name!r}."
            )
        self.name: str = name or type(self).__name__
        self.params = params

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{type(self).__name__}({args})"

    def start(self, state: RoutingState) -> None:
        state.memory.clear()

    def route(self, batch: PeriodBatch, state: RoutingState) -> Decision:
        raise NotImplementedError


def _check_weights(weights: object) -> bool:
    if weights is None or isinstance(weights, str):
        return True
    if not isinstance(weights, Mapping) or not weights:
        return False
    return (
        all(is_real_at_least(v, 0) for v in weights.values())
        and sum(float(v) for v in weights.values()) > 0
    )


class RoundRobin(BaseRouter):
    """Weighted round robin: each lead goes to the eligible rep with room that is
    furthest below its weighted share of the leads routed so far (smooth weighted round
    robin; equal weights give plain turns).

    Parameters
    ----------
    weights : mapping rep_id -> weight, optional
        Target weights; the reps' ``weight`` column (or equal weights) when omitted.
    name : str, optional
        Label in tables.
    """

    PARAMS: ClassVar[dict[str, Param]] = {
        "weights": Param(
            _check_weights,
            "None or a non-empty mapping rep_id -> weight >= 0 with a positive total",
        )
    }
    reason = "weighted round robin"

    def __init__(
        self, weights: Mapping[Any, float] | None = None, *, name: str | None = None
    ) -> None:
        super().__init__(name=name, weights=weights)
        self.weights = weights

    def start(self, state: RoutingState) -> None:
        super().start(state)
        if self.weights is None:
            share = state.weight_share
        else:
            unknown = [r for r in self.weights if r not in set(state.rep_ids.tolist())]
            if unknown:
                raise InvalidProblemError(
                    f"the 'weights' of RoundRobin name unknown reps {format_ids(unknown)}."
                )
            raw = np.array([float(self.weights.get(r, 0.0)) for r in state.rep_ids.tolist()])
            share = raw / raw.sum()
        state.memory["share"] = share
        state.memory["served"] = np.zeros(state.rep_ids.size)
        state.memory["served_total"] = 0

    def route(self, batch: PeriodBatch, state: RoutingState) -> Decision:
        share = state.memory["share"]
        served = state.memory["served"]
        total = state.memory["served_total"]
        room = state.cap.astype(np.int64).copy()
        tie = state.tie_order() * 1e-9
        assign = np.full(batch.leads.size, -1, dtype=np.int64)
        for i in range(batch.leads.size):
            open_ = batch.eligible[i] & (room > 0)
            if not open_.any():
                continue
            deficit = share * (total + 1) - served - tie
            r = int(np.argmax(np.where(open_, deficit, -np.inf)))
            assign[i] = r
            room[r] -= 1
            served[r] += 1
            total += 1
        state.memory["served_total"] = total
        return Decision(assign, np.zeros(assign.size, dtype=bool))


class LeastLoaded(BaseRouter):
    """Each lead goes to the eligible rep with room that has the fewest leads this period
    (counts reset every period), ties in seed-rotated order.

    Parameters
    ----------
    name : str, optional
        Label in tables.
    """

    reason = "least loaded"

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(name=name)

    def route(self, batch: PeriodBatch, state: RoutingState) -> Decision:
        room = state.cap.astype(np.int64).copy()
        load = np.zeros(state.rep_ids.size)
        tie = state.tie_order() * 1e-9
        assign = np.full(batch.leads.size, -1, dtype=np.int64)
        for i in range(batch.leads.size):
            open_ = batch.eligible[i] & (room > 0)
            if not open_.any():
                continue
            r = int(np.argmin(np.where(open_, load + tie, np.inf)))
            assign[i] = r
            room[r] -= 1
            load[r] += 1
        return Decision(assign, np.zeros(assign.size, dtype=bool))


class BestFit(BaseRouter):
    """Each lead goes to the eligible rep with room and the highest ``p_win * value``
    (caps only, no fairness); vectorised per batch.

    Parameters
    ----------
    name : str, optional
        Label in tables.
    """

    reason = "best expected value"
    uses_value = True

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(name=name)

    def route(self, batch: PeriodBatch, state: RoutingState) -> Decision:
        assign = _route_in_tie_order(batch.expected, state)
        return Decision(assign, np.zeros(assign.size, dtype=bool))


def _route_in_tie_order(score: np.ndarray, state: RoutingState) -> np.ndarray:
    """[`route_by_score`][alloc.leads.batching.route_by_score] with the reps in the seed's
    tie order, so exact ties go to the first rep in that order."""
    order = np.argsort(state.tie_order(), kind="stable")
    chosen = route_by_score(score[:, order], state.cap[order])
    return np.where(chosen >= 0, order[np.maximum(chosen, 0)], -1)


def _fairness_ok(value: object) -> bool:
    return is_real_at_least(value, 0) and float(value) < 1  # type: ignore[arg-type]


class ExpectedValue(BaseRouter):
    """Bid-price routing: expected value minus prices on caps and on the fairness window.

    Each period, before routing, an LP over a forecast of the period's leads (the last
    period's leads) gives a price per rep: the duals of its cap and of its window rows
    (see [`alloc.leads.pricing`][alloc.leads.pricing]). Each lead goes to the eligible
    rep with room maximising ``p_win * value - price`` (caps hard, vectorised). Then a
    corrective step moves the cheapest leads so that each rep's cumulative count stays
    within ``(1 +- margin * fairness)`` of its weighted share, rounded outwards to whole
    leads, and in the last period within ``(1 +- fairness)`` (the margin leaves the
    last period room to land inside the full window).

    Parameters
    ----------
    fairness : float
        Half-width of the window on each rep's share of leads, relative to its weight
        share (0.1: within +-10 % of its weighted share).
    margin : float
        Fraction of ``fairness`` the router aims for (0 < margin <= 1).
    forecast_size : int or None
        Most forecast leads in the price LP: a larger last period is thinned to every
        k-th lead, each standing for k leads (keeps the LP small; None: all leads).
    name : str, optional
        Label in tables.
    """

    PARAMS: ClassVar[dict[str, Param]] = {
        "fairness": Param(_fairness_ok, "a fraction in [0, 1)"),
        "margin": Param(
            lambda v: is_real_at_least(v, 0, strict=True) and float(v) <= 1, "a number in (0, 1]"
        ),
        "forecast_size": Param(
            lambda v: v is None or (is_int(v) and v >= 1), "None or an integer >= 1"
        ),
    }
    reason = "bid price"
    uses_value = True
    keeps_fairness = True

    def __init__(
        self,
        fairness: float = 0.1,
        *,
        margin: float = 0.9,
        forecast_size: int | None = 128,
        name: str | None = None,
    ) -> None:
        check_fraction("fairness", fairness, "ExpectedValue")
        super().__init__(name=name, fairness=fairness, margin=margin, forecast_size=forecast_size)
        self.fairness = float(fairness)
        self.margin = float(margin)
        self.forecast_size = forecast_size

    def route(self, batch: PeriodBatch, state: RoutingState) -> Decision:
        expected = batch.expected
        inner = self.fairness * self.margin
        forecast = state.memory.get("forecast")
        if forecast is not None and np.isfinite(forecast).any():
            step = 1
            if self.forecast_size is not None:
                step = max(1, math.ceil(forecast.shape[0] / self.forecast_size))
            model = state.memory.get("price_model")
            if model is None:
                model = PriceModel(state.rep_ids.size)
                state.memory["price_model"] = model
            prices = model.prices(
                forecast[::step],
                state.cap,
                state.counts,
                state.total,
                state.weight_share,
                inner,
                weight=forecast.shape[0] / forecast[::step].shape[0],
            )
        else:
            prices = np.zeros(state.rep_ids.size)
        state.memory["forecast"] = expected
        state.memory["prices"] = prices
        assign = _route_in_tie_order(expected - prices[None, :], state)
        after = state.total + int((assign >= 0).sum())
        target = state.weight_share * after
        if batch.period == state.n_periods - 1:
            # The last period: the contract window itself, whole leads inside it.
            low = np.ceil((1 - self.fairness) * target - 1e-9)
            high = np.floor((1 + self.fairness) * target + 1e-9)
        else:
            # Before: the inner window, rounded outwards to whole leads.
            low = np.floor((1 - inner) * target)
            high = np.ceil((1 + inner) * target)
        low, high = low - state.counts, high - state.counts
        assign, moved = repair_window(expected, assign, state.cap, low, high)
        return Decision(assign, moved)


def default_routers(fairness: float = 0.1) -> list[BaseRouter]:
    """The four routers, from the naive to the optimised (for comparisons)."""
    return [RoundRobin(), LeastLoaded(), BestFit(), ExpectedValue(fairness)]
