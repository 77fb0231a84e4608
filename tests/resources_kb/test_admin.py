"""The knowledge-base admin through the real ASGI app, on SQLite and PostgreSQL.

Two people log in through the real form (an admin and a reviewer); what they
publish is checked where survivors meet it: a chat turn through the pipeline,
and a second KnowledgeBase standing in for another worker.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.runtime import Runtime, build_runtime
from bot.storage.models import AuditEvent
from bot.web.app import create_app
from nlu.intents import IntentClassifier
from resources_kb import repository
from resources_kb.content import load_articles, load_services
from resources_kb.models import KbArticle
from resources_kb.service import KnowledgeBase
from tests.conftest import Clock, make_settings
from tests.escalation.staff import add_staff, form_token, log_in, use_cheap_hashing

HTML = {"accept": "text/html"}
SLUG = "bus-pass"
QUESTION = "can i get a free bus pass for the city buses"
EN = {
    "id": SLUG,
    "locale": "en",
    "title": "Free bus passes",
    "short_answer": "Some cities give free bus passes to survivors. A case worker can ask for one.",
    "body": "Ask a case worker or a legal aid office.\n\nThey know the local rules.",
    "jurisdiction": "US",
    "topics": "transport",
    "example_questions": "can i get a free bus pass\nhow do i pay for the bus\nbus ticket help",
    "sources": "https://example.org/bus-passes",
    "note": "new article",
}
ES = EN | {
    "locale": "es",
    "title": "Pases de autobús gratis",
    "short_answer": "Algunas ciudades dan pases de autobús gratis. Pide ayuda para tenerlo.",
    "body": "Pregunta en una oficina de ayuda legal.",
    "example_questions": "puedo tener un pase de autobús gratis\nayuda con el boleto del autobús",
}
SHELTER = {
    "id": "tx-example-shelter",
    "name": "Example Shelter Network of Texas",
    "kind": "shelter",
    "jurisdiction": "US-TX",
    "area": "statewide",
    "contact_web": "https://example.org/shelter",
    "hours": "24/7",
    "languages": "en\nes",
    "eligibility_en": "Adults who need a safe place to stay.",
    "eligibility_es": "Personas adultas que necesitan un lugar seguro.",
    "sources": "https://example.org/shelter/about",
    "last_verified": "2026-11-20",
}


@dataclass
class Admin:
    """The app, its runtime and a logged-in client per person."""

    app: Any
    runtime: Runtime
    clock: Clock
    clients: dict[str, httpx.AsyncClient]
    ticks: list[float]

    async def reload(self) -> bool:
        """What a worker does when its check interval has passed: KnowledgeBase.refresh."""
        self.ticks[0] += 10.0
        return await self.runtime.kb.refresh(self.runtime.db)

    async def client(self, name: str, role: str) -> httpx.AsyncClient:
        await add_staff(self.runtime.db, name, role=role, now=self.clock())
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="https://t")
        http.runtime = self.runtime  # type: ignore[attr-defined]  # For tests.escalation.staff.
        self.clients[name] = http
        await log_in(http, name)
        return http


@pytest.fixture
async def admin(
    tmp_path: Path,
    backend: tuple[str, str],
    intents: IntentClassifier | None,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Admin]:
    use_cheap_hashing(monkeypatch)
    url, redis_url = backend
    settings = make_settings(tmp_path, url, redis_url)
    # This runtime's own knowledge base (the shared one must not change), on a clock
    # the test moves: `reload()` is a worker's periodic check, run between turns.
    ticks = [0.0]
    kb = KnowledgeBase(
        load_articles(), services=load_services(), check_seconds=5, monotonic=lambda: ticks[0]
    )
    runtime = await build_runtime(settings, kb=kb, intents=intents, clock=clock)
    app = create_app(settings, runtime)
    state = Admin(app, runtime, clock, {}, ticks)
    await kb.refresh(runtime.db)
    async with app.router.lifespan_context(app):
        yield state
    for http in state.clients.values():
        await http.aclose()
    await runtime.close()


async def csrf(http: httpx.AsyncClient, page: str = "/admin") -> str:
    return form_token((await http.get(page)).text)


async def post(
    http: httpx.AsyncClient, url: str, data: dict[str, str] | None = None
) -> httpx.Response:
    token = await csrf(http)
    return await http.post(url, data={"csrf_token": token, **(data or {})})


async def create(http: httpx.AsyncClient, fields: dict[str, str]) -> httpx.Response:
    return await post(http, "/admin/articles", {"base_version": "0", **fields})


async def imported(state: Admin) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
    """ana (admin) imports the content files; ben is a reviewer."""
    ana = await state.client("ana", "admin")
    ben = await state.client("ben", "reviewer")
    done = await post(ana, "/admin/import")
    assert done.status_code == 303 and done.headers["location"] == "/admin?done=imported"
    return ana, ben


async def chat(http: httpx.AsyncClient, texts: list[str], session: str) -> list[str]:
    """Replies to the last of `texts`, sent in order as one web-chat session."""
    replies: list[str] = []
    for number, text in enumerate(texts):
        frame = {"session": session, "id": f"m{number}", "text": text}
        response = await http.post("/api/chat", json=frame)
        assert response.status_code == 200, response.text
        replies = [r["text"] for r in response.json()["replies"]]
    return replies


def page_text(response: httpx.Response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", response.text))


async def audit_rows(runtime: Runtime) -> list[tuple[str, str, dict[str, Any]]]:
    async with runtime.db.sessions() as session:
        rows = await session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("kb.%")).order_by(AuditEvent.id)
        )
        return [(e.actor, e.action, e.detail) for e in rows]


# ---- who may use it -----------------------------------------------------------------


async def test_the_admin_needs_a_login_and_an_editor_role(admin: Admin) -> None:
    anonymous = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=admin.app), base_url="https://t"
    )
    admin.clients["anonymous"] = anonymous
    page = await anonymous.get("/admin", headers=HTML)
    assert page.status_code == 303 and page.headers["location"] == "/console/login?next=/admin"
    assert (await anonymous.get("/admin/stale")).status_code == 401
    assert (await anonymous.post("/admin/articles", data=EN)).status_code == 401

    for name, role in (("carla", "counselor"), ("sam", "supervisor")):
        http = await admin.client(name, role)
        token = await csrf(http, "/console")
        assert (await http.get("/admin", headers=HTML)).status_code == 403
        refused = await http.post("/admin/articles", data={"csrf_token": token, **EN})
        assert refused.status_code == 403

    ben = await admin.client("ben", "reviewer")
    assert (await ben.get("/admin")).status_code == 200
    # Importing the files is for administrators only.
    assert (await post(ben, "/admin/import")).status_code == 403
    async with admin.runtime.db.sessions() as session:
        assert await repository.article_count(session) == 0


async def test_every_change_needs_the_csrf_token(admin: Admin) -> None:
    ana, _ = await imported(admin)
    missing = await ana.post("/admin/articles", data={"base_version": "0", **EN})
    assert missing.status_code == 403
    wrong = await ana.post(
        "/admin/articles", data={"csrf_token": "not-the-token", "base_version": "0", **EN}
    )
    assert wrong.status_code == 403
    assert (await ana.post("/admin/articles/shelter-housing/en/retire")).status_code == 403
    async with admin.runtime.db.sessions() as session:
        assert await repository.find_article(session, SLUG, "en") is None
        row = await repository.find_article(session, "shelter-housing", "en")
        assert row is not None and row.status == "published"


# ---- the review workflow, to the bot and back ---------------------------------------


async def test_review_publish_edit_diff_rollback_retire_reach_the_bot(admin: Admin) -> None:
    runtime = admin.runtime
    ana, ben = await imported(admin)
    other_worker = KnowledgeBase(load_articles(), check_seconds=0)

    # Before: the bot knows nothing about bus passes.
    before = await chat(ana, ["hi", "no", QUESTION], "session-before-0001")
    assert EN["short_answer"] not in "\n".join(before)

    created = await create(ana, EN)
    assert created.status_code == 303
    assert created.headers["location"] == f"/admin/articles/{SLUG}/en?done=created"
    # Both languages are needed before review.
    early = await post(ana, f"/admin/articles/{SLUG}/en/submit")
    assert early.status_code == 422 and "missing translation" in page_text(early)
    assert (await create(ana, ES)).status_code == 303
    assert (await post(ana, f"/admin/articles/{SLUG}/en/submit")).status_code == 303
    assert (await post(ana, f"/admin/articles/{SLUG}/es/submit")).status_code == 303

    # The author cannot publish her own version; the page says why.
    own = await post(ana, f"/admin/articles/{SLUG}/en/publish")
    assert own.status_code == 409
    assert "the author cannot publish their own version" in page_text(own)
    detail = await ana.get(f"/admin/articles/{SLUG}/en")
    assert "another reviewer publishes it" in page_text(detail)
    assert f'action="/admin/articles/{SLUG}/en/publish"' not in detail.text
    assert (
        f'action="/admin/articles/{SLUG}/en/publish"'
        in (await ben.get(f"/admin/articles/{SLUG}/en")).text
    )

    published = await post(ben, f"/admin/articles/{SLUG}/en/publish")
    assert published.status_code == 303
    assert (await post(ben, f"/admin/articles/{SLUG}/es/publish")).status_code == 303

    # The bot answers from it now, without a restart, with the review date.
    assert await admin.reload() is True
    after = "\n".join(await chat(ana, ["hi", "no", QUESTION], "session-after-00001"))
    assert EN["short_answer"] in after and "2026-11-21" in after
    # So does another worker's knowledge base.
    assert await other_worker.refresh(runtime.db) is True
    best = other_worker.ask(QUESTION, "en", "US").best
    assert best is not None and best.article.id == SLUG
    live = other_worker.article(SLUG, "en")
    assert live is not None and live.reviewer == "ben" and live.last_reviewed is not None

    # An edit is a new draft version; the published one stays live.
    form = (await ana.get(f"/admin/articles/{SLUG}/en/edit")).text
    assert 'name="base_version" value="1"' in form
    new_answer = "Many cities give free or cheap bus passes. A case worker can ask for one."
    edited = await post(
        ana,
        f"/admin/articles/{SLUG}/en/edit",
        EN | {"short_answer": new_answer, "base_version": "1", "note": "cheaper passes too"},
    )
    assert edited.status_code == 303 and edited.headers["location"].endswith("?done=saved")
    await admin.reload()
    assert runtime.kb.article(SLUG, "en").short_answer == EN["short_answer"]  # type: ignore[union-attr]

    diff = await ana.get(f"/admin/articles/{SLUG}/en/diff")
    text = page_text(diff)
    assert diff.status_code == 200
    assert f"short_answer: {EN['short_answer']}" in text
    assert f"short_answer: {new_answer}" in text
    assert re.search(r'class="del">.*?short_answer: Some cities', diff.text, re.S)
    assert re.search(r'class="add">.*?short_answer: Many cities', diff.text, re.S)

    assert (await post(ana, f"/admin/articles/{SLUG}/en/submit")).status_code == 303
    assert (await post(ben, f"/admin/articles/{SLUG}/en/publish")).status_code == 303
    await admin.reload()
    assert runtime.kb.article(SLUG, "en").short_answer == new_answer  # type: ignore[union-attr]

    # Rolling back to version 1 is a new version (3), live at once: it was reviewed.
    rolled = await post(ben, f"/admin/articles/{SLUG}/en/rollback", {"version": "1"})
    assert rolled.status_code == 303
    await admin.reload()
    assert runtime.kb.article(SLUG, "en").short_answer == EN["short_answer"]  # type: ignore[union-attr]
    async with runtime.db.sessions() as session:
        versions = await repository.history(session, SLUG, "en")
    assert [(v.number, v.author, v.published_by, v.note) for v in versions] == [
        (1, "ana", "ben", "new article"),
        (2, "ana", "ben", "cheaper passes too"),
        (3, "ana", "ben", "rollback to version 1"),
    ]
    history = page_text(await ana.get(f"/admin/articles/{SLUG}/en"))
    assert "rollback to version 1" in history and "Restore version 2" in history

    # Retired: gone from the answers.
    assert (await post(ben, f"/admin/articles/{SLUG}/en/retire")).status_code == 303
    assert await admin.reload() is True
    gone = "\n".join(await chat(ana, ["hi", "no", QUESTION], "session-gone-000001"))
    assert EN["short_answer"] not in gone
    assert await other_worker.refresh(runtime.db) is True
    assert other_worker.article(SLUG, "en") is None
    assert "The English version is retired" in page_text(
        await ana.get(f"/admin/articles/{SLUG}/es")
    )

    # Every change: who, what, which version.
    rows = [
        (actor, action, detail.get("article"), detail.get("version"))
        for actor, action, detail in await audit_rows(runtime)
        if detail.get("article") == SLUG and detail.get("locale") == "en"
    ]
    assert rows == [
        ("ana", "kb.article.edit", SLUG, 1),
        ("ana", "kb.article.submit", SLUG, 1),
        ("ben", "kb.article.publish", SLUG, 1),
        ("ana", "kb.article.edit", SLUG, 2),
        ("ana", "kb.article.submit", SLUG, 2),
        ("ben", "kb.article.publish", SLUG, 2),
        ("ben", "kb.article.rollback", SLUG, 3),
        ("ben", "kb.article.retire", SLUG, 3),
    ]
    edit_2 = next(
        d
        for _, action, d in await audit_rows(runtime)
        if action == "kb.article.edit" and d.get("version") == 2 and d.get("locale") == "en"
    )
    assert edit_2["changed"] == ["short_answer"] and edit_2["note"] == "cheaper passes too"
    log = page_text(await ben.get("/admin/audit"))
    assert "article rollback" in log and "restored from version 1" in log


async def test_a_rejected_version_goes_back_to_draft(admin: Admin) -> None:
    ana, ben = await imported(admin)
    edited = await post(
        ana,
        "/admin/articles/shelter-housing/en/edit",
        {"base_version": "1"}
        | {k: v for k, v in EN.items() if k not in ("id", "locale")}
        | {"title": "Somewhere to stay"},
    )
    assert edited.status_code == 303
    assert (await post(ana, "/admin/articles/shelter-housing/en/submit")).status_code == 303
    assert (await post(ben, "/admin/articles/shelter-housing/en/reject")).status_code == 303
    async with admin.runtime.db.sessions() as session:
        row = await repository.find_article(session, "shelter-housing", "en")
    assert row is not None and (row.status, row.version, row.live_version) == ("draft", 2, 1)
    # A draft cannot be published, whoever tries.
    assert (await post(ben, "/admin/articles/shelter-housing/en/publish")).status_code == 409


# ---- service listings -----------------------------------------------------------------


async def test_service_listings_are_reviewed_versioned_and_retired(admin: Admin) -> None:
    runtime = admin.runtime
    ana, ben = await imported(admin)
    created = await post(ana, "/admin/services", {"base_version": "0", **SHELTER})
    assert created.status_code == 303, page_text(created)
    slug = SHELTER["id"]
    assert (await post(ana, f"/admin/services/{slug}/submit")).status_code == 303
    own = await post(ana, f"/admin/services/{slug}/publish")
    assert own.status_code == 409 and "cannot publish their own" in page_text(own)
    assert (await post(ben, f"/admin/services/{slug}/publish")).status_code == 303

    await admin.reload()
    names = [s["name"] for s in runtime.kb.services("shelter", "US-TX")]
    assert names == [SHELTER["name"]]
    listing = runtime.kb.services("shelter", "US-TX")[0]
    assert listing["contact"] == {"web": "https://example.org/shelter"}
    assert listing["eligibility"] == {
        "en": SHELTER["eligibility_en"],
        "es": SHELTER["eligibility_es"],
    }

    # An edit keeps the listing's fields the form does not show, and waits for review.
    renamed = SHELTER | {"name": "Example Shelters of Texas", "base_version": "1"}
    assert (await post(ana, f"/admin/services/{slug}/edit", renamed)).status_code == 303
    diff = page_text(await ana.get(f"/admin/services/{slug}/diff"))
    assert f"name: {SHELTER['name']}" in diff and "name: Example Shelters of Texas" in diff
    await admin.reload()
    assert runtime.kb.services("shelter", "US-TX")[0]["name"] == SHELTER["name"]
    assert (await post(ana, f"/admin/services/{slug}/submit")).status_code == 303
    assert (await post(ben, f"/admin/services/{slug}/publish")).status_code == 303
    await admin.reload()
    assert runtime.kb.services("shelter", "US-TX")[0]["name"] == "Example Shelters of Texas"

    assert (
        await post(ben, f"/admin/services/{slug}/rollback", {"version": "1"})
    ).status_code == 303
    await admin.reload()
    assert runtime.kb.services("shelter", "US-TX")[0]["name"] == SHELTER["name"]

    assert (await post(ben, f"/admin/services/{slug}/retire")).status_code == 303
    await admin.reload()
    assert SHELTER["name"] not in [s["name"] for s in runtime.kb.services("shelter", "US-TX")]

    # An imported listing keeps its other fields when edited here.
    form = (await ana.get("/admin/services/us-nhth/edit")).text
    assert 'name="base_version" value="1"' in form
    fields = dict(
        re.findall(r'<input id="f-([a-z_]+)" name="\1" type="[a-z]+" value="([^"]*)"', form)
    )
    textareas = dict(re.findall(r'<textarea id="f-([a-z_]+)"[^>]*>([^<]*)</textarea>', form))
    values = {k: html.unescape(v) for k, v in (fields | textareas).items()}
    values |= {"kind": "hotline", "hours": "24/7/365", "base_version": "1"}
    saved = await post(ana, "/admin/services/us-nhth/edit", values)
    assert saved.status_code == 303, re.findall(r"<li>.*?</li>", saved.text)[:8]
    async with runtime.db.sessions() as session:
        row = await repository.find_service(session, "us-nhth")
    original = next(s for s in load_services() if s["id"] == "us-nhth")
    assert row is not None and row.data == original | {"hours": "24/7/365"}

    actions = [
        (actor, action)
        for actor, action, d in await audit_rows(runtime)
        if d.get("service") == slug
    ]
    assert actions == [
        ("ana", "kb.service.edit"),
        ("ana", "kb.service.submit"),
        ("ben", "kb.service.publish"),
        ("ana", "kb.service.edit"),
        ("ana", "kb.service.submit"),
        ("ben", "kb.service.publish"),
        ("ben", "kb.service.rollback"),
        ("ben", "kb.service.retire"),
    ]


# ---- stale list ------------------------------------------------------------------------


async def test_the_stale_list_follows_review_and_verification_dates(admin: Admin) -> None:
    ana, ben = await imported(admin)
    old = SHELTER | {"id": "tx-old-shelter", "last_verified": "2025-01-02"}
    saved = await post(ana, "/admin/services", {"base_version": "0", **old})
    # An old verification date is a warning, not an error.
    assert saved.status_code == 303
    assert (await post(ana, "/admin/services/tx-old-shelter/submit")).status_code == 303
    assert (await post(ben, "/admin/services/tx-old-shelter/publish")).status_code == 303

    stale = await ana.get("/admin/stale")
    assert stale.status_code == 200
    text = page_text(stale)
    assert "tx-old-shelter" in text and "2025-01-02" in text
    assert "/admin/articles/shelter-housing/en" not in stale.text  # reviewed 2026-11-21
    assert "tx-old-shelter" not in page_text(await ana.get("/admin/stale?days=1000"))
    # A bad number is explained, not a crash.
    bad = await ana.get("/admin/stale?days=abc")
    assert bad.status_code == 200 and "whole number" in page_text(bad)

    # 181 days later every imported article is due (a new log-in: sessions expire).
    admin.clock.advance(days=181)
    await log_in(ana, "ana")
    later = await ana.get("/admin/stale")
    assert "/admin/articles/shelter-housing/en" in later.text
    assert "/admin/articles/shelter-housing/en" not in (await ana.get("/admin/stale?days=365")).text
    home = page_text(await ana.get("/admin"))
    assert re.search(r"\b(\d+) items due for review", home)


async def test_the_stale_days_setting_is_the_default_of_the_stale_list(admin: Admin) -> None:
    ana, ben = await imported(admin)
    # Verified 60 days before the test's today: not due at 180 days, due at 30.
    recent = SHELTER | {"id": "tx-recent-shelter", "last_verified": "2026-09-22"}
    assert (await post(ana, "/admin/services", {"base_version": "0", **recent})).status_code == 303
    assert (await post(ana, "/admin/services/tx-recent-shelter/submit")).status_code == 303
    assert (await post(ben, "/admin/services/tx-recent-shelter/publish")).status_code == 303
    assert admin.runtime.settings.kb_stale_days == 180
    assert "tx-recent-shelter" not in page_text(await ana.get("/admin/stale"))

    # KB_STALE_DAYS=30 (reading the environment: tests/resources_kb/test_files.py).
    admin.runtime.settings = admin.runtime.settings.model_copy(update={"kb_stale_days": 30})
    listed = page_text(await ana.get("/admin/stale"))
    assert "tx-recent-shelter" in listed and "2026-09-22" in listed
    assert "(not reviewed or verified in 30 days)" in page_text(await ana.get("/admin"))
    # An explicit ?days= still wins, and a bad one falls back to the setting.
    assert "tx-recent-shelter" not in page_text(await ana.get("/admin/stale?days=90"))
    assert "tx-recent-shelter" in page_text(await ana.get("/admin/stale?days=abc"))


# ---- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": ""}, "title", "Title is required"),
        ({"id": "Bad Slug!"}, "id", "Id must be lower-case letters"),
        ({"locale": "fr"}, "locale", "Language must be one of"),
        ({"sources": "https://bad host/x"}, "sources", "Malformed URL"),
        ({"sources": ""}, "sources", "No sources"),
        ({"jurisdiction": "Texas"}, "jurisdiction", "is not any, US or US-TX style"),
        ({"title": "x" * 301}, "title", "Title is too long"),
        ({"base_version": "abc"}, "", "This form is incomplete"),
    ],
)
async def test_bad_article_input_shows_the_form_with_errors(
    admin: Admin, change: dict[str, str], field: str, message: str
) -> None:
    ana, _ = await imported(admin)
    response = await create(ana, EN | change)
    assert response.status_code == 422
    assert message in page_text(response)
    if field:
        assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', response.text)
    # What was typed is still there (escaped), and nothing was saved.
    assert html.escape(EN["short_answer"], quote=False) in response.text
    async with admin.runtime.db.sessions() as session:
        assert await session.scalar(select(KbArticle).where(KbArticle.slug == SLUG)) is None


# Long words in one long sentence: far above reading grade 7.
HARD = (
    "Notwithstanding considerable administrative complexity, eligibility determinations "
    "necessitate comprehensive documentation substantiating victimization circumstances."
)


@pytest.mark.parametrize(
    ("short_answer", "message"),
    [
        (HARD, "Short answer reads at grade"),
        ("You must call the hotline today. It is free.", "Short answer uses 'you must'"),
        ("Do you want a lawyer near you? They are free.", "asks a question without a way"),
    ],
)
async def test_a_short_answer_against_the_writing_guide_is_not_saved(
    admin: Admin, short_answer: str, message: str
) -> None:
    ana, _ = await imported(admin)
    # A new article: the form again, the message by the field, nothing stored.
    response = await create(ana, EN | {"short_answer": short_answer})
    assert response.status_code == 422
    assert message in page_text(response)
    assert re.search(r'id="f-short_answer"[^>]*aria-invalid="true"', response.text)
    assert html.escape(short_answer, quote=False) in response.text
    async with admin.runtime.db.sessions() as session:
        assert await session.scalar(select(KbArticle).where(KbArticle.slug == SLUG)) is None
    # An edit of a published article: no new version.
    async with admin.runtime.db.sessions() as session:
        before = await repository.find_article(session, "shelter-housing", "en")
        assert before is not None
        version = before.version
    fields = {k: v for k, v in EN.items() if k not in ("id", "locale")}
    edit = await post(
        ana,
        "/admin/articles/shelter-housing/en/edit",
        fields | {"base_version": str(version), "short_answer": short_answer},
    )
    assert edit.status_code == 422 and message in page_text(edit)
    async with admin.runtime.db.sessions() as session:
        after = await repository.find_article(session, "shelter-housing", "en")
        assert after is not None and after.version == version


async def test_a_reviewer_cannot_publish_a_short_answer_against_the_writing_guide(
    admin: Admin,
) -> None:
    ana, ben = await imported(admin)
    shipped = next(a for a in load_articles() if a.id == "shelter-housing" and a.locale == "en")
    # A version that never went through the form (stored before the rule, say).
    async with admin.runtime.db.sessions() as session, session.begin():
        await repository.save_draft(
            session, replace(shipped, short_answer=HARD), "ana", admin.clock()
        )
    submit = await post(ana, "/admin/articles/shelter-housing/en/submit")
    assert submit.status_code == 422
    assert "short answer reads at grade" in page_text(submit)
    async with admin.runtime.db.sessions() as session, session.begin():
        await repository.submit(session, "shelter-housing", "en", "ana", admin.clock())
    publish = await post(ben, "/admin/articles/shelter-housing/en/publish")
    assert publish.status_code == 422
    text = page_text(publish)
    assert "Cannot publish yet" in text and "short answer reads at grade" in text
    # Survivors still get the reviewed text.
    await admin.reload()
    best = admin.runtime.kb.ask("i need a safe place to sleep tonight", "en", "US").best
    assert best is not None and best.article.short_answer == shipped.short_answer


async def test_more_bad_input_never_crashes(admin: Admin) -> None:
    ana, ben = await imported(admin)
    token = await csrf(ana)
    # Not a form at all.
    not_form = await ana.post(
        "/admin/articles", json=EN, headers={"X-CSRF-Token": token, "accept": "text/html"}
    )
    assert not_form.status_code == 422 and "This form is incomplete" in page_text(not_form)
    # An id that exists already.
    taken = await create(ana, EN | {"id": "shelter-housing"})
    assert taken.status_code == 422 and "already exists" in page_text(taken)
    # Markup is shown as text, never run.
    script = await create(ana, EN | {"title": "<script>alert(1)</script>", "id": "x-script"})
    assert script.status_code == 303
    shown = await ana.get("/admin/articles/x-script/en")
    assert "<script>" not in shown.text and "&lt;script&gt;" in shown.text
    # Service contact details are checked.
    phone = await post(
        ana, "/admin/services", {"base_version": "0", **SHELTER, "contact_phone": "1-888-373-7888"}
    )
    assert phone.status_code == 422
    assert "is not E.164 or a known short code" in page_text(phone)
    assert re.search(r'id="f-contact_phone"[^>]*aria-invalid="true"', phone.text)
    for change in ({"last_verified": "2026-13-01"}, {"kind": "spa"}, {"contact_web": ""}):
        bad = await post(ana, "/admin/services", {"base_version": "0", **SHELTER, **change})
        assert bad.status_code == 422, change
    # Two people editing the same version: the second is told, and keeps the text.
    fields = {k: v for k, v in EN.items() if k not in ("id", "locale")} | {"base_version": "1"}
    first = await post(ana, "/admin/articles/shelter-housing/en/edit", fields)
    assert first.status_code == 303
    second = await post(
        ben, "/admin/articles/shelter-housing/en/edit", fields | {"title": "Ben's title"}
    )
    assert second.status_code == 422
    assert "someone saved version 2" in page_text(second) and "Ben&#39;s title" in second.text
    assert 'name="base_version" value="2"' in second.text
    # Unknown things are 404s; a bad version to restore is explained.
    assert (await ana.get("/admin/articles/no-such/en")).status_code == 404
    assert (await ana.get("/admin/articles/shelter-housing/fr")).status_code == 404
    assert (await ana.get("/admin/articles/shelter-housing/en/diff?a=99")).status_code == 404
    assert (await ana.get("/admin/services/no-such")).status_code == 404
    assert (await post(ana, "/admin/articles/shelter-housing/en/frobnicate")).status_code == 404
    restore = await post(ana, "/admin/articles/shelter-housing/en/rollback", {"version": "x"})
    assert restore.status_code == 422 and "Choose a version" in page_text(restore)
    missing = await post(ana, "/admin/articles/shelter-housing/en/rollback", {"version": "99"})
    assert missing.status_code == 409 and "has no version 99" in page_text(missing)
    # A retired article cannot be sent for review until it is edited.
    assert (await post(ben, "/admin/articles/x-script/en/retire")).status_code == 303
    assert (await post(ana, "/admin/articles/x-script/en/submit")).status_code == 409


async def test_nothing_is_created_before_the_files_are_imported(admin: Admin) -> None:
    ana = await admin.client("ana", "admin")
    home = page_text(await ana.get("/admin"))
    assert "The bot answers from the content files" in home
    refused = await create(ana, EN)
    assert refused.status_code == 422 and "Import them first" in page_text(refused)
    service = await post(ana, "/admin/services", {"base_version": "0", **SHELTER})
    assert service.status_code == 422 and "Import them first" in page_text(service)
    async with admin.runtime.db.sessions() as session:
        assert await repository.article_count(session) == 0
