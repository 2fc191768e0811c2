"""Load the bundled CDNOW purchase records as a transactions table.

Provenance: real CDNOW purchase records, 1997-01 to 1998-06 (69,659 purchases by the
23,570 customers who made their first purchase in the first quarter of 1997), as
distributed by the lifetimes package (https://github.com/CamDavidsonPilon/lifetimes),
MIT licence; the licence text is bundled as ``data/LICENSE-lifetimes.txt``.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load_cdnow"]

_FILE = "CDNOW_master.txt"


def load_cdnow() -> pd.DataFrame:
    """Return the CDNOW purchase records, one row per purchase.

    Returns
    -------
    pandas.DataFrame
        69,659 rows with the columns ``customer_id`` (str, zero-padded as in the
        source, e.g. ``"00001"``), ``date`` (datetime64, day resolution),
        ``number_of_cds`` (int) and ``dollar_value`` (float, US dollars; 80 purchases
        have value 0). Rows keep the order of the source file (by customer, then date).

    Examples
    --------
    >>> from alloc.datasets.cdnow import load_cdnow
    >>> df = load_cdnow()
    >>> df.shape
    (69659, 4)
    >>> df["customer_id"].nunique()
    23570
    >>> df.iloc[0].to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'customer_id': '00001', 'date': Timestamp('1997-01-01 00:00:00'),
     'number_of_cds': 1, 'dollar_value': 11.77}
    """
    source = resources.files("alloc.datasets") / "data" / _FILE
    with source.open("rb") as handle:
        raw = pd.read_csv(
            handle,
            sep=r"\s+",
            dtype={"customer_id": "str", "date": "str", "number_of_cds": "int64"},
        )
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"].astype(str),
            "date": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "number_of_cds": raw["number_of_cds"].astype("int64"),
            "dollar_value": raw["dollar_value"].astype("float64"),
        }
    )
