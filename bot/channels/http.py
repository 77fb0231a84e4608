"""Helpers shared by the HTTP channels (REST, SMS webhooks)."""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request

__all__ = ["read_capped_body"]


async def read_capped_body(request: Request, limit: int) -> bytes | None:
    """The body, or None past ``limit`` bytes (also for chunked bodies without a length).

    A client that disconnects mid-body gets an empty body: nothing to process.
    """
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    except ClientDisconnect:
        return b""
    return b"".join(chunks)
