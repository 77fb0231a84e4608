"""The knowledge-base admin at /admin: articles, service listings, review, history.

Server-rendered pages behind the staff log-in (bot.web.auth), for the roles in
`resources_kb.workflow.EDITOR_ROLES` (reviewer, admin); every other role gets
403, and a browser without a session is sent to the log-in page. Every form
carries the session's CSRF token (checked by `current_staff`). Content is
checked (`resources_kb.validate`) on save and again on submit and publish; a
problem shows the form again with the messages next to the fields (422), a
move the workflow refuses shows the page with the reason (409). Every change
is a repository call (`resources_kb.repository`): a version, an audit row,
and a `kb_revision` bump when what survivors see changes, which every
worker's `KnowledgeBase.refresh` picks up.

    GET  /admin                                        lists, review queue, stale count
    POST /admin/import                                 content files -> database (admin)
    GET  /admin/stale[?days=N]                         due for review (default KB_STALE_DAYS, 180)
    GET  /admin/audit[?before=ID]                      who changed what, and when
    GET  /admin/articles/new, POST /admin/articles     a new article (a draft)
    GET  /admin/articles/{id}/{locale}                 state, problems, moves, history
    GET|POST /admin/articles/{id}/{locale}/edit        a new draft version
    POST /admin/articles/{id}/{locale}/submit|publish|reject|retire
    POST /admin/articles/{id}/{locale}/rollback        form: version
    GET  /admin/articles/{id}/{locale}/versions/{n}    one version
    GET  /admin/articles/{id}/{locale}/diff?a=N&b=M    what changed from N to M
    ... and the same under /admin/services/{id} (bot.web.admin_services)
"""

from __future__ import annotations

import asyncio
from typing import Any

import yaml
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.exc import IntegrityError

from bot.web import admin_services
from bot.web.admin_forms import FormError, article_form_values, parse_article_form
from bot.web.admin_pages import (
    SAME_MOMENT,
    Admin,
    Editor,
    check_article_path,
    errors_by_field,
    form_fields,
    now,
    page,
    posted,
    redirect,
    runtime,
    version_number,
    versions_to_compare,
)
from bot.web.auth import StaffRoute
from escalation.models import Counselor
from resources_kb import repository
from resources_kb.content import (
    CONTENT_DIR,
    Article,
    ContentError,
    article_from_dict,
    load_articles,
    load_services,
)
from resources_kb.validate import (
    LOCALES,
    Problem,
    check_article,
    check_articles,
    check_pair,
    check_services,
)
from resources_kb.workflow import WorkflowError, allowed_actions, as_lines, diff, next_status

__all__ = ["router"]

router = APIRouter(route_class=StaffRoute, include_in_schema=False)

EMPTY = (
    "The knowledge base is not in the database yet, so the bot answers from the content "
    "files. Import them first (an administrator: “Import the content files” on the admin "
    "home page, or `harborline kb import`), so nothing the bot knows is lost."
)
MAX_STALE_DAYS = 3650


# ---- home, import, stale, audit ---------------------------------------------------


@router.get("/admin", response_class=HTMLResponse)
async def home(request: Request, staff: Editor) -> HTMLResponse:
    return await _home(request)


async def _home(request: Request, status: int = 200, **extra: Any) -> HTMLResponse:
    today = now(request).date()
    rt = runtime(request)
    stale_days = rt.settings.kb_stale_days
    async with rt.db.sessions() as session:
        articles = await repository.list_articles(session)
        services = await repository.list_services(session)
        stale = await repository.stale(session, today, stale_days)
    waiting = [a for a in articles if a.status == "in_review"]
    waiting_services = [s for s in services if s.status == "in_review"]
    return page(
        request,
        "admin.html",
        status,
        articles=articles,
        services=services,
        waiting=waiting,
        waiting_services=waiting_services,
        stale_count=len(stale["articles"]) + len(stale["services"]),
        stale_days=stale_days,
        empty=not articles,
        **extra,
    )


