"""An empty station workbook for a new district: ``stations template FILE.xlsx``.

The clerk gets the staff layout's headers (:data:`stations.io.staff.STAFF_COLUMNS`, without
系统ID and 上次核查, which only exports carry), one filled example row, drop-down lists for
类型, 状态, 进门方式, 无智能手机可用 and 服务设施 (data validation; 服务设施 may hold
several, so its list suggests rather than refuses), a frozen header row, widths that fit, and a second sheet 填写说明 explaining every
column in Chinese. What they fill in imports as it is; the example row, if they leave it in,
is skipped with a warning (:func:`is_template_example`), so no made-up station reaches riders.
"""

from __future__ import annotations

import os
from typing import Any

from stations.hours import EXAMPLES
from stations.io.staff import STAFF_COLUMNS
from stations.io.write import atomic_path
from stations.vocabulary import AMENITIES, ENTRY_METHODS, HOST_TYPES, STATUSES

__all__ = ["TEMPLATE_COLUMNS", "is_template_example", "write_template"]

TEMPLATE_COLUMNS: tuple[tuple[str, str], ...] = tuple(
    c for c in STAFF_COLUMNS if c[1] not in ("id", "verified_at")
)

_EXAMPLE: dict[str, Any] = {
    "external_id": "YZ-001",
    "name": "荣华中路工会驿站",
    "address": "北京市大兴区荣华中路10号",
    "district": "亦庄镇",
    "lon": 116.512345,
    "lat": 39.795432,
    "host_type": HOST_TYPES["union_office"],
    "host_org": "经开区总工会",
    "amenities": "、".join([AMENITIES["hot_water"], AMENITIES["charging"], AMENITIES["toilet"]]),
    "opening_hours": EXAMPLES[0],
    "entry": ENTRY_METHODS["staffed"],
    "no_smartphone_ok": "是",
    "phone": "010-67856789",
    "status": STATUSES["open"],
    "notes": "示例行：导入时跳过，请改写为真实驿站或删除",
}


def _cell(value: Any) -> str:
    return "" if value is None else str(value).strip()


def is_template_example(record: dict[str, Any]) -> bool:
    """Whether a sheet row is the template's example, unchanged in 编号, 名称 and 备注."""
    return all(_cell(record.get(f)) == _EXAMPLE[f] for f in ("external_id", "name", "notes"))


_HELP: dict[str, str] = {
    "external_id": "工会自己的驿站编号，每行唯一，如 YZ-001。再次导入时按编号更新，不会重复新增。",
    "name": "驿站名称（必填）。",
    "address": "详细地址，可写到门牌号。",
    "district": "所属区域，如街道、乡镇。",
    "lon": "经度（必填），在高德地图上拾取的坐标请导入时选 GCJ-02。中国境内约为 73～136。",
    "lat": "纬度（必填），中国境内约为 3～54。经度和纬度不要填反。",
    "host_type": "类型，从下拉列表中选：" + "、".join(HOST_TYPES.values()) + "。",
    "host_org": "依托单位，如某银行支行、某快递网点。",
    "amenities": "服务设施，可填多项，用顿号、逗号或分号隔开："
    + "、".join(AMENITIES.values())
    + "。",
    "opening_hours": (
        "开放时间，按平时的写法填写即可，如“"
        + "”“".join([*EXAMPLES, "全天", "工作日 8:30-17:30", "上午8:30-12:00 下午14:30-18:00"])
        + "”。分季节的写“夏季 6:00-20:00，冬季 7:00-19:00”或“5月至10月 8:00-20:00；"
        "11月至次年4月 9:00-17:00”（夏季指5月至9月，冬季指10月至次年4月；其他月份请直接写月份）。"
        "暂停开放的驿站写“暂停开放”。"
    ),
    "entry": "骑手怎么进门，从下拉列表中选："
    + "、".join(ENTRY_METHODS.values())
    + "。不清楚可留空。",
    "no_smartphone_ok": "不用智能手机（不扫码、不用小程序）能否进门使用，填“是”或“否”；不清楚可留空。",
    "phone": "联系电话。",
    "status": "状态，从下拉列表中选：" + "、".join(STATUSES.values()) + "。留空为正常开放。",
    "notes": "备注，如从哪个门进、是否需要扫码。",
}

_WIDTHS = {"name": 24, "address": 32, "amenities": 30, "opening_hours": 34, "notes": 24}


def write_template(path: str | os.PathLike[str]) -> None:
    """Write the empty workbook (sheet 驿站 with one example row, sheet 填写说明)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = "驿站"
    headers = [h for h, _ in TEMPLATE_COLUMNS]
    ws.append(headers)
    ws.append([_EXAMPLE[f] for _, f in TEMPLATE_COLUMNS])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for k, (header, field) in enumerate(TEMPLATE_COLUMNS, start=1):
        cell = ws.cell(row=1, column=k)
        cell.font = bold
        cell.fill = fill
        letter = get_column_letter(k)
        ws.column_dimensions[letter].width = _WIDTHS.get(field, max(10, 2 * len(header) + 4))
        if field in ("external_id", "phone"):
            ws.cell(row=2, column=k).number_format = "@"  # 001 and phone numbers stay text
    ws.freeze_panes = "A2"
    lists = {
        "host_type": (list(HOST_TYPES.values()), True),
        "status": (list(STATUSES.values()), True),
        "entry": (list(ENTRY_METHODS.values()), True),
        "no_smartphone_ok": (["是", "否"], True),
        "amenities": (list(AMENITIES.values()), False),
    }
    for k, (_, field) in enumerate(TEMPLATE_COLUMNS, start=1):
        if field not in lists:
            continue
        values, strict = lists[field]
        letter = get_column_letter(k)
        dv = DataValidation(
            type="list",
            formula1='"' + ",".join(values) + '"',
            allow_blank=True,
            showErrorMessage=strict,
            errorTitle="请从列表中选择",
            error="请从下拉列表中选择一项",
            promptTitle=TEMPLATE_COLUMNS[k - 1][0],
            prompt=_HELP[field][:250],
            showInputMessage=True,
        )
        dv.add(f"{letter}2:{letter}2000")
        ws.add_data_validation(dv)
    guide = wb.create_sheet("填写说明")
    guide.append(["列名", "说明"])
    for header, field in TEMPLATE_COLUMNS:
        guide.append([header, _HELP[field]])
    guide.append([])
    guide.append(
        ["示例行", "第 2 行是示例（备注写明“示例行”），导入时会跳过；可改写为真实驿站或删除。"]
    )
    guide.append(
        [
            "导入",
            "填好后在管理后台“导入”页上传，或运行 stations import 文件名 --crs gcj02（高德坐标）。",
        ]
    )
    guide["A1"].font = bold
    guide["B1"].font = bold
    guide.column_dimensions["A"].width = 12
    guide.column_dimensions["B"].width = 100
    guide.freeze_panes = "A2"
    with atomic_path(path) as tmp:
        wb.save(tmp)
