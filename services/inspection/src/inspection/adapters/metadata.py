"""The one ``MetaData`` of inspection's tables (one migration history).

Each feature's tables are in ``adapters/<feature>_tables.py``; :func:`all_tables` loads
them all, for Alembic and the test that compares the migrations with the tables.
"""

from __future__ import annotations

from sqlalchemy import MetaData

from common.db import NAMING

metadata = MetaData(naming_convention=NAMING)


def all_tables() -> MetaData:
    """``metadata`` with every feature's tables on it."""
    from inspection.adapters import (  # noqa: F401  (each module's tables join metadata)
        cross_tables,
        follow_ups_tables,
        plans_tables,
        registry_tables,
        sweeps_tables,
        verification_tables,
        visits_tables,
    )

    return metadata
