"""Import benchmark: 100,000 valid union-sheet rows into a fresh SQLite store.

Run by hand: ``python bench/import_bench.py [--rows N] [--tracemalloc]``.

Prints rows/s, seconds and peak memory of ``run_import`` (full validation, duplicate check,
one-transaction write with history), and the same run's baselines as ratios:

* ``csv.DictReader`` over the file — the bare cost of reading it;
* a raw ``sqlite3`` ``executemany`` of the same rows, no validation, no history — the bare
  cost of writing them.

Target (issue 2): ≤ 10 s for 100k rows.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stations.io.importing import run_import  # noqa: E402
from stations.store import SqlStationStore  # noqa: E402
from stations.vocabulary import AMENITIES, HOST_TYPES  # noqa: E402

HEADER = [
    "序号",
    "编号",
    "驿站名称",
    "详细地址",
    "所属区域",
    "经度",
    "纬度",
    "依托类型",
    "依托单位",
    "服务设施",
    "开放时间",
    "联系电话",
    "状态",
    "备注",
]
_ORGS = [
    "北京银行",
    "顺丰速运",
    "京东物流",
    "中国邮政",
    "中通快递",
    "圆通速递",
    "中石化",
    "美宜佳",
    "社区服务中心",
    "街道工会",
    "便利蜂",
    "中国工商银行",
]
_ROADS = [
    "荣华中路",
    "科创十三街",
    "宏达北路",
    "景园街",
    "地泽北街",
    "文化园西路",
    "经海路",
    "万源街",
    "兴业街",
    "康定街",
    "同济南路",
    "博兴路",
]
_DISTRICTS = ["亦庄镇", "旧宫镇", "瀛海镇", "马驹桥镇", "经海路街道", "荣华街道", "博兴街道"]
_HOURS = [
    "24/7",
    "Mo-Fr 08:00-20:00",
    "Mo-Fr 08:00-20:00; Sa,Su 09:00-17:00",
    "Mo-Su 07:00-22:00",
    "Mo-Sa 08:30-18:00",
    "Mo-Fr 09:00-17:00; PH off",
]
_STATUS = ["正常开放"] * 18 + ["暂停开放", "已关闭"]


def generate(path: Path, n: int, seed: int = 7) -> None:
    """Write ``n`` valid rows spread over eastern China, as a union clerk's Excel CSV would."""
    rng = random.Random(seed)
    labels = list(AMENITIES.values())
    hosts = list(HOST_TYPES.values())
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(1, n + 1):
            org = rng.choice(_ORGS)
            road = rng.choice(_ROADS)
            w.writerow(
                [
                    i,
                    f"ZJ-{i:06d}",
                    f"{org}{road}{i}号暖心驿站",
                    f"北京市{road}{rng.randint(1, 300)}号",
                    rng.choice(_DISTRICTS),
                    f"{rng.uniform(105.0, 122.0):.7f}",
                    f"{rng.uniform(22.0, 41.0):.7f}",
                    rng.choice(hosts),
                    org,
                    "、".join(rng.sample(labels, rng.randint(2, 7))),
                    rng.choice(_HOURS),
                    f"010-{rng.randint(60000000, 69999999)}",
                    rng.choice(_STATUS),
                    "" if rng.random() < 0.7 else "工作日中午人多，请错峰",
                ]
            )


def baseline_read(path: Path) -> float:
    t = time.perf_counter()
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for _ in csv.DictReader(fh):
            pass
    return time.perf_counter() - t


def baseline_insert(path: Path, db: Path) -> float:
    """Raw executemany into a plain table: no validation, no history, no ORM."""
    t = time.perf_counter()
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        rows = [
            (
                r[1],
                r[2],
                r[3],
                r[4],
                float(r[5]),
                float(r[6]),
                r[7],
                r[8],
                json.dumps(r[9].split("、"), ensure_ascii=False),
                r[10],
                r[11],
                r[12],
                r[13],
            )
            for r in reader
        ]
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute(
        "CREATE TABLE s (id INTEGER PRIMARY KEY, external_id TEXT UNIQUE, name TEXT, "
        "address TEXT, district TEXT, lon REAL, lat REAL, host_type TEXT, "
        "host_org TEXT, amenities TEXT, opening_hours TEXT, phone TEXT, status TEXT, "
        "notes TEXT)"
    )
    with con:
        con.executemany(
            "INSERT INTO s (external_id, name, address, district, lon, lat, "
            "host_type, host_org, amenities, opening_hours, phone, status, notes) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
    con.close()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also measure the Python heap peak (slows the run ~2x)",
    )
    args = parser.parse_args()
    n = args.rows
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        src = d / "stations.csv"
        t = time.perf_counter()
        generate(src, n)
        size_mb = src.stat().st_size / 1e6
        print(f"generated {n:,} rows ({size_mb:.1f} MB) in {time.perf_counter() - t:.1f} s")
        read_s = baseline_read(src)
        insert_s = baseline_insert(src, d / "raw.db")

        store = SqlStationStore("sqlite:///" + str(d / "bench.db"))
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if args.tracemalloc:
            tracemalloc.start()
        marks: list[tuple[int, int, float]] = []
        t, cpu = time.perf_counter(), time.process_time()
        report = run_import(
            store,
            src,
            progress=lambda done, total: marks.append((done, total, time.perf_counter())),
        )
        import_s = time.perf_counter() - t
        import_cpu = time.process_time() - cpu
        heap_peak = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None
        if args.tracemalloc:
            tracemalloc.stop()
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert report.added == n and not report.errors, report.summary_lines()
        # The last progress call before the final one is (within 1 %) the end of validation.
        planned_at = max(at for done, total, at in marks if done < total)
        plan_s, write_s = planned_at - t, t + import_s - planned_at

        t = time.perf_counter()
        again = run_import(store, src)
        reimport_s = time.perf_counter() - t
        assert again.unchanged == n, again.summary_lines()
        store.close()

    print(
        f"import (full validation, 1 transaction): {import_s:.2f} s, {n / import_s:,.0f} rows/s, "
        f"CPU {import_cpu:.2f} s  [target <= 10 s per 100k]"
    )
    print(f"  of which read + validate + match:       {plan_s:.2f} s")
    print(f"  of which store.apply_import (write):    {write_s:.2f} s")
    print(
        f"re-import, all unchanged:                 {reimport_s:.2f} s, {n / reimport_s:,.0f} rows/s"
    )
    print(
        f"baseline csv.DictReader read:             {read_s:.2f} s  (import = {import_s / read_s:.1f}x)"
    )
    print(
        f"baseline raw sqlite3 executemany:         {insert_s:.2f} s  "
        f"(import = {import_s / insert_s:.1f}x)"
    )
    print(f"load average during the run: {os.getloadavg()[0]:.1f} (2 cores: >2 means contention)")
    print(f"peak RSS: {rss_after / 1024:.0f} MB (before import {rss_before / 1024:.0f} MB)")
    if heap_peak is not None:
        print(f"peak Python heap during import (tracemalloc): {heap_peak / 1e6:.0f} MB")
    print(f"warnings: {len(report.warnings)} (probable duplicates etc.)")


if __name__ == "__main__":
    main()
