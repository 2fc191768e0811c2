"""Run a benchmark script with ``alloc`` imported from another source tree first.

For before/after figures in one session: ``python benchmarks/run_with_src.py
/work/main/src benchmarks/bench_territories.py --part real --no-baselines ...`` runs this
tree's script on the other tree's library (the scripts put their own ``src`` first on
the path, which does not matter once ``alloc`` is imported).
"""

from __future__ import annotations

import runpy
import sys

if __name__ == "__main__":
    source, script, *rest = sys.argv[1:]
    sys.path.insert(0, source)
    import alloc  # noqa: F401  (imported first: the script's own path insert comes too late)

    sys.argv = [script, *rest]
    runpy.run_path(script, run_name="__main__")
