"""A synthetic stream of leads with known true win probabilities (for tests, docs and
the benchmark).

Recipe of [`make_leads`][alloc.leads.make_leads] (every draw from one seeded generator):

- **Reps** are spread over ``n_reps // 10`` regions (at least one), in turn. Each has a
  level: junior (30 %), mid (45 %) or senior (25 %), with target weight 0.7, 1.0 and
  1.3; a quality ``q_r ~ N(level effect, 0.25)`` with level effects -0.2, 0, +0.2; and a
  skill per segment ``s_r,g ~ N(0, 0.5)``.
- **Leads** arrive over ``n_days`` days, weekends at 35 % of a weekday's rate. A lead's
  region is drawn in proportion to the regions' total rep weight (so every rep's
  weighted share can be met). Its segment is SMB (60 %), mid-market (30 %) or
  enterprise (10 %), with log-normal values of median 8,000, 30,000 and 120,000
  (sigma 0.5); its source is inbound (45 %), outbound (35 %) or partner (20 %); its
  quality is ``z ~ N(0, 0.7)``.
- **Eligibility**: the reps of the lead's region; enterprise leads only go to mid and
  senior reps.
- **True win probability**: ``logit p = logit(0.15) + z + source + segment + q_r + s_r,g``
  with source effects +0.4 (inbound), -0.4 (outbound), +0.1 (partner) and segment effects
  +0.3 (SMB), 0 (mid-market), -0.5 (enterprise).
- **Caps**: ``daily_cap = ceil(1.4 * weight share * weekday arrivals)``: about 40 % room
  on an average weekday, so busy days make caps bind.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from alloc.validation import check_param, is_int

__all__ = ["LeadScenario", "make_history", "make_leads"]

_LEVELS = np.array(["junior", "mid", "senior"])
_LEVEL_P = np.array([0.30, 0.45, 0.25])
_LEVEL_WEIGHT = np.array([0.7, 1.0, 1.3])
_LEVEL_EFFECT = np.array([-0.2, 0.0, 0.2])
_SEGMENTS = np.array(["smb", "mid-market", "enterprise"])
_SEGMENT_P = np.array([0.6, 0.3, 0.1])
_SEGMENT_MEDIAN = np.array([8_000.0, 30_000.0, 120_000.0])
_SEGMENT_EFFECT = np.array([0.3, 0.0, -0.5])
_SOURCES = np.array(["inbound", "outbound", "partner"])
_SOURCE_P = np.array([0.45, 0.35, 0.20])
_SOURCE_EFFECT = np.array([0.4, -0.4, 0.1])
_BASE_LOGIT = math.log(0.15 / 0.85)


@dataclass(frozen=True)
class LeadScenario:
    """A generated lead stream.

    Attributes
    ----------
    leads : pandas.DataFrame
        ``lead_id, arrival`` (day), ``value, segment, region, source, quality``.
    reps : pandas.DataFrame
        ``rep_id, region, level, weight, daily_cap, quality``.
    win_prob : pandas.DataFrame
        The true ``lead_id, rep_id, p_win`` of every eligible pair.
    skill : pandas.DataFrame or None
        The true skill of each rep (rows) per segment (columns); None for streams
        built from your own tables.
    """

    leads: pd.DataFrame
    reps: pd.DataFrame
    win_prob: pd.DataFrame
    skill: pd.DataFrame | None = None


def _reps(n_reps: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    n_regions = max(1, n_reps // 10)
    level = rng.choice(3, size=n_reps, p=_LEVEL_P)
    quality = rng.normal(_LEVEL_EFFECT[level], 0.25)
    skill = rng.normal(0.0, 0.5, size=(n_reps, _SEGMENTS.size))
    width = len(str(n_reps))
    reps = pd.DataFrame(
        {
            "rep_id": [f"R{i + 1:0{width}d}" for i in range(n_reps)],
            "region": [f"region{i % n_regions + 1}" for i in range(n_reps)],
            "level": _LEVELS[level],
            "weight": _LEVEL_WEIGHT[level],
            "quality": quality,
        }
    )
    return reps, skill


def make_leads(
    n_leads: int = 20_000, n_reps: int = 50, n_days: int = 90, *, seed: int = 0
) -> LeadScenario:
    """A synthetic lead stream with known true win probabilities (recipe in the module doc).

    Parameters
    ----------
    n_leads, n_reps, n_days : int
        Size of the stream (all >= 1).
    seed : int
        Seed of every draw.

    Returns
    -------
    LeadScenario

    Examples
    --------
    >>> s = make_leads(n_leads=200, n_reps=10, n_days=5, seed=0)
    >>> len(s.leads), len(s.reps), bool(s.win_prob["p_win"].between(0, 1).all())
    (200, 10, True)
    """
    for name, size in (("n_leads", n_leads), ("n_reps", n_reps), ("n_days", n_days)):
        check_param(name, size, "make_leads", is_int(size) and size >= 1, "an integer >= 1")
    check_param("seed", seed, "make_leads", is_int(seed) and seed >= 0, "an integer >= 0")
    rng = np.random.default_rng(seed)
    reps, skill = _reps(n_reps, rng)
    regions = np.unique(reps["region"].to_numpy())
    region_weight = reps.groupby("region")["weight"].sum().reindex(regions).to_numpy()
    rate = np.where(np.arange(n_days) % 7 >= 5, 0.35, 1.0)
    day = np.sort(rng.choice(n_days, size=n_leads, p=rate / rate.sum()))
    region = rng.choice(regions.size, size=n_leads, p=region_weight / region_weight.sum())
    segment = rng.choice(3, size=n_leads, p=_SEGMENT_P)
    source = rng.choice(3, size=n_leads, p=_SOURCE_P)
    quality = rng.normal(0.0, 0.7, size=n_leads)
    value = np.round(_SEGMENT_MEDIAN[segment] * np.exp(rng.normal(0.0, 0.5, size=n_leads)), -1)
    width = len(str(n_leads))
    leads = pd.DataFrame(
        {
            "lead_id": [f"L{i + 1:0{width}d}" for i in range(n_leads)],
            "arrival": day.astype(np.int64),
            "value": value,
            "segment": _SEGMENTS[segment],
            "region": regions[region],
            "source": _SOURCES[source],
            "quality": quality,
        }
    )
    rep_region = pd.Index(regions).get_indexer(reps["region"])
    senior_enough = reps["level"].to_numpy() != "junior"
    eligible = (region[:, None] == rep_region[None, :]) & (
        (segment[:, None] != 2) | senior_enough[None, :]
    )
    lead_idx, rep_idx = np.nonzero(eligible)
    logit = (
        _BASE_LOGIT
        + quality[lead_idx]
        + _SOURCE_EFFECT[source[lead_idx]]
        + _SEGMENT_EFFECT[segment[lead_idx]]
        + reps["quality"].to_numpy()[rep_idx]
        + skill[rep_idx, segment[lead_idx]]
    )
    win_prob = pd.DataFrame(
        {
            "lead_id": leads["lead_id"].to_numpy()[lead_idx],
            "rep_id": reps["rep_id"].to_numpy()[rep_idx],
            "p_win": 1.0 / (1.0 + np.exp(-logit)),
        }
    )
    weekday_arrivals = float(n_leads / rate.sum())
    share = reps["weight"].to_numpy() / reps["weight"].sum()
    reps["daily_cap"] = np.maximum(1, np.ceil(1.4 * share * weekday_arrivals)).astype(np.int64)
    skill_table = pd.DataFrame(skill, index=reps["rep_id"], columns=list(_SEGMENTS))
    return LeadScenario(leads, reps, win_prob, skill_table)


def make_history(scenario: LeadScenario, *, seed: int = 0) -> pd.DataFrame:
    """Past outcomes for [`fit_win_model`][alloc.leads.fit_win_model]: each lead of
    ``scenario`` worked by a uniformly random eligible rep and won with its true ``p_win``.

    Returns the leads (that have an eligible rep) with ``rep_id``, ``p_win`` (the truth,
    to compare a fitted model with) and ``won``.

    Examples
    --------
    >>> s = make_leads(n_leads=100, n_reps=10, n_days=5, seed=0)
    >>> h = make_history(s, seed=0)
    >>> sorted(set(h.columns) - set(s.leads.columns))
    ['p_win', 'rep_id', 'won']
    """
    check_param("seed", seed, "make_history", is_int(seed) and seed >= 0, "an integer >= 0")
    rng = np.random.default_rng(seed)
    pairs = scenario.win_prob.assign(draw=rng.random(len(scenario.win_prob)))
    chosen = pairs.loc[pairs.groupby("lead_id", sort=False)["draw"].idxmax()]
    history = scenario.leads.merge(chosen[["lead_id", "rep_id", "p_win"]], on="lead_id")
    history["won"] = rng.random(len(history)) < history["p_win"].to_numpy()
    return history
