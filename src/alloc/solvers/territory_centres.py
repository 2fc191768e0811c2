"""A centre-based CP-SAT model for territories with chosen centres and interchangeable reps.

When the solver chooses the centres and the reps are interchangeable (every unit may go
to every rep; rows, costs and shares the same for all: see
`alloc.solvers.territory_cp.interchangeable_reps`), a plan is a set of at most
``n_reps`` centres and an assignment of units to them; which rep gets which territory
does not matter. This is the classic p-median / p-centre model, whose LP relaxation is
far stronger than the rep-indexed one (and free of the ``n_reps!`` relabellings)::

    z[u, v] in {0, 1}: unit u is served by centre v;  z[v, v]: v is a centre
    sum_v z[u, v] = 1,   z[u, v] <= z[v, v],   sum_v z[v, v] = n_reps (or <= when a
    territory may be empty)
    lo * z[v, v] <= sum_u w[k, u] z[u, v] <= hi * z[v, v]     each hard row k
    contiguity: a flow per centre v from v, f[a, b, v] <= (n - 1) z[a, v] (and z[b, v]),
    inflow(u, v) - outflow(u, v) >= z[u, v] for u != v
    minimise sum_{u, v} d[u, v] z[u, v]   ("sum")   or the largest used d[u, v] ("max",
    threshold booleans over the ranked distances, as in `territory_cp`).

Centres are handed to reps in increasing unit order.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from alloc.data.model import Model
from alloc.solvers.cpsat import CpSolution, run
from alloc.solvers.deadline import Deadline
from alloc.solvers.scaling import NO_BOUND, Scaled
from alloc.solvers.state import Rows
from alloc.solvers.territory_cp import interchangeable_reps

__all__ = ["CentreCp", "build_centre_model"]

#: The largest objective coefficient after scaling to integers (rounding errors of about
#: 1e-8 of it, counted in the bound).
_OBJECTIVE_TARGET = 1e8


@dataclass(eq=False)
class CentreCp:
    """The centre-based model: ``z[u][v]`` and the model it stands for."""

    cp: cp_model.CpModel
    model: Model
    z: list[list[Any]] = field(default_factory=list)
    flows: dict[tuple[int, int, int], Any] = field(default_factory=dict)  # (a, b, centre)
    constant: float = 0.0  # the pair costs, the same for every plan
    scale: float = 1.0  # objective = (integer objective) / scale + constant, within slack
    slack: float = 0.0
    thresholds: list[Any] = field(default_factory=list)  # b[k] of the max dispersion
    rank: np.ndarray | None = None  # rank of each distance among the distinct ones

    def hint(self, chosen: np.ndarray) -> None:
        """Hint a plan (one pair per unit): its territories and their best centres."""
        g = self.model.geography
        assert g is not None and g.distance is not None
        rep_of = self.model.pair_rep[chosen]
        self.cp.clear_hints()
        centre_of = np.zeros(self.model.n_units, dtype=np.int64)
        for r in np.unique(rep_of).tolist():
            members = np.flatnonzero(rep_of == r)
            table = np.asarray(g.distance)[np.ix_(members, members)]
            score = table.sum(axis=0) if g.centre_kind == "sum" else table.max(axis=0)
            centre_of[members] = members[int(np.argmin(score))]
        for u, row in enumerate(self.z):
            for v, var in enumerate(row):
                self.cp.add_hint(var, int(centre_of[u] == v))
        carried = _tree_flows(g, centre_of) if self.flows else {}
        for key, var in self.flows.items():
            self.cp.add_hint(var, carried.get(key, 0))
        if self.thresholds and self.rank is not None:
            top = int(self.rank[np.arange(self.model.n_units), centre_of].max(initial=0))
            for k, var in enumerate(self.thresholds):
                self.cp.add_hint(var, int(k <= top))

    def solve(
        self, deadline: Deadline, *, seed: int, workers: int, probing: bool = True
    ) -> tuple[CpSolution, np.ndarray | None]:
        """CP-SAT's solution and its plan (pair per unit; reps in centre order)."""
        solution = run(
            self.cp, deadline, seed=seed, workers=workers, zero_gap=True, probing=probing
        )
        if not solution.found:
            return solution, None
        bound = solution.bound / self.scale + self.constant - self.slack
        solution = replace(solution, bound=bound)
        n = self.model.n_units
        centre_of = np.array(
            [next(v for v in range(n) if solution.value(self.z[u][v])) for u in range(n)]
        )
        centres = np.unique(centre_of)  # sorted: the k-th centre goes to rep k
        rep_of = np.searchsorted(centres, centre_of)
        return solution, self.model.pair_index(np.arange(n), rep_of)


def _tree_flows(g: Any, centre_of: np.ndarray) -> dict[tuple[int, int, int], int]:
    """Flows of a plan: along a BFS tree of each territory from its centre, each arc
    carries the size of the subtree below it (a complete hint for the flow variables)."""
    out: dict[tuple[int, int, int], int] = {}
    for v in np.unique(centre_of).tolist():
        inside = centre_of == v
        order, parent = [v], {v: -1}
        for a in order:
            for b in g.neighbours(a).tolist():
                if inside[b] and b not in parent:
                    parent[b] = a
                    order.append(b)
        below = dict.fromkeys(order, 1)
        for b in reversed(order[1:]):
            below[parent[b]] += below[b]
            out[parent[b], b, v] = below[b]
    return out


