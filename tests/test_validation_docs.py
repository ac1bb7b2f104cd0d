"""docs/validator.md catalogues exactly the rules the validator reports, with their severities."""

from __future__ import annotations

import re
from pathlib import Path

from liveevents.caliper.validation import RULES

DOC = Path(__file__).resolve().parents[1] / "docs" / "validator.md"


def test_rule_catalogue_in_the_docs_matches_the_code() -> None:
    catalogue = DOC.read_text().split("## Rule catalogue", 1)[1]
    rows = dict(re.findall(r"^\| `([A-Za-z0-9.-]+)` \| (error|warning) \|", catalogue, flags=re.MULTILINE))
    assert rows == {rule: entry.severity for rule, entry in RULES.items()}
