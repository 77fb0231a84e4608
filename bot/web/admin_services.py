"""Service listings in the knowledge-base admin: the same versions, review and history
as articles (see bot.web.admin), under /admin/services/{id}.

    GET  /admin/services/new, POST /admin/services     a new listing (a draft)
    GET  /admin/services/{id}                          state, problems, moves, history
    GET|POST /admin/services/{id}/edit                 a new draft version
    POST /admin/services/{id}/submit|publish|reject|retire
    POST /admin/services/{id}/rollback                 form: version
    GET  /admin/services/{id}/versions/{n}             one version
    GET  /admin/services/{id}/diff?a=N&b=M             what changed from N to M
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.exc import IntegrityError

from bot.web.admin_forms import FormError, parse_service_form, service_form_values
from bot.web.admin_pages import (
    SAME_MOMENT,
    Editor,
    check_service_path,
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
from resources_kb.validate import SERVICE_KINDS, Problem, check_service
from resources_kb.workflow import WorkflowError, allowed_actions, as_lines, diff, next_status

__all__ = ["router"]

router = APIRouter(route_class=StaffRoute, include_in_schema=False)

EMPTY = (
    "The service listings are not in the database yet, so the bot uses the content "
    "files. Import them first (an administrator: “Import the content files” on the admin "
    "home page, or `harborline kb import`), so no listing is lost."
)


def _url(slug: str, tail: str = "") -> str:
    return f"/admin/services/{slug}{tail}"


def _form(
    request: Request,
    values: dict[str, str],
    *,
    base_version: int,
    errors: list[FormError] | None = None,
    warnings: list[FormError] | None = None,
    editing: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    return page(
        request,
        "admin_service_form.html",
        status,
        values=values,
        errors=errors_by_field(errors or []),
        error_list=errors or [],
        warnings=warnings or [],
        base_version=base_version,
        editing=editing,
        kinds=sorted(SERVICE_KINDS),
    )


@router.get("/admin/services/new", response_class=HTMLResponse)
async def new_service(request: Request, staff: Editor) -> HTMLResponse:
    return _form(request, service_form_values(None), base_version=0)


@router.post("/admin/services", response_class=HTMLResponse)
async def create_service(request: Request, staff: Editor) -> Response:
    form = await posted(request)
    at = now(request)
    stale_days = runtime(request).settings.kb_stale_days
    parsed = parse_service_form(form, at.date(), stale_days=stale_days)
    if parsed.ok:
        try:
            async with runtime(request).db.sessions() as session, session.begin():
                if await repository.service_count(session) == 0:
                    raise WorkflowError(EMPTY)
                await repository.save_service(
                    session, parsed.value, staff.name, at, parsed.note, expect_version=0
                )
        except WorkflowError as exc:
            parsed.errors.append(FormError("id" if "exists" in str(exc) else "", str(exc)))
        except IntegrityError:
            parsed.errors.append(FormError("", SAME_MOMENT))
    if not parsed.ok:
        values = form_fields(service_form_values(None), form)
        return _form(
            request,
            values,
            base_version=0,
            errors=parsed.errors,
            warnings=parsed.warnings,
            status=422,
        )
    return redirect(_url(str(parsed.value["id"]), "?done=created"))


@router.get("/admin/services/{slug}", response_class=HTMLResponse)
async def service_page(request: Request, staff: Editor, slug: str) -> HTMLResponse:
    return await _view(request, staff, slug)


async def _view(
    request: Request,
    staff: Counselor,
    slug: str,
    *,
    error: str = "",
    problems: list[Problem] | None = None,
    status: int = 200,
) -> HTMLResponse:
    check_service_path(slug)
    async with runtime(request).db.sessions() as session:
        row = await repository.find_service(session, slug)
        if row is None:
            raise HTTPException(404, "no such service")
        versions = await repository.service_history(session, slug)
        events = await repository.audit_log(session, limit=50, service=slug)
    newest = versions[-1]
    today = now(request).date()
    found = problems if problems is not None else _problems(newest.data, today)
    stale_days = runtime(request).settings.kb_stale_days
    warnings = [p for p in check_service(newest.data, today, stale_days) if p.level == "warning"]
    return page(
        request,
        "admin_service.html",
        status,
        row=row,
        newest=newest,
        lines=as_lines(newest.data),
        versions=list(reversed(versions)),
        actions=allowed_actions(row.status, staff.name, newest.author),
        is_author=newest.author.casefold() == staff.name.casefold(),
        problems=found,
        warnings=warnings,
        events=events,
        error=error,
    )


def _problems(data: dict[str, Any], today: Any) -> list[Problem]:
    return [p for p in check_service(data, today) if p.level == "error"]


@router.get("/admin/services/{slug}/edit", response_class=HTMLResponse)
async def edit_service_page(request: Request, staff: Editor, slug: str) -> HTMLResponse:
    check_service_path(slug)
    async with runtime(request).db.sessions() as session:
        row = await repository.find_service(session, slug)
        if row is None:
            raise HTTPException(404, "no such service")
    return _form(request, service_form_values(row.data), base_version=row.version, editing=slug)


@router.post("/admin/services/{slug}/edit", response_class=HTMLResponse)
async def edit_service(request: Request, staff: Editor, slug: str) -> Response:
    check_service_path(slug)
    form = await posted(request)
    rt = runtime(request)
    at = now(request)
    async with rt.db.sessions() as session:
        row = await repository.find_service(session, slug)
        if row is None:
            raise HTTPException(404, "no such service")
        current, previous = row.version, dict(row.data)
    parsed = parse_service_form(
        form, at.date(), slug=slug, previous=previous, stale_days=rt.settings.kb_stale_days
    )
    number: int | None = None
    if parsed.ok:
        try:
            async with rt.db.sessions() as session, session.begin():
                number = await repository.save_service(
                    session,
                    parsed.value,
                    staff.name,
                    at,
                    parsed.note,
                    expect_version=parsed.base_version,
                )
        except WorkflowError as exc:
            parsed.errors.append(FormError("", str(exc)))
        except IntegrityError:
            parsed.errors.append(FormError("", SAME_MOMENT))
    if not parsed.ok:
        values = form_fields(service_form_values(previous), form)
        return _form(
            request,
            values,
            base_version=current,
            errors=parsed.errors,
            warnings=parsed.warnings,
            editing=slug,
            status=422,
        )
    return redirect(_url(slug, "?done=saved" if number else "?done=unchanged"))


@router.post("/admin/services/{slug}/rollback", response_class=HTMLResponse)
async def rollback_service(request: Request, staff: Editor, slug: str) -> Response:
    check_service_path(slug)
    number = version_number((await posted(request)).get("version"))
    if number is None:
        return await _view(request, staff, slug, error="Choose a version to restore.", status=422)
    try:
        async with runtime(request).db.sessions() as session, session.begin():
            if await repository.find_service(session, slug) is None:
                raise HTTPException(404, "no such service")
            await repository.rollback_service(session, slug, number, staff.name, now(request))
    except WorkflowError as exc:
        return await _view(request, staff, slug, error=str(exc), status=409)
    return redirect(_url(slug, "?done=rollback"))


@router.post("/admin/services/{slug}/{action}", response_class=HTMLResponse)
async def move_service(request: Request, staff: Editor, slug: str, action: str) -> Response:
    check_service_path(slug)
    moves = {
        "submit": repository.submit_service,
        "publish": repository.publish_service,
        "reject": repository.reject_service,
        "retire": repository.retire_service,
    }
    if action not in moves:
        raise HTTPException(404, "no such action")
    at = now(request)
    problems: list[Problem] = []
    try:
        async with runtime(request).db.sessions() as session, session.begin():
            row = await repository.find_service(session, slug)
            if row is None:
                raise HTTPException(404, "no such service")
            newest = await repository.service_version(session, row, row.version)
            # Is the move allowed at all? (The reason beats a list of content problems.)
            next_status(row.status, action, staff.name, newest.author)
            if action in ("submit", "publish"):
                problems = _problems(row.data, at.date())
            if not problems:
                await moves[action](session, slug, staff.name, at)
    except WorkflowError as exc:
        return await _view(request, staff, slug, error=str(exc), status=409)
    if problems:
        message = f"Cannot {action} yet: fix the problems listed below first."
        return await _view(request, staff, slug, error=message, problems=problems, status=422)
    return redirect(_url(slug, f"?done={action}"))


@router.get("/admin/services/{slug}/versions/{number}", response_class=HTMLResponse)
async def service_version(request: Request, staff: Editor, slug: str, number: int) -> HTMLResponse:
    check_service_path(slug)
    async with runtime(request).db.sessions() as session:
        row = await repository.find_service(session, slug)
        if row is None:
            raise HTTPException(404, "no such service")
        try:
            version = await repository.service_version(session, row, number)
        except WorkflowError as exc:
            raise HTTPException(404, "no such version") from exc
    return page(
        request,
        "admin_version.html",
        kind="service",
        title=str(row.data.get("name", slug)),
        base=_url(slug),
        version=version,
        live=row.live_version,
        lines=as_lines(version.data),
    )


@router.get("/admin/services/{slug}/diff", response_class=HTMLResponse)
async def service_diff(request: Request, staff: Editor, slug: str) -> HTMLResponse:
    check_service_path(slug)
    async with runtime(request).db.sessions() as session:
        row = await repository.find_service(session, slug)
        if row is None:
            raise HTTPException(404, "no such service")
        versions = {v.number: v for v in await repository.service_history(session, slug)}
    a, b = versions_to_compare(request, versions, row.live_version, row.version)
    return page(
        request,
        "admin_diff.html",
        title=str(row.data.get("name", slug)),
        base=_url(slug),
        a=versions[a],
        b=versions[b],
        numbers=sorted(versions),
        lines=diff(versions[a].data, versions[b].data),
    )
