"""Organisations from the command line: ``stations orgs add|list``."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from cli.common import JsonFlag, command_group, console, open_services

__all__ = ["orgs_app"]

orgs_app = command_group(
    "orgs", "机构 / Organisations: a tree; roles hold on an organisation and below."
)


@orgs_app.command("add")
def orgs_add(
    name: Annotated[str, typer.Argument(help="组织名称，如 北京经济技术开发区总工会 / name")],
    parent: Annotated[
        str | None,
        typer.Option(
            help="上级组织（名称或 id），默认根组织 / parent organisation; default the root"
        ),
    ] = None,
) -> None:
    """添加机构 / Add an organisation."""
    with open_services() as services:
        org = services.orgs.add(name, parent=parent)
        above = services.orgs.get(org.parent_id) if org.parent_id is not None else None
    under = f" ← {above.name}" if above is not None else ""
    console.print(f"已添加 added {org.name} (id {org.id}){under}", highlight=False, markup=False)


@orgs_app.command("list")
def orgs_list(as_json: JsonFlag = False) -> None:
    """列出机构树 / List the organisation tree."""
    with open_services() as services:
        tree = services.orgs.list()
    if as_json:
        print(
            json.dumps(
                [{"id": o.id, "name": o.name, "parent_id": o.parent_id} for o in tree],
                ensure_ascii=False,
                indent=1,
            )
        )
        return
    table = Table(title=f"机构 organisations: {len(tree)}")
    table.add_column("id")
    table.add_column("名称 name")
    for o in tree:
        table.add_row(str(o.id), "  " * o.depth + o.name)
    console.print(table)
