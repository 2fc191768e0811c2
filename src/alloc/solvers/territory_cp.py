"""The CP-SAT model of territory design: contiguity by flows, centres and dispersion.

On top of the allocation model of `alloc.solvers.cpsat.build_model` (assignment, hard
rows, imbalance terms), for a model with a `Geography`:

- *roots*: ``s[u, r]`` marks one unit of each non-empty territory: the base unit when
  the rep has one, else the chosen centre when centres are chosen, else a free root;
  ``s[u, r] <= x[u, r]``, ``sum_u s[u, r] <= 1`` and ``x[u, r] <= sum_v s[v, r]``.
- *contiguity* (single-commodity flow per rep): integer ``f[u, v, r]`` on each arc of
  the neighbour graph whose ends may both go to ``r``, ``f <= (n_r - 1) x`` at both
  ends, and ``inflow(v) - outflow(v) >= x[v, r] - n_r s[v, r]``: every unit of a
  territory but its root receives a unit of flow, so it is reached from the root inside
  the territory (a piece cut off from the root would need flow from outside).
- *p-median* (chosen centres, ``"sum"``): ``y[u, v]`` = unit ``u`` is served by centre
  ``v``; ``sum_v y[u, v] = 1``, ``y[u, v] <= sum_r s[v, r]`` and
  ``y[u, v] + x[u, r] - x[v, r] <= 1`` (same territory); cost ``d[u, v] y[u, v]``.
- *max dispersion* (``"max"``): distances are ranked; ``b[k]`` = the largest distance
  used is at least the k-th value; each used (unit, centre) forces its rank's ``b``, and
  the term is ``sum_k (D[k] - D[k-1]) b[k]`` (exact, no big-M).

Without contiguity (``contiguity=False``) the same model is a relaxation whose bound is
valid for the territory problem.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from alloc.data.geography import Geography
from alloc.data.model import Model
from alloc.solvers.cpsat import CpBuild, CpSolution, add_imbalance, build_model, run
from alloc.solvers.deadline import Deadline
from alloc.solvers.scaling import Scaled
from alloc.solvers.state import Rows

__all__ = ["TerritoryCp", "build_territory_model", "interchangeable_reps"]


@dataclass(eq=False)
class TerritoryCp:
    """A territory CP-SAT model: the allocation build, roots (centres) and objective."""

    build: CpBuild
    geography: Geography
    roots: dict[tuple[int, int], Any] = field(default_factory=dict)  # (unit, rep) -> var
    objective_terms: list[tuple[Any, float]] = field(default_factory=list)
    flows: dict[tuple[int, int, int], Any] = field(default_factory=dict)  # (u, v, rep)
    served: dict[tuple[int, int], Any] = field(default_factory=dict)  # (unit, centre): y
    thresholds: list[Any] = field(default_factory=list)  # b[k] of the max dispersion
    rank: np.ndarray | None = None  # rank of each distance among the distinct ones

    def hint(self, chosen: np.ndarray) -> None:
        """Hint a plan (one pair per unit): assignment, roots, flows and dispersion."""
        self.build.hint_plan(chosen)
        model, g = self.build.model, self.geography
        rep_of = model.pair_rep[chosen]
        root = _plan_roots(g, rep_of, model.n_reps)
        for (u, r), var in self.roots.items():
            if not isinstance(var, int):
                self.cp_hint(var, int(root[r] == u))
        carried = _tree_flows(g, rep_of, root)
        for key, var in self.flows.items():
            self.cp_hint(var, carried.get(key, 0))
        for (u, v), var in self.served.items():
            self.cp_hint(var, int(root[rep_of[u]] == v))
        if self.thresholds and self.rank is not None:
            units = np.arange(model.n_units)
            used = self.rank[units, rep_of if g.fixed_distance is not None else root[rep_of]]
            top = int(used.max(initial=0))
            for k, var in enumerate(self.thresholds):
                self.cp_hint(var, int(k <= top))

    def cp_hint(self, var: Any, value: int) -> None:
        self.build.cp.add_hint(var, value)

    def solve(
        self, deadline: Deadline, *, seed: int, workers: int, probing: bool = True
    ) -> tuple[CpSolution, np.ndarray | None]:
        """CP-SAT's solution and its plan (pair per unit)."""
        solution = run(
            self.build, deadline, seed=seed, workers=workers, zero_gap=True, probing=probing
        )
        return solution, self.build.chosen(solution) if solution.found else None


