"""Load the bundled bike sales sample as an order-lines table.

Provenance: ``bike_sales_sample.csv`` is the ``bike_sales_sample`` data set distributed
with pytimetk (https://github.com/business-science/pytimetk), MIT licence; the licence
text is bundled as ``data/LICENSE-pytimetk.txt``. The data are simulated (a fictitious
bicycle manufacturer selling to 30 bike shops in 2011), not real sales.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load_bike_sales"]

_FILE = "bike_sales_sample.csv"


def load_bike_sales() -> pd.DataFrame:
    """Return the bike sales sample, one row per order line.

    Returns
    -------
    pandas.DataFrame
        2,466 order lines from 2011-01-07 to 2011-12-28 with the columns ``order_id``,
        ``order_line``, ``order_date`` (datetime64), ``quantity``, ``price``,
        ``total_price`` (US dollars, int), ``model``, ``category_1`` (``"Mountain"`` or
        ``"Road"``), ``category_2`` (9 sub-categories), ``frame_material``,
        ``bikeshop_name`` (30 shops), ``city`` and ``state``. Rows keep the order of
        the source file.

    Examples
    --------
    >>> from alloc.datasets.sales import load_bike_sales
    >>> df = load_bike_sales()
    >>> df.shape
    (2466, 13)
    >>> df["bikeshop_name"].nunique()
    30
    >>> str(df["order_date"].min().date()), str(df["order_date"].max().date())
    ('2011-01-07', '2011-12-28')
    """
    source = resources.files("alloc.datasets") / "data" / _FILE
    with source.open("rb") as handle:
        return pd.read_csv(handle, parse_dates=["order_date"])
