"""Run one auditor command in this process and print its wall time and peak memory as JSON.

Used by run_benchmark.py: ``python benchmarks/measure.py run --train ...``.
"""

from __future__ import annotations

import json
import resource
import sys
import time

from auditor.cli import main

if __name__ == "__main__":
    started = time.perf_counter()
    code = 0
    try:
        main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"exit_code": code, "wall_s": round(wall, 2), "peak_mb": round(peak_mb, 1)}), file=sys.stderr)
