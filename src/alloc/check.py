"""Temporary alias of :mod:`alloc.checker` (the module was renamed so that the function
:func:`alloc.check` no longer shadows it).

Only ``alloc.rebalance`` and ``alloc.solvers.portfolio`` still import from here; this
file goes once they import :mod:`alloc.checker`.
"""

from alloc.checker import Violation, check, objective_value, rep_loads

__all__ = ["Violation", "check", "objective_value", "rep_loads"]
