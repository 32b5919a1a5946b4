"""Alembic environment of the noticeboard (see common.migrations)."""

from common.db import runtime_metadata
from common.migrations import run_env
from noticeboard.tables import metadata

run_env([metadata, runtime_metadata])
