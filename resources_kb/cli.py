"""`harborline kb ...` commands.

kb import [--dir D] [--actor NAME]   files -> database (a version only when changed)
kb export [--dir D]                  database -> files (reads back unchanged)
kb validate [--dir D] [--stale-days N]  exit 1 on errors; stale items are warnings
kb stale [--days N] [--dir D | --db]  articles and listings due for review (--db: what the
                                     database serves, the same list as /admin/stale)
kb ask --json [--locale en] [--jurisdiction US] "question"
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from resources_kb.content import (
    CONTENT_DIR,
    ContentError,
    load_articles,
    load_services,
    render_article,
    render_services,
)
from resources_kb.validate import (
    check_articles,
    check_services,
    stale_articles,
    stale_services,
)

__all__ = ["ask_payload", "register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    kb = sub.add_parser("kb", help="knowledge base tasks")
    actions = kb.add_subparsers(metavar="ACTION")

    do_import = actions.add_parser("import", help="files -> database (new versions when changed)")
    do_import.add_argument("--dir", type=Path, default=CONTENT_DIR)
    do_import.add_argument("--actor", default=None, help="who is importing (default: login name)")
    do_import.set_defaults(handler=_import)

    export = actions.add_parser("export", help="database -> files")
    export.add_argument("--dir", type=Path, default=CONTENT_DIR)
    export.set_defaults(handler=_export)

    validate = actions.add_parser("validate", help="check the content files")
    validate.add_argument("--dir", type=Path, default=CONTENT_DIR)
    validate.add_argument(
        "--stale-days", type=int, default=None, help="default: KB_STALE_DAYS (180)"
    )
    validate.set_defaults(handler=_validate)

    stale = actions.add_parser("stale", help="list articles due for review")
    stale.add_argument("--days", type=int, default=None, help="default: KB_STALE_DAYS (180)")
    stale.add_argument("--dir", type=Path, default=CONTENT_DIR)
    stale.add_argument(
        "--db", action="store_true", help="the database's live content (as /admin/stale)"
    )
    stale.set_defaults(handler=_stale)

    ask = actions.add_parser("ask", help="what the bot would answer")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="one JSON object (a stable contract)")
    ask.add_argument("--locale", default="en", choices=("en", "es"))
    ask.add_argument("--jurisdiction", default="US")
    ask.set_defaults(handler=_ask)

    def _usage(_args: argparse.Namespace) -> int:
        kb.print_help()
        return 2

    kb.set_defaults(handler=_usage)


def _now() -> datetime:
    return datetime.now(UTC)


def _database_url() -> str:
    from bot.settings import get_settings

    return get_settings().effective_database_url


def _stale_days(given: int | None) -> int:
    """`given` on the command line, else the KB_STALE_DAYS setting."""
    if given is not None:
        return given
    from bot.settings import Settings

    # Not get_settings(): reading one number must not generate secrets into var/.
    return Settings().kb_stale_days


# ---- files <-> database ---------------------------------------------------------


def _import(args: argparse.Namespace) -> int:
    try:
        articles = load_articles(args.dir)
        services = load_services(args.dir)
    except ContentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    problems = [
        p
        for p in check_articles(articles, date.today()) + check_services(services, date.today())
        if p.level == "error"
    ]
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print("nothing imported: fix the errors above (kb validate)", file=sys.stderr)
        return 1
    actor = args.actor or os.environ.get("USER") or getpass.getuser()
    summary = asyncio.run(_import_async(_database_url(), articles, services, actor))
    print(json.dumps(summary))
    return 0


async def _import_async(
    url: str, articles: list[Any], services: list[dict[str, Any]], actor: str
) -> dict[str, int]:
    from bot.storage.db import Database
    from bot.storage.migrate import upgrade
    from resources_kb import repository

    await upgrade(url)
    db = Database(url)
    try:
        async with db.sessions() as session, session.begin():
            now = _now()
            summary = dict(await repository.import_articles(session, articles, actor, now))
            summary.update(
                {
                    f"services_{k}": v
                    for k, v in (
                        await repository.import_services(session, services, actor, now)
                    ).items()
                }
            )
            return summary
    finally:
        await db.close()


def _export(args: argparse.Namespace) -> int:
    articles, services = asyncio.run(_export_async(_database_url()))
    if not articles:
        print("the database has no articles; nothing exported", file=sys.stderr)
        return 1
    for article in articles:
        path = args.dir / "articles" / article.locale / f"{article.id}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_article(article), encoding="utf-8")
    if services:
        path = args.dir / "services" / "national.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_services(services), encoding="utf-8")
    print(json.dumps({"articles": len(articles), "services": len(services)}))
    return 0


async def _export_async(url: str) -> tuple[list[Any], list[dict[str, Any]]]:
    from bot.storage.db import Database
    from bot.storage.migrate import upgrade
    from resources_kb import repository

    await upgrade(url)
    db = Database(url)
    try:
        async with db.sessions() as session:
            articles = await repository.working_articles(session)
            services = await repository.live_services(session)
            return articles, services
    finally:
        await db.close()


# ---- checks -----------------------------------------------------------------------


def _validate(args: argparse.Namespace) -> int:
    try:
        articles = load_articles(args.dir)
        services = load_services(args.dir)
    except ContentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    today = date.today()
    stale_days = _stale_days(args.stale_days)
    problems = check_articles(articles, today, stale_days) + check_services(
        services, today, stale_days
    )
    for problem in problems:
        print(problem)
    errors = sum(p.level == "error" for p in problems)
    warnings = len(problems) - errors
    print(
        f"{len(articles)} articles, {len(services)} services: {errors} errors, {warnings} warnings"
    )
    return 1 if errors else 0


def _stale(args: argparse.Namespace) -> int:
    today = date.today()
    days = _stale_days(args.days)
    if args.db:
        url = _database_url()
        if url.startswith("sqlite") and not _sqlite_file_exists(url):
            print("no database here yet: nothing imported (kb import)", file=sys.stderr)
            return 1
        articles, services = asyncio.run(_live_async(url))
    else:
        try:
            articles, services = load_articles(args.dir), load_services(args.dir)
        except ContentError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    for article in stale_articles(articles, today, days):
        print(f"{article.locale}/{article.id}\tlast reviewed {article.last_reviewed or 'never'}")
    for listing, checked in stale_services(services, today, days):
        print(f"service/{listing.get('id', '?')}\tlast verified {checked or 'never'}")
    return 0


async def _live_async(url: str) -> tuple[list[Any], list[dict[str, Any]]]:
    from bot.storage.db import Database
    from bot.storage.migrate import upgrade
    from resources_kb import repository

    await upgrade(url)
    db = Database(url)
    try:
        async with db.sessions() as session:
            return await repository.live_articles(session), await repository.live_services(session)
    finally:
        await db.close()


# ---- ask ----------------------------------------------------------------------------


def ask_payload(question: str, locale: str = "en", jurisdiction: str = "US") -> dict[str, Any]:
    """The `kb ask --json` object: {"question", "reply", "answers": [...]}.

    `reply` is the text the bot would send: the short answer and the
    "Checked on DATE" line, or the "I don't know" text below the threshold.
    """
    from dialogs.texts import get_texts

    kb = asyncio.run(_loaded_kb(_database_url()))
    texts = get_texts(locale)
    answer = kb.ask(question, locale, jurisdiction)
    best = answer.best
    if best is None:
        reply = texts("answers.unknown")
    else:
        reply = best.article.short_answer
        if best.article.last_reviewed:
            reviewed = texts("answers.reviewed", date=best.article.last_reviewed.isoformat())
            reply = f"{reply}\n{reviewed}"
    return {
        "question": question,
        "reply": reply,
        "answers": [
            {
                "id": hit.article.id,
                "title": hit.article.title,
                "body": hit.article.body,
                "score": round(hit.score, 4),
            }
            for hit in answer.hits
        ],
    }


async def _loaded_kb(url: str) -> Any:
    """The same content the bot serves: the database when it has articles, else files."""
    from resources_kb.service import KnowledgeBase

    kb = KnowledgeBase.from_files()
    if url.startswith("sqlite") and not _sqlite_file_exists(url):
        return kb  # Nothing imported on this machine: do not create a database.
    from bot.storage.db import Database

    db = Database(url)
    try:
        await kb.refresh(db)
    finally:
        await db.close()
    return kb


def _sqlite_file_exists(url: str) -> bool:
    path = url.partition(":///")[2]
    return bool(path) and Path(path).exists()


def _ask(args: argparse.Namespace) -> int:
    import logging

    logging.disable(logging.WARNING)  # stdout carries the contract; keep stderr quiet too
    payload = ask_payload(args.question, args.locale, args.jurisdiction)
    if args.json:
        print(json.dumps(payload, ensure_ascii=False))
    else:
        print(payload["reply"])
        for answer in payload["answers"]:
            print(f"  {answer['score']:.3f}  {answer['id']}  {answer['title']}")
    return 0
