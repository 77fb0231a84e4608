"""`harborline user ...` and `harborline oncall ...` commands.

They work on the configured database (DATABASE_URL, or the SQLite file under
HARBORLINE_VAR_DIR), migrating it first. Mistakes (a bad name, short password,
unknown account, bad time or time zone, a number that is not one) print one
line to stderr and exit 1. Every change is written to the audit log with the
actor ``cli:<os user>``. Paging addresses are stored encrypted with the
configured keys and shown only by their last four characters.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import types
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import NoReturn

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli_support import Work, fail, with_db
from bot.crypto import Cipher, InvalidToken
from escalation.accounts import (
    PAGE_LOCALES,
    ROLES,
    AccountError,
    create_account,
    deactivate,
    find_account,
    is_locked,
    list_accounts,
    page_address,
    parse_page_address,
    set_paging,
    unlock,
    validate_name,
    validate_password,
)
from escalation.models import PAGE_CHANNELS, Counselor
from escalation.roster import (
    POSITIONS,
    ShiftError,
    add_cover_shift,
    add_weekly_shifts,
    describe_shift,
    list_shifts,
    load_roster,
    parse_weekdays,
    remove_shift,
)

__all__ = ["register"]


class _Parser(argparse.ArgumentParser):
    """Usage mistakes exit 1 (like every other mistake here), not argparse's 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = sub.add_parser("user", help="staff accounts")
    _exit_1_on_usage_errors(user)
    user.set_defaults(handler=_usage(user))
    actions = user.add_subparsers(metavar="ACTION", parser_class=_Parser)

    add = actions.add_parser(
        "add",
        help="create an account; the password is read from stdin (one line) or prompted",
    )
    add.add_argument("name", help="3-64 characters: letters, digits, _ . -")
    add.add_argument("--role", default="counselor", help=f"{' | '.join(ROLES)} (counselor)")
    _paging_options(add, "--page-via", "--page-to")
    add.set_defaults(handler=_user_add)

    actions.add_parser("list", help="all accounts").set_defaults(handler=_user_list)

    paging = actions.add_parser(
        "paging", help="where pages go besides the console (sms, telegram) and their language"
    )
    paging.add_argument("name")
    _paging_options(paging, "--via", "--to")
    paging.set_defaults(handler=_user_paging)

    for action, helptext, handler in (
        ("unlock", "clear a lock-out after failed log-ins", _user_unlock),
        ("deactivate", "no more log-ins or pages; ends open sessions", _user_deactivate),
    ):
        parser = actions.add_parser(action, help=helptext)
        parser.add_argument("name")
        parser.set_defaults(handler=handler)

    oncall = sub.add_parser("oncall", help="on-call shifts")
    _exit_1_on_usage_errors(oncall)
    oncall.set_defaults(handler=_usage(oncall))
    actions = oncall.add_subparsers(metavar="ACTION", parser_class=_Parser)

    add = actions.add_parser(
        "add",
        help="a weekly shift (--weekly --from --to --tz) or a one-off cover (--start --end)",
    )
    add.add_argument("name", help="the account")
    add.add_argument("--position", required=True, help=" | ".join(POSITIONS))
    add.add_argument("--weekly", metavar="DAYS", help="mon,tue,... or mon-fri or daily")
    add.add_argument("--from", dest="start_local", metavar="HH:MM", help="local start time")
    add.add_argument("--to", dest="end_local", metavar="HH:MM", help="local end (may wrap)")
    add.add_argument("--tz", metavar="ZONE", help="IANA time zone, e.g. America/Chicago")
    add.add_argument("--start", metavar="ISO", help="cover start, e.g. 2026-11-01T09:00-06:00")
    add.add_argument("--end", metavar="ISO", help="cover end")
    add.set_defaults(handler=_oncall_add)

    listing = actions.add_parser("list", help="all shifts, or with --now who is on call now")
    listing.add_argument("--now", action="store_true", help="who is primary/backup/supervisor")
    listing.add_argument("--at", metavar="ISO", help="like --now, at another time")
    listing.set_defaults(handler=_oncall_list)

    remove = actions.add_parser("remove", help="delete a shift by its ID")
    remove.add_argument("id", type=int)
    remove.set_defaults(handler=_oncall_remove)


# -- user ------------------------------------------------------------------------------------


