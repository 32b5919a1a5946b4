"""Alembic environment of the inspection service (see common.migrations)."""

from common.db import runtime_metadata
from common.migrations import run_env
from inspection.adapters.metadata import all_tables

run_env([all_tables(), runtime_metadata])