@router.post("/admin/import", response_class=HTMLResponse)
async def import_files(request: Request, staff: Admin) -> Response:
    """The content files -> database, as `harborline kb import` does (checked first)."""
    root = runtime(request).settings.kb_content_dir or CONTENT_DIR
    try:
        articles, services = await asyncio.to_thread(
            lambda: (load_articles(root), load_services(root))
        )
    except (ContentError, OSError, yaml.YAMLError) as exc:
        return await _home(request, 422, import_errors=[f"The content files cannot be read: {exc}"])
    today = now(request).date()
    problems = [
        str(p)
        for p in check_articles(articles, today) + check_services(services, today)
        if p.level == "error"
    ]
    if problems:
        return await _home(request, 422, import_errors=problems)
    try:
        async with runtime(request).db.sessions() as session, session.begin():
            at = now(request)
            await repository.import_articles(session, articles, staff.name, at)
            await repository.import_services(session, services, staff.name, at)
    except WorkflowError as exc:
        return await _home(request, 409, import_errors=[str(exc)])
    return redirect("/admin?done=imported")


@router.get("/admin/stale", response_class=HTMLResponse)
async def stale(request: Request, staff: Editor) -> HTMLResponse:
    default = runtime(request).settings.kb_stale_days
    raw = request.query_params.get("days", "")
    days = version_number(raw) or default
    note = ""
    if raw and (version_number(raw) is None or not 1 <= days <= MAX_STALE_DAYS):
        days, note = default, f"Days must be a whole number from 1 to {MAX_STALE_DAYS}."
    today = now(request).date()
    async with runtime(request).db.sessions() as session:
        found = await repository.stale(session, today, days)
    return page(
        request,
        "admin_stale.html",
        articles=found["articles"],
        services=found["services"],
        days=days,
        today=today,
        note=note,
    )


@router.get("/admin/audit", response_class=HTMLResponse)
async def audit(request: Request, staff: Editor) -> HTMLResponse:
    before = version_number(request.query_params.get("before"))
    async with runtime(request).db.sessions() as session:
        events = await repository.audit_log(session, limit=100, before=before)
    older = events[-1].id if len(events) == 100 else None
    return page(request, "admin_audit.html", events=events, older=older)


# ---- articles ----------------------------------------------------------------------


def _url(slug: str, locale: str, tail: str = "") -> str:
    return f"/admin/articles/{slug}/{locale}{tail}"


@router.get("/admin/articles/new", response_class=HTMLResponse)
async def new_article(request: Request, staff: Editor) -> HTMLResponse:
    values = article_form_values(None)
    # "Add the Spanish version" links fill in the id and language.
    wanted_id = request.query_params.get("id", "")[:128]
    wanted_locale = request.query_params.get("locale", "")
    values |= {"id": wanted_id, "locale": wanted_locale if wanted_locale in LOCALES else "en"}
    return _article_form(request, values, base_version=0)


