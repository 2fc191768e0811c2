"""Sales targets that add up exactly (being split into one-job modules; see apportion)."""

from alloc.targets.apportion import (
    __all__,
    blend,
    cascade,
    decompose,
    from_allocation,
    seasonality,
    split,
)
