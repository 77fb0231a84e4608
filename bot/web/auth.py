"""Staff log-in, sessions and CSRF for the counselor console.

Routes (HTML, not in the OpenAPI document):

    GET  /console/login    the form
    POST /console/login    form: name, password, csrf_token -> 303 /console, or the form
                           again: 401 "Name or password not right." (+ "try again later"
                           when the account is locked), 400 when the form expired
    POST /console/logout   ends the session (CSRF token required) -> 303 /console/login

Sessions: the ``hl_staff`` cookie holds a random token (``secrets.token_urlsafe(32)``);
the database keeps only its SHA-256 in ``staff_sessions`` with an expiry: 12 hours
after the last request, and never more than 24 hours after log-in. Cookie flags:
HttpOnly, SameSite=Strict, Path=/, Secure on https requests or with COOKIE_SECURE=true.
No Max-Age: the browser forgets it when closed.

CSRF: each session has its own token, sent back by the page as the form field
``csrf_token`` or the header ``X-CSRF-Token``; ``current_staff`` checks it on every
request that is not GET, HEAD or OPTIONS (403 when missing or wrong), so no staff
route can forget it. The log-in form has its own token (double submit: a cookie
``hl_login`` and the same value in the form), so nobody can log a browser into
another account.

For console routes (built elsewhere)::

    router = APIRouter(route_class=StaffRoute)   # browsers get a redirect to the log-in page

    @router.get("/console")
    async def page(request: Request, staff: Staff) -> HTMLResponse:
        ... templates.TemplateResponse(request, "console.html", staff_context(request))

    @router.post("/console/roster")                       # CSRF checked by current_staff
    async def change(staff: Annotated[Counselor, Depends(require_role("supervisor", "admin"))]):
        ...
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy import delete, select

from bot.runtime import Runtime
from escalation.accounts import ROLES, audit, check_login
from escalation.models import Counselor, StaffSession

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "LOGIN_PATH",
    "SESSION_ABSOLUTE",
    "SESSION_IDLE",
    "STAFF_COOKIE",
    "LoginRequired",
    "Staff",
    "StaffRoute",
    "csrf_protect",
    "csrf_token",
    "current_staff",
    "require_role",
    "router",
    "staff_context",
]

STAFF_COOKIE = "hl_staff"
LOGIN_COOKIE = "hl_login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
LOGIN_PATH = "/console/login"
HOME_PATH = "/console"
ADMIN_PATH = "/admin"
_NEXT = re.compile(r"/(console|admin)(/[A-Za-z0-9_\-/.]*)?")
SESSION_IDLE = timedelta(hours=12)
SESSION_ABSOLUTE = timedelta(hours=24)
# The idle expiry moves forward at most this often (not a write on every request).
TOUCH_EVERY = timedelta(minutes=1)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_TOKEN_CHARS = 128

WRONG = "Name or password not right."
LOCKED = "Too many tries. Please try again later."
EXPIRED = "This form was open too long. Please try again."

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}

templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")


class LoginRequired(HTTPException):
    """No valid staff session: 401 for scripts, a redirect for browsers (StaffRoute)."""

    def __init__(self) -> None:
        super().__init__(status_code=401, detail="login required")


class StaffRoute(APIRoute):
    """Route class for console routers: a browser (Accept: text/html) without a valid
    session is sent to the log-in page (303) instead of getting a 401."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired:
                if "text/html" not in request.headers.get("accept", ""):
                    raise
                target = request.url.path
                back = _safe_next(target) and target != HOME_PATH
                where = f"{LOGIN_PATH}?next={target}" if back else LOGIN_PATH
                response = RedirectResponse(where, status_code=303)
                _forget(response, request, STAFF_COOKIE)
                return response

        return handle


# -- dependencies ----------------------------------------------------------------------------


async def current_staff(request: Request) -> Counselor:
    """The logged-in, active account; LoginRequired (401) otherwise.

    Also checks the CSRF token on every non-GET/HEAD/OPTIONS request (403), and
    leaves ``request.state.staff`` and ``request.state.staff_session`` for
    ``csrf_token``/``staff_context``. The Counselor is detached from any
    database session: read it, or load it again to change it.
    """
    cached: Counselor | None = getattr(request.state, "staff", None)
    if cached is not None:
        return cached
    token = request.cookies.get(STAFF_COOKIE, "")
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise LoginRequired
    runtime = _runtime(request)
    now = runtime.pipeline.clock()
    valid = False
    async with runtime.db.sessions() as session, session.begin():
        row = (
            await session.execute(
                select(StaffSession, Counselor)
                .join(Counselor, Counselor.id == StaffSession.counselor_id)
                .where(StaffSession.token_hash == _digest(token))
            )
        ).first()
        if row is not None:
            staff_session, counselor = row
            if staff_session.expires_at <= now or not counselor.active:
                await session.delete(staff_session)
            else:
                valid = True
                touched = min(now + SESSION_IDLE, staff_session.created_at + SESSION_ABSOLUTE)
                if touched - staff_session.expires_at >= TOUCH_EVERY:
                    staff_session.expires_at = touched
    if not valid:
        raise LoginRequired
    request.state.staff = counselor
    request.state.staff_session = staff_session
    if request.method not in SAFE_METHODS:
        await csrf_protect(request, counselor)
    return counselor


Staff = Annotated[Counselor, Depends(current_staff)]


