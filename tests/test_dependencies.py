"""What the service imports, a plain ``pip install -c requirements.lock -e .`` installs.

A library that only the ``test`` extra pulls in (matplotlib came with a test-only package)
works in every test run and fails on a clerk's first report after a plain install. Every
third-party module the packages import, at the top or inside a function, must come from the
project's runtime dependencies or what they require in turn (the ``s3`` extra counts: its
import sits behind the setting that asks for it).
"""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("api", "cli", "geodata", "maps", "stations")
OPTIONAL = ("s3",)  # extras the service may run with; "test" is not one


def _imported(path: Path) -> set[str]:
    """Top-level names of the absolute imports in ``path`` (at any depth in the file)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _runtime_closure() -> set[str]:
    """Canonical names of the runtime dependencies and everything they require, with the
    extras asked for along the way."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [Requirement(r) for r in project["dependencies"]]
    for extra in OPTIONAL:
        wanted += [Requirement(r) for r in project["optional-dependencies"][extra]]
    seen: set[str] = set()
    while wanted:
        req = wanted.pop()
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            specs = requires(req.name) or []
        except PackageNotFoundError:  # an optional extra not installed here
            continue
        for spec in specs:
            sub = Requirement(spec)
            envs = [{"extra": e} for e in req.extras] or [{"extra": ""}]
            if sub.marker is None or any(sub.marker.evaluate(env) for env in envs):
                wanted.append(sub)
    return seen


def test_every_imported_library_is_a_runtime_dependency() -> None:
    own = set(PACKAGES)
    modules: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in _imported(path):
                if name in own or name in sys.stdlib_module_names or name == "__future__":
                    continue
                modules.setdefault(name, set()).add(path.relative_to(ROOT).as_posix())
    runtime = _runtime_closure()
    providers = packages_distributions()
    missing = {
        name: sorted(files)[:3]
        for name, files in modules.items()
        if not {canonicalize_name(d) for d in providers.get(name, [name])} & runtime
    }
    assert missing == {}, "add these to [project] dependencies in pyproject.toml"
