"""Alembic environment of the registration service (see common.migrations)."""

from common.db import runtime_metadata
from common.migrations import run_env
from registration.adapters import (
    employment_tables,  # noqa: F401  (its tables join metadata)
    places_tables,  # noqa: F401  (its tables join metadata)
    reconciliation_tables,  # noqa: F401  (joins metadata)
)
from registration.adapters.tables import metadata

run_env([metadata, runtime_metadata])
