"""Bad lead-routing input is refused before any work, naming the culprits."""

from __future__ import annotations

import pandas as pd
import pytest

import alloc.leads as al
from alloc.errors import InvalidParameterError, InvalidProblemError


def _tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    leads = pd.DataFrame(
        {"lead_id": ["a", "b", "c"], "arrival": [0, 0, 1], "value": [10.0, 20.0, 30.0]}
    )
    reps = pd.DataFrame({"rep_id": ["x", "y"], "daily_cap": [1, 2]})
    win_prob = pd.DataFrame(
        {
            "lead_id": ["a", "a", "b", "c"],
            "rep_id": ["x", "y", "y", "x"],
            "p_win": [0.2, 0.4, 0.5, 0.9],
        }
    )
    return leads, reps, win_prob


@pytest.mark.parametrize("entry", ["simulate", "hindsight"])
def test_p_win_outside_zero_one_is_refused_naming_the_pairs(entry: str) -> None:
    leads, reps, win_prob = _tables()
    bad = win_prob.assign(p_win=[0.2, 1.5, 0.5, -0.1])
    call = al.simulate if entry == "simulate" else al.hindsight
    args = (leads, reps, al.BestFit(), bad) if entry == "simulate" else (leads, reps, bad)
    with pytest.raises(InvalidProblemError, match=r"\('a', 'y'\).*\('c', 'x'\)"):
        call(*args)  # type: ignore[operator]


def test_unknown_lead_and_rep_ids_are_named() -> None:
    leads, reps, win_prob = _tables()
    with pytest.raises(InvalidProblemError, match="unknown lead_id 'zz'"):
        al.simulate(
            leads,
            reps,
            al.BestFit(),
            pd.concat(
                [win_prob, pd.DataFrame({"lead_id": ["zz"], "rep_id": ["x"], "p_win": [0.1]})]
            ),
        )
    with pytest.raises(InvalidProblemError, match="unknown rep_id 'q'"):
        al.simulate(
            leads,
            reps,
            al.BestFit(),
            pd.concat(
                [win_prob, pd.DataFrame({"lead_id": ["a"], "rep_id": ["q"], "p_win": [0.1]})]
            ),
        )


def test_negative_or_fractional_cap_is_refused_naming_the_rep() -> None:
    leads, reps, win_prob = _tables()
    with pytest.raises(InvalidProblemError, match="reps 'y' have -1"):
        al.simulate(leads, reps.assign(daily_cap=[1, -1]), al.BestFit(), win_prob)
    with pytest.raises(InvalidProblemError, match=r"reps 'x' have 1\.5"):
        al.hindsight(leads, reps.assign(daily_cap=[1.5, 1]), win_prob)


def test_missing_columns_duplicates_and_bad_capacity_name_are_refused() -> None:
    leads, reps, win_prob = _tables()
    with pytest.raises(InvalidProblemError, match="'value'"):
        al.simulate(leads.drop(columns="value"), reps, al.BestFit(), win_prob)
    with pytest.raises(InvalidProblemError, match="'a' appear"):
        al.simulate(pd.concat([leads, leads.iloc[:1]]), reps, al.BestFit(), win_prob)
    with pytest.raises(InvalidProblemError, match="more than once"):
        al.simulate(leads, reps, al.BestFit(), pd.concat([win_prob, win_prob.iloc[:1]]))
    with pytest.raises(InvalidProblemError, match=r"'capacity'.*'cap'"):
        al.simulate(leads, reps, al.BestFit(), win_prob, capacity="cap")
    with pytest.raises(InvalidProblemError, match="'weight'"):
        al.simulate(leads, reps.assign(weight=[1.0, -2.0]), al.BestFit(), win_prob)
    with pytest.raises(InvalidParameterError, match="seed"):
        al.simulate(leads, reps, al.BestFit(), win_prob, seed=-1)
    with pytest.raises(InvalidParameterError, match="win_prob"):
        al.simulate(leads, reps, al.BestFit(), "table.csv")  # type: ignore[arg-type]


def test_inputs_are_not_modified() -> None:
    leads, reps, win_prob = _tables()
    copies = [t.copy() for t in (leads, reps, win_prob)]
    al.simulate(leads, reps, al.ExpectedValue(), win_prob)
    al.hindsight(leads, reps, win_prob)
    for table, copy in zip((leads, reps, win_prob), copies, strict=True):
        pd.testing.assert_frame_equal(table, copy)


def test_a_callable_win_prob_gives_the_same_routes_as_the_table() -> None:
    s = al.make_leads(n_leads=300, n_reps=10, n_days=6, seed=1)
    calls = []

    def lookup(batch: pd.DataFrame) -> pd.DataFrame:
        calls.append(len(batch))
        return s.win_prob[s.win_prob["lead_id"].isin(batch["lead_id"])]

    table = al.simulate(s.leads, s.reps, al.ExpectedValue(), s.win_prob)
    called = al.simulate(s.leads, s.reps, al.ExpectedValue(), lookup)
    pd.testing.assert_frame_equal(table.routes, called.routes)
    assert sum(calls) == 300 and len(calls) == s.leads["arrival"].nunique()


def test_timestamps_are_read_by_day() -> None:
    leads, reps, win_prob = _tables()
    stamps = pd.to_datetime(["2026-01-05 09:00", "2026-01-05 17:30", "2026-01-06 08:00"])
    by_day = al.simulate(leads.assign(arrival=stamps), reps, al.BestFit(), win_prob)
    by_int = al.simulate(leads, reps, al.BestFit(), win_prob)
    assert by_day.routes["rep_id"].tolist() == by_int.routes["rep_id"].tolist()
    with pytest.raises(InvalidProblemError, match="arrival"):
        al.simulate(leads.assign(arrival=[0.5, 1.0, 2.0]), reps, al.BestFit(), win_prob)


def test_a_stream_where_no_rep_may_take_any_lead_routes_nothing_without_error() -> None:
    leads, reps, win_prob = _tables()
    empty = win_prob.iloc[:0]
    sim = al.simulate(leads, reps, al.ExpectedValue(), empty)
    assert sim.routes["reason"].eq(al.FALLBACK_NO_REP).all()
    best = al.hindsight(leads, reps, empty)
    assert best.status == "OPTIMAL" and best.expected_value == 0.0
