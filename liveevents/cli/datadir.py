"""One ``liveevents serve`` per embedded store: exclusive locks held for the life of the process.

Two processes on one embedded SQLite store would both start, then fail on each other's writes
(duplicate sequence numbers); the locks make the second one stop at once instead.  The data dir
is locked (``<data dir>/lock``: its secrets and keys are one process's), and so is a SQLite file
that ``database_url`` puts elsewhere (``<file>.lock``), so two data dirs cannot share it either.
``flock`` locks are released by the kernel when the holder exits, however it exits (``kill -9``
too), so a stale lock file never blocks a restart.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

__all__ = ["LOCK_FILE", "StoreInUse", "lock_data_dir", "lock_database_file"]

LOCK_FILE = "lock"


class StoreInUse(RuntimeError):
    """Another process holds the data dir's or the database file's lock."""


def lock_data_dir(data_dir: Path) -> int:
    """Create ``data_dir`` (0700) if needed and lock it; return the lock's descriptor, to be kept
    open (the lock lasts as long as it does).  Raises ``StoreInUse`` without waiting."""
    # The data dir holds the event log and the secrets: private to the service's user.
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return _lock(data_dir / LOCK_FILE, f"data dir {data_dir.resolve()}", "give this one its own --data-dir")


def lock_database_file(database: Path) -> int:
    """Lock the SQLite file ``database`` (through ``<file>.lock`` beside it), as :func:`lock_data_dir`."""
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock = database.with_name(database.name + ".lock")
    return _lock(lock, f"database file {database.resolve()}", "give this one its own database_url")


def _lock(path: Path, what: str, remedy: str) -> int:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(descriptor, 32).decode("ascii", "replace").strip()
        os.close(descriptor)
        who = f" (pid {holder})" if holder.isdigit() else ""
        raise StoreInUse(f"{what} is in use by another liveevents process{who}; stop it, or {remedy}") from None
    # The holder's pid, for the message above (the lock itself is the flock, not the contents).
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, f"{os.getpid()}\n".encode("ascii"), 0)
    return descriptor
