"""Check-in database work: what a turn needs to know, and carrying out its effects.

Every function takes an open session and the current time and returns the
events to report (``checkin.*``, dicts with a ``type``). Decisions about time
are in :mod:`aftercare.rules`; the wording is in the locale files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from aftercare.models import ACTIVE, Checkin, CheckinPreferences
from aftercare.rules import DEFAULT_QUIET, Rule, after_quiet_hours, first_due, next_due, zone_for
from bot.storage.db import AsyncSession
from bot.storage.models import Contact, Conversation, Escalation

__all__ = [
    "Settings",
    "answer",
    "apply_effect",
    "change",
    "facts",
    "load_preferences",
    "missed_escalation",
    "move_on",
    "schedule",
    "set_preferences",
    "window",
]

# Longest a check-in waits for an answer; a weekly one must be answered before the next.
MAX_WINDOW_MINUTES = 6 * 24 * 60


@dataclass(frozen=True, slots=True)
class Settings:
    """A contact's effective check-in settings (their preferences or the defaults)."""

    timezone: str
    quiet: tuple[str, str] | None
    discreet: bool
    notify_after_missed: int | None


async def load_preferences(
    session: AsyncSession, contact: Contact
) -> tuple[CheckinPreferences | None, Settings]:
    prefs = await session.get(CheckinPreferences, contact.id)
    return prefs, effective_settings(prefs, contact)


def effective_settings(prefs: CheckinPreferences | None, contact: Contact) -> Settings:
    zone = zone_for(prefs.timezone if prefs else None, contact.country)
    quiet: tuple[str, str] | None = DEFAULT_QUIET
    if prefs is not None and prefs.quiet_start is not None and prefs.quiet_end is not None:
        quiet = (prefs.quiet_start, prefs.quiet_end)
        if quiet[0] == quiet[1]:
            quiet = None  # Equal ends: no quiet hours.
    return Settings(
        timezone=str(zone.key),
        quiet=quiet,
        discreet=prefs.discreet if prefs else True,
        notify_after_missed=prefs.notify_after_missed if prefs else None,
    )


def summary(checkin: Checkin) -> dict[str, Any]:
    return {
        "id": checkin.id,
        "kind": checkin.kind,
        "status": checkin.status,
        "due_at": checkin.due_at.isoformat(),
        "weekday": checkin.weekday,
        "local_time": checkin.local_time,
        "timezone": checkin.timezone,
    }


async def facts(
    session: AsyncSession, contact: Contact, now: datetime, *, new: bool = False
) -> dict[str, Any]:
    """What the pure dialog needs: the time, the zone, and the contact's check-ins.

    A contact created this turn has no preferences or check-ins yet: no queries.
    """
    if new:
        settings, rows = effective_settings(None, contact), []
    else:
        _, settings = await load_preferences(session, contact)
        rows = list(
            (
                await session.execute(
                    select(Checkin)
                    .where(Checkin.contact_id == contact.id, Checkin.status.in_(ACTIVE))
                    .order_by(Checkin.due_at, Checkin.id)
                )
            ).scalars()
        )
    pending = [c.id for c in rows if c.status == "sent"]
    return {
        "now": now.isoformat(),
        "timezone": settings.timezone,
        "quiet": list(settings.quiet) if settings.quiet else None,
        "checkins": [summary(c) for c in rows],
        "pending": pending[0] if pending else None,
    }


def _event(name: str, checkin: Checkin, **extra: Any) -> dict[str, Any]:
    return {"type": f"checkin.{name}", "checkin_id": checkin.id, **extra}


