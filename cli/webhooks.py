"""Webhook consumers from the command line: ``stations webhooks add|list|disable``.

The signing secret is printed once, alone on stdout, when a consumer is added; it is stored
(HMAC needs it) but never shown again.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from cli.common import JsonFlag, command_group, console, err_console, open_services

__all__ = ["webhooks_app"]

webhooks_app = command_group(
    "webhooks", "变更推送 / Webhooks: push the change feed to other systems."
)


@webhooks_app.command("add")
def webhooks_add(
    url: Annotated[
        str, typer.Argument(help="接收 POST 推送的 http(s) 地址 / URL that receives the POSTs")
    ],
    from_start: Annotated[
        bool,
        typer.Option(
            "--from-start",
            help="从头推送全部变更，而非只推新变更 / send the whole feed, not only new changes",
        ),
    ] = False,
) -> None:
    """登记接收方 / Register a receiver; prints its signing secret once."""
    with open_services() as services:
        hooks = services.webhooks
        consumer, secret = hooks.add(url, actor="cli", from_start=from_start)
    err_console.print(
        f"已登记 registered webhook {consumer.id} → {consumer.url}; "
        "签名密钥只显示这一次 the signing secret is shown once:",
        highlight=False,
        markup=False,
    )
    print(secret)


@webhooks_app.command("list")
def webhooks_list(as_json: JsonFlag = False) -> None:
    """列出接收方及投递状态 / List receivers with their last delivery and failures."""
    with open_services() as services:
        hooks = services.webhooks
        consumers = hooks.list()
    if as_json:
        print(json.dumps([c.public() for c in consumers], ensure_ascii=False, indent=1))
        return
    table = Table(title=f"webhooks: {len(consumers)}")
    for col in (
        "id",
        "URL",
        "已送达 delivered",
        "失败 failures",
        "上次成功 last success",
        "错误 error",
    ):
        table.add_column(col)
    for c in consumers:
        table.add_row(
            str(c.id),
            c.url + (" (停用 disabled)" if c.disabled else ""),
            str(c.delivered_count),
            str(c.failures),
            c.last_success_at.isoformat(timespec="seconds") if c.last_success_at else "—",
            c.last_error or "",
        )
    console.print(table)


@webhooks_app.command("disable")
def webhooks_disable(
    consumer_id: Annotated[int, typer.Argument(help="推送订阅 id / consumer id")],
) -> None:
    """停用接收方 / Stop delivering to a receiver."""
    with open_services() as services:
        hooks = services.webhooks
        consumer = hooks.disable(consumer_id)
    console.print(f"已停用 disabled webhook {consumer.id}", highlight=False, markup=False)