def _plan_roots(g: Geography, rep_of: np.ndarray, n_reps: int) -> np.ndarray:
    """Root of each territory of a plan: its base, else its best centre (chosen centres),
    else its first unit; -1 for an empty territory."""
    root = np.full(n_reps, -1, dtype=np.int64)
    for r in np.unique(rep_of).tolist():
        members = np.flatnonzero(rep_of == r)
        if g.base[r] >= 0:
            root[r] = g.base[r]
        elif g.chooses_centres and g.distance is not None:
            table = np.asarray(g.distance)[np.ix_(members, members)]
            score = table.sum(axis=0) if g.centre_kind == "sum" else table.max(axis=0)
            root[r] = members[int(np.argmin(score))]
        else:
            root[r] = members[0]
    return root


def _tree_flows(
    g: Geography, rep_of: np.ndarray, root: np.ndarray
) -> dict[tuple[int, int, int], int]:
    """Flows of a plan along a BFS tree of each territory from its root: each arc
    carries the size of the subtree below it."""
    out: dict[tuple[int, int, int], int] = {}
    for r, v in enumerate(root.tolist()):
        if v < 0:
            continue
        order, parent = [v], {v: -1}
        for a in order:
            for b in g.neighbours(a).tolist():
                if rep_of[b] == r and b not in parent:
                    parent[b] = a
                    order.append(b)
        below = dict.fromkeys(order, 1)
        for b in reversed(order[1:]):
            below[parent[b]] += below[b]
            out[parent[b], b, r] = below[b]
    return out


def _x_of(build: CpBuild) -> dict[tuple[int, int], Any]:
    model = build.model
    return {
        (int(model.pair_unit[p]), int(model.pair_rep[p])): build.x[i]
        for i, p in enumerate(build.pairs.tolist())
    }


def _add_roots(cp: cp_model.CpModel, t: TerritoryCp, x: dict[tuple[int, int], Any]) -> None:
    """One root per non-empty territory: the base unit, else a chosen unit."""
    model, geography = t.build.model, t.geography
    by_rep: dict[int, list[int]] = {}
    for u, r in x:
        by_rep.setdefault(r, []).append(u)
    for r, units in by_rep.items():
        base = int(geography.base[r])
        if base >= 0:
            t.roots[base, r] = 1  # the base's only pair is its rep's (a pin)
            continue
        roots = []
        for u in units:
            s = cp.new_bool_var(f"s{u}_{r}")
            cp.add_implication(s, x[u, r])
            t.roots[u, r] = s
            roots.append(s)
        cp.add_at_most_one(roots)
        any_root = sum(roots)
        for u in units:
            cp.add(x[u, r] <= any_root)
    del model


def _add_flows(cp: cp_model.CpModel, t: TerritoryCp, x: dict[tuple[int, int], Any]) -> None:
    """Single-commodity flow per rep from its root: each territory is connected."""
    geography = t.geography
    n_r: dict[int, int] = {}
    for _, r in x:
        n_r[r] = n_r.get(r, 0) + 1
    inflow: dict[tuple[int, int], list[Any]] = {}
    outflow: dict[tuple[int, int], list[Any]] = {}
    for (u, r), xu in x.items():
        cap = n_r[r] - 1
        if cap <= 0:
            continue
        for v in geography.neighbours(u).tolist():
            xv = x.get((v, r))
            if xv is None:
                continue
            f = cp.new_int_var(0, cap, f"f{u}_{v}_{r}")
            t.flows[u, v, r] = f
            cp.add(f <= cap * xu)
            cp.add(f <= cap * xv)
            outflow.setdefault((u, r), []).append(f)
            inflow.setdefault((v, r), []).append(f)
    for (u, r), xu in x.items():
        net = sum(inflow.get((u, r), [])) - sum(outflow.get((u, r), []))
        root = t.roots.get((u, r), 0)
        cp.add(net >= xu - n_r[r] * root)


