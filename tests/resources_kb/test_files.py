"""Files <-> database through the real command line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from resources_kb.content import (
    CONTENT_DIR,
    load_articles,
    load_services,
    parse_article,
    render_article,
)

HARBORLINE = str(Path(sys.executable).with_name("harborline"))


def _run(
    tmp_path: Path, *args: str, url: str = "", **extra: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "KB_STALE_DAYS"} | {
        "DATABASE_URL": url or f"sqlite+aiosqlite:///{tmp_path}/kb.db",
        "HARBORLINE_VAR_DIR": str(tmp_path),
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    return subprocess.run([HARBORLINE, *args], capture_output=True, text=True, env=env, timeout=300)


def test_render_reads_back_unchanged() -> None:
    for article in load_articles():
        assert parse_article(render_article(article)) == article


def test_import_export_round_trip(tmp_path: Path, backend: tuple[str, str]) -> None:
    url, _ = backend
    first = _run(tmp_path, "kb", "import", "--actor", "importer", url=url)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["new_versions"] == 90 and summary["published"] == 90
    again = json.loads(_run(tmp_path, "kb", "import", "--actor", "importer", url=url).stdout)
    assert again["new_versions"] == 0 and again["unchanged"] == 90
    assert again["services_changed"] == 0

    out = tmp_path / "out"
    done = _run(tmp_path, "kb", "export", "--dir", str(out), url=url)
    assert done.returncode == 0, done.stderr
    assert load_articles(out) == load_articles()
    assert load_services(out) == load_services()

    # An edited file makes one new version, and only one.
    path = out / "articles" / "en" / "shelter-housing.md"
    path.write_text(path.read_text().replace("look for shelter", "find a shelter"))
    changed = json.loads(_run(tmp_path, "kb", "import", "--dir", str(out), url=url).stdout)
    assert changed["new_versions"] == 1


def test_validate_fails_on_errors(tmp_path: Path) -> None:
    ok = _run(tmp_path, "kb", "validate")
    assert ok.returncode == 0, ok.stdout
    bad = tmp_path / "content"
    (bad / "articles" / "en").mkdir(parents=True)
    (bad / "services").mkdir()
    source = next(Path("resources_kb/content/articles/en").glob("*.md")).read_text()
    (bad / "articles" / "en" / "a.md").write_text(source)
    done = _run(tmp_path, "kb", "validate", "--dir", str(bad))
    assert done.returncode == 1
    assert "missing translation" in done.stdout


def test_the_stale_days_setting_is_the_default_of_kb_stale_and_validate(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, content)
    path = content / "articles" / "en" / "shelter-housing.md"
    text = path.read_text()
    reviewed = next(line for line in text.splitlines() if line.startswith("last_reviewed:"))
    path.write_text(text.replace(reviewed, "last_reviewed: 2023-01-02"))
    due = "en/shelter-housing\tlast reviewed 2023-01-02"
    warning = "warning: en/shelter-housing: stale: last reviewed 2023-01-02"

    default = _run(tmp_path, "kb", "stale", "--dir", str(content))
    assert default.returncode == 0 and due in default.stdout.splitlines()
    longer = _run(tmp_path, "kb", "stale", "--dir", str(content), KB_STALE_DAYS="3650")
    assert longer.returncode == 0 and longer.stdout == ""
    # An explicit --days wins over the setting.
    given = _run(
        tmp_path, "kb", "stale", "--days", "180", "--dir", str(content), KB_STALE_DAYS="3650"
    )
    assert due in given.stdout.splitlines()

    assert warning in _run(tmp_path, "kb", "validate", "--dir", str(content)).stdout
    quiet = _run(tmp_path, "kb", "validate", "--dir", str(content), KB_STALE_DAYS="3650")
    assert quiet.returncode == 0 and warning not in quiet.stdout


def test_kb_stale_days_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KB_STALE_DAYS", raising=False)
    assert Settings().kb_stale_days == 180
    monkeypatch.setenv("KB_STALE_DAYS", "30")
    assert Settings().kb_stale_days == 30
    monkeypatch.setenv("KB_STALE_DAYS", "0")
    with pytest.raises(ValidationError):
        Settings()


@pytest.mark.parametrize(
    ("args", "locale", "expected"),
    [
        (["i need a lawyer"], "en", "finding-legal-aid"),
        (["necesito un abogado", "--locale", "es"], "es", "finding-legal-aid"),
        (["how do i bake banana bread"], "en", None),
    ],
)
def test_ask_json_contract(
    tmp_path: Path, args: list[str], locale: str, expected: str | None
) -> None:
    done = _run(tmp_path, "kb", "ask", "--json", *args)
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert list(payload) == ["question", "reply", "answers"]
    assert payload["question"] == args[0]
    for answer in payload["answers"]:
        assert list(answer) == ["id", "title", "body", "score"]
        assert isinstance(answer["score"], float)
    if expected is None:
        assert payload["reply"].startswith(("I'm sorry", "Lo siento"))
    else:
        assert payload["answers"][0]["id"] == expected
        checked = "Checked on" if locale == "en" else "Revisado el"
        assert payload["reply"].splitlines()[-1].startswith(checked)
