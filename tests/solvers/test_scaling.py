"""Integer scaling of the rows for CP-SAT (alloc.solvers.cpsat.Scaled) and the proofs of
infeasibility built on it (issue 17).

Whole numbers keep factor 1 and decimals get ``10**d``: the integer model is exact
(``error == 0``). Limits are rounded outward from the allowed (tolerance-widened)
limits, so no raw-feasible plan is cut off; other floats are approximated, and
:func:`relaxation` widens their limits by every rounding error a rep can carry.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import alloc
from alloc.data.tolerance import upper_limit
from alloc.solvers.deadline import Deadline
from alloc.solvers.diagnose import prove_infeasible
from alloc.solvers.scaling import Scaled, relaxation
from alloc.solvers.state import Rows


def _problem(work: list[float], limit: float | list[float], **kw: object) -> alloc.Problem:
    n = len(work)
    m = len(limit) if isinstance(limit, list) else 2
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "work": work})
    reps = pd.DataFrame({"rep_id": [f"r{j}" for j in range(m)]})
    spec: object = limit
    if isinstance(limit, list):
        reps["cap"] = limit
        spec = "cap"
    rule = alloc.Capacity("work", limit=spec)  # type: ignore[arg-type]
    return alloc.Problem(customers, reps, rules=[rule], **kw)  # type: ignore[arg-type]


def _scaled(problem: alloc.Problem) -> tuple[Rows, Scaled]:
    rows = Rows.from_model(problem.model)
    return rows, Scaled.from_rows(problem.model, rows)


def test_decimal_weights_scale_exactly_by_a_power_of_ten() -> None:
    _, scaled = _scaled(_problem([1.7, 2.24, 0.2, 2.2], 3.9))
    assert scaled.factor[0] == 100.0 and scaled.error == 0.0
    # Pairs run unit by unit (two reps each).
    assert scaled.weight[:, 0].tolist() == [170, 170, 224, 224, 20, 20, 220, 220]
    assert scaled.hi[0].tolist() == [390, 390]  # 1.7 + 2.2 -> 170 + 220 fits exactly


def test_float_noise_of_a_decimal_is_no_scaling_error() -> None:
    _, scaled = _scaled(_problem([0.1 + 0.2, 0.7, 1.25], 1.0))  # 0.30000000000000004
    assert scaled.factor[0] == 100.0 and scaled.error == 0.0
    assert scaled.weight[::2, 0].tolist() == [30, 70, 125]


def test_whole_numbers_keep_factor_one_and_their_limits() -> None:
    _, scaled = _scaled(_problem([3, 4, 5], [7, 8]))
    assert scaled.factor[0] == 1.0 and scaled.error == 0.0
    assert scaled.hi[0].tolist() == [7, 8]


def test_other_floats_keep_the_million_per_largest_weight_scale() -> None:
    third = 1.0 / 3.0
    _, scaled = _scaled(_problem([third, 2 * third, np.pi], 4.0))
    assert scaled.factor[0] == pytest.approx(1e6 / np.pi)
    assert 0 < scaled.error < 1e-5  # half a unit in 106,103


def test_decimals_beyond_six_places_or_too_large_are_approximated() -> None:
    _, fine = _scaled(_problem([1.2345678, 2.0], 4.0))
    assert fine.factor[0] == pytest.approx(1e6 / 2.0)
    _, large = _scaled(_problem([12345.678901, 2.5], 20000.0))  # 1.2e10 at 10**6
    assert large.factor[0] == pytest.approx(1e6 / 12345.678901)


def test_imbalance_rows_scale_exactly_where_cp_sat_models_them_exactly() -> None:
    """Equal or rational shares (the max norm is exact in CP-SAT): decimals get 10**d.
    Irrational shares (the max norm is approximated there): the 1e6-per-largest-weight
    scale as before."""
    c = pd.DataFrame({"customer_id": ["c0", "c1", "c2"], "work": [1.7, 2.24, 0.2]})
    r = pd.DataFrame({"rep_id": ["r0", "r1"], "fte": [1.0, 0.5]})
    equal = alloc.Problem(c, r, objective=alloc.MinimizeImbalance("work"))
    _, scaled = _scaled(equal)
    assert scaled.factor.tolist() == [100.0] and scaled.error == 0.0
    assert scaled.total[0] == 414
    rational = alloc.Problem(c, r, objective=alloc.MinimizeImbalance("work", share="fte"))
    _, scaled = _scaled(rational)
    assert scaled.factor.tolist() == [100.0] and scaled.error == 0.0
    irrational = alloc.Problem(
        c, r.assign(fte=[1.0, np.sqrt(2.0)]), objective=alloc.MinimizeImbalance("work", share="fte")
    )
    _, scaled = _scaled(irrational)
    assert scaled.factor[0] == pytest.approx(1e6 / 2.24) and scaled.error > 0


def test_imbalance_rows_of_large_decimals_keep_the_million_scale() -> None:
    """469,790.23 at 10**2 is 4.7e7 per customer: totals in the billions make CP-SAT's
    float objective lose its bound, so such rows keep ~1e6 per largest weight."""
    c = pd.DataFrame({"customer_id": ["c0", "c1", "c2"], "pot": [469790.23, 1200.5, 17.25]})
    r = pd.DataFrame({"rep_id": ["r0", "r1"], "cap": [500000.0, 500000.0]})
    problem = alloc.Problem(
        c, r, rules=[alloc.Capacity("pot", limit="cap")], objective=alloc.MinimizeImbalance("pot")
    )
    _, scaled = _scaled(problem)
    assert scaled.factor[0] == 100.0  # the hard row: exact, up to 1e9
    assert scaled.factor[1] == pytest.approx(1e6 / 469790.23)


def test_limits_round_outward_from_the_allowed_limits() -> None:
    problem = _problem([1.25, 2.5], [3.755, 3.7549999999])
    rows, scaled = _scaled(problem)
    assert scaled.factor[0] == 100.0
    # 375.5 -> 375; 375.49999999 plus the tolerance 3.75e-9 * 100 stays below 376.
    assert scaled.hi[0].tolist() == [375, 375]
    assert rows.hi[0, 0] == upper_limit(3.755)
    lower = alloc.Problem(
        pd.DataFrame({"customer_id": ["c0", "c1"], "work": [1.25, 2.5]}),
        pd.DataFrame({"rep_id": ["r0", "r1"]}),
        rules=[alloc.Balance("work", tolerance=0.2)],  # share 1.875: [1.5, 2.25]
    )
    _, scaled = _scaled(lower)
    assert scaled.lo[0].tolist() == [150, 150] and scaled.hi[0].tolist() == [225, 225]


def test_an_exact_scaling_is_its_own_relaxation() -> None:
    problem = _problem([1.7, 2.24, 0.2, 2.2], 3.9)
    rows, scaled = _scaled(problem)
    assert relaxation(problem.model, rows, scaled) is scaled


def test_relaxation_widens_each_rep_by_the_rounding_error_it_can_carry() -> None:
    work = [1 / 3, 2 / 3, np.pi, np.e]
    problem = _problem(work, [3.0, 4.0])
    rows, scaled = _scaled(problem)
    relaxed = relaxation(problem.model, rows, scaled)
    f = scaled.factor[0]
    carry = sum(abs(round(w * f) - w * f) for w in work)  # every unit may go to either rep
    widen = relaxed.hi[0] - scaled.hi[0]
    assert np.all(widen == int(np.ceil(carry)))
    assert np.all(relaxed.lo[0] == scaled.lo[0])  # no lower limit: still absent
    assert np.array_equal(relaxed.weight, scaled.weight)


@settings(max_examples=60, deadline=None)
@given(
    work=st.lists(
        st.floats(0.001, 50.0, allow_nan=False, allow_infinity=False), min_size=2, max_size=7
    ),
    plan=st.lists(st.integers(0, 2), min_size=7, max_size=7),
)
def test_relaxation_keeps_every_plan_that_meets_the_raw_limits(
    work: list[float], plan: list[int]
) -> None:
    """Limits planted at a plan's raw loads: its integer loads meet the relaxed limits."""
    reps = np.array(plan[: len(work)])
    loads = np.bincount(reps, weights=work, minlength=3)
    problem = _problem(work, [float(x) for x in loads])
    rows, scaled = _scaled(problem)
    relaxed = relaxation(problem.model, rows, scaled)
    model = problem.model
    chosen = model.pair_index(model.customer_unit, reps)
    int_loads = np.bincount(model.pair_rep[chosen], weights=scaled.weight[chosen, 0], minlength=3)
    assert np.all(int_loads <= relaxed.hi[0])


