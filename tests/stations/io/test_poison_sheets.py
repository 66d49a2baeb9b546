"""Issue 19's poison files stay harmless: zip bombs, endless sheets, points piled on one spot.

Bounds are generous on purpose (shared CI machines): they catch the old behaviour — a 680 KB
workbook parsed for 99 s in 720 MB, 2,000 rows on one point dry-running for 31 s — without
flaking on a slow day. Time and peak memory are measured in a child process so the test
runner's own heap does not blur them.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from stations.errors import ImportFailed
from stations.io.importing import plan_import
from stations.io.limits import ImportCancelled, SheetLimits
from stations.io.read import read_sheet
from stations.store.sql import SqlStationStore

ROOT = Path(__file__).resolve().parents[3]
_HEADER = (
    "<row>"
    + "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in ("名称", "经度", "纬度"))
    + "</row>"
)
_ROW = '<row><c t="inlineStr"><is><t>荣华中路驿站</t></is></c><c><v>116.5</v></c><c><v>39.8</v></c></row>'


def _bomb(path: Path, inflated_mb: int) -> Path:
    """A valid .xlsx whose one sheet inflates to ``inflated_mb`` MB of rows."""
    wb = Workbook()
    wb.active.append(["名称", "经度", "纬度"])
    plain = path.with_suffix(".plain.xlsx")
    wb.save(plain)
    with (
        zipfile.ZipFile(plain) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out,
    ):
        for item in src.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                out.writestr(item, src.read(item.filename))
                continue
            head = src.read(item.filename).decode().split("<sheetData>")[0]
            with out.open(item.filename, "w", force_zip64=True) as fh:
                fh.write((head + "<sheetData>" + _HEADER).encode())
                chunk = (_ROW * 2000).encode()
                for _ in range(inflated_mb * 2**20 // len(chunk)):
                    fh.write(chunk)
                fh.write(b"</sheetData></worksheet>")
    return path


def _measure(code: str) -> dict[str, float]:
    """Run ``code`` (which sets ``result``) in a fresh interpreter: seconds and peak RSS growth."""
    script = (
        "import json, time\n"
        "import openpyxl, scipy.spatial\n"
        "from stations.io.importing import plan_import\n"
        "from stations.io.read import read_sheet\n"
        "from stations.store.sql import SqlStationStore\n"
        "def kb(key):\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith(key): return int(line.split()[1])\n"
        "base = kb('VmRSS:')\n"
        "open('/proc/self/clear_refs', 'w').write('5')  # peak (VmHWM) := now\n"
        "t = time.perf_counter()\n"
        f"{code}\n"
        "print(json.dumps({'s': time.perf_counter() - t, 'mb': "
        "(kb('VmHWM:') - base) / 1024, 'result': result}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_zip_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bomb.xlsx", 200)
    assert bomb.stat().st_size < 2 * 2**20  # a small upload …
    got = _measure(
        "try:\n"
        f"    read_sheet({str(bomb)!r}); result = 'read'\n"
        "except Exception as exc:\n"
        "    result = exc.errors[0].message_zh\n"
    )
    assert "压缩" in got["result"]  # … refused as a bomb, in Chinese
    assert got["s"] < 5 and got["mb"] < 100, got


def test_the_uncompressed_size_and_the_row_count_are_limited_while_streaming(
    tmp_path: Path,
) -> None:
    bomb = _bomb(tmp_path / "big.xlsx", 8)
    with pytest.raises(ImportFailed) as info:
        read_sheet(bomb, SheetLimits(max_uncompressed_bytes=4 * 2**20))
    assert "解压后" in (info.value.errors[0].message_zh or "")
    with pytest.raises(ImportFailed) as info:
        read_sheet(bomb, SheetLimits(max_rows=1000, max_ratio=10_000))
    assert "行数超过 1000" in (info.value.errors[0].message_zh or "")


def test_a_read_stops_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["名称", "经度", "纬度"])
        w.writerows([f"驿站{i}", 116.5, 39.8] for i in range(5000))
    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 2

    with pytest.raises(ImportCancelled):
        read_sheet(path, SheetLimits(should_stop=stop))
    assert len(asked) == 3


def _one_point_sheet(path: Path, n: int, jitter: bool = False) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["编号", "名称", "经度", "纬度"])
        for i in range(n):
            # jitter: distinct points, all within a few metres of each other
            lon = 116.5 + (i % 100) * 1e-6 if jitter else 116.5
            lat = 39.8 + (i // 100) * 1e-6 if jitter else 39.8
            w.writerow([f"D{i:05d}", f"同一地点驿站{i}", repr(lon), repr(lat)])
    return path


def test_ten_thousand_rows_on_one_point_dry_run_fast_and_are_reported_once(
    tmp_path: Path,
) -> None:
    path = _one_point_sheet(tmp_path / "one.csv", 10_000)
    db = tmp_path / "s.db"
    got = _measure(
        f"store = SqlStationStore('sqlite:///{db}')\n"
        f"report = plan_import(store, {str(path)!r})\n"
        "result = [w.message_zh for w in report.warnings if w.field == 'lon/lat']\n"
    )
    assert len(got["result"]) == 1 and "共 10000 个驿站位于同一坐标" in got["result"][0]
    assert got["s"] < 30 and got["mb"] < 400, {k: got[k] for k in ("s", "mb")}


def test_a_dense_cluster_of_distinct_points_is_reported_as_a_crowd(
    store: SqlStationStore, tmp_path: Path
) -> None:
    path = _one_point_sheet(tmp_path / "cluster.csv", 3_000, jitter=True)
    started = time.perf_counter()
    report = plan_import(store, path)
    assert time.perf_counter() - started < 60
    crowds = [w for w in report.warnings if w.field == "lon/lat"]
    assert 1 <= len(crowds) <= 50 and "请在地图上核对是否重复" in (crowds[0].message_zh or "")


def test_near_duplicates_are_still_found_pair_by_pair(
    store: SqlStationStore, tmp_path: Path
) -> None:
    path = tmp_path / "pair.csv"
    path.write_text(
        "名称,经度,纬度\n荣华中路驿站,116.5,39.8\n荣华中路驿站 ,116.50001,39.80001\n"
        "别的驿站,116.6,39.9\n",
        encoding="utf-8",
    )
    report = plan_import(store, path)
    dups = [w for w in report.warnings if w.field == "name"]
    assert len(dups) == 1 and "疑似与第 2 行重复" in (dups[0].message_zh or "")
