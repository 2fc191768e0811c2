"""Solvers: greedy construction, local search, CP-SAT, bounds, and the portfolio."""

from alloc.solvers.portfolio import solve

__all__ = ["solve"]
