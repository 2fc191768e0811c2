"""The Lagrangian reach (issue 14): a unit's ball shrunk by combinations of its rows.

Against brute force on small random maps: every unit of a connected set that holds
the fixed units and meets every window must stay in the ball (a unit removed wrongly
would turn a feasible map into a false proof), and None (no territory) only when brute
force finds no such set. On a city ringed by young suburbs, the test removes the
retirement towns behind them, which the one-row reach keeps.
"""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from alloc.solvers.deadline import Deadline
from alloc.solvers.territory_lagrange import directions, prune_ball


def _csr(n: int, links: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    adj: list[list[int]] = [[] for _ in range(n)]
    for u, v in links:
        adj[u].append(v)
        adj[v].append(u)
    indptr = np.cumsum([0] + [len(a) for a in adj])
    indices = np.array([v for a in adj for v in sorted(a)], dtype=np.int64)
    return indptr, indices


def _feasible_sets(
    members: np.ndarray,
    fixed: np.ndarray,
    weight: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    links: list[tuple[int, int]],
) -> list[np.ndarray]:
    """Every connected subset of the members holding the fixed ones, within windows."""
    m = members.size
    where = {int(u): i for i, u in enumerate(members.tolist())}
    adj = np.zeros((m, m), dtype=bool)
    for u, v in links:
        if u in where and v in where:
            adj[where[u], where[v]] = adj[where[v], where[u]] = True
    out = []
    for bits in itertools.product([False, True], repeat=m):
        s = np.array(bits)
        if not s[fixed].all():
            continue
        load = weight[s].sum(axis=0)
        if (load < lo).any() or (load > hi).any():
            continue
        chosen = np.flatnonzero(s)
        seen, todo = {int(chosen[0])}, [int(chosen[0])]
        while todo:
            u = todo.pop()
            for v in np.flatnonzero(adj[u] & s).tolist():
                if v not in seen:
                    seen.add(v)
                    todo.append(v)
        if len(seen) == chosen.size:
            out.append(s)
    return out


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_pruning_keeps_every_unit_of_every_territory_that_meets_the_windows(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 11))
    links = sorted({(int(rng.integers(v)), v) for v in range(1, n)})
    links += [
        tuple(sorted(int(x) for x in rng.choice(n, 2, replace=False)))
        for _ in range(int(rng.integers(0, n)))
    ]
    h = int(rng.integers(1, 4))
    weight = rng.choice([0.0, 0.5, 1.0, 2.0, 5.0], size=(n, h))
    if rng.random() < 0.3:
        weight[:, -1] -= rng.choice([0.0, 1.0, 3.0], size=n)  # a row with negative weights
    total = weight.sum(axis=0)
    share = total / int(rng.integers(2, 5))
    tolerance = rng.choice([0.05, 0.2, 0.5], size=h)
    lo = np.where(rng.random(h) < 0.2, -np.inf, share - tolerance * np.abs(share))
    hi = np.where(rng.random(h) < 0.2, np.inf, share + tolerance * np.abs(share))
    members = np.sort(rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False))
    fixed = np.zeros(members.size, dtype=bool)
    fixed[
        rng.choice(members.size, size=min(members.size, int(rng.integers(1, 3))), replace=False)
    ] = True
    indptr, indices = _csr(n, links)
    keep = prune_ball(members, fixed, weight[members], lo, hi, indptr, indices, Deadline.never())
    sets = _feasible_sets(members, fixed, weight[members], lo, hi, links)
    if keep is None:
        assert not sets
        return
    assert keep[fixed].all()
    for s in sets:
        assert keep[s].all()


def test_directions_use_only_the_finite_side_of_each_window() -> None:
    pi = directions(np.array([-np.inf, 2.0]), np.array([10.0, np.inf]))
    assert pi.size
    assert (pi[:, 0] >= 0).all()  # row 0 has only an upper limit
    assert (pi[:, 1] <= 0).all()  # row 1 has only a lower limit


def test_a_retirement_town_behind_a_young_suburb_leaves_the_ball() -> None:
    # City 0 (4 people, 1 elderly) between a young suburb 1 (5.5 people) with a
    # retirement town 2 behind it (0.5 people, 5 elderly) and a village 3 (2 people, 1
    # elderly). Window: people <= 10, elderly >= 6.5. The town is in reach (4 + 5.5 +
    # 0.5 people) and a share of the village with it meets both windows (the reach
    # test's LP passes), but the town comes with the suburb: 10 people and 6 elderly,
    # and the village then makes 12 people.
    people = np.array([4.0, 5.5, 0.5, 2.0])
    elderly = np.array([1.0, 0.0, 5.0, 1.0])
    links = [(0, 1), (1, 2), (0, 3)]
    indptr, indices = _csr(4, links)
    weight = np.column_stack([people, elderly])
    members = np.arange(4)
    fixed = members == 0
    lo, hi = np.array([-np.inf, 6.5]), np.array([10.0, np.inf])
    assert not _feasible_sets(members, fixed, weight, lo, hi, links)
    # One row at a time nothing leaves the ball: each row alone has territories.
    for j in range(2):
        alone = prune_ball(
            members, fixed, weight[:, [j]], lo[[j]], hi[[j]], indptr, indices, Deadline.never()
        )
        assert alone is not None and alone.all()
    assert prune_ball(members, fixed, weight, lo, hi, indptr, indices, Deadline.never()) is None
