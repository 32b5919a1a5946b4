"""The migrations build exactly the declared tables (and this module shares its name
with registration's: importlib mode lets both be collected)."""

from __future__ import annotations

from pathlib import Path

from common.db import runtime_metadata
from common.testing import schema_differences
from noticeboard.tables import metadata


def test_migrated_schema_has_no_difference_from_the_declared_tables(template: Path) -> None:
    differences = schema_differences(template, [metadata, runtime_metadata])
    assert differences == [], "\n".join(map(str, differences))
