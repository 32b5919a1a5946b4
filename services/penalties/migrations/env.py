"""Alembic environment of the penalties service (see common.migrations)."""

from common.db import runtime_metadata
from common.migrations import run_env
from penalties.adapters.metadata import all_tables

run_env([all_tables(), runtime_metadata])
