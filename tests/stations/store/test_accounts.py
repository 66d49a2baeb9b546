"""Staff accounts on both engines: roles, tokens stored only as hashes, passwords, sessions."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from stations.errors import Conflict, NotFound, ValidationFailed
from stations.store.accounts import (
    TOKEN_PREFIX,
    SqlAccountStore,
    hash_password,
    role_at_least,
    verify_password,
)
from stations.store.schema import api_tokens_table, sessions_table, users_table
from stations.store.sql import SqlStationStore


@pytest.fixture
def accounts(store: SqlStationStore) -> SqlAccountStore:
    return SqlAccountStore.beside(store)


def test_roles_are_ordered() -> None:
    assert role_at_least("admin", "editor") and role_at_least("editor", "editor")
    assert not role_at_least("viewer", "editor") and not role_at_least("editor", "admin")


def test_add_list_and_change_users(accounts: SqlAccountStore) -> None:
    accounts.add_user("王芳", "editor")
    accounts.add_user("  li.lei ", "viewer", password="correct horse")
    assert [(u.name, u.role, u.has_password) for u in accounts.users()] == [
        ("li.lei", "viewer", True),
        ("王芳", "editor", False),
    ]
    with pytest.raises(Conflict):
        accounts.add_user("王芳", "admin")
    assert accounts.set_role("li.lei", "admin").role == "admin"
    with pytest.raises(NotFound):
        accounts.get_user("nobody")


_BAD_ACCOUNTS = [
    ("", "editor", None, "name"),
    ("a\x00b", "editor", None, "name"),
    ("x" * 101, "editor", None, "name"),
    ("ok", "owner", None, "role"),
    ("ok", "editor", "short", "password"),
]


def test_bad_account_input_is_refused_with_chinese_message(accounts: SqlAccountStore) -> None:
    for name, role, password, field in _BAD_ACCOUNTS:
        with pytest.raises(ValidationFailed) as info:
            accounts.add_user(name, role, password=password)
        assert [e.field for e in info.value.errors] == [field]
        assert info.value.errors[0].message_zh
    assert accounts.users() == []


def test_token_is_shown_once_and_stored_only_as_its_hash(accounts: SqlAccountStore) -> None:
    user = accounts.add_user("editor1", "editor")
    token, secret = accounts.create_token("editor1", label="QGIS")
    assert secret.startswith(TOKEN_PREFIX) and len(secret) >= 40
    assert token.prefix == secret[: len(token.prefix)] and token.label == "QGIS"
    with accounts.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(api_tokens_table))]
    assert not any(secret in str(v) for row in rows for v in row)
    assert rows[0][4] == hashlib.sha256(secret.encode()).hexdigest()
    assert accounts.user_for_token(secret) == user
    assert accounts.user_for_token(secret + "x") is None
    assert accounts.user_for_token("not-a-token") is None
    assert [t.revoked for t in accounts.tokens()] == [False]


def test_revoking_tokens(accounts: SqlAccountStore) -> None:
    accounts.add_user("e", "editor")
    first, s1 = accounts.create_token("e")
    _, s2 = accounts.create_token("e")
    _, s3 = accounts.create_token("e")
    assert accounts.revoke_token(first.id).revoked
    assert accounts.user_for_token(s1) is None and accounts.user_for_token(s2) is not None
    assert accounts.revoke_token(s2).revoked  # by the secret itself
    assert accounts.user_for_token(s2) is None
    assert accounts.revoke_user_tokens("e") == 1
    assert accounts.user_for_token(s3) is None
    for missing in (9999, 2**40):  # 2**40: beyond PostgreSQL's integer, still "not found"
        with pytest.raises(NotFound):
            accounts.revoke_token(missing)


def test_disabled_user_loses_tokens_and_sessions(accounts: SqlAccountStore) -> None:
    user = accounts.add_user("e", "editor", password="password-1")
    _, secret = accounts.create_token("e")
    cookie, _session = accounts.start_session(user, ttl=timedelta(hours=1))
    disabled = accounts.disable_user("e")
    assert disabled.disabled and not disabled.can("viewer")
    assert accounts.user_for_token(secret) is None
    assert accounts.session(cookie) is None
    assert accounts.authenticate("e", "password-1") is None


def test_password_hash_is_salted_scrypt() -> None:
    a, b = hash_password("same password"), hash_password("same password")
    assert a != b and a.startswith("scrypt$")
    assert verify_password("same password", a) and not verify_password("same passwore", a)
    assert not verify_password("same password", "garbage")


def test_authenticate(accounts: SqlAccountStore) -> None:
    accounts.add_user("张三", "editor", password="这是一个很长的密码")
    accounts.add_user("tokenonly", "editor")
    assert accounts.authenticate("张三", "这是一个很长的密码") is not None
    assert accounts.authenticate("张三", "wrong-password") is None
    assert accounts.authenticate("nobody", "这是一个很长的密码") is None
    assert accounts.authenticate("tokenonly", "") is None
    with accounts.engine.connect() as conn:
        stored = conn.execute(
            select(users_table.c.password_hash).where(users_table.c.name == "张三")
        ).scalar_one()
    assert "这是一个很长的密码" not in stored


def test_sessions_carry_csrf_expire_and_end(accounts: SqlAccountStore) -> None:
    user = accounts.add_user("e", "editor", password="password-1")
    cookie, session = accounts.start_session(user, ttl=timedelta(hours=1))
    found = accounts.session(cookie)
    assert found is not None and found.user == user
    assert found.csrf_token == session.csrf_token and len(session.csrf_token) >= 32
    with accounts.engine.connect() as conn:
        ids = conn.execute(select(sessions_table.c.id)).scalars().all()
    assert cookie not in ids  # only the digest is kept
    expired, _ = accounts.start_session(user, ttl=timedelta(seconds=-1))
    assert accounts.session(expired) is None
    accounts.end_session(cookie)
    assert accounts.session(cookie) is None
    other, _ = accounts.start_session(user, ttl=timedelta(hours=1))
    accounts.set_password("e", "a new password")  # a reset ends existing logins
    assert accounts.session(other) is None
