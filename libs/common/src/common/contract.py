"""Published event contracts: JSON Schema per event version, AsyncAPI per service, and a
markdown catalogue (``EVENTS.md``) per context.

``python -m common.contract write [SERVICE...]`` regenerates ``schemas/<service>/``;
``python -m common.contract check [SERVICE...] [--base REV]`` fails on drift between the
code and the committed files, on an event without a valid example, and on breaking
changes to a schema published at ``REV``.

An event's examples are pydantic's own: ``model_config = ConfigDict(json_schema_extra=
{"examples": [body, ...]})`` on the event class puts them in its schema (``examples``).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import inspect
import json
import re
import subprocess
import sys
import typing
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from common.events import Event, FreeText, foreign_events, registered_events

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ASYNCAPI_FILE = "asyncapi.json"
CATALOGUE_FILE = "EVENTS.md"
WRITE_HINT = "run `python -m common.contract write`"

# Keywords whose change alters which documents validate (besides the structural ones
# walked below). Titles, descriptions, examples, defaults and x-* keys are descriptive.
_VALUE_KEYWORDS = (
    "format", "const", "pattern", "minLength", "maxLength", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems",
    "uniqueItems", "minProperties", "maxProperties", "prefixItems",
)  # fmt: skip
_COMBINATORS = ("anyOf", "oneOf", "allOf")

Json = dict[str, Any]
Document = Json | str  # a JSON document, or the text of a markdown one


# -- generation ----------------------------------------------------------------------------


def schema_path(model: type[Event]) -> str:
    """Where a model's schema lives: ``schemas/<context>/<Name>.v<N>.json``."""
    context, event_name = model.name.split(".", 1)
    return f"schemas/{context}/{event_name}.v{model.version}.json"


def schema_for(model: type[Event]) -> Json:
    """The JSON Schema (2020-12) of one event version, with its CloudEvents/Kafka binding."""
    schema = model.model_json_schema(mode="serialization")
    schema.update({
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"urn:cloudevents:type:{model.ce_type()}",
        "title": model.ce_type(),
        "x-ce-type": model.ce_type(),
        "x-topic": model.topic,
        "x-key": "the aggregate id, from ce_subject",
    })  # fmt: skip
    doc = model.__dict__.get("__doc__")
    if doc:
        schema["description"] = inspect.cleandoc(doc)
    return schema


def render(document: Document) -> str:
    """Deterministic text of a document, so committed files are stable."""
    if isinstance(document, str):
        return document
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generate(service: str) -> dict[str, Document]:
    """Every contract document of a service, by path relative to the repository root:
    ``schemas/<service>/``, its own events only.

    The events it consumes from other contexts are its readers (:class:`ForeignEvent`),
    never written here: ``schemas/<context>/`` is that context's. They are checked
    against it instead (:func:`reader_problems`).
    """
    importlib.import_module(f"{service}.events")
    main = importlib.import_module(f"{service}.main")  # imports the readers too
    events = [
        (model, schema_for(model))
        for _ce_type, model in sorted(registered_events().items())
        if model.name.split(".")[0] == service
    ]
    documents: dict[str, Document] = {schema_path(model): schema for model, schema in events}
    if events:
        documents[f"schemas/{service}/{CATALOGUE_FILE}"] = catalogue(service, events)
    documents[f"schemas/{service}/{ASYNCAPI_FILE}"] = main.service.asyncapi()
    return documents


def reader_problems(root: Path, service: str) -> list[str]:
    """Why a reader (foreign event) of ``service`` could not read what its producer
    committed in ``schemas/<context>/`` (empty: every reader can)."""
    problems = []
    for reader in foreign_events(service):
        rel = schema_path(reader)
        path = root / rel
        if not path.is_file():
            problems.append(
                f"reader: {reader.__module__}.{reader.__qualname__} reads {reader.ce_type()}, "
                f"but {rel} is not committed (the producer's schema, or a proposal for it)"
            )
            continue
        written = json.loads(path.read_text(encoding="utf-8"))
        problems += [
            f"reader: {reader.__module__}.{reader.__qualname__} vs {rel}: {change}"
            for change in _Diff(written, schema_for(reader), reader=True).run()
        ]
    return problems


