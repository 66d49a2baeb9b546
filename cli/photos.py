"""Photo files from the command line: ``stations photos prune``.

A rejected photo's files are deleted when it is rejected; a store that was unreachable then
leaves them, and an upload that failed before its row was recorded leaves files no row
names. The prune finds both and deletes them, in the folder or the bucket configured.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cli.common import JsonFlag, command_group, dry_run_flag, err_console, open_services
from stations.errors import ConfigurationError
from stations.i18n import Message
from stations.photos.service import PRUNE_GRACE_S

__all__ = ["photos_app"]

photos_app = command_group("photos", "驿站照片文件 / Station photo files in the folder or bucket.")


@photos_app.command("prune")
def photos_prune(
    dry_run: Annotated[
        bool,
        dry_run_flag("只列出将删除的照片，不删除 / list what would be deleted, delete nothing"),
    ] = False,
    grace: Annotated[
        int,
        typer.Option(
            "--grace",
            min=0,
            metavar="SECONDS",
            help="不删除最近多少秒内写入的文件（上传可能尚未登记）/ "
            "keep files written this recently (their upload may not be recorded yet)",
        ),
    ] = PRUNE_GRACE_S,
    as_json: JsonFlag = False,
) -> None:
    """删除无人使用的照片文件（已拒绝、未登记）/ Delete photo files nothing uses."""
    with open_services() as services:
        photos = services.photos
        if photos is None:
            raise ConfigurationError(Message("photos are not configured"))
        result = photos.prune(dry_run=dry_run, grace_s=grace)
    if as_json:
        print(json.dumps({"dry_run": dry_run, **vars(result)}, ensure_ascii=False, indent=1))
    else:
        verb = "将删除 would delete" if dry_run else "已删除 deleted"
        for digest in result.removed:
            print(digest)
        err_console.print(
            f"{verb} {len(result.removed)} 张照片 photos"
            + ("" if dry_run else f"（{result.files} 个文件 files）")
            + f"；在用 in use {result.in_use}，近期写入 recent {result.recent}"
            + (f"；失败 failed {len(result.failed)}" if result.failed else ""),
            highlight=False,
            markup=False,
        )
    if result.failed:
        raise typer.Exit(1)
