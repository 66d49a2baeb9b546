"""``stations serve``: run the web service with uvicorn."""

from __future__ import annotations

import math
import secrets
from typing import Annotated

import typer

from cli.common import app, console, settings
from cli.workers import balanced_workers_supported, run_workers

__all__ = ["serve"]


@app.command("serve")
def serve(
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="用临时存储提供自带的经开区演示数据 / serve the bundled E-Town demo set",
        ),
    ] = False,
    host: Annotated[str, typer.Option(help="监听的网络接口 / interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="监听端口 / port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="工作进程数 / worker processes")] = 1,
    preload: Annotated[
        bool,
        typer.Option(
            envvar="STATIONS_SERVE_PRELOAD",
            help="多进程时先载入应用再分叉，共享代码内存 / fork workers from a parent that "
            "already imported the app, so they share its code pages",
        ),
    ] = True,
) -> None:
    """启动网页服务 / Run the web service."""
    import uvicorn

    from api.app import DEMO_USER, create_app

    cfg = settings()
    # SIGTERM: stop accepting, let in-flight requests finish for this long, then cut them off
    # (their database waits are bounded too, so no worker thread outlives the process).
    grace = math.ceil(cfg.shutdown_grace_s)
    where = "演示数据 demo data" if demo else cfg.database_url
    console.print(
        f"暖心驿站地图 Warm Stations on http://{host}:{port}  ({where})",
        highlight=False,
        markup=False,
    )
    if workers > 1:
        if demo:
            raise typer.BadParameter("--demo runs in one process", param_hint="--workers")
        if balanced_workers_supported():  # a socket per worker: see cli.workers
            try:
                code = run_workers(
                    workers,
                    host,
                    port,
                    preload=preload,
                    log_level="info",
                    access_log=False,  # the app writes its own: api.http.access_log
                    proxy_headers=True,
                    timeout_graceful_shutdown=grace,
                )
            except OSError as exc:
                raise typer.BadParameter(
                    f"cannot listen on {host}:{port}: {exc.strerror}", param_hint="--port"
                ) from None
            raise typer.Exit(code)
        uvicorn.run(
            "api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            access_log=False,
            proxy_headers=True,
            timeout_graceful_shutdown=grace,
        )
        return
    secret = None
    if demo:  # a console to try: the demo's own editor, a password for this run only
        secret = secrets.token_urlsafe(12)
        console.print(
            f"演示后台 console: http://{host}:{port}/admin  账号 user: {DEMO_USER}  "
            f"本次密码 password: {secret}",
            highlight=False,
            markup=False,
            soft_wrap=True,  # one line, whatever the terminal's width
        )
    uvicorn.run(
        create_app(cfg, demo=demo, demo_password=secret),
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=grace,
    )
