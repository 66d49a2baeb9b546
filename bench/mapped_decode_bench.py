"""Decoding a station from a mapped snapshot's record, in process; by hand.

    python bench/mapped_decode_bench.py [--n 200000] [--decodes 100000] [--chunk 2000]

Builds ``--n`` national stations (:mod:`bench.national`, validated as an import would,
with UTC store times, some verified, a few with photos), publishes them as a catalog
snapshot and maps it back (what a worker of ``STATIONS_CATALOG_SNAPSHOT=mapped`` reads),
then decodes ``--decodes`` distinct positions in random order — fresh stations, as a
national load's nearest answers mostly are — three ways, chunk by chunk in turns (each
chunk's order rotated), so a busy machine slows them alike:

* ``reference``: the plain decoding (JSON parse, the dataclasses' constructors,
  ``datetime.fromtimestamp``) the others are tested against;
* ``json path``: the JSON parse with the stations' objects made in C (the decoding before
  the record parser; what a record the parser does not expect still takes);
* ``compiled``: the record parsed in C where it lies in the mapped blob;
* ``catalog fill``: the same, through the call the mapped catalog makes
  (``MappedStations.fill``: decoded into its slot, the oldest decoded one dropped past
  the catalog's default bound).

Prints the median µs per decode over chunks and the ratio to the reference, and checks
that every decoded station equals the reference's and how many records took the JSON path.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.national import national_stations  # noqa: E402
from stations.mapped.files import SnapshotFiles  # noqa: E402
from stations.mapped.records import build_columns  # noqa: E402
from stations.mapped.snapshot import MappedStations  # noqa: E402
from stations.model import Station, validate_station  # noqa: E402


def stations(n: int, seed: int = 2024) -> list[Station]:
    """``n`` national stations as the store would hold them."""
    rng = np.random.default_rng(seed)
    created = datetime(2024, 1, 1, tzinfo=UTC)
    out = []
    for sid, row in enumerate(national_stations(n, seed), start=1):
        raw: dict[str, object] = dict(row)
        raw["lon"], raw["lat"] = float(row["lon"]), float(row["lat"])
        raw["amenities"] = [a for a in row["amenities"].split(";") if a]
        if rng.random() < 0.1:
            raw["photos"] = [f"{rng.integers(1 << 62):064x}"]
        at = created + timedelta(microseconds=int(rng.integers(0, 365 * 86_400 * 10**6)))
        verified = at + timedelta(days=3) if rng.random() < 0.5 else None
        version = int(rng.integers(1, 20))
        data = validate_station(raw)
        out.append(Station(sid, data, version, at, at, False, 1, verified))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--decodes", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=2_000)
    args = parser.parse_args()

    t0 = time.perf_counter()
    built = build_columns(stations(args.n))
    print(f"{args.n} stations built in {time.perf_counter() - t0:.1f} s", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        files = SnapshotFiles(Path(tmp))
        columns, _ = files.open(files.publish(built, 1, {}))
        del built
        decoder = columns.decoder
        fast = decoder.fast
        methods = {
            "reference": decoder.reference,
            "json path": fast.by_json,
            "compiled": fast,
            "catalog fill": MappedStations(columns, keep=16_384).fill,
        }
        rng = np.random.default_rng(7)
        positions = rng.permutation(len(columns))[: args.decodes].tolist()

        unusual = sum(fast.parsed(p) is None for p in positions)
        mismatched = sum(fast(p) != decoder.reference(p) for p in positions[:20_000])

        per: dict[str, list[float]] = {name: [] for name in methods}
        names = list(methods)
        for c, start in enumerate(range(0, len(positions), args.chunk)):
            chunk = positions[start : start + args.chunk]
            for name in names[c % len(names) :] + names[: c % len(names)]:
                decode = methods[name]
                t = time.perf_counter_ns()
                for pos in chunk:
                    decode(pos)
                per[name].append((time.perf_counter_ns() - t) / 1000 / len(chunk))
        del decoder, fast, methods, columns

    base = statistics.median(per["reference"])
    print(f"{len(positions)} fresh positions, chunks of {args.chunk}, medians over chunks")
    print(f"{'method':<14} {'µs/decode':>10} {'× reference':>12}")
    for name, times in per.items():
        med = statistics.median(times)
        print(f"{name:<14} {med:>10.2f} {base / med:>11.1f}x")
    print(f"records left to the JSON path: {unusual} of {len(positions)}")
    print(f"stations unequal to the reference: {mismatched} of {min(len(positions), 20_000)}")


if __name__ == "__main__":
    main()
