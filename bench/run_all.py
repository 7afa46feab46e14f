"""Runs every benchmark in ``bench/`` one after the other, each in its own process with the
current environment (``DATABASE_URL``, ``REDIS_URL``), and prints their tables (``make bench``).

    python bench/run_all.py [--only http_floor console_pages] [--skip deletion]

Scripts run in a fixed order (the cheap ones first); a script added to ``bench/`` later runs after
them. Exits 1 if any script fails, after running the others.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ORDER = [
    "evaluator_vs_sdk",
    "http_floor",
    "ingestion",
    "segments_upload",
    "segments_membership",
    "deletion",
    "console_pages",
]


def scripts() -> list[str]:
    present = {path.stem for path in BENCH_DIR.glob("*.py") if not path.stem.startswith("_")}
    present.discard(Path(__file__).stem)
    return [name for name in ORDER if name in present] + sorted(present - set(ORDER))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=None, help="run only these scripts")
    parser.add_argument("--skip", nargs="+", default=[], help="do not run these scripts")
    args = parser.parse_args()
    names = [
        name
        for name in scripts()
        if (args.only is None or name in args.only) and name not in args.skip
    ]
    outcomes: list[tuple[str, int, float]] = []
    for name in names:
        print(f"\n=== bench/{name}.py ===", flush=True)
        started = time.monotonic()
        code = subprocess.run([sys.executable, str(BENCH_DIR / f"{name}.py")], check=False)
        outcomes.append((name, code.returncode, time.monotonic() - started))
    print("\n=== summary ===")
    for name, code, seconds in outcomes:
        print(f"{name:<24} {'ok' if code == 0 else f'FAILED ({code})':<12} {seconds:>7.1f} s")
    return 0 if all(code == 0 for _name, code, _s in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
