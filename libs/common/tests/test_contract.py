"""Event contracts: schema generation, compatibility rules, and the write/check workflow."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel, ConfigDict

from common import contract, events
from common.contract import breaking_changes, catalogue, check, render, schema_for, write
from common.events import Event


class Kind(StrEnum):
    HOUSE = "house"
    SHOP = "shop"


class Room(BaseModel):
    capacity: int


class Thing(Event):
    """Something happened to a thing (the published v1)."""

    name = "contracttest.Thing"
    version = 1
    topic = "contracttest.events"
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"thing_id": "t-1", "room": {"capacity": 2}, "kind": "shop", "tags": ["new"]}
            ]
        }
    )

    thing_id: str
    room: Room
    kind: Kind
    tags: list[str] = []
    note: str | None = None

    def subject(self) -> str:
        return self.thing_id


# Candidate replacements of the same event version: subclasses that do not set `name`
# keep Thing's CloudEvents type and are not registered.


class WithFloor(Thing):
    floor: int | None = None


class IdAsNumber(Thing):
    thing_id: int  # type: ignore[assignment]


class TextRoom(BaseModel):
    capacity: str


class RoomCapacityAsText(Thing):
    room: TextRoom  # type: ignore[assignment]


class NoteRequired(Thing):
    note: str | None


class KindWithoutShop(StrEnum):
    HOUSE = "house"


class KindWithFarm(StrEnum):
    HOUSE = "house"
    SHOP = "shop"
    FARM = "farm"


class ShopRemoved(Thing):
    kind: KindWithoutShop  # type: ignore[assignment]


class FarmAdded(Thing):
    kind: KindWithFarm  # type: ignore[assignment]


class NumericTags(Thing):
    tags: list[int] = []  # type: ignore[assignment]


class Premises(BaseModel):  # Room under another name: same wire format
    capacity: int


class RoomRenamed(Thing):
    """A new docstring is only documentation."""

    room: Premises  # type: ignore[assignment]


def changes(old: type[Event], new: type[Event]) -> list[str]:
    return breaking_changes(schema_for(old), schema_for(new))


def test_adding_an_optional_field_is_compatible() -> None:
    assert changes(Thing, WithFloor) == []


def test_descriptions_and_renamed_definitions_are_compatible() -> None:
    assert changes(Thing, RoomRenamed) == []


def test_adding_removing_or_changing_examples_is_compatible() -> None:
    with_examples = schema_for(Thing)
    without = {k: v for k, v in with_examples.items() if k != "examples"}
    other = {**with_examples, "examples": [{"thing_id": 7}]}
    assert breaking_changes(without, with_examples) == []
    assert breaking_changes(with_examples, without) == []
    assert breaking_changes(with_examples, other) == []


def test_removing_a_field_breaks() -> None:
    assert changes(WithFloor, Thing) == ["properties.floor: removed"]


def test_retyping_a_field_breaks() -> None:
    assert changes(Thing, IdAsNumber) == ["properties.thing_id: type changed string -> integer"]


def test_retyping_a_nested_models_field_breaks() -> None:
    assert changes(Thing, RoomCapacityAsText) == [
        "properties.room.properties.capacity: type changed integer -> string"
    ]


def test_retyping_array_items_breaks() -> None:
    assert changes(Thing, NumericTags) == ["properties.tags.items: type changed string -> integer"]


def test_making_an_optional_field_required_breaks() -> None:
    assert changes(Thing, NoteRequired) == ["properties.note: became required"]


def test_removing_an_enum_member_breaks() -> None:
    assert changes(Thing, ShopRemoved) == ['properties.kind: enum value "shop" removed']


def test_adding_an_enum_member_breaks() -> None:
    (problem,) = changes(Thing, FarmAdded)
    assert problem.startswith('properties.kind: enum value "farm" added')


def test_retyping_inside_any_of_and_tightening_additional_properties() -> None:
    old: dict[str, Any] = {
        "type": "object",
        "properties": {
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
    }
    new = json.loads(json.dumps(old))
    new["properties"]["note"]["anyOf"][0] = {"type": "integer"}
    new["additionalProperties"] = False
    new["properties"]["counts"]["additionalProperties"] = {"type": "number"}
    assert breaking_changes(old, new) == [
        "properties.note.anyOf[0]: type changed string -> integer",
        "properties.counts.additionalProperties: type changed integer -> number",
        "additionalProperties: tightened true -> false",
    ]


def test_recursive_definitions_terminate() -> None:
    tree = {
        "$ref": "#/$defs/Node",
        "$defs": {"Node": {"type": "object", "properties": {"kids": {
            "type": "array", "items": {"$ref": "#/$defs/Node"}}}}},
    }  # fmt: skip
    assert breaking_changes(tree, tree) == []


def test_schema_is_deterministic_and_describes_the_binding() -> None:
    text = render(schema_for(Thing))
    assert text == render(schema_for(Thing))
    assert text.endswith("}\n") and text.startswith('{\n  "$defs"')
    schema = json.loads(text)
    assert list(schema) == sorted(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["x-ce-type"] == "contracttest.Thing.v1"
    assert schema["x-topic"] == "contracttest.events"
    assert "ce_subject" in schema["x-key"]
    assert schema["description"] == "Something happened to a thing (the published v1)."
    body = json.loads(Thing(thing_id="t-1", room=Room(capacity=2), kind=Kind.SHOP).to_json())
    jsonschema.Draft202012Validator(schema).validate(body)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate({**body, "kind": "farm"})


# -- write / check on a temporary repository --------------------------------------------------

EVENTS = '''
from pydantic import ConfigDict

from common.events import Event


class Parcel(Event):
    """A parcel arrived."""

    name = "{service}.Parcel"
    topic = "{service}.events"
    {config}

    parcel_id: str
    weight: {weight}

    def subject(self) -> str:
        return self.parcel_id
'''
PARCEL = {"parcel_id": "p-1", "weight": 3}

MAIN = """
class service:  # stands in for a common.service.Service: the contract needs asyncapi()
    @staticmethod
    def asyncapi() -> dict:
        return {{"asyncapi": "3.0.0", "info": {{"title": "{service}", "version": "1"}}}}
