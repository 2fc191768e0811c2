"""alloc: sales allocation, targets and rebalancing as optimisation problems.

>>> import alloc
>>> problem = alloc.datasets.sample_problem()
>>> result = alloc.solve(problem, time_limit=2)
>>> alloc.check(problem, result.assignment)
[]
"""

from alloc import accounts, datasets, performance, plot, policies, staffing, targets
from alloc.checker import Violation, check, objective_value
from alloc.comparison import compare
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
from alloc.rebalancing import rebalance, tradeoff
from alloc.result import Result, SolveStats, Status
from alloc.rules import (
    AccountLimit,
    Balance,
    Capacity,
    Forbid,
    KeyAccounts,
    Match,
    MaximizeFit,
    MinimizeCost,
    MinimizeDisruption,
    MinimizeImbalance,
    MinimizeTravel,
    Objective,
    Pin,
    Spread,
    Together,
)
from alloc.solvers import solve

__version__ = "0.1.0"

__all__ = [
    "AccountLimit",
    "AllocError",
    "AllocWarning",
    "Balance",
    "Capacity",
    "DataWarning",
    "Forbid",
    "InfeasibleError",
    "InvalidParameterError",
    "InvalidProblemError",
    "KeyAccounts",
    "Match",
    "MaximizeFit",
    "MinimizeCost",
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
    "Status",
    "Together",
    "Violation",
    "__version__",
    "accounts",
    "check",
    "compare",
    "datasets",
    "evaluate",
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