def _ranked(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and the rank of each value."""
    distinct, rank = np.unique(values, return_inverse=True)
    return distinct, rank.reshape(values.shape)


def _add_max(cp: cp_model.CpModel, t: TerritoryCp, x: dict[tuple[int, int], Any]) -> None:
    """``max`` dispersion as threshold booleans over the ranked distances."""
    g = t.geography
    if g.fixed_distance is not None:
        distinct, rank = _ranked(np.asarray(g.fixed_distance))
    else:
        assert g.distance is not None
        distinct, rank = _ranked(np.asarray(g.distance))
    b = [cp.new_bool_var(f"b{k}") for k in range(distinct.size)]
    t.thresholds, t.rank = b, rank
    for k in range(1, distinct.size):
        cp.add_implication(b[k], b[k - 1])
    if g.fixed_distance is not None:
        for (u, r), xu in x.items():
            k = int(rank[u, r])
            if k > 0:
                cp.add_implication(xu, b[k])
    else:
        for (u, r), xu in x.items():
            for (v, r2), s in t.roots.items():
                k = int(rank[u, v])
                if r2 != r or k == 0:
                    continue
                if isinstance(s, int):
                    cp.add_implication(xu, b[k])
                else:
                    cp.add_bool_or([xu.Not(), s.Not(), b[k]])
    weight = g.centre_weight
    for k in range(1, distinct.size):
        t.objective_terms.append((b[k], weight * float(distinct[k] - distinct[k - 1])))


def _add_median(cp: cp_model.CpModel, t: TerritoryCp, x: dict[tuple[int, int], Any]) -> None:
    """``sum`` dispersion to chosen centres (p-median assignment variables)."""
    g = t.geography
    assert g.distance is not None
    model = t.build.model
    reps_of = {u: set() for u in range(model.n_units)}  # type: dict[int, set[int]]
    for u, r in x:
        reps_of[u].add(r)
    centre_of: dict[int, list[Any]] = {}
    for (v, _), s in t.roots.items():
        centre_of.setdefault(v, []).append(s)
    for u in range(model.n_units):
        options = []
        for v, roots in centre_of.items():
            if not reps_of[u] & reps_of[v]:
                continue
            y = cp.new_bool_var(f"y{u}_{v}")
            t.served[u, v] = y
            cp.add(y <= sum(roots))
            for r in reps_of[u]:
                cp.add(y + x[u, r] - (x[v, r] if (v, r) in x else 0) <= 1)
            options.append(y)
            d = float(g.distance[u, v])
            if d:
                t.objective_terms.append((y, g.centre_weight * d))
        cp.add_exactly_one(options)


def interchangeable_reps(model: Model) -> bool:
    """True when permuting the reps maps plans to plans of equal objective: every unit
    may go to every rep, and rows, costs, shares, bases and centres ignore the rep."""
    g = model.geography
    R, U = model.n_reps, model.n_units
    if g is None or g.fixed_distance is not None or (g.base >= 0).any() or R < 2:
        return False
    if model.n_pairs != U * R:
        return False

    def same(per_pair: np.ndarray) -> bool:
        table = np.asarray(per_pair, float).reshape(U, R)
        return bool(np.allclose(table, table[:, :1], rtol=0, atol=0))

    def flat(per_rep: np.ndarray) -> bool:
        values = np.asarray(per_rep, float)
        return bool(np.all(values == values[0]))

    rows_same = all(same(c.weight) and flat(c.lo) and flat(c.hi) for c in model.constraints)
    terms_same = all(same(t.value) and flat(t.share) for t in model.imbalances)
    return rows_same and terms_same and same(model.cost)


def _order_roots(cp: cp_model.CpModel, t: TerritoryCp) -> None:
    """Symmetry breaking for interchangeable reps: roots in increasing unit order (an
    empty territory, key 0, first). Any plan can be relabelled to meet it."""
    keys = []
    for r in range(t.build.model.n_reps):
        terms = [(s, u + 1) for (u, r2), s in t.roots.items() if r2 == r]
        keys.append(cp_model.LinearExpr.weighted_sum([s for s, _ in terms], [c for _, c in terms]))
    for a, b in itertools.pairwise(keys):
        cp.add(a <= b)


def build_territory_model(
    model: Model, rows: Rows, scaled: Scaled, *, contiguity: bool = True
) -> TerritoryCp:
    """The CP-SAT model of a territory problem (``contiguity=False``: its relaxation).

    Parameters
    ----------
    model : Model
        A model with a `Geography`.
    rows, scaled : Rows, Scaled
        Its stacked rows and their integer scaling.
    contiguity : bool
        Add the flow rows; without them the model is a relaxation (for a bound).

    Returns
    -------
    TerritoryCp
    """
    geography = model.geography
    assert geography is not None
    build = build_model(model, rows, scaled, objective=False)
    add_imbalance(build)
    cp = build.cp
    t = TerritoryCp(build, geography)
    x = _x_of(build)
    needs_roots = (geography.contiguous and contiguity) or geography.chooses_centres
    if needs_roots:
        _add_roots(cp, t, x)
        if interchangeable_reps(model):
            _order_roots(cp, t)
    if geography.contiguous and contiguity:
        _add_flows(cp, t, x)
    if geography.centre_kind == "max":
        _add_max(cp, t, x)
    elif geography.centre_kind == "sum":
        _add_median(cp, t, x)
    cost = model.cost[build.pairs]
    nz = np.flatnonzero(cost).tolist()
    variables = [build.x[i] for i in nz] + [v for v, _ in (*build.terms, *t.objective_terms)]
    coeffs = cost[nz].tolist() + [float(c) for _, c in (*build.terms, *t.objective_terms)]
    if variables:
        build.minimize(cp_model.LinearExpr.weighted_sum(variables, coeffs))
    return t