async def schedule(
    session: AsyncSession,
    contact: Contact,
    rule: Rule,
    now: datetime,
    created_by: str = "survivor",
    window_minutes: int = 720,
) -> tuple[Checkin | None, list[dict[str, Any]]]:
    _, settings = await load_preferences(session, contact)
    zone = zone_for(settings.timezone, contact.country)
    due = first_due(rule, zone, now, settings.quiet)
    if due is None:
        return None, []
    checkin = Checkin(
        contact_id=contact.id,
        kind=rule.kind,
        weekday=rule.weekday,
        local_time=rule.local_time,
        timezone=settings.timezone,
        quiet_start=settings.quiet[0] if settings.quiet else None,
        quiet_end=settings.quiet[1] if settings.quiet else None,
        window_minutes=min(window_minutes, MAX_WINDOW_MINUTES),
        due_at=due,
        status="scheduled",
        sequence=0,
        attempts=0,
        discreet=settings.discreet,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(checkin)
    await session.flush()
    event = _event("scheduled", checkin, kind=rule.kind, due_at=due.isoformat())
    return checkin, [event]


def _quiet(checkin: Checkin) -> tuple[str, str] | None:
    if checkin.quiet_start is None or checkin.quiet_end is None:
        return None
    return checkin.quiet_start, checkin.quiet_end


def move_on(checkin: Checkin, now: datetime) -> bool:
    """After an answer or a miss: a weekly check-in is scheduled again. True if it was."""
    if checkin.kind != "weekly":
        return False
    zone = zone_for(checkin.timezone)
    rule = Rule("weekly", weekday=checkin.weekday, local_time=checkin.local_time)
    after = max(now, checkin.due_at)
    due = next_due(rule, zone, after)
    if due is None:
        return False
    checkin.status = "scheduled"
    checkin.due_at = after_quiet_hours(due, zone, _quiet(checkin))
    checkin.answer_due_at = None
    checkin.updated_at = now
    return True


async def _active(session: AsyncSession, contact_id: int, checkin_id: int | None) -> list[Checkin]:
    statement = select(Checkin).where(Checkin.contact_id == contact_id)
    statement = statement.where(Checkin.status.in_(ACTIVE))
    if checkin_id is not None:
        statement = statement.where(Checkin.id == checkin_id)
    return list((await session.execute(statement.order_by(Checkin.id))).scalars().all())


async def change(
    session: AsyncSession, contact: Contact, action: str, checkin_id: int | None, now: datetime
) -> list[dict[str, Any]]:
    """pause | resume | cancel one check-in of this contact, or all of them (id None)."""
    events: list[dict[str, Any]] = []
    for checkin in await _active(session, contact.id, checkin_id):
        checkin.updated_at = now
        if action == "cancel":
            checkin.status = "cancelled"
            events.append(_event("cancelled", checkin, reason="survivor"))
        elif action == "pause" and checkin.status == "scheduled":
            checkin.status = "paused"
            events.append(_event("paused", checkin))
        elif action == "resume" and checkin.status == "paused":
            zone = zone_for(checkin.timezone)
            rule = Rule(checkin.kind, checkin.due_at, checkin.weekday, checkin.local_time)
            due = next_due(rule, zone, now) or now
            checkin.due_at = after_quiet_hours(due, zone, _quiet(checkin))
            checkin.status = "scheduled"
            events.append(_event("resumed", checkin, due_at=checkin.due_at.isoformat()))
    return events


async def answer(
    session: AsyncSession, contact: Contact, checkin_id: int, reply: str, now: datetime
) -> list[dict[str, Any]]:
    """The survivor answered a sent check-in: ok | talk | stop | other."""
    checkin = await session.get(Checkin, checkin_id, with_for_update=True)
    if checkin is None or checkin.contact_id != contact.id or checkin.status != "sent":
        return []
    checkin.status = "answered"
    checkin.answer = reply
    checkin.answered_at = now
    checkin.updated_at = now
    prefs = await session.get(CheckinPreferences, contact.id)
    if prefs is not None:
        prefs.missed_in_row = 0
    events = [_event("answered", checkin, answer=reply)]
    if reply == "stop":  # "Stop these": this one and every other check-in end.
        if checkin.kind == "weekly":
            checkin.status = "cancelled"
            events.append(_event("cancelled", checkin, reason="survivor"))
        events.extend(await change(session, contact, "cancel", None, now))
    else:
        move_on(checkin, now)
    return events


async def set_preferences(
    session: AsyncSession, contact: Contact, now: datetime, **values: Any
) -> CheckinPreferences:
    prefs = await session.get(CheckinPreferences, contact.id)
    if prefs is None:
        prefs = CheckinPreferences(
            contact_id=contact.id, discreet=True, missed_in_row=0, updated_at=now
        )
        session.add(prefs)
    for name, value in values.items():
        setattr(prefs, name, value)
    prefs.updated_at = now
    return prefs


async def missed_escalation(
    session: AsyncSession, contact_id: int, now: datetime
) -> Escalation | None:
    """Tell a counselor (the survivor opted in): an escalation, paged like any other."""
    conversation_id = await session.scalar(
        select(Conversation.id).where(Conversation.contact_id == contact_id)
    )
    if conversation_id is None:
        return None
    open_one = await session.scalar(
        select(Escalation.id).where(
            Escalation.conversation_id == conversation_id, Escalation.status != "closed"
        )
    )
    if open_one is not None:
        return None  # A counselor is already on it.
    escalation = Escalation(
        contact_id=contact_id,
        conversation_id=conversation_id,
        reason="missed_checkins",
        level="low",
        categories=[],
        cues=[],
        excerpt_enc=None,
        status="open",
        created_at=now,
        page_step=-1,
        next_page_at=now,
    )
    session.add(escalation)
    await session.flush()
    return escalation


def window(checkin: Checkin) -> timedelta:
    return timedelta(minutes=checkin.window_minutes)


async def apply_effect(
    session: AsyncSession, effect: Any, contact: Contact, data: dict[str, Any], now: datetime
) -> list[dict[str, Any]]:
    """Carry out one check-in effect of the dialog (dialogs.checkins) for this contact."""
    from dialogs import checkins as dialog  # The dialog's effect types; no cycle at import.

    match effect:
        case dialog.SaveCheckinDraft(rule=rule):
            if rule is None:
                data.pop("checkin_draft", None)
            else:
                data["checkin_draft"] = rule
        case dialog.ScheduleCheckin(rule=rule):
            _, events = await schedule(session, contact, Rule.from_dict(rule), now)
            return events
        case dialog.ChangeCheckins(action=action, checkin_id=checkin_id):
            return await change(session, contact, action, checkin_id, now)
        case dialog.AnswerCheckin(checkin_id=checkin_id, answer=reply):
            return await answer(session, contact, checkin_id, reply, now)
    return []