# -- free text on public topics -------------------------------------------------------------

IDENTIFIER_SUFFIXES = ("_id", "_ids", "_ref", "_masked", "_no", "_code", "_version", "_kind",
                       "_by", "_region", "_worker")  # fmt: skip
IDENTIFIER_NAMES = frozenset({
    "kind", "month", "gender", "changed_fields", "seed",
    "officer", "landlord_hint",  # an account, a party id (inspection's first contract)
})  # fmt: skip
"""Names of string fields that hold identifiers, codes or enumerated values, not text a
person typed. Any other string field of an event on a public topic must be constrained
(a ``pattern`` or an enumeration), or
:data:`common.events.FreeText`, whose identity and phone numbers are scrubbed on the way
out (issue 7: an identity number typed into an address reached the public topic)."""


def _constrained(node: Any) -> bool:
    """A string schema that cannot hold free text: a pattern or an enumeration."""
    if not isinstance(node, dict):
        return False
    if "pattern" in node or "enum" in node or "const" in node:
        return True
    return any(_constrained(n) for n in node.get("anyOf", [])) and all(
        _constrained(n) or n.get("type") == "null" for n in node.get("anyOf", [])
    )


def free_text_problems(service: str) -> list[str]:
    """String fields of ``service``'s public events that are neither FreeText nor named as
    an identifier (empty: none)."""
    main = importlib.import_module(f"{service}.main")
    restricted: frozenset[str] = getattr(main.service, "restricted_topics", frozenset())
    scrubbed = typing.get_args(FreeText)[1:]
    problems = []
    for model in registered_events().values():
        if model.name.split(".")[0] != service or model.topic in restricted:
            continue
        properties = schema_for(model).get("properties", {})
        for name, field in model.model_fields.items():
            if str not in (field.annotation, *typing.get_args(field.annotation)):
                continue
            if any(m in field.metadata for m in scrubbed) or _constrained(properties.get(name)):
                continue
            if name in IDENTIFIER_NAMES or name.endswith(IDENTIFIER_SUFFIXES):
                continue
            problems.append(
                f"free text: {model.ce_type()}.{name} is a plain string on the public topic "
                f"{model.topic}; type it common.events.FreeText (numbers in it are scrubbed) "
                "or, if it is an identifier, name it so (common.contract.IDENTIFIER_SUFFIXES)"
            )
    return problems


# -- examples --------------------------------------------------------------------------------


def example_problems(rel: str, schema: Json) -> list[str]:
    """Why an event schema's ``examples`` do not document it (empty: they do).

    Every event needs at least one example, and each must validate against the schema it
    is in (formats such as ``date`` and ``date-time`` included), as a subscriber would.
    """
    examples = schema.get("examples")
    if not examples:
        return [
            f"example: {rel} has no example; give {schema.get('x-ce-type', 'the event')} "
            'model_config = ConfigDict(json_schema_extra={"examples": [...]})'
        ]
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    problems = []
    for number, example in enumerate(examples, 1):
        for error in sorted(validator.iter_errors(example), key=lambda e: e.json_path):
            problems.append(
                f"example: {rel} example {number} is invalid at {error.json_path}: {error.message}"
            )
    return problems


# -- catalogue -------------------------------------------------------------------------------

_HEADERS = (
    ("ce_specversion", "`1.0`"),
    ("ce_id", "UUID of the event; delivery is at least once: deduplicate by it"),
    ("ce_source", "`/services/{context}`"),
    ("ce_type", "`<context>.<Name>.v<N>`: names the schema, `<Name>.v<N>.json` in this folder"),
    ("ce_time", "when the event was recorded (RFC 3339)"),
    ("ce_subject", "the aggregate id, equal to the record's key"),
    ("content-type", "`application/json`"),
    ("ce_correlationid", "id of the request (or event) that caused it, for tracing"),
    ("traceparent", "W3C trace context"),
)


