"""What every knowledge-base admin page shares: templates, headers, roles, forms."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from bot.runtime import Runtime
from bot.web.admin_forms import FormError
from bot.web.auth import require_role, staff_context
from escalation.models import Counselor
from resources_kb.validate import LOCALES, is_slug
from resources_kb.workflow import EDITOR_ROLES

__all__ = [
    "DONE",
    "HEADERS",
    "SAME_MOMENT",
    "Admin",
    "Editor",
    "check_article_path",
    "check_service_path",
    "errors_by_field",
    "form_fields",
    "now",
    "page",
    "posted",
    "redirect",
    "runtime",
    "version_number",
    "versions_to_compare",
]

templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")

# Pages are plain HTML with one same-origin stylesheet and no script.
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

# Two people saved the same new item in the same instant: one of them is told.
SAME_MOMENT = (
    "Someone else saved this at the same moment. Your text is still in the form: "
    "look at the newest version, then save again."
)

Editor = Annotated[Counselor, Depends(require_role(*EDITOR_ROLES))]
Admin = Annotated[Counselor, Depends(require_role("admin"))]

# Messages after a change (the page is shown again with ?done=KEY).
DONE = {
    "created": "Saved as a draft (version 1). Send it for review when it is ready.",
    "saved": "Saved as a new draft version. The published version stays live until this "
    "one is reviewed and published.",
    "unchanged": "Nothing changed: the text is the same as the newest version.",
    "submit": "Sent for review. Another reviewer publishes it.",
    "publish": "Published. The bot answers from it within seconds, in every worker.",
    "reject": "Sent back to draft.",
    "retire": "Retired. The bot no longer uses it.",
    "rollback": "Restored as a new version.",
    "imported": "The content files are imported.",
}


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def now(request: Request) -> datetime:
    return runtime(request).pipeline.clock()


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    done = request.query_params.get("done", "")
    context.setdefault("done", DONE.get(done, ""))
    return templates.TemplateResponse(
        request, name, staff_context(request, **context), status_code=status, headers=HEADERS
    )


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def posted(request: Request) -> dict[str, str]:
    """The posted form's text fields (files and repeated keys ignored)."""
    kind = request.headers.get("content-type", "")
    if not kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return {}
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def form_fields(values: Mapping[str, str], posted_values: Mapping[str, str]) -> dict[str, str]:
    """The form's own fields, with what was posted where it was (nothing else echoed)."""
    return {k: str(posted_values.get(k, v)) for k, v in values.items()}


def errors_by_field(errors: list[FormError]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for error in errors:
        grouped.setdefault(error.field, []).append(error.message)
    return grouped


def check_article_path(slug: str, locale: str) -> None:
    if not is_slug(slug) or locale not in LOCALES:
        raise HTTPException(404, "no such article")


def check_service_path(slug: str) -> None:
    if not is_slug(slug):
        raise HTTPException(404, "no such service")


def version_number(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) <= 9 else None


def versions_to_compare(
    request: Request, versions: Mapping[int, Any], live: int | None, newest: int
) -> tuple[int, int]:
    """?a=&b=, else the live version (or the one before) and the newest; 404 if unknown."""
    b = version_number(request.query_params.get("b")) or newest
    default_a = live if live is not None and live != b else max(b - 1, 1)
    a = version_number(request.query_params.get("a")) or default_a
    if a not in versions or b not in versions:
        raise HTTPException(404, "no such version")
    return a, b