def _user_add(args: argparse.Namespace) -> int:
    try:
        name = validate_name(args.name)
        if args.role not in ROLES:
            raise AccountError(f"role must be one of: {', '.join(ROLES)}")
        if args.page_to is not None and args.page_via is None:
            raise AccountError("--page-to needs --page-via sms or telegram")
        _check_paging(args, None)
        password = validate_password(_read_password())
    except AccountError as exc:
        return _fail(str(exc))

    async def work(session: AsyncSession, now: datetime) -> int:
        counselor = await create_account(session, name, password, args.role, now, actor=_actor())
        if _paging_given(args):
            await _apply_paging(session, counselor, now, args)
        print(f"created {args.role} {name}")
        return 0

    return _with_db(work)


def _user_list(args: argparse.Namespace) -> int:
    async def work(session: AsyncSession, now: datetime) -> int:
        rows = [("NAME", "ROLE", "ACTIVE", "ON CALL", "LOCKED UNTIL", "PAGES")]
        for c in await list_accounts(session):
            locked = _iso(c.locked_until) if c.locked_until and is_locked(c, now) else "-"
            rows.append((c.name, c.role, _yes(c.active), _yes(c.on_call), locked, _paging(c)))
        _table(rows)
        return 0

    return _with_db(work)


def _user_unlock(args: argparse.Namespace) -> int:
    async def work(session: AsyncSession, now: datetime) -> int:
        await unlock(session, await _account(session, args.name), now, actor=_actor())
        print(f"unlocked {args.name.lower()}")
        return 0

    return _with_db(work)


def _user_deactivate(args: argparse.Namespace) -> int:
    async def work(session: AsyncSession, now: datetime) -> int:
        await deactivate(session, await _account(session, args.name), now, actor=_actor())
        print(f"deactivated {args.name.lower()}")
        return 0

    return _with_db(work)


def _paging_options(parser: argparse.ArgumentParser, via: str, to: str) -> None:
    parser.add_argument(
        via,
        dest="page_via",
        metavar="CHANNEL",
        help=f"{' | '.join(PAGE_CHANNELS)}: pages go here too (the console always gets them)",
    )
    parser.add_argument(
        to,
        dest="page_to",
        metavar="ADDRESS",
        help="sms: a phone number (+15551234567); telegram: the numeric Telegram user id",
    )
    parser.add_argument(
        "--locale", metavar="LANG", help=f"{' | '.join(PAGE_LOCALES)}: the language of pages"
    )


def _paging_given(args: argparse.Namespace) -> bool:
    return any(v is not None for v in (args.page_via, args.page_to, args.locale))


def _check_paging(args: argparse.Namespace, channel: str | None) -> None:
    """Mistakes in the paging options, before anything is written."""
    if args.locale is not None and args.locale not in PAGE_LOCALES:
        raise AccountError(f"locale must be one of: {', '.join(PAGE_LOCALES)}")
    if args.page_via is not None or (channel is not None and args.page_to is not None):
        parse_page_address(args.page_via or channel or "console", args.page_to, _region())


async def _apply_paging(
    session: AsyncSession, counselor: Counselor, now: datetime, args: argparse.Namespace
) -> None:
    await set_paging(
        session,
        counselor,
        now,
        _cipher(),
        actor=_actor(),
        channel=args.page_via,
        address=args.page_to,
        locale=args.locale,
        region=_region(),
    )


def _user_paging(args: argparse.Namespace) -> int:
    if not _paging_given(args):
        return _fail("give --via CHANNEL [--to ADDRESS], --locale LANG, or both")

    async def work(session: AsyncSession, now: datetime) -> int:
        counselor = await _account(session, args.name)
        _check_paging(args, counselor.page_channel)
        await _apply_paging(session, counselor, now, args)
        print(f"{counselor.name}: pages by {_paging(counselor)}")
        return 0

    return _with_db(work)


def _paging(counselor: Counselor) -> str:
    """``sms ...4567 (es)``: the channel and the end of the address, never all of it."""
    text = counselor.page_channel
    if counselor.page_channel != "console":
        try:
            address = page_address(counselor, _cipher())
        except InvalidToken:
            address = "?"  # Encrypted with a key this machine does not have.
        text += f" ...{address[-4:]}" if address else " (no address)"
    return f"{text} ({counselor.locale or 'en'})"


def _cipher() -> Cipher:
    from bot.settings import get_settings

    return Cipher(get_settings().fernet_keys)


def _region() -> str:
    from bot.settings import get_settings

    return get_settings().default_country


