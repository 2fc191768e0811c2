"""alloc: sales allocation, targets and rebalancing as optimisation problems.

>>> import alloc
>>> problem = alloc.datasets.sample_problem()
>>> result = alloc.solve(problem, time_limit=2)
>>> alloc.check(problem, result.assignment)
[]
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from alloc.checker import Violation, check, objective_value
from alloc.data.problem import Problem
from alloc.errors import (
    AllocError,
    AllocWarning,
    DataWarning,
    InfeasibleError,
    InvalidParameterError,
    InvalidProblemError,
    PrecisionWarning,
    SolverError,
)
from alloc.metrics import evaluate
from alloc.objectives import (
    MaximizeFit,
    MinimizeCost,
    MinimizeDisruption,
    MinimizeImbalance,
    MinimizeTravel,
    Objective,
)
from alloc.priority_rules import Budget, Lexicographic
from alloc.result import Result, SolveStats, Stage, Status
from alloc.rules import (
    AccountLimit,
    Balance,
    Capacity,
    Forbid,
    KeyAccounts,
    Match,
    Pin,
    Spread,
    Together,
)
from alloc.territory_rules import Contiguous, MinimizeDispersion

if TYPE_CHECKING:  # loaded on first use, below; imported here for type checkers
    from alloc import accounts, datasets, geo, leads, performance, plot, policies, staffing, targets
    from alloc.comparison import compare
    from alloc.frontiers import frontier
    from alloc.rebalancing import rebalance, tradeoff
    from alloc.solvers import solve

__version__ = "0.1.0"

#: Names loaded on first use: (module, attribute or None for the module itself). They
#: pull in OR-Tools, HiGHS and networkx, which take longer to import than the rest of
#: alloc; ``import alloc`` then stays quick for the CLI's ``--help`` and for scripts that
#: only build or check problems.
_LAZY: dict[str, tuple[str, str | None]] = {
    "accounts": ("alloc.accounts", None),
    "datasets": ("alloc.datasets", None),
    "geo": ("alloc.geo", None),
    "leads": ("alloc.leads", None),
    "performance": ("alloc.performance", None),
    "plot": ("alloc.plot", None),
    "policies": ("alloc.policies", None),
    "staffing": ("alloc.staffing", None),
    "targets": ("alloc.targets", None),
    # Subpackages that ``import alloc`` used to load, still reachable as attributes.
    "comparison": ("alloc.comparison", None),
    "rebalancing": ("alloc.rebalancing", None),
    "solvers": ("alloc.solvers", None),
    "compare": ("alloc.comparison", "compare"),
    "frontier": ("alloc.frontiers", "frontier"),
    "rebalance": ("alloc.rebalancing", "rebalance"),
    "tradeoff": ("alloc.rebalancing", "tradeoff"),
    "solve": ("alloc.solvers", "solve"),
}


def __getattr__(name: str) -> Any:
    """Import a lazily loaded name on first access and keep it (PEP 562)."""
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'alloc' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "AccountLimit",
    "AllocError",
    "AllocWarning",
    "Balance",
    "Budget",
    "Capacity",
    "Contiguous",
    "DataWarning",
    "Forbid",
    "InfeasibleError",
    "InvalidParameterError",
    "InvalidProblemError",
    "KeyAccounts",
    "Lexicographic",
    "Match",
    "MaximizeFit",
    "MinimizeCost",
    "MinimizeDispersion",
    "MinimizeDisruption",
    "MinimizeImbalance",
    "MinimizeTravel",
    "Objective",
    "Pin",
    "PrecisionWarning",
    "Problem",
    "Result",
    "SolveStats",
    "SolverError",
    "Spread",
    "Stage",
    "Status",
    "Together",
    "Violation",
    "__version__",
    "accounts",
    "check",
    "compare",
    "datasets",
    "evaluate",
    "frontier",
    "geo",
    "leads",
    "objective_value",
    "performance",
    "plot",
    "policies",
    "rebalance",
    "solve",
    "staffing",
    "targets",
    "tradeoff",
]
