"""`harborline user ...` and `harborline oncall ...`.

One test runs the installed command as a person would (subprocess, password on
stdin); the table of mistakes runs in-process through ``bot.cli.main`` (each
process start costs seconds).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
HARBORLINE = Path(sys.executable).parent / "harborline"
PASSWORD = "correct horse battery staple"
SECRETS = ("DATABASE_URL", "ENCRYPTION_KEYS", "ADDRESS_HASH_KEY")


def run(var_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    env["HARBORLINE_VAR_DIR"] = str(var_dir)
    return subprocess.run(
        [str(HARBORLINE), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_the_installed_command(tmp_path: Path) -> None:
    added = run(tmp_path, "user", "add", "Carol", "--role", "supervisor", stdin=PASSWORD + "\n")
    assert (added.returncode, added.stdout) == (0, "created supervisor carol\n"), added.stderr
    assert (tmp_path / "harborline.db").exists()  # the configured database, migrated

    again = run(tmp_path, "user", "add", "carol", stdin=PASSWORD + "\n")
    assert again.returncode == 1
    assert again.stderr == "error: an account named 'carol' exists already\n"

    shift = run(
        tmp_path, "oncall", "add", "carol", "--position", "primary", "--weekly", "mon,tue",
        "--from", "09:00", "--to", "17:00", "--tz", "America/Chicago",
    )  # fmt: skip
    assert shift.returncode == 0, shift.stderr
    assert shift.stdout.splitlines() == [
        "added shift 1: primary carol weekly mon 09:00-17:00 America/Chicago",
        "added shift 2: primary carol weekly tue 09:00-17:00 America/Chicago",
    ]

    roster = run(tmp_path, "oncall", "list", "--at", "2026-11-23T12:00-06:00")
    assert roster.returncode == 0, roster.stderr
    assert roster.stdout.splitlines() == [
        "at 2026-11-23T18:00Z",
        "primary:    carol",
        "backup:     nobody",
        "supervisor: nobody",
        "on call:    carol",
    ]

    bad = run(tmp_path, "oncall", "add", "carol", "--position", "primary", "--weekly", "mon",
              "--from", "9", "--to", "17:00", "--tz", "Mars/Olympus")  # fmt: skip
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr


@pytest.fixture
def cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[object]:
    """``harborline ...`` in-process against a fresh var dir: returns (code, out, err)."""
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HARBORLINE_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()

    def call(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            code = main(list(args))
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    yield call
    get_settings.cache_clear()


CORRECT = [
    (("user", "add", "alice"), PASSWORD + "\n", "created counselor alice"),
    (("user", "add", "dan", "--role", "admin"), PASSWORD + "\r\n", "created admin dan"),
    (("oncall", "add", "alice", "--position", "backup", "--start", "2026-11-23T08:00Z",
      "--end", "2026-11-23T20:00Z"), "", "added shift 1: backup alice cover 2026-11-23T08:00Z"),
    (("oncall", "add", "alice", "--position", "supervisor", "--weekly", "sat-sun",
      "--from", "22:00", "--to", "06:00", "--tz", "UTC"), "", "added shift 3: supervisor"),
    (("oncall", "list",), "", "2   supervisor  alice  weekly sat 22:00-06:00 UTC"),
    (("oncall", "list", "--at", "2026-11-23T12:00Z"), "", "backup:     alice"),
    (("oncall", "remove", "2"), "", "removed shift 2"),
    (("user", "unlock", "ALICE"), "", "unlocked alice"),
    (("user", "list",), "", "dan    admin      yes     no       -"),
    (("user", "add", "eva", "--page-via", "sms", "--page-to", "(202) 555-0143", "--locale", "es"),
     PASSWORD + "\n", "created counselor eva"),
    (("user", "list",), "", "sms ...0143 (es)"),
    (("user", "paging", "eva", "--locale", "en"), "", "eva: pages by sms ...0143 (en)"),
    (("user", "paging", "alice", "--via", "telegram", "--to", "123456789"), "",
     "alice: pages by telegram ...6789 (en)"),
    (("user", "paging", "eva", "--via", "console"), "", "eva: pages by console (en)"),
]  # fmt: skip

MISTAKES = [
    (("user", "add", "bob"), "too short\n", "at least 12 characters"),
    (("user", "add", "bob"), "", "no password on stdin"),
    (("user", "add", "bo b"), PASSWORD + "\n", "3-64 characters"),
    (("user", "add", "bob", "--role", "boss"), PASSWORD + "\n", "role must be one of"),
    (("user", "unlock", "nobody"), "", "no account named 'nobody'"),
    (("user", "deactivate", "nobody"), "", "no account named 'nobody'"),
    (("user", "frob"), "", "invalid choice"),
    (("user", "add", "bob", "--page-via", "sms", "--page-to", "12"), PASSWORD + "\n",
     "not a phone number"),
    (("user", "add", "bob", "--page-to", "+12025550143"), PASSWORD + "\n", "needs --page-via"),
    (("user", "add", "bob", "--locale", "fr"), PASSWORD + "\n", "locale must be one of"),
    (("user", "paging", "alice"), "", "give --via CHANNEL"),
    (("user", "paging", "alice", "--via", "sms"), "", "sms pages need an address"),
    (("user", "paging", "alice", "--via", "telegram", "--to", "@alice"), "", "numeric user id"),
    (("user", "paging", "alice", "--via", "fax", "--to", "1"), "", "paging channel must be"),
    (("user", "paging", "nobody", "--locale", "es"), "", "no account named 'nobody'"),
    (("user",), "", "usage: harborline user"),
    (("oncall", "add", "alice"), "", "required: --position"),
    (("oncall", "add", "alice", "--position", "primary"), "", "give either --weekly DAYS"),
    (("oncall", "add", "alice", "--position", "primary", "--weekly", "mon", "--from", "09:00"),
     "", "also needs --to --tz"),
    (("oncall", "add", "alice", "--position", "primary", "--weekly", "funday", "--from", "09:00",
      "--to", "17:00", "--tz", "UTC"), "", "weekdays are"),
    (("oncall", "add", "alice", "--position", "primary", "--weekly", "mon", "--from", "9am",
      "--to", "17:00", "--tz", "UTC"), "", "HH:MM"),
    (("oncall", "add", "alice", "--position", "primary", "--weekly", "mon", "--from", "09:00",
      "--to", "17:00", "--tz", "Mars/Olympus"), "", "unknown time zone"),
    (("oncall", "add", "alice", "--position", "pilot", "--start", "2026-11-23T08:00Z",
      "--end", "2026-11-23T09:00Z"), "", "position must be"),
    (("oncall", "add", "alice", "--position", "primary", "--start", "2026-11-23T08:00",
      "--end", "2026-11-23T09:00"), "", "needs a UTC offset"),
    (("oncall", "add", "alice", "--position", "primary", "--start", "2026-11-23T09:00Z",
      "--end", "2026-11-23T08:00Z"), "", "after the start"),
    (("oncall", "add", "alice", "--position", "primary", "--start", "soon",
      "--end", "2026-11-23T08:00Z"), "", "not an ISO date"),
    (("oncall", "add", "nobody", "--position", "primary", "--start", "2026-11-23T08:00Z",
      "--end", "2026-11-23T09:00Z"), "", "no account named 'nobody'"),
    (("oncall", "list", "--at", "tomorrow"), "", "not an ISO date"),
    (("oncall", "remove", "99"), "", "no shift with ID 99"),
    (("oncall", "remove", "one"), "", "invalid int value"),
]  # fmt: skip


def test_commands_in_order(cli) -> None:  # type: ignore[no-untyped-def]
    for args, stdin, expected in CORRECT:
        code, out, err = cli(*args, stdin=stdin)
        assert code == 0, (args, err)
        assert expected in out, (args, out)


@pytest.mark.parametrize(("args", "stdin", "message"), MISTAKES)
def test_mistakes_exit_1_with_one_clear_line(cli, args, stdin, message) -> None:  # type: ignore[no-untyped-def]
    cli("user", "add", "alice", stdin=PASSWORD + "\n")
    code, out, err = cli(*args, stdin=stdin)
    assert code == 1, (out, err)
    assert message in err
    assert "Traceback" not in err and PASSWORD not in out + err
