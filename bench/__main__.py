"""``python -m bench``: every stage's benchmark at one scale, in one report (``make bench``).

Runs ingest, transform, scoring, publish, forecast and dashboards (each its own
``bench.<stage>`` benchmark, each in a fresh process), again at the next smaller scale for
the growth columns, and writes ``.crmlens/bench/results/report.json`` and ``report.md``:
throughput, raw baseline and ratio, peak memory and growth order per stage. See
:mod:`bench.report` for what each column means.

    python -m bench --scale medium
    python -m bench --scale small --stages ingest,transform --growth tiny
    python -m bench --scale tiny --no-growth
"""

from __future__ import annotations

import argparse
import os
import sys

from bench.report import SCALE_ORDER, STAGES, build, smaller, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium", choices=SCALE_ORDER)
    parser.add_argument(
        "--stages",
        default=",".join(STAGES),
        help=f"comma-separated subset of {','.join(STAGES)} (default: all)",
    )
    parser.add_argument(
        "--growth",
        choices=SCALE_ORDER,
        default=None,
        help="smaller scale for the growth columns (default: the next smaller scale)",
    )
    parser.add_argument("--no-growth", action="store_true", help="run at --scale only")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 2,
        help="worker processes for the forecast (default: the machine's CPUs)",
    )
    args = parser.parse_args(argv)

    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        parser.error(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    stages = [s for s in STAGES if s in stages]  # the pipeline's order
    growth = None if args.no_growth else args.growth or smaller(args.scale)
    if growth and SCALE_ORDER.index(growth) >= SCALE_ORDER.index(args.scale):
        parser.error(f"--growth {growth} must be a smaller scale than --scale {args.scale}")

    report = build(args.scale, stages, growth, args.jobs)
    title = f"crmlens benchmarks, {args.scale} scale" + (
        f" (growth from {growth})" if growth else ""
    )
    print(f"\n### {title}\n\n{table(report['stages'], growth)}\n", flush=True)
    for r in report["stages"]:
        if r["status"] != "ok":
            print(f"{r['stage']}: {r['status']}: {r.get('reason') or r.get('error')}")
    print("\nwritten: .crmlens/bench/results/report.json and report.md", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
