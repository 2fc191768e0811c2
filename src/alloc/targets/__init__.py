"""Sales targets that add up exactly: seasonality, splits, cascades and decompositions.

A target plan is only credible when its pieces add up to the number the board signed:
twelve monthly targets that sum to the annual one, region targets that sum to the
company's, rep x month x product cells whose every row and column total holds. This
package produces such plans in whole *units* (1 EUR, 100 EUR, one bike, one cent):

* [`seasonality`][alloc.targets.seasonality] turns sales history into period weights (months or
  quarters).
* [`split`][alloc.targets.split] divides a total by weights with the largest remainder (Hamilton)
  method, honouring floors and caps; the parts are multiples of ``unit`` and sum exactly to the
  total.
* [`cascade`][alloc.targets.cascade] splits a total top-down through an organisation tree (company
  -> region -> team -> rep) so that every parent equals the sum of its children; nodes can
  be pinned, floored and capped.
* [`decompose`][alloc.targets.decompose] spreads a total over several axes at once (month x product
  x rep) so that the grand total and every one-axis marginal hold exactly, using iterative
  proportional fitting followed by a vectorised integer repair.
* [`from_allocation`][alloc.targets.from_allocation] derives fair quotas from an allocation: each
  rep's quota is proportional to the potential (or a blend of columns) of the customers assigned.
* [`blend`][alloc.targets.blend] mixes several basis columns (e.g. 70 % potential, 30 % history).
* [`forecast`][alloc.targets.forecast] gives each book (rep, territory...) quantiles of what it
  will sell over the next periods (p10, p50, p90 bands from a bootstrap of the books'
  shares and a back-tested forecast of their total, whose uncertainty all books share;
  or, for books made of customers, from each customer's purchases and spend).
* [`set_quotas`][alloc.targets.set_quotas] turns such a forecast into quotas that sum exactly to a
  total and that every book has the same estimated odds of reaching.
* [`backtest`][alloc.targets.backtest] compares quota methods (even, prior year, trailing twelve
  months, equal odds) on real history: attainment, its spread and its link to book size.

All arithmetic on amounts is done on integer unit counts, so sums are exact, never
approximately right. Inputs are never modified.

Modules, one job each: ``apportion`` (integer units and largest remainder splits within
bounds; internal to alloc, shared with [`alloc.performance`][alloc.performance]), ``shares``
(seasonality and split), ``basis`` (blend), ``org_tree`` (cascade), ``multi_axis``
(decompose), ``quotas`` (from_allocation), ``bands`` (forecast), ``forecasting`` (its
time-series model; internal), ``pooled_total`` (the total's level model and common shock;
internal), ``bgnbd`` and ``customer_base`` (its customer-base model: BG/NBD counts and
Gamma-Gamma spend per customer, and the choice of model; internal), ``odds`` (set_quotas) and
``backtesting`` (backtest). No module is named after a function, so
``import alloc.targets.<module>`` always gives the module.
"""

from alloc.targets.backtesting import BacktestTables, backtest
from alloc.targets.bands import forecast
from alloc.targets.basis import blend
from alloc.targets.multi_axis import decompose
from alloc.targets.odds import set_quotas
from alloc.targets.org_tree import cascade
from alloc.targets.quotas import from_allocation
from alloc.targets.shares import seasonality, split

__all__ = [
    "BacktestTables",
    "backtest",
    "blend",
    "cascade",
    "decompose",
    "forecast",
    "from_allocation",
    "seasonality",
    "set_quotas",
    "split",
]