def catalogue(service: str, events: Sequence[tuple[type[Event], Json]]) -> str:
    """``schemas/<service>/EVENTS.md``: every event ``service`` publishes, by topic, from
    the schemas already built (meaning, key, fields, example records)."""
    context = service
    lines = [
        f"# `{context}` events",
        "",
        f"Generated by `python -m common.contract write` from the event models of `{service}`;",
        "do not edit. Each event's JSON Schema (2020-12) is `<Name>.v<N>.json` in this folder.",
        "",
    ]
    lines += [
        "Every record is a CloudEvents 1.0 event in Kafka binary mode: the key is the",
        "aggregate id, the body is the event's JSON, the attributes are headers:",
        "",
        "| header | value |",
        "|---|---|",
        *(f"| `{name}` | {value.format(context=context)} |" for name, value in _HEADERS),
        "",
        "Ignore headers you do not know (the producer's Kafka library may add its own).",
        "Pick the schema by `ce_type`, validate the body, ignore properties you do not use",
        "(a version only ever gains optional ones), and skip or park a `ce_type` you do not",
        "know. A plain subscriber: `examples/subscriber.py` at the repository root.",
        "",
    ]
    lines += ["| event | topic | key | meaning |", "|---|---|---|---|"]
    keys = {model: _key_text(model, schema) for model, schema in events}
    by_topic = sorted(events, key=lambda pair: pair[0].topic)  # stable: by ce_type within
    for model, schema in by_topic:
        meaning = str(schema.get("description", "")).split("\n\n")[0].replace("\n", " ")
        link = f"[`{model.ce_type()}`](#{_anchor(model.ce_type())})"
        lines.append(f"| {link} | `{model.topic}` | {keys[model]} | {_cell(meaning)} |")
    for topic in sorted({model.topic for model, _ in events}):
        lines += ["", f"## Topic `{topic}`"]
        for model, schema in (pair for pair in by_topic if pair[0].topic == topic):
            lines += ["", *_event_section(context, model, schema, keys[model])]
    return "\n".join(lines) + "\n"


