"""The counselor console: live queue, claim, chat, notes, transfer, close.

Pages and JSON under /console, all behind the staff login (bot.web.auth):
every state change needs the session's CSRF token, every transcript view is
written to the audit log. Live updates arrive over server-sent events from
the console bus; events carry ids only and the page fetches the text.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from sqlalchemy import select

from bot.runtime import Runtime
from bot.storage.models import AuditEvent, Escalation, Message
from bot.web.auth import Staff, StaffRoute, staff_context
from dialogs.texts import get_texts
from escalation import service
from escalation.models import Counselor, Note

__all__ = ["may_view", "router"]

templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
router = APIRouter(route_class=StaffRoute, include_in_schema=False)
HEARTBEAT_SECONDS = 15.0


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


class TextIn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)
    client_key: str | None = Field(default=None, max_length=64)


class TransferIn(BaseModel):
    to: str = Field(min_length=1, max_length=64)


class CloseIn(BaseModel):
    disposition: str = Field(min_length=1, max_length=32)


class ArticleIn(BaseModel):
    article_id: str = Field(min_length=1, max_length=128)


class OnCallIn(BaseModel):
    on_call: bool


@router.get("/console", response_class=HTMLResponse)
async def console_page(request: Request, staff: Staff) -> HTMLResponse:
    dispositions = [d.strip() for d in _runtime(request).settings.dispositions.split(",")]
    return templates.TemplateResponse(
        request, "console.html", staff_context(request, dispositions=dispositions)
    )


@router.get("/console/api/queue")
async def queue(request: Request, staff: Staff) -> dict[str, Any]:
    runtime = _runtime(request)
    async with runtime.db.sessions() as session:
        items = await service.queue(session, staff, runtime.pipeline.clock())
        names = await _names(session)
    return {
        "me": {"id": staff.id, "name": staff.name, "role": staff.role, "on_call": staff.on_call},
        "items": [
            {
                "id": i.escalation_id,
                "level": i.level,
                "categories": i.categories,
                "reason": i.reason,
                "status": i.status,
                "waiting_seconds": int(i.waiting_seconds),
                "claimed_by": names.get(i.claimed_by) if i.claimed_by else None,
                "mine": i.claimed_by == staff.id,
            }
            for i in items
        ],
        "counselors": [{"id": k, "name": v} for k, v in names.items() if k != staff.id],
    }


async def _names(session: Any) -> dict[int, str]:
    rows = await session.execute(select(Counselor.id, Counselor.name).where(Counselor.active))
    return {int(i): str(n) for i, n in rows.all()}


@router.get("/console/api/escalations/{escalation_id}")
async def escalation_detail(request: Request, staff: Staff, escalation_id: int) -> dict[str, Any]:
    """The transcript a counselor may read; each view is audited."""
    runtime = _runtime(request)
    cipher = runtime.pipeline.cipher
    now = runtime.pipeline.clock()
    async with runtime.db.sessions() as session, session.begin():
        escalation = await session.get(Escalation, escalation_id)
        if escalation is None:
            raise HTTPException(404, "no such conversation")
        if not may_view(staff, escalation):
            raise HTTPException(403, "another counselor has this conversation")
        messages = (
            await session.execute(
                select(Message)
                .where(Message.conversation_id == escalation.conversation_id)
                .order_by(Message.id)
            )
        ).scalars()
        notes = (
            await session.execute(
                select(Note).where(Note.escalation_id == escalation.id).order_by(Note.id)
            )
        ).scalars()
        session.add(
            AuditEvent(
                at=now,
                actor=f"counselor:{staff.id}",
                action="transcript.viewed",
                detail={"escalation_id": escalation.id},
            )
        )
        return {
            "id": escalation.id,
            "level": escalation.level,
            "categories": escalation.categories,
            "cues": escalation.cues,
            "reason": escalation.reason,
            "status": escalation.status,
            "created_at": escalation.created_at.isoformat(),
            "excerpt": cipher.decrypt(escalation.excerpt_enc) if escalation.excerpt_enc else "",
            "messages": [
                {
                    "from": {"in": "survivor", "out": "bot", "staff": "counselor"}[m.direction],
                    "text": cipher.decrypt(m.text_enc),
                    "risk": m.risk_level,
                    "at": m.created_at.isoformat(),
                }
                for m in messages
            ],
            "notes": [
                {"text": cipher.decrypt(n.text_enc), "at": n.created_at.isoformat()} for n in notes
            ],
        }


def may_view(staff: Counselor, escalation: Escalation) -> bool:
    return staff.role in ("supervisor", "admin") or escalation.claimed_by in (None, staff.id)


async def _act(request: Request, action: Any) -> dict[str, Any]:
    """Run one service action in a transaction, then publish what it says."""
    runtime = _runtime(request)
    try:
        async with runtime.db.sessions() as session, session.begin():
            published = await action(session, runtime.pipeline.clock())
    except service.EscalationError as exc:
        raise HTTPException(409, str(exc)) from exc
    for event in published.events if published else []:
        await runtime.bus.publish(event)
    return {"ok": True}


def _handoff_texts(locale: str) -> dict[str, str]:
    texts = get_texts(locale)
    return {"joined": texts("handoff.joined"), "closed": texts("handoff.closed")}


async def _locale_of(session: Any, escalation_id: int) -> str:
    from bot.storage.models import Contact

    contact_locale = await session.scalar(
        select(Contact.locale)
        .join(Escalation, Escalation.contact_id == Contact.id)
        .where(Escalation.id == escalation_id)
    )
    return str(contact_locale or "en")


@router.post("/console/api/escalations/{escalation_id}/ack")
async def acknowledge(request: Request, staff: Staff, escalation_id: int) -> dict[str, Any]:
    return await _act(request, lambda s, now: service.acknowledge(s, escalation_id, staff, now))


@router.post("/console/api/escalations/{escalation_id}/claim")
async def claim(request: Request, staff: Staff, escalation_id: int) -> dict[str, Any]:
    cipher = _runtime(request).pipeline.cipher

    async def action(session: Any, now: datetime) -> service.Published:
        texts = _handoff_texts(await _locale_of(session, escalation_id))
        return await service.claim(session, escalation_id, staff, now, cipher, texts)

    return await _act(request, action)


@router.post("/console/api/escalations/{escalation_id}/messages")
async def send_message(
    request: Request, staff: Staff, escalation_id: int, body: TextIn
) -> dict[str, Any]:
    cipher = _runtime(request).pipeline.cipher
    return await _act(
        request,
        lambda s, now: service.relay_to_survivor(
            s, escalation_id, staff, body.text, cipher, now, body.client_key
        ),
    )


@router.post("/console/api/escalations/{escalation_id}/article")
async def send_article(
    request: Request, staff: Staff, escalation_id: int, body: ArticleIn
) -> dict[str, Any]:
    runtime = _runtime(request)
    async with runtime.db.sessions() as session:
        locale = await _locale_of(session, escalation_id)
    article = runtime.kb.article(body.article_id, locale) or runtime.kb.article(
        body.article_id, "en"
    )
    if article is None:
        raise HTTPException(404, "no such article")
    text = article.short_answer
    return await _act(
        request,
        lambda s, now: service.relay_to_survivor(
            s, escalation_id, staff, text, runtime.pipeline.cipher, now
        ),
    )


@router.post("/console/api/escalations/{escalation_id}/notes")
async def add_note(
    request: Request, staff: Staff, escalation_id: int, body: TextIn
) -> dict[str, Any]:
    cipher = _runtime(request).pipeline.cipher

    async def action(session: Any, now: datetime) -> None:
        await service.add_note(session, escalation_id, staff, body.text, cipher, now)

    return await _act(request, action)


@router.post("/console/api/escalations/{escalation_id}/transfer")
async def transfer(
    request: Request, staff: Staff, escalation_id: int, body: TransferIn
) -> dict[str, Any]:
    async def action(session: Any, now: datetime) -> service.Published:
        to = await session.scalar(select(Counselor).where(Counselor.name == body.to))
        if to is None:
            raise service.EscalationError("no counselor by that name")
        return await service.transfer(session, escalation_id, staff, to, now)

    return await _act(request, action)


@router.post("/console/api/escalations/{escalation_id}/close")
async def close(
    request: Request, staff: Staff, escalation_id: int, body: CloseIn
) -> dict[str, Any]:
    runtime = _runtime(request)
    allowed = [d.strip() for d in runtime.settings.dispositions.split(",")]
    if body.disposition not in allowed:
        raise HTTPException(422, "unknown disposition")
    cipher = runtime.pipeline.cipher

    async def action(session: Any, now: datetime) -> service.Published:
        texts = _handoff_texts(await _locale_of(session, escalation_id))
        return await service.close(
            session, escalation_id, staff, body.disposition, now, cipher, texts
        )

    return await _act(request, action)


@router.post("/console/api/oncall")
async def set_on_call(request: Request, staff: Staff, body: OnCallIn) -> dict[str, Any]:
    runtime = _runtime(request)
    async with runtime.db.sessions() as session, session.begin():
        counselor = await session.get(Counselor, staff.id)
        if counselor is not None:
            counselor.on_call = body.on_call
            session.add(
                AuditEvent(
                    at=runtime.pipeline.clock(),
                    actor=f"counselor:{staff.id}",
                    action="oncall.toggled",
                    detail={"on_call": body.on_call},
                )
            )
    return {"on_call": body.on_call}


@router.get("/console/api/articles")
async def search_articles(request: Request, staff: Staff, q: str = "") -> dict[str, Any]:
    kb = _runtime(request).kb
    hits = kb.ask(q[:500], "en", "US").hits if q.strip() else []
    return {"articles": [{"id": h.article.id, "title": h.article.title} for h in hits]}


@router.get("/console/events")
async def events(request: Request, staff: Staff) -> StreamingResponse:
    """Server-sent events: what this counselor should see change, as it happens."""
    bus = _runtime(request).bus

    async def stream() -> AsyncIterator[str]:
        async with bus.subscribe() as queue_:
            yield "event: ready\ndata: {}\n\n"
            while not await request.is_disconnected():
                try:
                    event = await asyncio.wait_for(queue_.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if _for(staff, event):
                    yield f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


def _for(staff: Counselor, event: dict[str, Any]) -> bool:
    """Pages go to their counselor; everything else to everyone (the page refetches)."""
    if event.get("type") == "page":
        return event.get("counselor_id") == staff.id or staff.role in ("supervisor", "admin")
    return True
