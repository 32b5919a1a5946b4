"""Published event contracts: JSON Schema per event version, AsyncAPI per service.

``python -m common.contract write [SERVICE...]`` regenerates ``schemas/<service>/``;
``python -m common.contract check [SERVICE...] [--base REV]`` fails on drift between the
code and the committed files, and on breaking changes to a schema published at ``REV``.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from common.events import Event, registered_events

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ASYNCAPI_FILE = "asyncapi.json"
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


def render(document: Json) -> str:
    """Deterministic text of a document, so committed files are stable."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generate(service: str) -> dict[str, Json]:
    """Every contract document of a service, by path relative to the repository root.

    An event is written under its own context: ``schemas/<context>/``. A service's
    modules may define events of another context that it consumes before that context's
    service exists; they are written under ``schemas/<that context>/``, the proposed
    contract for that service to publish.
    """
    importlib.import_module(f"{service}.events")
    # The wiring imports the modules that define consumed (upstream) events.
    main = importlib.import_module(f"{service}.main")
    documents: dict[str, Json] = {}
    for _ce_type, model in sorted(registered_events().items()):
        if not model.__module__.startswith(f"{service}."):
            continue
        documents[schema_path(model)] = schema_for(model)
    documents[f"schemas/{service}/{ASYNCAPI_FILE}"] = main.asyncapi_document()
    return documents


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
    def __init__(self, old_root: Json, new_root: Json) -> None:
        self.roots = (old_root, new_root)
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
            if old.get(key) != new.get(key):
                self.report(path, f"{key} changed {_json(old.get(key))} -> {_json(new.get(key))}")
        self.enums(old, new, path)
        self.objects(old, new, path, active)
        if "items" in old or "items" in new:
            self.walk(old.get("items", True), new.get("items", True), _at(path, "items"), active)

    def same_shape(self, old: Json, new: Json, path: str, active: frozenset[Any]) -> bool:
        """Compare combinators and types; False when they differ (nothing below matters)."""
        for key in _COMBINATORS:
            if (key in old) != (key in new) or len(old.get(key, ())) != len(new.get(key, ())):
                self.report(path, f"type changed {_describe(old)} -> {_describe(new)}")
                return False
            for i, (o, n) in enumerate(zip(old.get(key, ()), new.get(key, ()), strict=True)):
                self.walk(o, n, _at(path, f"{key}[{i}]"), active)
        if _types(old) != _types(new):
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
        for value in (v for v in new_values if v not in old_values):
            self.report(path, f"enum value {_json(value)} added (consumers would reject it)")

    def objects(self, old: Json, new: Json, path: str, active: frozenset[Any]) -> None:
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
        old_extra = old.get("additionalProperties", True)
        new_extra = new.get("additionalProperties", True)
        sub = _at(path, "additionalProperties")
        tightened = new_extra is False or (old_extra is True and new_extra is not True)
        if isinstance(old_extra, dict) and isinstance(new_extra, dict):
            self.walk(old_extra, new_extra, sub, active)
        elif tightened and old_extra is not False:
            self.report(sub, f"tightened {_json(old_extra)} -> {_json(new_extra)}")


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
    """Every ``services/<name>`` that has ``src/<name>/events.py``."""
    base = root / "services"
    return sorted(d.name for d in base.iterdir() if (d / "src" / d.name / "events.py").is_file())


def _generate_all(root: Path, services: Sequence[str] | None) -> dict[str, dict[str, Json]]:
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
    """Problems (empty: all good): drift, stale files, and breaking changes since ``base``."""
    note = note or (lambda message: print(message, file=sys.stderr))
    generated = _generate_all(root, services)
    if not generated:
        return [f"no services with src/<name>/events.py under {root / 'services'}"]
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
            changes = breaking_changes(json.loads(text), documents[rel])
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