def _anchor(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _event_section(context: str, model: type[Event], schema: Json, key: str) -> list[str]:
    file = schema_path(model).rsplit("/", 1)[1]
    lines = [
        f"### {model.ce_type()}",
        "",
        schema.get("description", "(no description)"),
        "",
        f"- **ce_type:** `{model.ce_type()}`",
        f"- **topic:** `{model.topic}`",
        f"- **key:** {key}; also the `ce_subject` header",
        f"- **schema:** [{file}]({file})",
        "",
        *_fields_table(schema, schema),
    ]
    for name in _nested_objects(schema):
        lines += ["", f"`{name}`:", "", *_fields_table(schema, schema["$defs"][name])]
    for number, example in enumerate(schema.get("examples") or [], 1):
        lines += ["", *_example_record(context, model, number, example)]
    return lines


def _wire(model: type[Event], example: Json) -> Json | None:
    """``example`` as the producer sends it (fields in model order), or None if invalid."""
    try:
        return model.model_validate(example).model_dump(mode="json")
    except ValueError:  # pydantic's ValidationError; check reports the example
        return None


def _key_field(model: type[Event], example: Json) -> str | None:
    """The field of ``example`` that the event's key (``subject()``) takes its value from."""
    body = _wire(model, example)
    if body is None:
        return None
    subject = model.model_validate(body).subject()
    return next((field for field, value in body.items() if value == subject), None)


def _key_text(model: type[Event], schema: Json) -> str:
    keys = [_key_field(model, example) for example in schema.get("examples") or []]
    if not keys or None in keys:
        return str(schema.get("x-key"))
    if len(set(keys)) == 1:
        return f"`{keys[0]}`"
    return " or ".join(f"`{k}` (example {i})" for i, k in enumerate(keys, 1))


def _fields_table(root: Json, node: Json) -> list[str]:
    required = set(node.get("required", ()))
    rows = ["| field | type | required | description |", "|---|---|---|---|"]
    for name, prop in node.get("properties", {}).items():
        target = _resolve(root, prop)
        description = prop.get("description") or target.get("description", "")
        cells = (f"`{name}`", _type_text(root, prop), "yes" if name in required else "no")
        rows.append("| " + " | ".join((*cells, _cell(description))) + " |")
    return rows


def _resolve(root: Json, node: Json) -> Json:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return dict(root["$defs"][ref.removeprefix("#/$defs/")])
    return node


def _type_text(root: Json, node: Json) -> str:
    """A reader's name for a property's type: ``string (date-time) or null``, ``array of
    `RoomCapacity` ``, ``one of `a`, `b` ``."""
    if "$ref" in node:
        name, target = str(node["$ref"]).rsplit("/", 1)[-1], _resolve(root, node)
        if "enum" in target:
            return "one of " + ", ".join(f"`{v}`" for v in target["enum"])
        return f"`{name}` (below)" if target.get("type") == "object" else _type_text(root, target)
    for key in _COMBINATORS:
        if key in node:
            return " or ".join(_type_text(root, branch) for branch in node[key])
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    kind = node.get("type", "any")
    text = " or ".join(kind) if isinstance(kind, list) else str(kind)
    if text == "array":
        text = "array of " + _type_text(root, node.get("items", {}))
    limits = [node["format"]] if "format" in node else []
    limits += [f"{sign} {node[k]}" for k, sign in _LIMITS if k in node]
    return f"{text} ({', '.join(limits)})" if limits else text


_LIMITS = (
    ("minimum", "≥"), ("maximum", "≤"), ("minLength", "length ≥"), ("maxLength", "length ≤"),
    ("minItems", "items ≥"), ("maxItems", "items ≤"), ("pattern", "pattern"),
)  # fmt: skip


def _nested_objects(schema: Json) -> list[str]:
    """Names of the object ``$defs`` the event refers to, in the order they first appear."""
    found: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                name = ref.removeprefix("#/$defs/")
                target = schema["$defs"][name]
                if target.get("type") == "object" and name not in found:
                    found.append(name)
                    visit(target)
            for key, value in node.items():
                if key not in ("$defs", "examples"):
                    visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(schema)
    return found


def _example_record(context: str, model: type[Event], number: int, example: Json) -> list[str]:
    """An example as the record a subscriber receives: key, headers and body.

    Header values are made up deterministically; ``ce_time`` is the body's last top-level
    timestamp (the moment the fact was recorded).
    """
    key = _key_field(model, example)
    subject = str(example[key]) if key else "<aggregate id>"
    seed = f"{model.ce_type()}#{number}"
    event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, seed))
    stamps = [v for v in example.values() if isinstance(v, str) and _is_timestamp(v)]
    digest = hashlib.sha256(seed.encode()).hexdigest()
    headers = {
        "ce_specversion": "1.0",
        "ce_id": event_id,
        "ce_source": f"/services/{context}",
        "ce_type": model.ce_type(),
        "ce_time": datetime.fromisoformat(stamps[-1]).isoformat() if stamps else "<now>",
        "ce_subject": subject,
        "content-type": "application/json",
        "ce_correlationid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{seed}/request")),
        "traceparent": f"00-{digest[:32]}-{digest[32:48]}-01",
    }
    body = json.dumps(_wire(model, example) or example, indent=2, ensure_ascii=False)
    return [
        f"Example {number}: key `{subject}`, headers:",
        "",
        "```text",
        *(f"{name}: {value}" for name, value in headers.items()),
        "```",
        "",
        "body:",
        "",
        "```json",
        body,
        "```",
    ]


def _is_timestamp(value: str) -> bool:
    if "T" not in value:
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


# -- compatibility -------------------------------------------------------------------------


