"""The organisation tree's rules: what an organisation is, where it sits, what it may be called.

Organisations form a tree (全国 → 北京市 → 北京经济技术开发区 → 园区工会) kept as a
materialised path: each one's ``path`` lists its ancestors' ids and its own (``/1/4/9/``),
so "this organisation or below it" is a prefix test. They are kept by
:class:`stations.store.orgs.SqlOrgStore`.
"""

from __future__ import annotations

from dataclasses import dataclass

from stations.errors import FieldError, ValidationFailed

__all__ = ["NAME_LIMIT", "Org", "check_name"]

#: The longest organisation name (the table's column).
NAME_LIMIT = 100


@dataclass(frozen=True)
class Org:
    """One organisation in the tree; ``path`` lists its ancestors' ids (``/1/4/9/``)."""

    id: int
    name: str
    parent_id: int | None
    path: str

    @property
    def depth(self) -> int:
        """How far below the root (the root is 0)."""
        return self.path.count("/") - 2

    def is_under(self, other: Org) -> bool:
        """Whether this organisation is ``other`` or below it."""
        return self.path.startswith(other.path)


def check_name(name: str) -> str:
    """The name, trimmed; refused (Chinese, then English) when empty or too long."""
    clean = name.strip()
    if not clean or len(clean) > NAME_LIMIT:
        raise ValidationFailed(
            [FieldError.from_catalog("name", "1 to {limit} characters", name, limit=NAME_LIMIT)]
        )
    return clean
