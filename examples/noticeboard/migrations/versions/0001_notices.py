"""notices and grid buildings

Revision ID: 0001
Revises:
Create Date: 2026-12-04 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "grid_buildings",
        sa.Column("property_id", sa.String(), nullable=False),
        sa.Column("grid_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("property_id", name=op.f("pk_grid_buildings")),
    )
    op.create_index(op.f("ix_grid_buildings_grid_id"), "grid_buildings", ["grid_id"])
    op.create_table(
        "notices",
        sa.Column("notice_id", sa.String(length=36), nullable=False),
        sa.Column("grid_id", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("posted_by", sa.String(length=200), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("notice_id", name=op.f("pk_notices")),
    )
    op.create_index(op.f("ix_notices_grid_id"), "notices", ["grid_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_notices_grid_id"), table_name="notices")
    op.drop_table("notices")
    op.drop_index(op.f("ix_grid_buildings_grid_id"), table_name="grid_buildings")
    op.drop_table("grid_buildings")