def breaking_changes(old: Json, new: Json) -> list[str]:
    """Why ``new`` cannot replace ``old`` as the same published event version (empty: it can).

    Compatible: adding an optional property; changing titles, descriptions, examples,
    defaults or ``x-*`` keys; renaming a ``$defs`` entry (references are resolved).
    Breaking: anything that changes which bodies validate - a removed property, a changed
    type/format/const/constraint, a property that became (or stopped being) required,
    tightened ``additionalProperties``, and any change to an enum: a removed value breaks
    consumers of old events; an added one breaks consumers that validate against the
    version they know, which could then reject live events - publish ``v<N+1>`` instead.
    """
    return _Diff(old, new).run()


def _describe(node: Any) -> str:
    if not isinstance(node, dict):
        return json.dumps(node)
    if "$ref" in node:
        return str(node["$ref"]).rsplit("/", 1)[-1]
    for key in _COMBINATORS:
        if key in node:
            return "|".join(_describe(branch) for branch in node[key])
    if "const" in node:
        return json.dumps(node["const"])
    if "type" in node:
        types = node["type"]
        return "|".join(types) if isinstance(types, list) else str(types)
    return "enum" if "enum" in node else "any"


class _Diff:
    """``old`` is what is written; ``new`` replaces it, or (``reader=True``) reads it.

    A reader may leave out properties (unknown fields are ignored on read), leave out
    constraints, and accept more enum values; it must not require what the writer may
    leave out, nor constrain differently what it reads.
    """

    def __init__(self, old_root: Json, new_root: Json, *, reader: bool = False) -> None:
        self.roots = (old_root, new_root)
        self.reader = reader
        self.problems: list[str] = []

    def run(self) -> list[str]:
        self.walk(self.roots[0], self.roots[1], "", frozenset())
        return self.problems

    def report(self, path: str, message: str) -> None:
        self.problems.append(f"{path or '(root)'}: {message}")

    def resolve(self, side: int, node: Any) -> tuple[Any, str | None]:
        """Follow local ``$ref``s (siblings of a ``$ref`` override the target's keys)."""
        ref = None
        while isinstance(node, dict) and "$ref" in node:
            ref = str(node["$ref"])
            target: Any = self.roots[side]
            for part in ref.removeprefix("#/").split("/"):
                target = target.get(part, {}) if ref.startswith("#/") else {}
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return node, ref

    def walk(self, old: Any, new: Any, path: str, active: frozenset[tuple[str, str]]) -> None:
        (old, old_ref), (new, new_ref) = self.resolve(0, old), self.resolve(1, new)
        if old_ref or new_ref:
            pair = (old_ref or "", new_ref or "")
            if pair in active:  # a recursive model: this pair is being compared above
                return
            active = active | {pair}
        if not isinstance(old, dict) or not isinstance(new, dict):
            if old != new:  # boolean schemas (true/false)
                self.report(path, f"schema changed {_describe(old)} -> {_describe(new)}")
            return
        if not self.same_shape(old, new, path, active):
            return
        for key in _VALUE_KEYWORDS:
            if self.reader and key not in new:
                continue  # the reader does not check it
            if old.get(key) != new.get(key):
                self.report(path, f"{key} changed {_json(old.get(key))} -> {_json(new.get(key))}")
        self.enums(old, new, path)
        self.objects(old, new, path, active)
        if "items" in old or "items" in new:
            self.walk(old.get("items", True), new.get("items", True), _at(path, "items"), active)

    def same_shape(self, old: Json, new: Json, path: str, active: frozenset[Any]) -> bool:
        """Compare combinators and types; False when they differ (nothing below matters)."""
        if self.reader and "anyOf" in new and "anyOf" not in old:
            # The reader accepts one of several shapes (``X | None``): one must read it.
            for branch in new["anyOf"]:
                trial = _Diff(*self.roots, reader=True)
                trial.walk(old, branch, path, active)
                if not trial.problems:
                    return False
            self.report(path, f"type changed {_describe(old)} -> {_describe(new)}")
            return False
        old_types, new_types = _types(old), _types(new)
        if self.reader and old_types and new_types and old_types <= new_types:
            return True  # the reader accepts every type written (and maybe null)
        for key in _COMBINATORS:
            if (key in old) != (key in new) or len(old.get(key, ())) != len(new.get(key, ())):
                self.report(path, f"type changed {_describe(old)} -> {_describe(new)}")
                return False
            for i, (o, n) in enumerate(zip(old.get(key, ()), new.get(key, ()), strict=True)):
                self.walk(o, n, _at(path, f"{key}[{i}]"), active)
        if old_types != new_types:
            self.report(path, f"type changed {_describe(old)} -> {_describe(new)}")
            return False
        return True

    def enums(self, old: Json, new: Json, path: str) -> None:
        old_values, new_values = old.get("enum"), new.get("enum")
        if old_values is None or new_values is None:
            if old_values != new_values:
                self.report(path, f"enum changed {_json(old_values)} -> {_json(new_values)}")
            return
        for value in (v for v in old_values if v not in new_values):
            self.report(path, f"enum value {_json(value)} removed")
        if self.reader:
            return  # a reader may know more values than are written
        for value in (v for v in new_values if v not in old_values):
            self.report(path, f"enum value {_json(value)} added (consumers would reject it)")

    def objects(self, old: Json, new: Json, path: str, active: frozenset[Any]) -> None:
        if self.reader:
            self.read_properties(old, new, path, active)
        else:
            self.replace_properties(old, new, path, active)
        old_extra = old.get("additionalProperties", True)
        new_extra = new.get("additionalProperties", True)
        sub = _at(path, "additionalProperties")
        tightened = new_extra is False or (old_extra is True and new_extra is not True)
        if isinstance(old_extra, dict) and isinstance(new_extra, dict):
            self.walk(old_extra, new_extra, sub, active)
        elif tightened and old_extra is not False:
            self.report(sub, f"tightened {_json(old_extra)} -> {_json(new_extra)}")

    def read_properties(self, old: Json, new: Json, path: str, active: frozenset[Any]) -> None:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_req, new_req = set(old.get("required", ())), set(new.get("required", ()))
        for name, schema in new_props.items():
            sub = _at(path, f"properties.{name}")
            if name in new_req and name not in old_req:
                self.report(sub, "required by the reader, but the writer may leave it out")
            if name in old_props:
                self.walk(old_props[name], schema, sub, active)

    def replace_properties(self, old: Json, new: Json, path: str, active: frozenset[Any]) -> None:
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_req, new_req = set(old.get("required", ())), set(new.get("required", ()))
        for name, schema in old_props.items():
            sub = _at(path, f"properties.{name}")
            if name not in new_props:
                self.report(sub, "removed")
                continue
            if name in new_req and name not in old_req:
                self.report(sub, "became required")
            if name in old_req and name not in new_req:
                self.report(sub, "no longer required (consumers rely on it)")
            self.walk(schema, new_props[name], sub, active)
        for name in sorted(new_props.keys() - old_props.keys()):
            if name in new_req:
                self.report(_at(path, f"properties.{name}"), "added as required")


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _types(node: Json) -> frozenset[str] | None:
    types = node.get("type")
    return None if types is None else frozenset(types if isinstance(types, list) else [types])


