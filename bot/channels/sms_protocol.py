"""What the SMS webhook and the Twilio sender share, without the sender's libraries.

The webhook (``sms.py``) needs these names on every process that serves the
routes; the sender (``sms_sender.py``) pulls in Twilio's REST client and aiohttp,
about 14 MB, and is imported only where SMS is switched on.
"""

from __future__ import annotations

from bot.settings import Settings

__all__ = [
    "CHANNEL",
    "STATUS_PATH",
    "STATUS_RANK",
    "UNREACHABLE_CODES",
    "UNSUBSCRIBED",
    "public_url",
]

CHANNEL = "sms"
STATUS_PATH = "/sms/twilio/status"
# Twilio error codes that mean this number can't be reached: unsubscribed (STOP at
# the carrier), not a valid number, not a mobile number, not reachable by SMS.
UNREACHABLE_CODES = frozenset({21610, 21211, 21612, 21614})
UNSUBSCRIBED = 21610

# Status callbacks can arrive out of order; a later state never goes back.
STATUS_RANK = {
    "intent": -1,
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "undelivered": 3,
    "failed": 3,
    "read": 4,
}


def public_url(settings: Settings, path: str, query: str = "") -> str:
    url = settings.public_base_url.rstrip("/") + path
    return f"{url}?{query}" if query else url