def test_exact_hard_rows_are_not_widened_when_an_imbalance_row_is_rounded() -> None:
    """Only the rounded rows are widened: a decimal capacity keeps its exact limits."""
    c = pd.DataFrame({"customer_id": ["c0", "c1"], "work": [1.7, 2.2], "pot": [1 / 3, 0.5]})
    r = pd.DataFrame({"rep_id": ["r0", "r1"], "fte": [1.0, 2.0]})
    problem = alloc.Problem(
        c,
        r,
        rules=[alloc.Capacity("work", limit=3.9)],
        objective=alloc.MinimizeImbalance("pot", share="fte"),
    )
    rows, scaled = _scaled(problem)
    assert scaled.error > 0
    relaxed = relaxation(problem.model, rows, scaled)
    assert relaxed.hi[0].tolist() == scaled.hi[0].tolist() == [39, 39]  # factor 10


def test_a_tie_in_decimals_is_not_proven_infeasible() -> None:
    problem = _problem([1.7, 2.24, 0.2, 2.2], 3.9)
    rows, scaled = _scaled(problem)
    proven, why = prove_infeasible(problem.model, rows, scaled, Deadline.after(5.0))
    assert not proven and "not proven" in why


def test_a_real_shortfall_is_proven_infeasible_on_exact_and_on_rounded_data() -> None:
    for work in ([1.7, 2.24, 0.2, 2.2], [1 / 3 + 1.4, 2.24, 0.2, np.pi - 0.9]):
        problem = _problem(work, 3.8)  # no split of the work puts at most 3.8 on each side
        rows, scaled = _scaled(problem)
        proven, why = prove_infeasible(problem.model, rows, scaled, Deadline.after(5.0))
        assert proven and "Capacity" in why