def _article_form(
    request: Request,
    values: dict[str, str],
    *,
    base_version: int,
    errors: list[FormError] | None = None,
    editing: tuple[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    return page(
        request,
        "admin_article_form.html",
        status,
        values=values,
        errors=errors_by_field(errors or []),
        error_list=errors or [],
        base_version=base_version,
        editing=editing,
        locales=LOCALES,
    )


@router.post("/admin/articles", response_class=HTMLResponse)
async def create_article(request: Request, staff: Editor) -> Response:
    form = await posted(request)
    parsed = parse_article_form(form)
    if parsed.ok:
        try:
            async with runtime(request).db.sessions() as session, session.begin():
                if await repository.article_count(session) == 0:
                    raise WorkflowError(EMPTY)
                await repository.save_draft(
                    session, parsed.value, staff.name, now(request), parsed.note, expect_version=0
                )
        except WorkflowError as exc:
            parsed.errors.append(FormError("id" if "exists" in str(exc) else "", str(exc)))
        except IntegrityError:
            parsed.errors.append(FormError("", SAME_MOMENT))
    if not parsed.ok:
        values = form_fields(article_form_values(None), form)
        return _article_form(request, values, base_version=0, errors=parsed.errors, status=422)
    article: Article = parsed.value
    return redirect(_url(article.id, article.locale, "?done=created"))


@router.get("/admin/articles/{slug}/{locale}", response_class=HTMLResponse)
async def article_page(request: Request, staff: Editor, slug: str, locale: str) -> HTMLResponse:
    return await _article_view(request, staff, slug, locale)


async def _article_view(
    request: Request,
    staff: Counselor,
    slug: str,
    locale: str,
    *,
    error: str = "",
    problems: list[Problem] | None = None,
    status: int = 200,
) -> HTMLResponse:
    check_article_path(slug, locale)
    async with runtime(request).db.sessions() as session:
        row = await repository.find_article(session, slug, locale)
        if row is None:
            raise HTTPException(404, "no such article")
        versions = await repository.history(session, slug, locale)
        locales = await repository.article_locales(session, slug)
        every = await repository.article_locales(session, slug, retired=True)
        events = await repository.audit_log(session, limit=50, article=(slug, locale))
    newest = versions[-1]
    found = problems if problems is not None else _problems(newest.snapshot, slug, locale, locales)
    return page(
        request,
        "admin_article.html",
        status,
        row=row,
        newest=newest,
        lines=as_lines(newest.snapshot),
        versions=list(reversed(versions)),
        actions=allowed_actions(row.status, staff.name, newest.author),
        is_author=newest.author.casefold() == staff.name.casefold(),
        problems=found,
        missing_locales=[lc for lc in LOCALES if lc not in every],
        retired_locales=[lc for lc in LOCALES if lc in every and lc not in locales | {locale}],
        events=events,
        error=error,
    )


def _problems(snapshot: dict[str, Any], slug: str, locale: str, locales: set[str]) -> list[Problem]:
    """What stops this version from review: content errors and a missing translation."""
    try:
        article = article_from_dict(snapshot)
    except (KeyError, ValueError, TypeError):
        return [Problem("error", f"{locale}/{slug}", "this version cannot be read; edit it")]
    found = check_article(article, draft=True) + check_pair(slug, locale, locales)
    return [p for p in found if p.level == "error"]


@router.get("/admin/articles/{slug}/{locale}/edit", response_class=HTMLResponse)
async def edit_article_page(
    request: Request, staff: Editor, slug: str, locale: str
) -> HTMLResponse:
    check_article_path(slug, locale)
    async with runtime(request).db.sessions() as session:
        row = await repository.find_article(session, slug, locale)
        if row is None:
            raise HTTPException(404, "no such article")
        newest = await repository.article_version(session, row, row.version)
    values = article_form_values(newest.snapshot)
    return _article_form(request, values, base_version=row.version, editing=(slug, locale))


@router.post("/admin/articles/{slug}/{locale}/edit", response_class=HTMLResponse)
async def edit_article(request: Request, staff: Editor, slug: str, locale: str) -> Response:
    check_article_path(slug, locale)
    form = await posted(request)
    rt = runtime(request)
    number: int | None = None
    async with rt.db.sessions() as session:
        row = await repository.find_article(session, slug, locale)
        if row is None:
            raise HTTPException(404, "no such article")
        current = row.version
        newest = await repository.article_version(session, row, row.version)
    parsed = parse_article_form(form, slug=slug, locale=locale, previous=newest.snapshot)
    if parsed.ok:
        try:
            async with rt.db.sessions() as session, session.begin():
                number = await repository.save_draft(
                    session,
                    parsed.value,
                    staff.name,
                    now(request),
                    parsed.note,
                    expect_version=parsed.base_version,
                )
        except WorkflowError as exc:
            parsed.errors.append(FormError("", str(exc)))
        except IntegrityError:
            parsed.errors.append(FormError("", SAME_MOMENT))
    if not parsed.ok:
        values = form_fields(article_form_values(newest.snapshot), form)
        # After a conflict the form is based on the newest version: saving again is a choice.
        return _article_form(
            request,
            values,
            base_version=current,
            errors=parsed.errors,
            editing=(slug, locale),
            status=422,
        )
    return redirect(_url(slug, locale, "?done=saved" if number else "?done=unchanged"))


@router.post("/admin/articles/{slug}/{locale}/rollback", response_class=HTMLResponse)
async def rollback_article(request: Request, staff: Editor, slug: str, locale: str) -> Response:
    check_article_path(slug, locale)
    number = version_number((await posted(request)).get("version"))
    if number is None:
        return await _article_view(
            request, staff, slug, locale, error="Choose a version to restore.", status=422
        )
    try:
        async with runtime(request).db.sessions() as session, session.begin():
            if await repository.find_article(session, slug, locale) is None:
                raise HTTPException(404, "no such article")
            await repository.rollback(session, slug, locale, number, staff.name, now(request))
    except WorkflowError as exc:
        return await _article_view(request, staff, slug, locale, error=str(exc), status=409)
    return redirect(_url(slug, locale, "?done=rollback"))


@router.post("/admin/articles/{slug}/{locale}/{action}", response_class=HTMLResponse)
async def move_article(
    request: Request, staff: Editor, slug: str, locale: str, action: str
) -> Response:
    check_article_path(slug, locale)
    if action not in ("submit", "publish", "reject", "retire"):
        raise HTTPException(404, "no such action")
    at = now(request)
    try:
        async with runtime(request).db.sessions() as session, session.begin():
            row = await repository.find_article(session, slug, locale)
            if row is None:
                raise HTTPException(404, "no such article")
            newest = await repository.article_version(session, row, row.version)
            # Is the move allowed at all? (The reason beats a list of content problems.)
            next_status(row.status, action, staff.name, newest.author)
            if action in ("submit", "publish"):
                locales = await repository.article_locales(session, slug)
                problems = _problems(newest.snapshot, slug, locale, locales)
                if problems:
                    raise _Blocked(problems)
            if action == "publish":
                await repository.publish(
                    session, slug, locale, staff.name, at, reviewed_on=at.date()
                )
            else:
                move = {
                    "submit": repository.submit,
                    "reject": repository.reject,
                    "retire": repository.retire,
                }[action]
                await move(session, slug, locale, staff.name, at)
    except _Blocked as blocked:
        message = f"Cannot {action} yet: fix the problems listed below first."
        return await _article_view(
            request, staff, slug, locale, error=message, problems=blocked.problems, status=422
        )
    except WorkflowError as exc:
        return await _article_view(request, staff, slug, locale, error=str(exc), status=409)
    return redirect(_url(slug, locale, f"?done={action}"))


class _Blocked(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("content problems")
        self.problems = problems


@router.get("/admin/articles/{slug}/{locale}/versions/{number}", response_class=HTMLResponse)
async def article_version(
    request: Request, staff: Editor, slug: str, locale: str, number: int
) -> HTMLResponse:
    check_article_path(slug, locale)
    async with runtime(request).db.sessions() as session:
        row = await repository.find_article(session, slug, locale)
        if row is None:
            raise HTTPException(404, "no such article")
        try:
            version = await repository.article_version(session, row, number)
        except WorkflowError as exc:
            raise HTTPException(404, "no such version") from exc
    return page(
        request,
        "admin_version.html",
        kind="article",
        title=f"{row.title} ({locale})",
        base=_url(slug, locale),
        version=version,
        live=row.live_version,
        lines=as_lines(version.snapshot),
    )


@router.get("/admin/articles/{slug}/{locale}/diff", response_class=HTMLResponse)
async def article_diff(request: Request, staff: Editor, slug: str, locale: str) -> HTMLResponse:
    check_article_path(slug, locale)
    async with runtime(request).db.sessions() as session:
        row = await repository.find_article(session, slug, locale)
        if row is None:
            raise HTTPException(404, "no such article")
        versions = {v.number: v for v in await repository.history(session, slug, locale)}
    a, b = versions_to_compare(request, versions, row.live_version, row.version)
    return page(
        request,
        "admin_diff.html",
        title=f"{row.title} ({locale})",
        base=_url(slug, locale),
        a=versions[a],
        b=versions[b],
        numbers=sorted(versions),
        lines=diff(versions[a].snapshot, versions[b].snapshot),
    )


router.include_router(admin_services.router)
