"""Counselors see check-ins and propose one (the survivor says yes); scripted chats."""

from __future__ import annotations

import asyncio
import json

import httpx

from bot.runtime import Runtime
from tests.escalation.staff import add_staff, log_in
from tests.handoff.test_console import SESSION, app_client, survivor  # noqa: F401


async def test_counselor_proposes_and_survivor_confirms(
    app_client: tuple[httpx.AsyncClient, Runtime],  # noqa: F811
) -> None:
    http, runtime = app_client
    await add_staff(runtime.db, "maria")
    csrf = await log_in(http, "maria")
    headers = {"X-CSRF-Token": csrf}
    await survivor(http, "/start", "1")
    await survivor(http, "no", "2")
    await survivor(http, "talk to a person", "3")
    escalation = (await http.get("/console/api/queue")).json()["items"][0]["id"]
    url = f"/console/api/escalations/{escalation}/checkins"

    assert (await http.post(url, json={"when": "tomorrow at 10am"})).status_code == 403  # CSRF
    asked = await http.post(url, json={"when": "tomorrow at 10am"}, headers=headers)
    assert asked.status_code == 202, asked.text
    assert (await http.get(url)).json()["upcoming"] == []  # Not before the survivor says yes.

    asked_first = (await http.get("/api/chat/updates", params={"session": SESSION})).json()
    texts = [m["text"] for m in asked_first["messages"]]
    # The first time, the settings it would use come before the question.
    assert "Your check-in settings" in texts[0] and "Eastern time" in texts[0]
    assert "suggested a check-in" in texts[-1]
    before = (await http.get(url)).json()
    assert before["settings"]["chosen"] is False
    await survivor(http, "yes", "4")
    listed = (await http.get(url)).json()
    assert [c["kind"] for c in listed["upcoming"]] == ["once"]
    assert listed["settings"] == {
        "timezone": "America/New_York",
        "quiet_hours": ["21:00", "08:00"],
        "plain_wording": True,
        "tell_counselor_after_missed": None,
        "chosen": True,
    }
    again = await http.post(url, json={"when": "every Monday at 6pm"}, headers=headers)
    assert again.status_code == 202
    asked_again = (await http.get("/api/chat/updates", params={"session": SESSION})).json()
    assert [m["text"][:30] for m in asked_again["messages"]] == [
        "Your counselor suggested a che"
    ]  # Saved: the settings are not sent again.


async def _script(lines: list[str]) -> list[dict[str, object]]:
    process = await asyncio.create_subprocess_exec(
        ".venv/bin/harborline",
        "chat",
        "--script",
        "-",
        "--json",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await process.communicate("\n".join(lines).encode())
    return [json.loads(line) for line in out.decode().splitlines()]


async def test_scripted_chat_plays_a_checkin_with_advance() -> None:
    # Two days: "tomorrow" at this time of day may fall in quiet hours and wait until
    # 8 AM the day after, whatever the hour the test runs at.
    records = await _script(
        ["hi", "no", "check in with me tomorrow", "yes", "::advance 1h", "::advance 2d", "2"]
    )
    types = [[e["type"] for e in r["events"]] for r in records]  # type: ignore[index]
    assert "checkin.scheduled" in types[3]
    sent = [i for i, t in enumerate(types) if "checkin.sent" in t]
    assert sent == [5]
    assert any("Reply 1 if you're OK" in r for r in records[5]["replies"])  # type: ignore[attr-defined]
    assert {"checkin.answered", "escalation.created"} <= set(types[6])


async def test_missed_checkin_in_a_script() -> None:
    records = await _script(
        ["hi", "no", "check in with me tomorrow", "yes", "::advance 2d", "::advance 1d"]
    )
    events = [e["type"] for r in records for e in r["events"]]  # type: ignore[attr-defined]
    assert events.count("checkin.sent") == 1
    assert "checkin.missed" in events
    assert "escalation.created" not in events  # No opt-in: no counselor is told.