def require_role(*roles: str) -> Callable[..., Awaitable[Counselor]]:
    """A dependency: the logged-in account if its role is one of ``roles``, else 403."""
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"roles must be among {ROLES}, not {sorted(unknown)}")

    async def dependency(staff: Staff) -> Counselor:
        if staff.role not in roles:
            raise HTTPException(status_code=403, detail="not allowed for your role")
        return staff

    return dependency


async def csrf_protect(request: Request, staff: Counselor) -> None:
    """403 unless the request carries this session's CSRF token (header or form field).

    ``current_staff`` calls it for every state-changing method; call it yourself
    only for a state change behind a GET (don't make those).
    """
    staff_session: StaffSession | None = getattr(request.state, "staff_session", None)
    if staff_session is None or staff_session.counselor_id != staff.id:
        raise HTTPException(status_code=403, detail="csrf token missing or wrong")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and _is_form(request):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), staff_session.csrf_token.encode()):
        raise HTTPException(status_code=403, detail="csrf token missing or wrong")


def csrf_token(request: Request) -> str:
    """This session's CSRF token (after ``current_staff`` ran for the request)."""
    staff_session: StaffSession = request.state.staff_session
    return staff_session.csrf_token


def staff_context(request: Request, **extra: Any) -> dict[str, Any]:
    """Template variables every console page needs: ``staff`` and ``csrf_token``.

    Put ``<meta name="csrf-token" content="{{ csrf_token }}">`` in the page for
    scripts (they send it as X-CSRF-Token) and a hidden ``csrf_token`` field in forms.
    """
    return {"staff": request.state.staff, "csrf_token": csrf_token(request), **extra}


# -- routes ----------------------------------------------------------------------------------

router = APIRouter(route_class=StaffRoute, include_in_schema=False)


@router.get(LOGIN_PATH, response_class=HTMLResponse)
async def login_page(request: Request) -> HTMLResponse:
    wanted = request.query_params.get("next", "")
    return _login_form(request, next_path=wanted if _safe_next(wanted) else "")


@router.post(LOGIN_PATH, response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await request.form() if _is_form(request) else None
    fields = {
        key: value if isinstance(value := form.get(key) if form else None, str) else ""
        for key in ("name", "password", CSRF_FIELD, "next")
    }
    wanted = fields["next"] if _safe_next(fields["next"]) else ""
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not (expected and hmac.compare_digest(fields[CSRF_FIELD].encode(), expected.encode())):
        return _login_form(request, EXPIRED, status_code=400, next_path=wanted)
    runtime = _runtime(request)
    now = runtime.pipeline.clock()
    token = secrets.token_urlsafe(32)
    async with runtime.db.sessions() as session, session.begin():
        result = await check_login(session, fields["name"], fields["password"], now)
        if result.counselor is not None:
            await session.execute(delete(StaffSession).where(StaffSession.expires_at <= now))
            previous = request.cookies.get(STAFF_COOKIE)
            if previous and len(previous) <= MAX_TOKEN_CHARS:
                await session.execute(
                    delete(StaffSession).where(StaffSession.token_hash == _digest(previous))
                )
            session.add(
                StaffSession(
                    token_hash=_digest(token),
                    counselor_id=result.counselor.id,
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now,
                    expires_at=now + SESSION_IDLE,
                )
            )
    if result.counselor is None:
        message = f"{WRONG} {LOCKED}" if result.locked else WRONG
        return _login_form(request, message, status_code=401, name=fields["name"], next_path=wanted)
    # Reviewers work on the knowledge base, not the queue.
    home = ADMIN_PATH if result.counselor.role == "reviewer" else HOME_PATH
    response = RedirectResponse(wanted or home, status_code=303)
    response.set_cookie(STAFF_COOKIE, token, path="/", **_cookie_flags(request))
    _forget(response, request, LOGIN_COOKIE, path=LOGIN_PATH)
    return response


@router.post("/console/logout")
async def logout(request: Request) -> Response:
    """End the session (CSRF token required when there is one) and forget the cookie."""
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    try:
        staff = await current_staff(request)  # checks the CSRF token (POST)
    except LoginRequired:
        _forget(response, request, STAFF_COOKIE)
        return response
    runtime = _runtime(request)
    now = runtime.pipeline.clock()
    async with runtime.db.sessions() as session, session.begin():
        await session.execute(
            delete(StaffSession).where(StaffSession.id == request.state.staff_session.id)
        )
        await audit(session, now, staff.name, "logout")
    _forget(response, request, STAFF_COOKIE)
    return response


# -- helpers ---------------------------------------------------------------------------------


def _safe_next(path: str) -> bool:
    """Only our own staff pages: never another site, never a scheme or '//' host."""
    return bool(_NEXT.fullmatch(path))


def _login_form(
    request: Request,
    message: str = "",
    *,
    status_code: int = 200,
    name: str = "",
    next_path: str = "",
) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = templates.TemplateResponse(
        request,
        "console_login.html",
        {
            "csrf_token": token,
            "message": message,
            "name": name if len(name) <= 64 else "",
            "next_path": next_path,
        },
        status_code=status_code,
        headers=PAGE_HEADERS,
    )
    response.set_cookie(
        LOGIN_COOKIE, token, max_age=3600, path=LOGIN_PATH, **_cookie_flags(request)
    )
    return response


def _cookie_flags(request: Request) -> dict[str, Any]:
    secure = request.url.scheme == "https" or _runtime(request).settings.cookie_secure
    return {"httponly": True, "samesite": "strict", "secure": secure}


def _forget(response: Response, request: Request, cookie: str, path: str = "/") -> None:
    response.delete_cookie(cookie, path=path, **_cookie_flags(request))


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime
