"""Check-in database work: what a turn needs to know, and carrying out its effects.

Every function takes an open session and the current time and returns the
events to report (``checkin.*``, dicts with a ``type``). Decisions about time
are in :mod:`aftercare.rules`; the wording is in the locale files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select

from aftercare.models import ACTIVE, Checkin, CheckinPreferences
from aftercare.rules import (
    ANY_TIME,
    DEFAULT_QUIET,
    Rule,
    after_quiet_hours,
    first_due,
    next_due,
    rezone,
    zone_for,
)
from bot.storage.db import AsyncSession
from bot.storage.models import Contact, Conversation, Escalation

__all__ = [
    "MARK",
    "Settings",
    "answer",
    "apply_effect",
    "change",
    "change_preferences",
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
DEFAULT_WINDOW_MINUTES = 720
# Key in the conversation's data: this contact has had check-ins or check-in settings.
# Without it the turn needs no check-in query at all (see ``facts``).
MARK = "checkins_on"


@dataclass(frozen=True, slots=True)
class Settings:
    """A contact's effective check-in settings (their preferences or the defaults)."""

    timezone: str
    quiet: tuple[str, str] | None
    discreet: bool
    notify_after_missed: int | None
    saved: bool = False  # The survivor has seen or chosen them (a stored row).


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
        saved=prefs is not None,
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


async def _preferences_and_active(
    session: AsyncSession, contact_id: int
) -> tuple[CheckinPreferences | None, list[Checkin]]:
    """One query: the contact's preferences (if any) and active check-ins."""
    rows = (
        await session.execute(
            select(CheckinPreferences, Checkin)
            .select_from(Contact)
            .outerjoin(CheckinPreferences, CheckinPreferences.contact_id == Contact.id)
            .outerjoin(Checkin, and_(Checkin.contact_id == Contact.id, Checkin.status.in_(ACTIVE)))
            .where(Contact.id == contact_id)
            .order_by(Checkin.due_at, Checkin.id)
        )
    ).all()
    prefs = rows[0][0] if rows else None
    return prefs, [checkin for _, checkin in rows if checkin is not None]


async def facts(
    session: AsyncSession,
    contact: Contact,
    now: datetime,
    *,
    new: bool = False,
    data: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What the pure dialog needs: the time, the settings, and the contact's check-ins.

    At most one small query. None for a contact created this turn, nor when the
    conversation's ``data`` is given and has no ``MARK`` (never had a check-in or
    a setting: ``schedule`` and ``set_preferences`` set it).
    """
    prefs: CheckinPreferences | None = None
    rows: list[Checkin] = []
    if not new and (data is None or data.get(MARK)):
        prefs, rows = await _preferences_and_active(session, contact.id)
    settings = effective_settings(prefs, contact)
    pending = [c for c in rows if c.status == "sent"]
    sent_at = pending[0].sent_at if pending else None
    return {
        "now": now.isoformat(),
        "timezone": settings.timezone,
        "quiet": list(settings.quiet) if settings.quiet else None,
        "plain": settings.discreet,
        "notify_after": settings.notify_after_missed,
        "saved": settings.saved,
        "discreet_mode": bool(contact.discreet),
        "window_hours": DEFAULT_WINDOW_MINUTES // 60,
        "checkins": [summary(c) for c in rows],
        "pending": pending[0].id if pending else None,
        "pending_sent_at": sent_at.isoformat() if sent_at else None,
    }


async def _remember(session: AsyncSession, contact_id: int, data: dict[str, Any] | None) -> None:
    """Set ``MARK`` in the conversation's data (the turn's copy when there is one)."""
    if data is not None:
        data[MARK] = True
        return
    conversation = await session.scalar(
        select(Conversation).where(Conversation.contact_id == contact_id)
    )
    if conversation is not None and not (conversation.data or {}).get(MARK):
        conversation.data = {**(conversation.data or {}), MARK: True}


def _event(name: str, checkin: Checkin, **extra: Any) -> dict[str, Any]:
    return {"type": f"checkin.{name}", "checkin_id": checkin.id, **extra}


async def schedule(
    session: AsyncSession,
    contact: Contact,
    rule: Rule,
    now: datetime,
    created_by: str = "survivor",
    window_minutes: int = DEFAULT_WINDOW_MINUTES,
    data: dict[str, Any] | None = None,
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
    await _remember(session, contact.id, data)
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
    session: AsyncSession,
    contact: Contact,
    now: datetime,
    data: dict[str, Any] | None = None,
    **values: Any,
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
    await _remember(session, contact.id, data)
    return prefs


def _columns(values: Mapping[str, Any]) -> dict[str, Any]:
    """The dialog's names for settings -> checkin_preferences columns."""
    columns: dict[str, Any] = {}
    if "timezone" in values:
        columns["timezone"] = str(values["timezone"])
    if "quiet" in values:
        quiet = values["quiet"] or ANY_TIME
        columns["quiet_start"], columns["quiet_end"] = str(quiet[0]), str(quiet[1])
    if "plain" in values:
        columns["discreet"] = bool(values["plain"])
    if "notify_after" in values:
        count = values["notify_after"]
        columns["notify_after_missed"] = int(count) if count else None
    return columns


async def change_preferences(
    session: AsyncSession,
    contact: Contact,
    values: Mapping[str, Any],
    now: datetime,
    data: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Store the survivor's choices and carry them over to their active check-ins.

    A new zone keeps each check-in's local time ("6 PM" stays 6 PM where they are);
    new hours move a check-in out of the new quiet hours; the wording applies to
    the next message sent.
    """
    _, before = await load_preferences(session, contact)
    await set_preferences(session, contact, now, data, **_columns(values))
    after = effective_settings(await session.get(CheckinPreferences, contact.id), contact)
    for checkin in await _active(session, contact.id, None):
        _carry_over(checkin, before, after, now)
    return [{"type": "checkin.settings", "changed": sorted(values)}]


def _carry_over(checkin: Checkin, before: Settings, after: Settings, now: datetime) -> None:
    checkin.discreet = after.discreet
    moved = (before.timezone, before.quiet) != (after.timezone, after.quiet)
    if not moved:
        return
    old_zone, new_zone = zone_for(checkin.timezone), zone_for(after.timezone)
    checkin.timezone = after.timezone
    checkin.quiet_start = after.quiet[0] if after.quiet else None
    checkin.quiet_end = after.quiet[1] if after.quiet else None
    checkin.updated_at = now
    if checkin.status not in ("scheduled", "paused"):
        return  # Sent: the next occurrence (move_on) uses the new settings.
    if checkin.kind == "weekly":
        rule = Rule("weekly", weekday=checkin.weekday, local_time=checkin.local_time)
        due = next_due(rule, new_zone, now) or checkin.due_at
    else:
        due = rezone(checkin.due_at, old_zone, new_zone)
    checkin.due_at = after_quiet_hours(due, new_zone, after.quiet)


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
        case dialog.CheckinAsked(at=at):
            data["checkin_asked_at"] = at
        case dialog.SaveCheckinPreferences(values=values):
            return await change_preferences(session, contact, values, now, data)
        case dialog.ScheduleCheckin(rule=rule):
            _, events = await schedule(session, contact, Rule.from_dict(rule), now, data=data)
            return events
        case dialog.ChangeCheckins(action=action, checkin_id=checkin_id):
            return await change(session, contact, action, checkin_id, now)
        case dialog.AnswerCheckin(checkin_id=checkin_id, answer=reply):
            return await answer(session, contact, checkin_id, reply, now)
    return []
