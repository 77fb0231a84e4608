"""Turns at SQLite's writer: stored messages' turns go before new stores, nobody jumps in."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.storage.db import Database
from bot.storage.writer import WriterTurns


async def _queue(turns: WriterTurns, order: list[str], name: str, *, ahead: bool) -> None:
    await turns.acquire(ahead=ahead)
    order.append(name)
    await asyncio.sleep(0)  # Held across a suspension, as a transaction may be.
    turns.release()


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_work_under_way_goes_first_and_each_queue_keeps_its_order() -> None:
    turns = WriterTurns()
    order: list[str] = []
    await turns.acquire()
    tasks = [
        asyncio.create_task(_queue(turns, order, "store 1", ahead=False)),
        asyncio.create_task(_queue(turns, order, "turn 1", ahead=True)),
        asyncio.create_task(_queue(turns, order, "store 2", ahead=False)),
        asyncio.create_task(_queue(turns, order, "turn 2", ahead=True)),
    ]
    await _settle()
    assert turns.waiting() == 4
    turns.release()
    await asyncio.gather(*tasks)
    assert order == ["turn 1", "turn 2", "store 1", "store 2"]
    assert not turns.locked()


async def test_a_newcomer_never_takes_the_lock_from_someone_waiting() -> None:
    turns = WriterTurns()
    order: list[str] = []
    await turns.acquire()
    waiting = asyncio.create_task(_queue(turns, order, "waiting", ahead=False))
    await _settle()
    turns.release()  # Handed to "waiting", which has not run yet...
    late = asyncio.create_task(_queue(turns, order, "late", ahead=True))
    await asyncio.gather(waiting, late)
    assert order == ["waiting", "late"]  # ...so even an `ahead` newcomer waits.


async def test_a_waiter_cancelled_in_line_leaves_the_line_working() -> None:
    turns = WriterTurns()
    order: list[str] = []
    await turns.acquire()
    gone = asyncio.create_task(_queue(turns, order, "gone", ahead=True))
    stays = asyncio.create_task(_queue(turns, order, "stays", ahead=False))
    await _settle()
    gone.cancel()
    await _settle()
    assert turns.waiting() == 1
    turns.release()
    await stays
    assert order == ["stays"]
    assert gone.cancelled()
    assert not turns.locked()


async def test_a_waiter_cancelled_after_being_handed_the_lock_passes_it_on() -> None:
    turns = WriterTurns()
    order: list[str] = []
    await turns.acquire()
    handed = asyncio.create_task(_queue(turns, order, "handed", ahead=False))
    nxt = asyncio.create_task(_queue(turns, order, "next", ahead=False))
    await _settle()
    turns.release()  # "handed" owns it now but has not run...
    handed.cancel()  # ...and is cancelled before it does.
    await asyncio.wait_for(nxt, 5)
    assert order == ["next"]
    assert not turns.locked()


def test_releasing_a_turn_nobody_holds_is_a_bug_not_a_silent_unlock() -> None:
    with pytest.raises(RuntimeError):
        WriterTurns().release()


async def test_the_database_puts_turns_ahead_of_new_writes(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    order: list[str] = []

    async def write(name: str, ahead: bool) -> None:
        async with db.writing(ahead=ahead):
            order.append(name)

    try:
        async with db.writing():
            tasks = [
                asyncio.create_task(write("store", False)),
                asyncio.create_task(write("turn", True)),
            ]
            await _settle()
        await asyncio.gather(*tasks)
        assert order == ["turn", "store"]
    finally:
        await db.close()
