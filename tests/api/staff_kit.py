"""Builders for API tests that need staff: users of every role with real tokens and passwords.

Test modules import these helpers (not fixtures), so each module keeps its own fixtures short.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.settings import Settings
from stations.store.accounts import SqlAccountStore
from stations.store.base import StationStore

__all__ = ["PASSWORD", "Staff", "add_staff", "test_settings"]

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Staff:
    """Names and bearer tokens of one user per role."""

    editor: str
    viewer: str
    admin: str
    editor_name: str = "编辑王芳"
    viewer_name: str = "viewer-li"
    admin_name: str = "admin-zhang"

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    @property
    def as_editor(self) -> dict[str, str]:
        return self.bearer(self.editor)

    @property
    def as_viewer(self) -> dict[str, str]:
        return self.bearer(self.viewer)

    @property
    def as_admin(self) -> dict[str, str]:
        return self.bearer(self.admin)


def add_staff(store: StationStore) -> Staff:
    """An editor, a viewer and an admin (all with the console password ``PASSWORD``)."""
    accounts = SqlAccountStore.beside(store)
    tokens = {}
    for name, role in (("编辑王芳", "editor"), ("viewer-li", "viewer"), ("admin-zhang", "admin")):
        accounts.add_user(name, role, password=PASSWORD)
        tokens[role] = accounts.create_token(name, label="tests")[1]
    return Staff(editor=tokens["editor"], viewer=tokens["viewer"], admin=tokens["admin"])


def test_settings(**overrides: Any) -> Settings:
    """Settings for tests: no Redis, a public rate limit out of the way unless asked, and a
    short refresher poll so an app shuts down quickly."""
    values: dict[str, Any] = {
        "redis_url": None,
        "rate_limit_per_minute": 1_000_000,
        "cors_origins": [],
        "refresh_interval_s": 0.05,
    }
    values.update(overrides)
    return Settings(**values)


test_settings.__test__ = False  # type: ignore[attr-defined]  # not a test, despite its name
