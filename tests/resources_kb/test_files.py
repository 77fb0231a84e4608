"""Files <-> database through the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from resources_kb.content import load_articles, load_services, parse_article, render_article

HARBORLINE = str(Path(sys.executable).with_name("harborline"))


def _run(tmp_path: Path, *args: str, url: str = "") -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "DATABASE_URL": url or f"sqlite+aiosqlite:///{tmp_path}/kb.db",
        "HARBORLINE_VAR_DIR": str(tmp_path),
        "LOG_LEVEL": "WARNING",
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
