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

One HiGHS instance serves a whole run (made once: making one costs more than solving
these LPs); each period's LP is rebuilt in it over the eligible pairs only. Keeping a
dense model and changing only costs and bounds, so that HiGHS could start from the last
basis, measured twice as slow (64-lead forecasts, 50 reps: 1.6 s against 0.76 s for 90
periods): the forecast's leads change every period, so the old basis helps little. A
forecast row standing for ``k`` leads (a thinned forecast) is handled by dividing the
cap, window and total rows by ``k``: the same LP scaled, so prices stay per lead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["PriceModel", "bid_prices"]


class PriceModel:
    """The bid-price LP of one run: one quiet HiGHS instance, a new LP each period.

    Parameters
    ----------
    n_reps : int
        Reps (columns of every forecast).
    """

    def __init__(self, n_reps: int) -> None:
        import highspy

        from alloc.solvers.mip import quiet_highs

        self.n_reps = n_reps
        self._highs: Any = quiet_highs(highspy)
        self._highs.setOptionValue("threads", 1)
        # Presolve costs more than it saves on these small LPs (measured: 57 ms -> 34 ms
        # on a 2,600-column forecast).
        self._highs.setOptionValue("presolve", "off")

    def prices(
        self,
        expected: np.ndarray,
        cap: np.ndarray,
        counts: np.ndarray,
        total: int,
        weight_share: np.ndarray,
        fairness: float,
        *,
        weight: float = 1.0,
    ) -> np.ndarray:
        """Price per rep from the LP in the module doc, over the forecast ``expected``.

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
            How many leads each forecast row stands for.

        Returns
        -------
        numpy.ndarray
            One price per rep (zeros when the forecast has no eligible pair or the LP
            is not solved to optimality).
        """
        import highspy

        n_f, n_reps = expected.shape
        lead, rep = np.nonzero(np.isfinite(expected))
        k = lead.size
        if k == 0:
            return np.zeros(n_reps)
        ev = expected[lead, rep]
        # Columns: x (k), s_up (n_reps), s_lo (n_reps), Y. Rows: leads, caps, total,
        # window up, window low; built as COO triplets, then sorted into rows.
        n_cols = k + 2 * n_reps + 1
        y_col = n_cols - 1
        cols = np.arange(k)
        reps = np.arange(n_reps)
        r_cap, r_tot = n_f, n_f + n_reps
        r_up, r_lo = r_tot + 1, r_tot + 1 + n_reps
        up = (1.0 + fairness) * weight_share
        lo = (1.0 - fairness) * weight_share
        y_at = np.full(n_reps, y_col)
        row = np.concatenate(
            [lead, r_cap + rep, np.full(k + 1, r_tot), r_up + rep, r_up + reps, r_up + reps,
             r_lo + rep, r_lo + reps, r_lo + reps]
        )  # fmt: skip
        col = np.concatenate(
            [cols, cols, np.r_[cols, y_col], cols, k + reps, y_at, cols, k + n_reps + reps, y_at]
        )
        ones = np.ones(k)
        val = np.concatenate(
            [ones, ones, np.r_[ones, -1.0], ones, -np.ones(n_reps), -up,
             ones, np.ones(n_reps), -lo]
        )  # fmt: skip
        n_rows = r_lo + n_reps
        order = np.lexsort((col, row))
        row, col, val = row[order], col[order], val[order]
        start = np.searchsorted(row, np.arange(n_rows))
        inf = highspy.kHighsInf
        penalty = 2.0 * float(ev.max()) + 1.0  # above any lead's value: slack is a last resort
        highs = self._highs
        highs.clearModel()
        highs.addVars(n_cols, np.zeros(n_cols), np.r_[ones, np.full(2 * n_reps + 1, inf)])
        highs.changeColsCost(
            n_cols, np.arange(n_cols, dtype=np.int32), np.r_[-ev, np.full(2 * n_reps, penalty), 0.0]
        )
        row_lo = np.concatenate(
            [
                np.full(n_f + n_reps, -inf),
                [0.0],
                np.full(n_reps, -inf),
                (lo * total - counts) / weight,
            ]
        )
        row_hi = np.concatenate(
            [
                np.ones(n_f),
                cap / weight,
                [0.0],
                (up * total - counts) / weight,
                np.full(n_reps, inf),
            ]
        )
        highs.addRows(
            n_rows, row_lo, row_hi, val.size, start.astype(np.int32), col.astype(np.int32), val
        )
        highs.run()
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return np.zeros(n_reps)
        dual = np.asarray(highs.getSolution().row_dual, dtype=float)
        # Minimising -value: a column's reduced cost is -ev - sum(a * dual); the part that
        # depends on its rep is -(d_cap + d_up + d_lo), so that is the rep's price.
        price = -(dual[r_cap : r_cap + n_reps] + dual[r_up : r_up + n_reps] + dual[r_lo:])
        return np.asarray(price, dtype=float)


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
    """One-off [`PriceModel.prices`][alloc.leads.pricing.PriceModel.prices]."""
    model = PriceModel(expected.shape[1])
    return model.prices(expected, cap, counts, total, weight_share, fairness, weight=weight)
