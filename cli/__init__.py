"""The ``stations`` command line: thin — parse, call the domain, print.

Errors reach the user as one clear line on stderr (exit 1), usage mistakes as click's usage
message (exit 2); never a traceback.
"""

from __future__ import annotations

import sys

from cli import (
    accounts,
    analysis,
    maps,
    orgs,
    photos,
    registry,
    search,
    serve,
    visits,
    webhooks,
)
from cli.common import app, print_error
from geodata.errors import GeodataError
from stations.errors import StationsError

__all__ = ["app", "main"]

#: The command modules: importing each registers its commands on ``app``.
COMMANDS = (accounts, analysis, maps, orgs, photos, registry, search, serve, visits, webhooks)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``stations`` script."""
    try:
        # Standalone mode: typer (with its own bundled click) prints usage errors and exits 2.
        app(args=argv)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    except (StationsError, GeodataError, OSError) as exc:
        print_error(exc)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
