"""The Alembic chain stays one line: several capabilities add migrations in parallel, and two
heads would make ``upgrade head`` refuse to run on a real deployment."""

from __future__ import annotations

from alembic.config import Config
from alembic.script import ScriptDirectory

from stations.store.engine import _MIGRATIONS


def test_the_migration_chain_has_one_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1, script.get_heads()
    assert len(script.get_bases()) == 1, script.get_bases()