def _json(value: Any) -> str:
    return "absent" if value is None else json.dumps(value, sort_keys=True)


# -- write / check -------------------------------------------------------------------------


def find_root(start: Path | None = None) -> Path:
    """The repository root: the nearest directory (upwards) that has ``services/``."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "services").is_dir():
            return candidate
    raise FileNotFoundError(f"no services/ directory above {here}")


def discover_services(root: Path) -> list[str]:
    """Every ``services/<name>`` with events: ``src/<name>/events.py`` or ``events/``."""
    base = root / "services"
    return sorted(d.name for d in base.iterdir() if _has_events(d / "src" / d.name))


def _has_events(package: Path) -> bool:
    return (package / "events.py").is_file() or (package / "events" / "__init__.py").is_file()


def _generate_all(root: Path, services: Sequence[str] | None) -> dict[str, dict[str, Document]]:
    names = list(services) if services else discover_services(root)
    for name in names:
        src = str(root / "services" / name / "src")
        if src not in sys.path:
            sys.path.insert(0, src)
    return {name: generate(name) for name in names}


def write(root: Path, services: Sequence[str] | None = None) -> list[str]:
    """Write the generated documents; returns the paths whose content changed."""
    changed = []
    for documents in _generate_all(root, services).values():
        for rel, document in documents.items():
            target, text = root / rel, render(document)
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
                changed.append(rel)
    return changed


def _git(root: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    except OSError:
        return None
    return result.stdout if result.returncode == 0 else None


def check(
    root: Path,
    services: Sequence[str] | None = None,
    base: str | None = "HEAD",
    note: Callable[[str], None] | None = None,
) -> list[str]:
    """Problems (empty: all good): drift, stale files, events without a valid example, and
    breaking changes since ``base``."""
    note = note or (lambda message: print(message, file=sys.stderr))
    generated = _generate_all(root, services)
    if not generated:
        return [f"no services with src/<name>/events(.py) under {root / 'services'}"]
    if base is not None and _git(root, "rev-parse", "--verify", f"{base}^{{commit}}") is None:
        note(f"note: git or revision {base!r} unavailable; compatibility check skipped")
        base = None
    problems: list[str] = []
    for service, documents in generated.items():
        for rel, document in documents.items():
            target = root / rel
            if not target.is_file():
                problems.append(f"drift: {rel} is missing; {WRITE_HINT}")
            elif target.read_text(encoding="utf-8") != render(document):
                problems.append(f"drift: {rel} differs from the event models; {WRITE_HINT}")
            if isinstance(document, dict) and "x-ce-type" in document:
                problems += example_problems(rel, document)
        problems += reader_problems(root, service)
        problems += free_text_problems(service)
        published: list[str] = []
        if base is not None:
            listing = _git(root, "ls-tree", "-r", "--name-only", base, "--", f"schemas/{service}/")
            published = [p for p in (listing or "").splitlines() if p.endswith(".json")]
        for rel in published:
            if rel.endswith(f"/{ASYNCAPI_FILE}"):
                continue  # AsyncAPI documents are drift-checked only
            if rel not in documents:
                problems.append(f"removed: {rel} is published at {base} but no model generates it")
                continue
            text = _git(root, "show", f"{base}:./{rel}")
            if text is None:
                note(f"note: cannot read {rel} at {base}; compatibility check skipped for it")
                continue
            new = documents[rel]
            assert isinstance(new, dict), rel  # an event schema, not a catalogue
            changes = breaking_changes(json.loads(text), new)
            problems += [f"breaking: {rel} vs {base}: {change}" for change in changes]
        for stale in sorted((root / "schemas" / service).glob("*.json")):
            rel = stale.relative_to(root).as_posix()
            if rel not in documents and rel not in published:
                problems.append(f"stale: {rel} is not generated by any event model of {service}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m common.contract", description=__doc__)
    parser.add_argument("command", choices=("write", "check"))
    parser.add_argument("services", nargs="*", metavar="SERVICE")
    parser.add_argument("--base", default="HEAD", help="git revision with the published schemas")
    args = parser.parse_args(argv)
    root = find_root()
    if args.command == "write":
        for rel in write(root, args.services):
            print(f"wrote {rel}")
        return 0
    problems = check(root, args.services, args.base)
    for problem in problems:
        print(problem)
    if problems:
        print(
            f"\ncontract check failed: {len(problems)} problem(s). A published event version "
            "only accepts new optional fields; publish a new version (v<N+1>) otherwise."
        )
        return 1
    print("contract check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
