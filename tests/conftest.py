"""Shared test fixtures.

``../shared/`` (Instructure's documented examples, the IMS Caliper fixtures) sits beside the
project root on the developers' machines only.  Tests that use it take the ``shared_reference``
fixture and are skipped cleanly on a fresh clone without it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_ROOT = Path(os.environ.get("LIVEEVENTS_SHARED", PROJECT_ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    """``../shared/reference`` (override with ``LIVEEVENTS_SHARED``); skips the test when absent."""
    reference = SHARED_ROOT / "reference"
    if not reference.is_dir():
        pytest.skip(f"reference material not present at {reference} (only on the developers' machines)")
    return reference
