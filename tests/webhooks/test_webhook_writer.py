"""Group commit: concurrent puts share transactions, dedupe holds within and across
batches, and a failed transaction fails every put in it (nothing acknowledged unstored)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from empathy_firewall.state import StateStore
from empathy_firewall.state.inbox import status_counts
from empathy_firewall.webhooks.writer import InboxWriter


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    opened = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    yield opened
    opened.close()


def test_concurrent_puts_store_each_key_once_and_answer_each_caller(store: StateStore) -> None:
    writer = InboxWriter(store)
    answers: dict[str, list[bool]] = {}
    lock = threading.Lock()

    def send(n: int) -> None:
        key = f"k{n % 50}"  # every key is put four times, concurrently
        fresh = writer.put("zendesk", "acme", key, "{}")
        with lock:
            answers.setdefault(key, []).append(fresh)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    writer.stop()
    assert status_counts(store) == {"pending": 50}
    assert all(sorted(a) == [False, False, False, True] for a in answers.values())
    assert writer.items == 200
    assert writer.batches < 200  # puts waiting together were committed together


def test_the_async_put_awaits_the_commit(store: StateStore) -> None:
    writer = InboxWriter(store)

    async def main() -> list[bool]:
        return list(
            await asyncio.gather(
                *(writer.aput("zendesk", "a", f"k{n % 3}", "{}") for n in range(9))
            )
        )

    results = asyncio.run(main())
    writer.stop()
    assert results.count(True) == 3
    assert status_counts(store) == {"pending": 3}


class _Broken:
    def begin(self) -> Any:
        raise OSError("disk on fire")


class _BrokenStore:
    engine = _Broken()


def test_a_failed_transaction_fails_every_put_in_it() -> None:
    writer = InboxWriter(_BrokenStore())  # type: ignore[arg-type]
    with pytest.raises(OSError, match="disk on fire"):
        writer.put("zendesk", "acme", "k", "{}")

    async def main() -> None:
        await writer.aput("zendesk", "acme", "k", "{}")

    with pytest.raises(OSError, match="disk on fire"):
        asyncio.run(main())
    writer.stop()
