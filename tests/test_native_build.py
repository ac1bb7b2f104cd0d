"""The compiled writer's build: optional, and never used when built from another source.

An editable install runs the extension built in the source tree; after ``_native.c`` changes
and before it is rebuilt, the old build could misread the programs ``native.py`` now compiles.
The build records the SHA-256 of the source it compiled (``setup.py``); a mismatch at import
means the Python path, with a warning saying to rebuild.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from hashlib import sha256
from pathlib import Path

import pytest

from liveevents.caliper import native

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "liveevents" / "caliper" / "_native.c"


def test_a_source_is_the_build_s_only_when_its_sha256_matches(tmp_path: Path) -> None:
    source = tmp_path / "_native.c"
    source.write_bytes(b"int x;\n")
    built = "0f2e4cc3a0fba8b3a6ad3b3ec0b2dbaf1c2bd5c4bd3a7e51a7f2f04c2b98bc11"  # not the file's
    assert native.built_from(source, sha256(b"int x;\n").hexdigest())
    assert not native.built_from(source, built)
    assert not native.built_from(source, "")
    assert native.built_from(tmp_path / "absent.c", built)  # an installed package has no source beside it


@pytest.mark.skipif(not native.AVAILABLE, reason="the compiled writer is not built")
def test_the_built_writer_is_this_checkout_s() -> None:
    from liveevents.caliper import _native  # type: ignore[attr-defined]

    assert _native.SOURCE_SHA256 == sha256(SOURCE.read_bytes()).hexdigest()


@pytest.mark.skipif(not native.AVAILABLE, reason="the compiled writer is not built")
def test_a_writer_built_from_another_source_is_not_used_and_a_warning_says_to_rebuild(tmp_path: Path) -> None:
    # A copy of the package whose _native.c has changed since its extension was built.
    package = tmp_path / "liveevents"
    shutil.copytree(ROOT / "liveevents", package, ignore=shutil.ignore_patterns("__pycache__"))
    copied_source = package / "caliper" / "_native.c"
    copied_source.write_bytes(copied_source.read_bytes() + b"\n/* edited */\n")
    script = (
        "import warnings\n"
        "warnings.simplefilter('always')\n"
        "from liveevents.caliper import native\n"
        "from liveevents.caliper.envelope import CaliperTransformer\n"
        "print(native.AVAILABLE, CaliperTransformer()._program is None)\n"
    )
    environment = {key: value for key, value in os.environ.items() if key != "LIVEEVENTS_NATIVE"}
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]
    assert "RuntimeWarning: liveevents: the compiled envelope writer was built from another version of" in result.stderr
    assert "rebuild it (make install, or pip install -e .)" in result.stderr
