"""Penalties' migrations build exactly the tables its code declares."""

from __future__ import annotations

from pathlib import Path

from common.db import runtime_metadata
from common.testing import schema_differences
from penalties.adapters.metadata import all_tables


def test_the_migrated_schema_is_the_declared_one(template: Path) -> None:
    differences = schema_differences(template, [all_tables(), runtime_metadata])
    assert differences == [], "\n".join(map(str, differences))
