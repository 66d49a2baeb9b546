"""Issue 14: every command's and option's help reads Chinese first, English after, and
boolean flags show as ``--json``, not ``--json <bool>``."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner

from cli import app

_HAN = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


def _commands() -> Iterator[tuple[str, object]]:
    """Every command of the app, groups included, as ("stations users add", command)."""
    stack = [("stations", typer.main.get_command(app))]
    while stack:
        path, command = stack.pop()
        yield path, command
        for name, sub in getattr(command, "commands", {}).items():
            stack.append((f"{path} {name}", sub))


def _chinese_first(text: str | None) -> bool:
    """Chinese characters, before any Latin letter (code words like wgs84 come later), and
    the English after "/ " on the first line (a command's docstring may go on below)."""
    if not text:
        return False
    han = _HAN.search(text)
    latin = _LATIN.search(text)
    first_line = text.strip().splitlines()[0]
    return han is not None and (latin is None or han.start() < latin.start()) and "/ " in first_line


def _help_texts() -> list[tuple[str, str | None]]:
    texts = []
    for path, command in _commands():
        texts.append((path, command.help))
        for param in command.params:
            if param.name == "help":
                continue
            texts.append((f"{path} {'/'.join(param.opts)}", getattr(param, "help", None)))
    return texts


def test_the_walk_reaches_nested_commands() -> None:
    paths = {path for path, _ in _commands()}
    assert {"stations import", "stations users add", "stations token create"} <= paths


def test_every_help_reads_chinese_first() -> None:
    wrong = [f"{where}: {text!r}" for where, text in _help_texts() if not _chinese_first(text)]
    assert not wrong, "help not Chinese first:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    "argv",
    [["import"], ["list"], ["coverage"], ["nearest"], ["users", "list"], ["webhooks", "add"]],
)
def test_flags_show_without_a_type(argv: list[str]) -> None:
    result = CliRunner().invoke(app, [*argv, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "--" in result.output
    assert re.search(r"--[\w-]+\s+<bool>", result.output) is None, result.output