def _read_password() -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line.strip():
            raise AccountError("no password on stdin (one line)")
        return line.rstrip("\r\n")
    try:
        first = getpass.getpass("Password (at least 12 characters): ")
        second = getpass.getpass("Password again: ")
    except (EOFError, KeyboardInterrupt):
        raise AccountError("no password given") from None
    if first != second:
        raise AccountError("the two passwords differ")
    return first


# -- oncall ----------------------------------------------------------------------------------


def _oncall_add(args: argparse.Namespace) -> int:
    weekly = any(v is not None for v in (args.weekly, args.start_local, args.end_local, args.tz))
    cover = args.start is not None or args.end is not None
    if weekly == cover:
        return _fail(
            "give either --weekly DAYS --from HH:MM --to HH:MM --tz ZONE, or --start --end"
        )
    try:
        if weekly:
            missing = [
                f
                for f, v in (
                    ("--weekly", args.weekly),
                    ("--from", args.start_local),
                    ("--to", args.end_local),
                    ("--tz", args.tz),
                )
                if v is None
            ]
            if missing:
                raise ShiftError(f"a weekly shift also needs {' '.join(missing)}")
            days = parse_weekdays(args.weekly)
        else:
            if args.start is None or args.end is None:
                raise ShiftError("a cover needs both --start and --end")
            starts_at, ends_at = _parse_moment(args.start), _parse_moment(args.end)
    except ShiftError as exc:
        return _fail(str(exc))

    async def work(session: AsyncSession, now: datetime) -> int:
        counselor = await _account(session, args.name)
        if weekly:
            shifts = await add_weekly_shifts(
                session,
                counselor,
                args.position,
                days,
                args.start_local,
                args.end_local,
                args.tz,
                now,
                actor=_actor(),
            )
        else:
            shifts = [
                await add_cover_shift(
                    session, counselor, args.position, starts_at, ends_at, now, actor=_actor()
                )
            ]
        for shift in shifts:
            print(
                f"added shift {shift.id}: {shift.position} {counselor.name} {describe_shift(shift)}"
            )
        return 0

    return _with_db(work)


def _oncall_list(args: argparse.Namespace) -> int:
    try:
        at = _parse_moment(args.at) if args.at else None
    except ShiftError as exc:
        return _fail(str(exc))

    async def work(session: AsyncSession, now: datetime) -> int:
        if args.now or at is not None:
            moment = at or now
            roster = await load_roster(session, moment)
            print(f"at {_iso(moment)}")
            for position in ("primary", "backup", "supervisor"):
                holder = roster.holder(position)
                print(f"{position + ':':<12}{holder.name if holder else 'nobody'}")
            everyone = ", ".join(c.name for c in roster.everyone_on_call) or "nobody"
            print(f"{'on call:':<12}{everyone}")
            return 0
        rows = [("ID", "POSITION", "NAME", "SCHEDULE")]
        for shift, counselor in await list_shifts(session):
            name = counselor.name if counselor.active else f"{counselor.name} (deactivated)"
            rows.append((str(shift.id), shift.position, name, describe_shift(shift)))
        _table(rows)
        return 0

    return _with_db(work)


def _oncall_remove(args: argparse.Namespace) -> int:
    async def work(session: AsyncSession, now: datetime) -> int:
        if not await remove_shift(session, args.id, now, actor=_actor()):
            raise ShiftError(f"no shift with ID {args.id}")
        print(f"removed shift {args.id}")
        return 0

    return _with_db(work)


# -- plumbing --------------------------------------------------------------------------------


def _with_db(work: Work) -> int:
    return with_db(work, (AccountError, ShiftError))


async def _account(session: AsyncSession, name: str) -> Counselor:
    counselor = await find_account(session, name)
    if counselor is None:
        raise AccountError(f"no account named {name.lower()!r}")
    return counselor


def _parse_moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ShiftError(f"not an ISO date and time: {text!r}") from None
    if moment.tzinfo is None:
        raise ShiftError(f"{text!r} needs a UTC offset, e.g. 2026-11-01T09:00-06:00 or ...Z")
    return moment.astimezone(UTC)


def _exit_1_on_usage_errors(parser: argparse.ArgumentParser) -> None:
    """``harborline user frob``: the parser comes from bot.cli, so its class can't be ours."""
    parser.error = types.MethodType(_Parser.error, parser)  # type: ignore[method-assign]


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


def _fail(message: str) -> int:
    return fail(message)


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def _table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
