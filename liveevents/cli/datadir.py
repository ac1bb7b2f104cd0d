"""One ``liveevents serve`` per data dir: an exclusive lock on ``<data dir>/lock`` for the life of the process.

Two processes on one embedded SQLite store would both start, then fail on each other's writes
(duplicate sequence numbers); the lock makes the second one stop at once instead.  ``flock``
locks are released by the kernel when the holder exits, however it exits (``kill -9`` too), so a
stale lock file never blocks a restart.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

__all__ = ["LOCK_FILE", "DataDirInUse", "lock_data_dir"]

LOCK_FILE = "lock"


class DataDirInUse(RuntimeError):
    """Another process holds the data dir's lock."""


def lock_data_dir(data_dir: Path) -> int:
    """Create ``data_dir`` (0700) if needed and lock it; return the lock's descriptor, to be kept
    open (the lock lasts as long as it does).  Raises ``DataDirInUse`` without waiting."""
    # The data dir holds the event log and the secrets: private to the service's user.
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(descriptor, 32).decode("ascii", "replace").strip()
        os.close(descriptor)
        who = f" (pid {holder})" if holder.isdigit() else ""
        raise DataDirInUse(
            f"data dir {data_dir.resolve()} is in use by another liveevents process{who}; "
            "stop it, or give this one its own --data-dir"
        ) from None
    # The holder's pid, for the message above (the lock itself is the flock, not the contents).
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, f"{os.getpid()}\n".encode("ascii"), 0)
    return descriptor
