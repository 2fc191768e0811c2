"""Bundled sample data, synthetic generators and the GAP benchmark reader."""

from alloc.datasets.cdnow import load_cdnow
from alloc.datasets.counties import load_counties
from alloc.datasets.gap import gap_tables, make_gap, read_gap, read_gap_solution
from alloc.datasets.generate import make_problem, make_tables, standard_rules
from alloc.datasets.municipalities import load_municipalities
from alloc.datasets.sales import load_bike_sales
from alloc.datasets.sample import load_sample, sample_problem

__all__ = [
    "gap_tables",
    "load_bike_sales",
    "load_cdnow",
    "load_counties",
    "load_municipalities",
    "load_sample",
    "make_gap",
    "make_problem",
    "make_tables",
    "read_gap",
    "read_gap_solution",
    "sample_problem",
    "standard_rules",
]
