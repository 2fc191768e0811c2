"""The spatial part of a compiled model: neighbour graph, base units and dispersion.

A `Geography` is attached to a [`Model`][alloc.data.model.Model] when the problem has a
``Contiguous`` rule or a ``MinimizeDispersion`` term. It is expressed over the model's
*units* (customers merged by ``Together`` rules), like every other model array, so the
territory solvers never see customer ids.

Contiguity: the units assigned to rep ``r`` induce a connected subgraph of the neighbour
graph (an empty territory counts as connected); when ``base[r] >= 0`` that unit is
assigned to ``r``.

Dispersion (``centre_kind`` not None), added to the model's objective with
``centre_weight``:

- ``"sum"``: ``sum_u d(u, centre(rep(u)))`` (p-median),
- ``"max"``: ``max_u d(u, centre(rep(u)))`` (p-centre),

where the centre of rep ``r`` is fixed (column ``r`` of ``fixed_distance``: the rep's own
x/y or base unit) or, when ``fixed_distance`` is None, a unit of the territory chosen by
the solver, with unit-to-unit distances ``distance``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from alloc.data.model import Model, _ReadOnlyArrays

__all__ = ["Geography", "needs_territory_solver"]


@dataclass(frozen=True, eq=False)
class Geography(_ReadOnlyArrays):
    """Neighbour graph over model units (CSR, symmetric, no self loops) and dispersion.

    Attributes
    ----------
    indptr, indices
        Neighbours of unit ``u`` are ``indices[indptr[u]:indptr[u + 1]]``. Empty (all
        ``indptr`` zero) when the problem has no ``Contiguous`` rule.
    contiguous
        Whether territories must be connected in the graph.
    base
        ``(n_reps,)`` unit each rep's territory must contain, ``-1`` for none.
    centre_kind
        ``None`` (no dispersion term), ``"sum"`` or ``"max"``.
    centre_weight
        Weight of the dispersion term in the objective.
    fixed_distance
        ``(n_units, n_reps)`` distance from each unit to each rep's fixed centre, or None
        when the solver chooses the centres.
    distance
        ``(n_units, n_units)`` unit-to-unit distances when centres are chosen, else None.
    """

    indptr: np.ndarray
    indices: np.ndarray
    contiguous: bool
    base: np.ndarray
    centre_kind: str | None = None
    centre_weight: float = 0.0
    fixed_distance: np.ndarray | None = None
    distance: np.ndarray | None = None

    @property
    def n_units(self) -> int:
        return int(self.indptr.shape[0] - 1)

    @property
    def chooses_centres(self) -> bool:
        return self.centre_kind is not None and self.fixed_distance is None

    def neighbours(self, unit: int) -> np.ndarray:
        """Units adjacent to ``unit``."""
        return self.indices[self.indptr[unit] : self.indptr[unit + 1]]


def needs_territory_solver(model: Model) -> bool:
    """True when the model's geography needs the territory solver (contiguity, chosen
    centres or a max-dispersion term); fixed centres with ``"sum"`` are a plain cost.

    Here rather than in `alloc.solvers.territories`, so that every solve can ask without
    importing the territory solver (scipy's graph routines: about 0.6 s).
    """
    g = model.geography
    return g is not None and (g.contiguous or g.centre_kind is not None)