def _ranked(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    distinct, rank = np.unique(values, return_inverse=True)
    return distinct, rank.reshape(values.shape)


def _add_rows(cp: cp_model.CpModel, t: CentreCp, rows: Rows, scaled: Scaled) -> bool:
    """Hard rows per centre; True when every territory must be non-empty (a row's
    window excludes a load of 0)."""
    model = t.model
    first = model.unit_start[:-1]
    n = model.n_units
    must_fill = False
    for k in range(rows.n_rows):
        if rows.is_max[k] or rows.is_sum[k]:
            continue
        w = scaled.weight[first, k].tolist()
        lo, hi = int(scaled.lo[k, 0]), int(scaled.hi[k, 0])
        must_fill |= lo > 0 or hi < 0
        for v in range(n):
            load = cp_model.LinearExpr.weighted_sum([t.z[u][v] for u in range(n)], w)
            if hi < NO_BOUND:
                cp.add(load <= hi * t.z[v][v])
            if lo > -NO_BOUND:
                cp.add(load >= lo * t.z[v][v])
    return must_fill


def _add_flows(cp: cp_model.CpModel, t: CentreCp) -> None:
    g = t.model.geography
    assert g is not None
    n = t.model.n_units
    cap = n - 1
    arcs = [(a, int(b)) for a in range(n) for b in g.neighbours(a).tolist()]
    for v in range(n):
        inflow: list[list[Any]] = [[] for _ in range(n)]
        outflow: list[list[Any]] = [[] for _ in range(n)]
        for a, b in arcs:
            if b == v:  # nothing needs to flow back into the centre
                continue
            f = cp.new_int_var(0, cap, f"f{a}_{b}_{v}")
            t.flows[a, b, v] = f
            cp.add(f <= cap * t.z[a][v])
            cp.add(f <= cap * t.z[b][v])
            outflow[a].append(f)
            inflow[b].append(f)
        for u in range(n):
            if u != v:
                cp.add(sum(inflow[u]) - sum(outflow[u]) >= t.z[u][v])


def build_centre_model(
    model: Model, rows: Rows, scaled: Scaled, *, contiguity: bool = True
) -> CentreCp | None:
    """The centre-based model, or None when it does not apply (centres not chosen, reps
    not interchangeable, or imbalance terms, which depend on the reps' loads)."""
    g = model.geography
    if g is None or not g.chooses_centres or model.imbalances or not interchangeable_reps(model):
        return None
    assert g.distance is not None
    n, R = model.n_units, model.n_reps
    cp = cp_model.CpModel()
    t = CentreCp(cp, model)
    t.z = [[cp.new_bool_var(f"z{u}_{v}") for v in range(n)] for u in range(n)]
    for u in range(n):
        cp.add_exactly_one(t.z[u])
        for v in range(n):
            if u != v:
                cp.add_implication(t.z[u][v], t.z[v][v])
    opened = sum(t.z[v][v] for v in range(n))
    if _add_rows(cp, t, rows, scaled):
        cp.add(opened == R)
    else:
        cp.add(opened <= R)
    if g.contiguous and contiguity:
        _add_flows(cp, t)
    t.constant = float(model.cost[model.unit_start[:-1]].sum())
    variables, coeffs, groups = _dispersion_terms(cp, t)
    if coeffs:
        # An integer objective: CP-SAT proves markedly faster than with float
        # coefficients (22 x 4, windows [0.9, 1.1]: 14 s instead of 29 s). Each
        # coefficient is rounded; `slack` (the largest rounding error per group, summed)
        # keeps the bound valid.
        values = np.asarray(coeffs)
        t.scale = _OBJECTIVE_TARGET / float(np.abs(values).max())
        whole = np.round(values * t.scale)
        error = np.zeros(max(groups) + 1)
        np.maximum.at(error, np.asarray(groups), np.abs(whole - values * t.scale))
        t.slack = float(error.sum()) / t.scale
        cp.minimize(cp_model.LinearExpr.weighted_sum(variables, whole.astype(np.int64).tolist()))
    return t


def _dispersion_terms(
    cp: cp_model.CpModel, t: CentreCp
) -> tuple[list[Any], list[float], list[int]]:
    """Objective terms of the dispersion: ``d z`` ("sum") or ranked thresholds ("max"),
    with a group per term: at most one term of a group is 1 in any plan (each unit
    has one centre), so rounding errors add up over groups, not over terms."""
    g = t.model.geography
    assert g is not None and g.distance is not None
    n = t.model.n_units
    distance = np.asarray(g.distance)
    variables: list[Any] = []
    coeffs: list[float] = []
    groups: list[int] = []
    if g.centre_kind == "sum":
        for u in range(n):
            for v in range(n):
                if distance[u, v]:
                    variables.append(t.z[u][v])
                    coeffs.append(g.centre_weight * float(distance[u, v]))
                    groups.append(u)
    else:
        distinct, rank = _ranked(distance)
        b = [cp.new_bool_var(f"b{k}") for k in range(distinct.size)]
        t.thresholds, t.rank = b, rank
        for k in range(1, distinct.size):
            cp.add_implication(b[k], b[k - 1])
        for u in range(n):
            for v in range(n):
                if rank[u, v] > 0:
                    cp.add_implication(t.z[u][v], b[int(rank[u, v])])
        for k in range(1, distinct.size):
            variables.append(b[k])
            coeffs.append(g.centre_weight * float(distinct[k] - distinct[k - 1]))
            groups.append(n + k)
    return variables, coeffs, groups
