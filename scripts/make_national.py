"""Write a synthetic national station set (and rider query points) for scale tests.

合成数据，非真实驿站 — made-up stations shaped like a national network; see bench/national.py.

    python scripts/make_national.py -o national.csv --n 100000 --queries queries.csv
    stations import national.csv

Deterministic: the same ``--n`` and ``--seed`` write the same bytes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.national import (  # noqa: E402
    national_stations,
    rider_queries,
    write_queries_csv,
    write_stations_csv,
)

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, generate, write; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="stations CSV to write (contract headers, UTF-8)",
    )
    parser.add_argument("--n", type=int, default=100_000, help="how many stations")
    parser.add_argument("--seed", type=int, default=2024, help="random seed")
    parser.add_argument(
        "--queries",
        type=Path,
        default=None,
        help="also write rider query points (lon,lat CSV) here",
    )
    parser.add_argument("--n-queries", type=int, default=10_000, help="how many query points")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    if args.output.suffix.lower() != ".csv":
        parser.error("--output must be a .csv file")
    started = time.perf_counter()
    rows = national_stations(args.n, args.seed)
    write_stations_csv(args.output, rows)
    print(f"wrote {len(rows)} stations → {args.output} ({time.perf_counter() - started:.1f} s)")
    if args.queries is not None:
        points = rider_queries(rows, args.n_queries, args.seed + 1)
        write_queries_csv(args.queries, points)
        print(f"wrote {len(points)} query points → {args.queries}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
