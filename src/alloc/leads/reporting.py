"""The tables of a lead-routing run: one row per lead (routes) and one per rep (by_rep).

Shared by [`simulate`][alloc.leads.simulate] and [`hindsight`][alloc.leads.hindsight] so
that a router and the offline optimum are scored by the same code. Won deals come from
one uniform draw per lead (seeded), so two routers run with the same seed face the same
luck: a lead is won when its draw falls below the chosen rep's ``p_win``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from alloc.leads.data import LeadInputs

__all__ = ["FALLBACK_AT_CAP", "FALLBACK_NO_REP", "lead_draws", "rep_table", "route_table"]

#: Reason of a lead that no rep may take (no eligible pair).
FALLBACK_NO_REP = "fallback: no eligible rep"
#: Reason of a lead whose eligible reps were all at their cap in its period.
FALLBACK_AT_CAP = "fallback: every eligible rep at its cap"


def lead_draws(n_leads: int, seed: int) -> np.ndarray:
    """One uniform draw per lead row (common random numbers across routers)."""
    return np.random.default_rng(seed).random(n_leads)


def pair_p_win(inputs: LeadInputs, assign: np.ndarray) -> np.ndarray:
    """``p_win`` of each lead's chosen pair (0 for leads in the fallback queue)."""
    p = np.zeros(inputs.n_leads)
    key = inputs.pair_lead * inputs.n_reps + inputs.pair_rep
    routed = np.flatnonzero(assign >= 0)
    want = routed * inputs.n_reps + assign[routed]
    order = np.argsort(key)
    at = np.searchsorted(key[order], want)
    p[routed] = inputs.pair_p[order][at]
    return p


def route_table(
    inputs: LeadInputs, assign: np.ndarray, reason: np.ndarray, seed: int
) -> pd.DataFrame:
    """One row per lead, in the leads' row order.

    Columns: ``lead_id, period, rep_id`` (missing in the fallback queue),
    ``p_win, expected_value, won, reason``.
    """
    p = pair_p_win(inputs, assign)
    routed = assign >= 0
    rep = np.full(inputs.n_leads, None, dtype=object)
    rep[routed] = inputs.rep_ids[assign[routed]]
    won = routed & (lead_draws(inputs.n_leads, seed) < p)
    return pd.DataFrame(
        {
            "lead_id": inputs.lead_ids,
            "period": inputs.period_labels[inputs.period_of_lead],
            "rep_id": rep,
            "p_win": p,
            "expected_value": p * inputs.value,
            "won": won,
            "reason": reason,
        }
    )


def rep_table(inputs: LeadInputs, assign: np.ndarray, routes: pd.DataFrame) -> pd.DataFrame:
    """One row per rep: leads, expected and won value, share against weight share
    (``share_gap`` = share / weight share - 1; 0 for every rep when no lead was routed),
    and the number of periods in which the rep got more leads than its cap."""
    n_reps = inputs.n_reps
    routed = assign >= 0
    reps = assign[routed]
    leads = np.bincount(reps, minlength=n_reps)
    ev = np.bincount(reps, weights=routes["expected_value"].to_numpy()[routed], minlength=n_reps)
    won_value = np.bincount(
        reps, weights=(inputs.value * routes["won"].to_numpy())[routed], minlength=n_reps
    )
    per_period = np.zeros((inputs.n_periods, n_reps), dtype=np.int64)
    np.add.at(per_period, (inputs.period_of_lead[routed], reps), 1)
    breaches = (per_period > inputs.cap[None, :]).sum(axis=0)
    total = int(leads.sum())
    share = leads / max(total, 1)
    return pd.DataFrame(
        {
            "rep_id": inputs.rep_ids,
            "leads": leads,
            "expected_value": ev,
            "won_value": won_value,
            "share": share,
            "weight_share": inputs.weight_share,
            # Nothing routed: no rep was favoured, so no gap.
            "share_gap": _share_gap(share, inputs.weight_share) if total else np.zeros(n_reps),
            "cap_breaches": breaches,
        }
    )


def _share_gap(share: np.ndarray, weight_share: np.ndarray) -> np.ndarray:
    """``share / weight_share - 1``; a rep with weight 0 has gap 0 without leads, inf with."""
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = share / weight_share - 1.0
    zero = weight_share <= 0
    gap[zero] = np.where(share[zero] > 0, np.inf, 0.0)
    return gap


def fallback_reasons(
    inputs: LeadInputs, assign: np.ndarray, routed_reason: np.ndarray
) -> np.ndarray:
    """The reason column: the router's reason for routed leads, why not for the others."""
    has_pair = np.zeros(inputs.n_leads, dtype=bool)
    has_pair[inputs.pair_lead] = True
    reason = np.where(
        assign >= 0, routed_reason, np.where(has_pair, FALLBACK_AT_CAP, FALLBACK_NO_REP)
    )
    return reason.astype(object)