"""

Layout = Callable[..., Path]


def forget(name: str) -> None:
    """Drop a temporary service's modules and registered events, so it can be re-imported."""
    for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
        del sys.modules[module]
    for ce_type in [t for t in events._REGISTRY if t.startswith(f"{name}.")]:
        del events._REGISTRY[ce_type]


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Layout]:
    """Writes services/<name>/src/<name>/ in tmp_path; imports stay local to the test."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    names: set[str] = set()

    def layout(
        name: str, weight: str | None = "int", examples: Sequence[Any] | None = (PARCEL,)
    ) -> Path:
        """``weight`` None: no event; ``examples`` None: Parcel has no ``examples`` config."""
        package = tmp_path / "services" / name / "src" / name
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text("")
        (package / "main.py").write_text(MAIN.format(service=name))
        extra = {"examples": list(examples or ())}
        config = (
            "" if examples is None else f"model_config = ConfigDict(json_schema_extra={extra!r})"
        )
        source = "" if weight is None else EVENTS.format(service=name, weight=weight, config=config)
        (package / "events.py").write_text(source)
        names.add(name)
        forget(name)
        return tmp_path

    yield layout
    for name in names:
        forget(name)


def git(root: Path, *args: str) -> None:
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", *identity, "-c", "commit.gpgsign=false", *args], cwd=root, check=True)


def test_a_plain_string_on_a_public_topic_must_be_free_text_or_an_identifier(
    service: Layout,
) -> None:
    root = service("ctfree", weight="str", examples=({"parcel_id": "p-1", "weight": "3 kg"},))
    write(root)

    problems = check(root, note=lambda _: None)

    (problem,) = problems
    assert problem.startswith("free text: ctfree.Parcel.v1.weight is a plain string")
    assert "parcel_id" not in problem  # an identifier, by its name


def test_write_then_check_passes_and_a_hand_edit_is_drift(service: Layout) -> None:
    root = service("ctwrite")
    notes: list[str] = []
    assert write(root) == [
        "schemas/ctwrite/Parcel.v1.json",
        "schemas/ctwrite/EVENTS.md",
        "schemas/ctwrite/asyncapi.json",
    ]
    assert write(root) == []
    assert check(root, note=notes.append) == []
    assert "compatibility check skipped" in notes[0]  # tmp_path is not a git repository

    path = root / "schemas/ctwrite/Parcel.v1.json"
    path.write_text(path.read_text().replace("A parcel arrived.", "Edited by hand."))
    (problem,) = check(root, note=notes.append)
    assert problem.startswith("drift: schemas/ctwrite/Parcel.v1.json differs")
    assert "python -m common.contract write" in problem


def test_cli_write_and_check(
    service: Layout, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = service("ctcli")
    monkeypatch.chdir(root / "services")
    assert contract.main(["write"]) == 0
    assert contract.main(["check", "ctcli"]) == 0
    (root / "schemas/ctcli/asyncapi.json").write_text("{}\n")
    (root / "schemas/ctcli/Old.v1.json").write_text("{}\n")
    assert contract.main(["check"]) == 1
    out = capsys.readouterr().out
    assert "drift: schemas/ctcli/asyncapi.json differs" in out
    assert "stale: schemas/ctcli/Old.v1.json" in out


def test_breaking_change_against_the_committed_schema(service: Layout) -> None:
    root = service("ctgit")
    write(root)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "publish Parcel v1")

    service("ctgit", weight="bool", examples=[{"parcel_id": "p-1", "weight": True}])
    breaking = (
        "breaking: schemas/ctgit/Parcel.v1.json vs HEAD: "
        "properties.weight: type changed integer -> boolean"
    )
    problems = check(root)
    assert problems[0].startswith("drift: schemas/ctgit/Parcel.v1.json")
    assert problems[1].startswith("drift: schemas/ctgit/EVENTS.md")
    assert problems[2:] == [breaking]
    write(root)  # regenerating does not make the change compatible
    assert check(root) == [breaking]

    service("ctgit", weight="int | None = None")  # an optional field... but was required
    write(root)
    assert check(root) == [
        "breaking: schemas/ctgit/Parcel.v1.json vs HEAD: properties.weight: no longer required "
        "(consumers rely on it)",
        "breaking: schemas/ctgit/Parcel.v1.json vs HEAD: properties.weight: type changed "
        "integer -> integer|null",
    ]


def test_a_published_schema_cannot_be_removed(service: Layout) -> None:
    root = service("ctgone")
    write(root)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "publish Parcel v1")

    service("ctgone", weight=None)
    (root / "schemas/ctgone/Parcel.v1.json").unlink()
    assert check(root) == [
        "removed: schemas/ctgone/Parcel.v1.json is published at HEAD but no model generates it"
    ]
    assert check(root, base="no-such-rev", note=lambda _: None) == []


READER = '''
from pydantic import ConfigDict

from common.events import ForeignEvent


class Pickup(ForeignEvent):
    """What ctconsumer reads of the courier context's Pickup."""

    name = "ctcourier.Pickup"
    topic = "ctcourier.events"

    model_config = ConfigDict(json_schema_extra={"examples": [{"parcel_id": "p-1"}]})

    parcel_id: str
    note: str | None = None

    def subject(self) -> str:
        return self.parcel_id
