"""No message text or phone number ever reaches the logs."""

from __future__ import annotations

import logging

import pytest

from bot.logs import JsonFormatter, quiet_noisy_loggers
from bot.runtime import Runtime
from dialogs import flow
from tests.bot.helpers import say

SECRETS = ["+15557654321", "Rosalinda", "pills in my hand", "5557654321"]


async def test_logs_carry_no_text_and_no_numbers(
    runtime: Runtime, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    quiet_noisy_loggers()  # What configure_logging does, without replacing caplog's handler.
    caplog.set_level(logging.DEBUG)
    address = "+15557654321"
    await say(runtime, "hi, my name is Rosalinda", address=address)
    await say(runtime, "yes", address=address)
    await say(runtime, "I have the pills in my hand", address=address)

    def broken(turn: flow.Turn) -> flow.Decision:
        raise ValueError("Rosalinda pills in my hand")  # Even an error carrying text.

    monkeypatch.setattr(flow, "step", broken)
    await say(runtime, "Rosalinda again", address=address)
    assert caplog.records, "expected some log lines to check"
    json_formatter = JsonFormatter()
    for record in caplog.records:
        rendered = json_formatter.format(record)
        for secret in SECRETS:
            assert secret not in rendered, (secret, record.name)
        # The plain formatter would print tracebacks; ours never does.
        assert "Traceback" not in rendered
