"""The Alembic chain has exactly one head: with two, ``upgrade head`` refuses to run and no
store can open. Features land migrations in parallel, so this is checked, not hoped for."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

import stations.store.engine as engine


def test_one_head_and_one_base() -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(engine.__file__).parents[1] / "migrations"))
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1, script.get_heads()
    assert len(script.get_bases()) == 1, script.get_bases()
    chain = [r.revision for r in script.walk_revisions()]
    assert len(chain) == len(set(chain))
