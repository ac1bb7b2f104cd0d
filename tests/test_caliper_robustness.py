"""Junk anywhere in a record never crashes the transform: it either produces an envelope that
serialises, or raises the documented errors (``RecordError`` naming the field,
``UnmappedEventError``), which the pipeline dead-letters with their reason."""

from __future__ import annotations

import copy
import random
from typing import Any

import orjson
import pytest

from liveevents import RecordError, UnmappedEventError, caliper_envelope, validate_caliper

from .test_caliper_cases import CASES

JUNK: list[Any] = [None, 0, -1, 10**30, 1.5, float("nan"), True, "", "x" * 300, [], ["a"], {}, {"a": 1}, "2019-02-30T00:00:00Z"]


def _mutations(record: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    mutated = []
    for part in record:
        for key in list(record[part]):
            for junk in rng.sample(JUNK, 4):
                candidate = copy.deepcopy(record)
                candidate[part][key] = junk
                mutated.append(candidate)
    return mutated


@pytest.mark.parametrize("case", CASES)
def test_junk_values_give_an_envelope_or_a_named_error(case: dict[str, Any]) -> None:
    rng = random.Random(case["event_type"])
    for record in _mutations(case["input"], rng):
        try:
            envelope = caliper_envelope(record, **case["options"])
        except RecordError as error:
            assert error.field or "cannot be written as JSON" in error.rule, record
        except UnmappedEventError:
            continue
        else:
            orjson.dumps(envelope, option=orjson.OPT_SERIALIZE_NUMPY)


# A value of the wrong JSON type for its field (Canvas sends none of these): ids and names as
# numbers, booleans, arrays, objects; numbers as strings.
WRONG_TYPES: list[Any] = [0, -7, 1.5, 2.0, True, [], ["a"], {}, {"a": 1}]


@pytest.mark.parametrize("case", CASES)
def test_wrongly_typed_inputs_give_a_valid_envelope_or_an_error_naming_the_field(case: dict[str, Any]) -> None:
    for part, fields in case["input"].items():
        for key in fields:
            for junk in WRONG_TYPES + (["12"] if part == "body" else []):
                record = copy.deepcopy(case["input"])
                record[part][key] = junk
                try:
                    envelope = caliper_envelope(record, **case["options"])
                except RecordError as error:
                    assert error.field in (f"{part}.{key}", f"metadata.{key}"), (error, key, junk)
                    assert error.value == junk
                    continue
                except UnmappedEventError:  # a junk event_name
                    continue
                errors = [problem for problem in validate_caliper(envelope, mode="canvas") if problem.severity == "error"]
                assert errors == [], (part, key, junk)