'''


def producer_schema(properties: dict[str, Any], required: list[str]) -> str:
    return json.dumps({
        "type": "object",
        "title": "ctcourier.Pickup.v1",
        "x-ce-type": "ctcourier.Pickup.v1",
        "properties": properties,
        "required": required,
    })  # fmt: skip


def test_a_consumed_event_is_a_reader_checked_against_the_producers_committed_schema(
    service: Layout,
) -> None:
    root = service("ctconsumer")
    package = root / "services/ctconsumer/src/ctconsumer"
    (package / "upstream").mkdir()
    (package / "upstream" / "__init__.py").write_text("")
    (package / "upstream" / "ctcourier.py").write_text(READER)
    main_py = package / "main.py"  # the wiring imports what the service consumes
    main_py.write_text("from ctconsumer.upstream import ctcourier  # noqa\n" + main_py.read_text())
    committed = root / "schemas/ctcourier/Pickup.v1.json"
    try:
        # Never written into the producer's folder, nor into the consumer's.
        assert write(root) == [
            "schemas/ctconsumer/Parcel.v1.json",
            "schemas/ctconsumer/EVENTS.md",
            "schemas/ctconsumer/asyncapi.json",
        ]
        assert not (root / "schemas/ctcourier").exists()
        assert events.event_class("ctcourier.Pickup.v1") is None  # off the registry
        (problem,) = check(root, note=lambda _: None)
        assert problem.startswith("reader: ctconsumer.upstream.ctcourier.Pickup reads")
        assert "schemas/ctcourier/Pickup.v1.json is not committed" in problem

        committed.parent.mkdir(parents=True)
        # The producer sends more than the reader reads, and a field it may leave out
        # that the reader defaults: readable.
        committed.write_text(
            producer_schema(
                {"parcel_id": {"type": "string"}, "note": {"type": "string"},
                 "weight_g": {"type": "integer"}},
                ["parcel_id", "weight_g"],
            )
        )  # fmt: skip
        assert check(root, note=lambda _: None) == []

        committed.write_text(producer_schema({"parcel_id": {"type": "string"}}, []))
        (problem,) = check(root, note=lambda _: None)
        assert problem.endswith(
            "properties.parcel_id: required by the reader, but the writer may leave it out"
        )

        committed.write_text(producer_schema({"parcel_id": {"type": "integer"}}, ["parcel_id"]))
        (problem,) = check(root, note=lambda _: None)
        assert "properties.parcel_id: type changed integer -> string" in problem
    finally:
        forget("ctcourier")


def test_committed_asyncapi_is_not_compat_checked(service: Layout) -> None:
    root = service("ctapi")
    write(root)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "publish")
    main = root / "services/ctapi/src/ctapi/main.py"
    main.write_text("class service:\n    asyncapi = staticmethod(lambda: {})\n")
    sys.modules.pop("ctapi.main")
    assert write(root) == ["schemas/ctapi/asyncapi.json"]
    assert check(root) == []


# -- examples and the catalogue ----------------------------------------------------------------


def test_an_event_without_an_example_fails_the_check(service: Layout) -> None:
    root = service("ctnoexample", examples=None)
    write(root)
    (problem,) = check(root, note=lambda _: None)
    assert problem.startswith(
        "example: schemas/ctnoexample/Parcel.v1.json has no example; give "
        "ctnoexample.Parcel.v1 model_config = ConfigDict(json_schema_extra="
    )


def test_an_example_that_does_not_validate_against_its_schema_fails_the_check(
    service: Layout,
) -> None:
    root = service("ctbadexample", examples=[PARCEL, {"parcel_id": "p-2", "weight": "heavy"}, {}])
    write(root)
    rel = "schemas/ctbadexample/Parcel.v1.json"
    assert check(root, note=lambda _: None) == [
        f"example: {rel} example 2 is invalid at $.weight: 'heavy' is not of type 'integer'",
        f"example: {rel} example 3 is invalid at $: 'parcel_id' is a required property",
        f"example: {rel} example 3 is invalid at $: 'weight' is a required property",
    ]
    # The example is in the schema a subscriber reads.
    assert json.loads((root / rel).read_text())["examples"][0] == PARCEL


def test_an_example_with_a_malformed_date_fails_the_check(service: Layout) -> None:
    root = service(
        "ctbaddate", weight="datetime.date", examples=[{"parcel_id": "p-1", "weight": "3 March"}]
    )
    events_py = root / "services/ctbaddate/src/ctbaddate/events.py"
    events_py.write_text("import datetime\n" + events_py.read_text())
    write(root)
    (problem,) = check(root, note=lambda _: None)
    assert problem == (
        "example: schemas/ctbaddate/Parcel.v1.json example 1 is invalid at $.weight: "
        "'3 March' is not a 'date'"
    )


def test_the_catalogue_is_generated_and_drift_checked(service: Layout) -> None:
    root = service("ctcatalogue")
    write(root)
    path = root / "schemas/ctcatalogue/EVENTS.md"
    text = path.read_text()
    for expected in (
        "# `ctcatalogue` events",
        "| [`ctcatalogue.Parcel.v1`](#ctcatalogueparcelv1) | `ctcatalogue.events` | `parcel_id` "
        "| A parcel arrived. |",
        "## Topic `ctcatalogue.events`",
        "### ctcatalogue.Parcel.v1",
        "- **key:** `parcel_id`; also the `ce_subject` header",
        "- **schema:** [Parcel.v1.json](Parcel.v1.json)",
        "| `weight` | integer | yes |  |",
        "ce_type: ctcatalogue.Parcel.v1\n",
        "ce_subject: p-1\n",
        "ce_source: /services/ctcatalogue\n",
        '```json\n{\n  "parcel_id": "p-1",\n  "weight": 3\n}\n```',
    ):
        assert expected in text
    assert write(root) == []  # deterministic

    path.write_text(text.replace("A parcel arrived.", "Edited by hand."))
    (problem,) = check(root, note=lambda _: None)
    assert problem.startswith("drift: schemas/ctcatalogue/EVENTS.md differs")
    path.unlink()
    (problem,) = check(root, note=lambda _: None)
    assert problem.startswith("drift: schemas/ctcatalogue/EVENTS.md is missing")
    assert write(root) == ["schemas/ctcatalogue/EVENTS.md"]
    assert path.read_text() == text


def test_the_catalogue_describes_nested_models_enums_and_the_wire_order() -> None:
    text = catalogue("contracttest", [(Thing, schema_for(Thing))])
    for expected in (
        "| `thing_id` | string | yes |  |",
        "| `room` | `Room` (below) | yes |  |",
        "| `kind` | one of `house`, `shop` | yes |  |",
        "| `tags` | array of string | no |  |",
        "| `note` | string or null | no |  |",
        "`Room`:\n\n| field | type | required | description |\n|---|---|---|---|\n"
        "| `capacity` | integer | yes |  |",
    ):
        assert expected in text
    # The body as the producer sends it: fields in the model's order, defaults included.
    assert (
        '{\n  "thing_id": "t-1",\n  "room": {\n    "capacity": 2\n  },\n  "kind": "shop",' in text
    )
    assert '"note": null\n}' in text
