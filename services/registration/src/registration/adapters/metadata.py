"""The one ``MetaData`` of registration's tables (one migration history).

Each feature's tables are in ``adapters/<feature>_tables.py``; :func:`all_tables` loads
them all, for Alembic and the tests that compare the migrations with the tables.
"""

from __future__ import annotations

from sqlalchemy import MetaData

from common.db import NAMING

metadata = MetaData(naming_convention=NAMING)


def all_tables() -> MetaData:
    """``metadata`` with every feature's tables on it."""
    from registration.adapters import (  # noqa: F401  (each module's tables join metadata)
        agreements_tables,
        employment_tables,
        figures_tables,
        persons_tables,
        places_tables,
        reconciliation_tables,
        residences_tables,
    )

    return metadata
