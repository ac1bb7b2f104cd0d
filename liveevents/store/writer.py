"""The single writer thread with group commit, shared by the SQLite and PostgreSQL stores.

Callers hand in appends (events + rejections) and other write tasks; the thread takes every
append waiting in its queue and commits them together (one transaction, one fsync), then
answers each caller.  No caller is answered before the commit that holds its records.  The
queue is bounded in records: beyond ``max_pending_records`` an append is refused at once with
:class:`StoreOverloaded` rather than queued without bound.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from liveevents.store.base import NewEvent, Rejection, StoreClosed, StoreOverloaded

__all__ = ["Append", "GroupCommitWriter", "Task"]

# Appends merged into one transaction at most; bounds the latency one commit adds to the others.
GROUP_COMMIT_RECORDS = 20_000


@dataclass(slots=True)
class Append:
    events: Sequence[NewEvent]
    rejections: Sequence[Rejection]
    future: concurrent.futures.Future[list[int]] = field(default_factory=concurrent.futures.Future)

    @property
    def size(self) -> int:
        return len(self.events) + len(self.rejections)


@dataclass(slots=True)
class Task:
    """Any other write, run alone in its own transaction."""

    work: Callable[[Any], Any]
    future: concurrent.futures.Future[Any] = field(default_factory=concurrent.futures.Future)
    size: int = 0


class GroupCommitWriter:
    """Runs ``commit_appends(jobs) -> sequences per job`` and ``run_task(work) -> result`` on one
    thread.  Both must commit or roll back entirely and raise on failure; ``on_exit`` runs on
    the thread after the queue is drained at close."""

    def __init__(
        self,
        *,
        name: str,
        max_pending_records: int,
        commit_appends: Callable[[list[Append]], list[list[int]]],
        run_task: Callable[[Callable[[Any], Any]], Any],
        on_exit: Callable[[], None],
    ) -> None:
        self.max_pending_records = max_pending_records
        self._commit_appends = commit_appends
        self._run_task = run_task
        self._on_exit = on_exit
        self._condition = threading.Condition()
        self._queue: deque[Append | Task] = deque()
        self._pending_records = 0
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @property
    def pending_records(self) -> int:
        return self._pending_records

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Refuse new work, finish what is queued, wait for the thread (blocking)."""
        with self._condition:
            self._closing = True
            self._condition.notify_all()
        if self._thread.is_alive():
            self._thread.join()

    def submit(self, job: Append | Task) -> concurrent.futures.Future[Any]:
        with self._condition:
            if self._closing or not self._thread.is_alive():
                raise StoreClosed("the store is closed")
            if job.size and self._pending_records + job.size > self.max_pending_records:
                raise StoreOverloaded(f"{self._pending_records} records are waiting to be written (limit {self.max_pending_records})")
            self._pending_records += job.size
            self._queue.append(job)
            self._condition.notify()
        return job.future

    def _run(self) -> None:
        try:
            while True:
                with self._condition:
                    while not self._queue and not self._closing:
                        self._condition.wait()
                    if not self._queue:
                        return
                    batch = self._take_batch()
                if isinstance(batch, Task):
                    self._do_task(batch)
                else:
                    self._do_appends(batch)
        finally:
            self._on_exit()

    def _take_batch(self) -> Task | list[Append]:
        first = self._queue[0]
        if isinstance(first, Task):
            return self._queue.popleft()  # type: ignore[return-value]
        batch: list[Append] = []
        records = 0
        while self._queue and isinstance(head := self._queue[0], Append) and (not batch or records + head.size <= GROUP_COMMIT_RECORDS):
            self._queue.popleft()
            records += head.size
            batch.append(head)
        return batch

    def _do_task(self, task: Task) -> None:
        if not task.future.set_running_or_notify_cancel():
            return
        try:
            result = self._run_task(task.work)
        except BaseException as error:  # noqa: BLE001 - handed to the caller, the writer goes on
            task.future.set_exception(error)
        else:
            task.future.set_result(result)

    def _do_appends(self, batch: list[Append]) -> None:
        # A caller that gave up before its turn was never acknowledged: skip it (its client retries).
        jobs = [job for job in batch if job.future.set_running_or_notify_cancel()]
        failure: BaseException | None = None
        sequences: list[list[int]] = []
        try:
            sequences = self._commit_appends(jobs) if jobs else []
        except BaseException as error:  # noqa: BLE001 - every caller of the batch learns it
            failure = error
        # Release the queue room before answering, so that an answered caller sees it free.
        with self._condition:
            self._pending_records -= sum(job.size for job in batch)
        for index, job in enumerate(jobs):
            if failure is None:
                job.future.set_result(sequences[index])
            else:
                job.future.set_exception(failure)
