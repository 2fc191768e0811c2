"""Bid prices for [`ExpectedValue`][alloc.leads.ExpectedValue]: the duals of a small LP.

The LP routes a *forecast* of the coming period's leads (the router passes the last
period's leads) to maximise expected value, subject to each rep's cap and to the
fairness window on the cumulative counts::

    max  sum_ir ev_ir x_ir - M * sum_r (s_up_r + s_lo_r)
    s.t. sum_r x_ir <= 1                                   (each forecast lead)
         sum_i x_ir <= cap_r                               (each rep's cap)
         c_r + y_r - (1 + f) w_r (N + Y) <= s_up_r          (window, upper)
         c_r + y_r - (1 - f) w_r (N + Y) >= -s_lo_r         (window, lower)

with ``y_r = sum_i x_ir``, ``Y = sum_r y_r``, ``c_r``/``N`` the counts so far. The
slacks (penalty ``M``, above any lead's value) keep the LP feasible when a rep is
already out of its window; their duals then price the drift. The price of rep ``r`` is
the part of a column's reduced cost that depends on ``r``: the duals of its cap row
and of its two window rows. Routing a lead to ``argmax_r ev_ir - price_r`` is the
classic bid-price rule.
"""

from __future__ import annotations

import numpy as np

__all__ = ["bid_prices"]


def bid_prices(
    expected: np.ndarray,
    cap: np.ndarray,
    counts: np.ndarray,
    total: int,
    weight_share: np.ndarray,
    fairness: float,
    *,
    weight: float = 1.0,
) -> np.ndarray:
    """Price per rep (>= 0 on caps; the window part may be negative) from the LP above.

    Parameters
    ----------
    expected : numpy.ndarray
        ``(forecast leads, reps)`` expected value, ``-inf`` for ineligible pairs.
    cap : numpy.ndarray
        Most leads per period per rep.
    counts, total :
        Leads routed to each rep so far, and in all.
    weight_share : numpy.ndarray
        Target share per rep (sums to 1).
    fairness : float
        Half-width of the window, relative to the target share.
    weight : float
        How many leads each forecast row stands for (a sample of ``n / weight`` rows
        stands for ``n`` leads): its column counts ``weight`` times in the cap, total
        and window rows and in the objective, so the prices are per lead.
    """
    import highspy
    from scipy.sparse import csr_matrix, vstack

    from alloc.solvers.mip import quiet_highs

    n_reps = cap.size
    lead, rep = np.nonzero(np.isfinite(expected))
    k = lead.size
    if k == 0:
        return np.zeros(n_reps)
    ev = expected[lead, rep]
    penalty = 2.0 * weight * float(ev.max()) + 1.0
    cols = np.arange(k)
    n_f = expected.shape[0]
    up = (1.0 + fairness) * weight_share
    lo = (1.0 - fairness) * weight_share
    # Columns: x (k), s_up (n_reps), s_lo (n_reps), then Y (the total routed).
    n_cols = k + 2 * n_reps + 1
    y_col = n_cols - 1
    reps = np.arange(n_reps)
    a_lead = csr_matrix((np.ones(k), (lead, cols)), shape=(n_f, n_cols))
    a_cap = csr_matrix((np.full(k, weight), (rep, cols)), shape=(n_reps, n_cols))
    a_total = csr_matrix(
        (np.r_[np.full(k, weight), -1.0], (np.zeros(k + 1, dtype=np.int64), np.r_[cols, y_col])),
        shape=(1, n_cols),
    )

    def window(share: np.ndarray, slack_cols: np.ndarray, sign: float) -> csr_matrix:
        r = np.concatenate([rep, reps, reps])
        c = np.concatenate([cols, slack_cols, np.full(n_reps, y_col)])
        v = np.concatenate([np.full(k, weight), np.full(n_reps, sign), -share])
        return csr_matrix((v, (r, c)), shape=(n_reps, n_cols))

    a_up = window(up, k + reps, -1.0)
    a_lo = window(lo, k + n_reps + reps, 1.0)
    matrix = vstack([a_lead, a_cap, a_total, a_up, a_lo]).tocsr()
    inf = highspy.kHighsInf
    row_lo = np.concatenate(
        [np.full(n_f + n_reps, -inf), [0.0], np.full(n_reps, -inf), lo * total - counts]
    )
    row_hi = np.concatenate(
        [np.ones(n_f), cap.astype(float), [0.0], up * total - counts, np.full(n_reps, inf)]
    )
    cost = np.concatenate([-weight * ev, np.full(2 * n_reps, penalty), [0.0]])
    highs = quiet_highs(highspy)
    highs.setOptionValue("threads", 1)
    # Presolve costs more than it saves on these small LPs (measured: 57 ms -> 34 ms
    # on a 2,600-column forecast).
    highs.setOptionValue("presolve", "off")
    highs.addVars(n_cols, np.zeros(n_cols), np.full(n_cols, inf))
    highs.changeColsBounds(k, cols.astype(np.int32), np.zeros(k), np.ones(k))
    highs.changeColsCost(n_cols, np.arange(n_cols, dtype=np.int32), cost)
    highs.addRows(
        matrix.shape[0],
        row_lo,
        row_hi,
        matrix.nnz,
        matrix.indptr[:-1].astype(np.int32),
        matrix.indices.astype(np.int32),
        matrix.data.astype(float),
    )
    highs.run()
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return np.zeros(n_reps)
    dual = np.asarray(highs.getSolution().row_dual, dtype=float)
    d_cap = dual[n_f : n_f + n_reps]
    d_up = dual[n_f + n_reps + 1 : n_f + 2 * n_reps + 1]
    d_lo = dual[n_f + 2 * n_reps + 1 :]
    # Minimising -value: a column's reduced cost is -ev - sum(a * dual); the part that
    # depends on its rep is -(d_cap + d_up + d_lo), so that is the rep's price.
    return np.asarray(-(d_cap + d_up + d_lo), dtype=float)
