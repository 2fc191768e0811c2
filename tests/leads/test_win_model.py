"""fit_win_model: Newton/IRLS against a generic optimiser, and against the true p_win."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

import alloc.leads as al
from alloc.errors import InvalidParameterError, InvalidProblemError


def test_newton_fit_matches_a_generic_optimiser_of_the_same_penalised_likelihood() -> None:
    s = al.make_leads(n_leads=400, n_reps=4, n_days=5, seed=2)
    history = al.make_history(s, seed=3)
    model = al.fit_win_model(
        history, lead_features=["segment", "quality"], skill_by="source", l2=2.0
    )
    assert model.converged
    spec = model._spec
    x = spec.design(
        history.reset_index(drop=True), pd.Index(spec.reps).get_indexer(history["rep_id"])
    )
    y = history["won"].to_numpy(dtype=float)
    penalty = np.full(x.shape[1], 2.0)
    penalty[0] = 0.0

    def loss(beta: np.ndarray) -> float:
        z = x @ beta
        return float(np.sum(np.logaddexp(0, z) - y * z) + 0.5 * np.sum(penalty * beta**2))

    generic = minimize(
        loss, np.zeros(x.shape[1]), method="L-BFGS-B", options={"maxiter": 5000, "gtol": 1e-10}
    )
    assert loss(model.coefficients.to_numpy()) <= generic.fun + 1e-6
    np.testing.assert_allclose(model.coefficients.to_numpy(), generic.x, atol=1e-3)


def test_fitted_probabilities_track_the_true_ones_on_other_pairs() -> None:
    past = al.make_leads(n_leads=6_000, n_reps=10, n_days=30, seed=4)
    model = al.fit_win_model(
        al.make_history(past, seed=5),
        lead_features=["segment", "source", "quality"],
        skill_by="segment",
    )
    # Other (lead, rep) pairs of the same stream, with fresh outcomes.
    fresh = al.make_history(past, seed=6)
    pred = model.predict(fresh, fresh[["lead_id", "rep_id"]])
    truth = fresh["p_win"].to_numpy()
    assert np.corrcoef(pred["p_win"], truth)[0, 1] > 0.9
    assert np.abs(pred["p_win"].to_numpy() - truth).mean() < 0.05


def test_predict_is_a_win_prob_table_for_simulate() -> None:
    s = al.make_leads(n_leads=500, n_reps=10, n_days=5, seed=7)
    model = al.fit_win_model(
        al.make_history(s, seed=8), lead_features=["segment"], skill_by="segment"
    )
    table = model.predict(s.leads, s.win_prob[["lead_id", "rep_id"]])
    assert table["p_win"].between(0, 1).all() and len(table) == len(s.win_prob)
    sim = al.simulate(s.leads, s.reps, al.ExpectedValue(), table)
    assert sim.summary["cap_breaches"] == 0
    everyone = model.predict(s.leads.head(3))
    assert len(everyone) == 3 * len(s.reps)


def test_bad_history_is_refused_naming_the_rows() -> None:
    s = al.make_leads(n_leads=50, n_reps=5, n_days=3, seed=0)
    history = al.make_history(s, seed=0)
    with pytest.raises(InvalidProblemError, match="'won'"):
        al.fit_win_model(history.assign(won=2), lead_features=["segment"])
    with pytest.raises(InvalidProblemError, match="'region2'"):
        al.fit_win_model(history, lead_features=["region2"])
    with pytest.raises(InvalidParameterError, match="l2"):
        al.fit_win_model(history, l2=-1)
