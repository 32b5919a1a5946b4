"""The published examples are what the producers send, and public ones name nobody.

``common.contract check`` validates each example against its JSON Schema (a subscriber's
view); these tests hold them to the models and to the personal-data rules.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import registration.events
import registration.main  # the wiring imports the readers of consumed events
from common.events import Event, foreign_events, registered_events
from common.identity import ResidentId

# Registration's own events and its readers of other contexts' (their examples are the
# records its tests feed the consumers).
EVENTS = sorted(
    [
        *(m for m in registered_events().values() if m.__module__.startswith("registration.")),
        *foreign_events("registration"),
    ],
    key=lambda model: model.ce_type(),
)
IDENTITY_NUMBER = re.compile(r"\d{17}[\dX]")
MASKED = re.compile(r"\d{4}\*{10}[\dX]{4}")
PERSONAL_FIELDS = {"id_number", "previous_id_number", "full_name", "name", "phone", "birth_date"}


def examples(model: type[Event]) -> list[dict[str, Any]]:
    extra = model.model_config.get("json_schema_extra")
    assert isinstance(extra, dict), f"{model.ce_type()} has no json_schema_extra examples"
    found = extra.get("examples")
    assert isinstance(found, list) and found, f"{model.ce_type()} has no examples"
    return found


def restricted(model: type[Event]) -> bool:
    return model.topic.endswith(".restricted")


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def test_every_event_of_registration_is_covered() -> None:
    assert len(EVENTS) >= 20
    assert registration.events.ResidenceDeclared in EVENTS


@pytest.mark.parametrize("model", EVENTS, ids=lambda m: m.ce_type())
def test_each_example_is_exactly_what_the_producer_sends(model: type[Event]) -> None:
    for example in examples(model):
        event = model.model_validate(example)
        assert event.model_dump(mode="json") == example
        assert event.subject()


@pytest.mark.parametrize(
    "model", [m for m in EVENTS if not restricted(m)], ids=lambda m: m.ce_type()
)
def test_public_examples_carry_pseudonyms_and_masked_numbers_only(model: type[Event]) -> None:
    for example in examples(model):
        assert not PERSONAL_FIELDS & example.keys()
        for text in strings(example):
            assert not IDENTITY_NUMBER.search(text), f"{model.ce_type()}: {text}"
        masked = example.get("id_number_masked")
        if masked is not None:
            assert MASKED.fullmatch(masked), masked


@pytest.mark.parametrize("model", [m for m in EVENTS if restricted(m)], ids=lambda m: m.ce_type())
def test_restricted_examples_use_synthetic_numbers_that_pass_gb_11643(model: type[Event]) -> None:
    for example in examples(model):
        ResidentId.parse(example["id_number"], today=date(2026, 1, 1))


def test_the_readme_worked_example_is_the_catalogues() -> None:
    """README's full ResidenceDeclared record is the generated one, not a drifting copy."""
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("A `registration.ResidenceDeclared.v1` record in full") :]
    headers = section.split("```text\n", 1)[1].split("```", 1)[0]
    body = json.loads(section.split("```json\n", 1)[1].split("```", 1)[0])
    assert body == examples(registration.events.ResidenceDeclared)[0]
    catalogue = (root / "schemas/registration/EVENTS.md").read_text(encoding="utf-8")
    assert headers.removeprefix(f"key: {body['property_id']}\n") in catalogue
