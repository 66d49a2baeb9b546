"""House style is checked, not hoped for: ruff over the tree, and layers import downward only."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean() -> None:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    result = subprocess.run([ruff, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_applied() -> None:
    """The whole tree is kept in ``ruff format``'s layout, so diffs show only real changes."""
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    result = subprocess.run(
        [ruff, "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "package, forbidden",
    [
        ("geodata", ["fastapi", "folium", "sqlalchemy", "stations", "maps", "api", "cli"]),
        ("stations", ["fastapi", "folium", "maps", "api", "cli"]),
        ("maps", ["api", "cli"]),
    ],
)
def test_a_layer_loads_nothing_from_above(package: str, forbidden: list[str]) -> None:
    """Importing a low layer in a fresh interpreter must not load a higher one."""
    code = (
        f"import sys, importlib, pkgutil, {package}\n"
        f"for m in pkgutil.walk_packages({package}.__path__, '{package}.'):\n"
        f"    if '.migrations' not in m.name: importlib.import_module(m.name)\n"
        f"print(' '.join(sorted(n for n in {forbidden!r} if n in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"importing {package} loaded {out}"


def test_mypy_passes_on_the_packages() -> None:
    """Type hints are checked, not decoration: mypy over every package (config in pyproject)."""
    pytest.importorskip("mypy", reason="mypy is not installed (pip install -e '.[test]')")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "geodata", "stations", "maps", "api", "cli"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
