"""Waiting for records to be confirmed (or refused) on chain: ``?wait=true`` and the anchorer.

The primary's indexer calls ``confirmed`` with the uids it has just stored; a gateway
worker learns of them by following the index the primary writes (``follow``). Either way
every waiting request holds one future in the waiter table, so nobody polls per uid.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict

from node_api.store.index import IndexTable
from node_api.store.outbox import OutboxState, OutboxTable

FOLLOW_POLL = 0.01  # seconds between a worker's looks at the index (one range query)
FAILED_POLL = 0.5  # seconds between looks at the failed count while waiting for many


class Confirmations:
    """The waiter table of records on their way to the chain."""

    def __init__(self, outbox: OutboxTable, index: IndexTable, wait_timeout: float) -> None:
        self.outbox = outbox
        self.index = index
        self.wait_timeout = wait_timeout  # how long a ``?wait=true`` request waits
        self._waiters: dict[str, list[asyncio.Future[None]]] = defaultdict(list)
        self._single: dict[str, list[asyncio.Future[None]]] = defaultdict(list)  # ``wait_for``'s own
        self._watcher: asyncio.Task[None] | None = None

    def confirmed(self, uids: list[str]) -> None:
        """Wakes the waiters of records just stored in the index (confirmed or failed)."""
        for uid in uids:
            for f in self._waiters.pop(uid, []):
                if not f.done():
                    f.set_result(None)

    async def follow(self) -> None:
        """Worker: wakes the waiters of records the primary's indexer has just stored.

        New index rows are found by rowid (rows are only ever appended), one cheap
        range query per poll however many requests wait.
        """
        last = self.index.last_rowid()
        while True:
            # Short: under load every poll period is paid again in event-loop lag (measured:
            # 50 ms cost a worker's requests ≈ 0.35 s at the median against the primary's).
            await asyncio.sleep(FOLLOW_POLL)
            last, uids = self.index.uids_after(last)
            if uids and self._waiters:
                self.confirmed(uids)

    def final_states(self, uids: list[str]) -> dict[str, OutboxState]:
        """Confirmed / failed states among ``uids``; records still open are left out."""
        return self.outbox.final_states(uids)

    async def wait_for(self, uid: str, timeout: float) -> str:
        """Waits until a record is confirmed or failed; returns its state ("unknown" if never seen).

        One future in the waiter table, woken when the index stores the record (``follow``) or
        when the process's failure watcher finds it failed: the request is resumed once, not
        every ``FAILED_POLL``, and reads its state once more then.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            future: asyncio.Future[None] = loop.create_future()
            self._waiters[uid].append(future)
            self._single[uid].append(future)
            try:
                # Registered (and the watcher's failed count read) before the state is: a record
                # confirmed or failed after this look wakes the future.
                self._watch_failures()
                state = self.outbox.state(uid)
                if state is not None and state.final:
                    return str(state)
                if state is None and self.index.holds(uid):
                    return str(OutboxState.CONFIRMED)  # another node's record, in the index
                remaining = deadline - loop.time()
                if remaining > 0:
                    # asyncio.timeout, not wait_for: no extra task per waiting request.
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(remaining):
                            await future
            finally:  # every way out of the look and the wait leaves the tables clean
                self._forget(uid, future)
            if remaining <= 0 or not future.done():  # the deadline passed
                state = self.outbox.state(uid)
                return str(state) if state is not None else "unknown"

    def _watch_failures(self) -> None:
        """Starts the failure watcher unless it runs: refusals fire no callback (they are not in
        the index), so one task per process watches the failed count for every ``wait_for``."""
        if self._watcher is None or self._watcher.done():
            seen = self.outbox.failed_count()  # read now, before the caller's look at its state
            self._watcher = asyncio.get_running_loop().create_task(self._failures(seen))

    async def _failures(self, seen: int) -> None:
        """Every ``FAILED_POLL`` while ``wait_for`` calls wait: when the failed count moved, wakes
        those whose record failed (one count query per period, however many wait)."""
        while self._single:
            await asyncio.sleep(FAILED_POLL)
            now = self.outbox.failed_count()
            if now != seen:
                seen = now
                for uid, state in self.outbox.final_states(list(self._single)).items():
                    if state == OutboxState.FAILED:
                        for f in self._single.get(uid, []):
                            if not f.done():
                                f.set_result(None)

    def _forget(self, uid: str, future: asyncio.Future[None]) -> None:
        for table in (self._waiters, self._single):
            waiting = table.get(uid)
            if waiting is not None and future in waiting:
                waiting.remove(future)
                if not waiting:
                    del table[uid]

    async def wait_for_many(self, uids: list[str], timeout: float) -> dict[str, str]:
        """Waits until every record is confirmed or failed (or the timeout); returns their states.

        One future per uid in the waiter table (resolved as the index confirms records),
        so there is no per-uid polling. Refusals (``failed``) fire no callback: the count
        of failed outbox rows (an index range, cheap) is watched every 0.5 s, and only
        when it moved are this call's open records looked up.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        futures: dict[str, asyncio.Future[None]] = {}
        for uid in uids:
            futures[uid] = loop.create_future()
            self._waiters[uid].append(futures[uid])
        try:
            failed_seen = self.outbox.failed_count()
            # After registering: nothing confirmed in between is missed.
            known: dict[str, str] = dict(self.outbox.final_states(uids))
            while True:
                for uid, f in futures.items():
                    if f.done() and uid not in known:
                        known[uid] = OutboxState.CONFIRMED
                open_ = [f for uid, f in futures.items() if uid not in known]
                left = deadline - loop.time()
                if not open_:
                    return known
                if left <= 0:
                    known.update(self.outbox.final_states([u for u in uids if u not in known]))
                    return known
                await asyncio.wait(open_, timeout=min(left, FAILED_POLL), return_when=asyncio.ALL_COMPLETED)
                failed_now = self.outbox.failed_count()
                if failed_now != failed_seen:
                    failed_seen = failed_now
                    known.update(
                        self.outbox.final_states(
                            [u for u, f in futures.items() if u not in known and not f.done()]
                        )
                    )
        finally:
            for uid, f in futures.items():
                if not f.done():
                    f.cancel()
                    self._forget(uid, f)
