"""Counselor console: a survivor's check-ins, and proposing one with their consent.

    GET  /console/api/escalations/{id}/checkins   upcoming and missed check-ins
    POST /console/api/escalations/{id}/checkins   {"when": "every Monday at 6pm"}

A counselor never schedules directly: the POST sends the survivor the same
confirmation question the bot asks, and only their yes schedules it.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from aftercare import service as aftercare
from aftercare.models import Checkin
from aftercare.rules import first_due, parse_request, zone_for
from bot.runtime import Runtime
from bot.storage.db import AsyncSession
from bot.storage.models import AuditEvent, Contact, Conversation, Escalation
from bot.web.auth import Staff, StaffRoute
from bot.web.console import may_view
from dialogs.checkins import describe, settings_text
from dialogs.texts import get_texts
from escalation.models import Counselor
from escalation.service import enqueue_for_survivor

__all__ = ["router"]

router = APIRouter(route_class=StaffRoute, include_in_schema=False)


class CheckinIn(BaseModel):
    when: str = Field(min_length=1, max_length=200, description="tomorrow, every Monday at 6pm")


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _escalation(session: AsyncSession, staff: Counselor, escalation_id: int) -> Escalation:
    escalation = await session.get(Escalation, escalation_id)
    if escalation is None:
        raise HTTPException(404, "no such conversation")
    if not may_view(staff, escalation):
        raise HTTPException(403, "another counselor has this conversation")
    return escalation


def _row(checkin: Checkin) -> dict[str, Any]:
    return {
        **aftercare.summary(checkin),
        "sent_at": checkin.sent_at.isoformat() if checkin.sent_at else None,
        "answer": checkin.answer,
        "created_by": checkin.created_by,
    }


@router.get("/console/api/escalations/{escalation_id}/checkins")
async def list_checkins(request: Request, staff: Staff, escalation_id: int) -> dict[str, Any]:
    runtime = _runtime(request)
    async with runtime.db.sessions() as session:
        escalation = await _escalation(session, staff, escalation_id)
        rows = (
            await session.execute(
                select(Checkin)
                .where(Checkin.contact_id == escalation.contact_id)
                .order_by(Checkin.due_at.desc(), Checkin.id.desc())
                .limit(100)
            )
        ).scalars()
        checkins = [_row(c) for c in rows]
        contact = await session.get(Contact, escalation.contact_id)
        settings = None
        if contact is not None:
            _, chosen = await aftercare.load_preferences(session, contact)
            settings = {
                "timezone": chosen.timezone,
                "quiet_hours": list(chosen.quiet) if chosen.quiet else None,
                "plain_wording": chosen.discreet or contact.discreet,
                "tell_counselor_after_missed": chosen.notify_after_missed,
                "chosen": chosen.saved,
            }
    return {
        "upcoming": [c for c in checkins if c["status"] in ("scheduled", "paused", "sent")],
        "missed": [c for c in checkins if c["status"] == "missed"],
        "other": [c for c in checkins if c["status"] in ("answered", "cancelled")],
        "settings": settings,
    }


@router.post("/console/api/escalations/{escalation_id}/checkins", status_code=202)
async def propose_checkin(
    request: Request, staff: Staff, escalation_id: int, body: CheckinIn
) -> dict[str, Any]:
    """Ask the survivor; nothing is scheduled until they answer yes."""
    runtime = _runtime(request)
    now = runtime.pipeline.clock()
    async with runtime.db.writing(), runtime.db.write_sessions() as session, session.begin():
        escalation = await _escalation(session, staff, escalation_id)
        contact = await session.get(Contact, escalation.contact_id)
        conversation = await session.get(Conversation, escalation.conversation_id)
        if contact is None or conversation is None or contact.stopped:
            raise HTTPException(409, "this person can't be reached")
        if conversation.handoff_escalation_id is not None:
            raise HTTPException(409, "close the handoff first; the person answers the bot")
        facts = await aftercare.facts(session, contact, now)
        zone = zone_for(facts["timezone"], contact.country)
        quiet = (facts["quiet"][0], facts["quiet"][1]) if facts["quiet"] else None
        rule = parse_request(body.when, now, zone)
        due = first_due(rule, zone, now, quiet) if rule else None
        if rule is None or due is None:
            raise HTTPException(422, "no time found in 'when'")
        texts = get_texts(contact.locale or "en")
        summary = {**rule.as_dict(), "due_at": due.isoformat(), "timezone": zone.key}
        question = texts("checkins.counselor_offer", date=describe(summary, texts))
        conversation.state = "checkin_confirm"
        conversation.data = {
            **(conversation.data or {}),
            "checkin_draft": {**rule.as_dict(), "zone": zone.key},
            "checkin_asked_at": now.isoformat(),
        }
        key = f"checkin-offer:{escalation.id}:{uuid.uuid4().hex}"  # Each offer is sent.
        cipher = runtime.pipeline.cipher
        if not facts["saved"]:
            # As in the chat: the first time, the settings come with the question.
            shown = settings_text(facts, texts, contact.country)
            await enqueue_for_survivor(session, contact.id, shown, cipher, now, f"{key}:settings")
        await enqueue_for_survivor(session, contact.id, question, cipher, now, key)
        session.add(
            AuditEvent(
                at=now,
                actor=f"counselor:{staff.id}",
                action="checkin.proposed",
                detail={"escalation_id": escalation.id},
            )
        )
    runtime.outbox.wake()
    return {"status": "asked", "due_at": due.isoformat(), "rule": rule.as_dict()}
