"""Staff accounts from the command line: ``stations users …`` and ``stations token …``.

A token is printed exactly once, alone on stdout (so ``TOKEN=$(stations token create …)``
works); only its hash is stored, so a lost token is revoked and replaced, never recovered.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from cli.common import JsonFlag, UserArg, command_group, console, err_console, open_services
from stations.store.accounts import ROLES

__all__ = ["users_app", "token_app"]

users_app = command_group("users", "工作人员账号 / Staff accounts (roles: viewer, editor, admin).")
token_app = command_group(
    "token", "程序用的 API 令牌 / API tokens for programs (Authorization: Bearer …)."
)

_ROLE_HELP = "角色：viewer 只读 | editor 编辑 | admin 管理 / role"


def _ask_password() -> str:
    return str(
        typer.prompt(
            "密码 password",
            hide_input=True,
            confirmation_prompt="再次输入密码 repeat the password",
        )
    )


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise typer.BadParameter(f"must be one of {', '.join(ROLES)}", param_hint="--role")
    return role


@users_app.command("add")
def users_add(
    name: Annotated[
        str,
        typer.Argument(help="登录名，记入修改历史 / login name; recorded in the change history"),
    ],
    role: Annotated[str, typer.Option(help=_ROLE_HELP)] = "editor",
    password: Annotated[
        bool,
        typer.Option(
            "--password",
            help="设置控制台密码（输入时不显示）/ ask for a console password (hidden input)",
        ),
    ] = False,
    org: Annotated[
        str | None,
        typer.Option(
            help="所属组织（名称或 id），角色在该组织及下级有效；默认根组织 / organisation; default: the root"
        ),
    ] = None,
) -> None:
    """添加用户 / Add a staff user."""
    _check_role(role)
    secret = _ask_password() if password else None
    with open_services() as services:
        accounts = services.accounts
        orgs = services.orgs
        where = orgs.get(org) if org is not None else None  # a bad --org adds nobody
        user = accounts.add_user(name, role, password=secret)
        if where is not None:
            orgs.assign_user(user.name, where.id)
        where = orgs.user_org(user.name)
    console.print(
        f"已添加 added {user.name} ({user.role}, {where.name})", highlight=False, markup=False
    )


@users_app.command("list")
def users_list(as_json: JsonFlag = False) -> None:
    """列出用户 / List staff users."""
    with open_services() as services:
        accounts = services.accounts
        users = accounts.users()
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "name": u.name,
                        "role": u.role,
                        "disabled": u.disabled,
                        "has_password": u.has_password,
                        "created_at": u.created_at.isoformat(),
                    }
                    for u in users
                ],
                ensure_ascii=False,
                indent=1,
            )
        )
        return
    table = Table(title=f"用户 users: {len(users)}")
    for col in ("名称 name", "角色 role", "控制台密码 password", "状态 state"):
        table.add_column(col)
    for u in users:
        table.add_row(
            u.name,
            u.role,
            "✓" if u.has_password else "—",
            "停用 disabled" if u.disabled else "正常 active",
        )
    console.print(table)


@users_app.command("role")
def users_role(
    name: UserArg,
    role: Annotated[str, typer.Option(help=_ROLE_HELP)],
) -> None:
    """修改角色 / Change a user's role."""
    _check_role(role)
    with open_services() as services:
        accounts = services.accounts
        user = accounts.set_role(name, role)
    console.print(f"{user.name}: {user.role}", highlight=False, markup=False)


@users_app.command("password")
def users_password(name: UserArg) -> None:
    """设置控制台密码 / Set a user's console password (ends their sessions)."""
    secret = _ask_password()
    with open_services() as services:
        accounts = services.accounts
        accounts.set_password(name, secret)
    console.print(f"已更新 password set for {name}", highlight=False, markup=False)


@users_app.command("disable")
def users_disable(name: UserArg) -> None:
    """停用用户 / Disable a user: tokens and sessions stop working; history keeps the name."""
    with open_services() as services:
        accounts = services.accounts
        accounts.disable_user(name)
    console.print(f"已停用 disabled {name}", highlight=False, markup=False)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="令牌代表的用户 / the user the token acts as")],
    label: Annotated[
        str, typer.Option(help="令牌用途，如 'QGIS 张三' / what the token is for")
    ] = "",
) -> None:
    """创建令牌 / Create an API token; it is shown only this once."""
    with open_services() as services:
        accounts = services.accounts
        token, secret = accounts.create_token(name, label=label)
    print(secret)
    err_console.print(
        f"令牌 token #{token.id} for {token.user_name}: shown once, store it "
        f"safely (仅显示一次，请妥善保存)",
        highlight=False,
        markup=False,
    )


@token_app.command("list")
def token_list(
    user: Annotated[
        str | None, typer.Option(help="只列该用户的令牌 / only this user's tokens")
    ] = None,
) -> None:
    """列出令牌 / List API tokens (never their secrets)."""
    with open_services() as services:
        accounts = services.accounts
        tokens = accounts.tokens(user)
    table = Table(title=f"令牌 tokens: {len(tokens)}")
    for col in ("id", "用户 user", "开头 starts with", "用途 label", "创建 created", "状态 state"):
        table.add_column(col)
    for t in tokens:
        table.add_row(
            str(t.id),
            t.user_name,
            t.prefix + "…",
            t.label,
            t.created_at.isoformat(timespec="seconds"),
            "已撤销 revoked" if t.revoked else "有效 live",
        )
    console.print(table)


@token_app.command("revoke")
def token_revoke(
    token: Annotated[
        str | None,
        typer.Argument(
            help="令牌 id（见 stations token list）或令牌本身 / the token's id or the token itself"
        ),
    ] = None,
    user: Annotated[
        str | None, typer.Option(help="撤销该用户的全部令牌 / revoke every token of this user")
    ] = None,
) -> None:
    """撤销令牌 / Revoke a token (by id or value), or all tokens of a user."""
    if (token is None) == (user is None):
        raise typer.BadParameter("give a token id/value or --user NAME (one of them)")
    with open_services() as services:
        accounts = services.accounts
        if user is not None:
            count = accounts.revoke_user_tokens(user)
            message = f"已撤销 revoked {count} token(s) of {user}"
        else:
            assert token is not None
            found = accounts.revoke_token(int(token) if token.isdecimal() else token)
            message = f"已撤销 revoked token #{found.id} of {found.user_name}"
    console.print(message, highlight=False, markup=False)