def test_float32_data_are_not_taken_for_decimals_and_the_relaxation_keeps_plans() -> None:
    # 0.1 stored as float32 reads as 0.10000000149: it was taken for the decimal 0.1
    # (drift up to 1e-6 counted as exact), so 40 such units (raw 4.00000006, above a
    # lower limit of 4) scaled to 40 against an integer limit of ceil(40.0000006) = 41
    # and a feasible territory was "proven" impossible (review of stop 22).
    from alloc.solvers.scaling import Scaled, relaxation
    from alloc.solvers.state import Rows

    values = np.full(100, np.float32(0.1)).astype(float)
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(100)], "m": values})
    problem = alloc.Problem(
        customers, pd.DataFrame({"rep_id": ["r0", "r1"]}), rules=[alloc.Balance("m", 0.2)]
    )
    model, rows = problem.model, Rows.from_model(problem.model)
    scaled = Scaled.from_rows(model, rows)
    assert scaled.factor[0] != 10.0  # not the decimal scale of 0.1
    plan = pd.Series(["r0"] * 40 + ["r1"] * 60, index=problem.customer_ids.copy())
    assert alloc.check(problem, plan) == []
    widened = relaxation(model, rows, scaled)
    chosen = model.pair_index(model.customer_unit, np.array([0] * 40 + [1] * 60))
    k = 0
    load = np.bincount(model.pair_rep[chosen], weights=widened.weight[chosen, k], minlength=2)
    assert np.all(load >= widened.lo[k]) and np.all(load <= widened.hi[k])
