"""The committed schemas/ match the event models and never break a published version.

Red until a service has ``src/<name>/events.py`` and its generated schemas are committed:
run ``uv run python -m common.contract write`` and commit ``schemas/``.
"""

from __future__ import annotations

from pathlib import Path

from common.contract import check, discover_services, find_root

ROOT = find_root(Path(__file__).parent)


def test_at_least_one_service_publishes_events() -> None:
    assert discover_services(ROOT), "no services/<name>/src/<name>/events.py found"


def test_committed_schemas_match_the_models_and_stay_compatible() -> None:
    problems = check(ROOT, base="HEAD")
    assert problems == [], "\n".join(problems)
