"""pytest fixtures for a served instance; import them into a test module to use them::

    from tests.helpers.fixtures import served  # noqa: F401  (pytest finds fixtures by name)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.service import ServedInstance

__all__ = ["served"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedInstance]:
    """One ``liveevents serve`` per test module (known secrets, fresh data dir), stopped after it."""
    with ServedInstance.start(tmp_path_factory.mktemp("served") / "data") as instance:
        yield instance
