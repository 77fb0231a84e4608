"""`harborline telegram ...`: link counselor accounts to Telegram for pages in DMs.

telegram link NAME     a one-time code (15 minutes); the counselor sends
                       ``/link CODE`` to the bot in a private chat
telegram unlink NAME   no more cards in that Telegram account
telegram links         linked accounts and where their pages go

They work on the configured database (migrating it first), write the audit log
with the actor ``cli:<os user>``, and exit 1 with a one-line message on a mistake.
Registered in ``bot.cli.PLUGIN_MODULES`` like the other domain commands.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from bot.cli_support import Work, fail, with_db

if TYPE_CHECKING:  # The channel (and aiogram) load only when a command runs.
    from bot.crypto import Cipher
    from bot.storage.db import AsyncSession
    from escalation.models import Counselor

__all__ = ["register"]


class _Mistake(Exception):
    """A mistake the person running the command can fix."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    telegram = sub.add_parser("telegram", help="counselors on Telegram: link accounts")
    actions = telegram.add_subparsers(metavar="ACTION")
    link = actions.add_parser("link", help="a one-time code that links a Telegram account")
    link.add_argument("name", help="the counselor's account name")
    link.set_defaults(handler=_link)
    unlink = actions.add_parser("unlink", help="stop sending requests to that Telegram account")
    unlink.add_argument("name")
    unlink.set_defaults(handler=_unlink)
    actions.add_parser("links", help="linked accounts").set_defaults(handler=_links)
    telegram.set_defaults(handler=_usage(telegram))


def _link(args: argparse.Namespace) -> int:
    from bot.channels.telegram_counselors import LINK_CODE_VALID_FOR, make_link_code

    async def work(session: AsyncSession, now: datetime) -> int:
        counselor = await _active_account(session, args.name)
        code = await make_link_code(session, counselor, now, _actor())
        minutes = int(LINK_CODE_VALID_FOR.total_seconds() // 60)
        print(f"code for {counselor.name}: {code}")
        print(f"In Telegram, send this to the bot in a private chat within {minutes} minutes:")
        print(f"/link {code}")
        return 0

    return _with_db(work)


def _unlink(args: argparse.Namespace) -> int:
    from bot.channels.telegram_counselors import unlink_account

    async def work(session: AsyncSession, now: datetime) -> int:
        counselor = await _account(session, args.name)
        if not await unlink_account(session, counselor, now, _actor(), _cipher()):
            raise _Mistake(f"{counselor.name} has no linked Telegram account")
        print(f"unlinked {counselor.name}")
        return 0

    return _with_db(work)


def _links(args: argparse.Namespace) -> int:
    from bot.channels.telegram_store import TelegramLink
    from escalation.models import Counselor

    async def work(session: AsyncSession, now: datetime) -> int:
        rows = (
            await session.execute(
                select(Counselor.name, Counselor.active, Counselor.page_channel, TelegramLink)
                .join(TelegramLink, TelegramLink.counselor_id == Counselor.id)
                .order_by(Counselor.name)
            )
        ).all()
        table = [("NAME", "ACTIVE", "PAGES", "LINKED AT")]
        for name, active, channel, link in rows:
            at = link.linked_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
            table.append((name, "yes" if active else "no", channel, at))
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        for row in table:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        return 0

    return _with_db(work)


# -- plumbing --------------------------------------------------------------------------------


def _with_db(work: Work) -> int:
    return with_db(work, (_Mistake,))


async def _account(session: AsyncSession, name: str) -> Counselor:
    from escalation.accounts import find_account

    counselor = await find_account(session, name)
    if counselor is None:
        raise _Mistake(f"no account named {name.lower()!r}")
    return counselor


async def _active_account(session: AsyncSession, name: str) -> Counselor:
    counselor = await _account(session, name)
    if not counselor.active:
        raise _Mistake(f"{counselor.name} is deactivated")
    return counselor


def _cipher() -> Cipher:
    from bot.crypto import Cipher
    from bot.settings import get_settings

    return Cipher(get_settings().fernet_keys)


def _fail(message: str) -> int:
    return fail(message)


def _usage(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def show(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 1

    return show


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
