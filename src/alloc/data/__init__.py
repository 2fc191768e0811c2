"""Problem data: validated tables, the pair table and the compiled array model."""

from alloc.data.context import Tables
from alloc.data.model import Constraint, Imbalance, Model
from alloc.data.problem import Problem

__all__ = ["Constraint", "Imbalance", "Model", "Problem", "Tables"]
