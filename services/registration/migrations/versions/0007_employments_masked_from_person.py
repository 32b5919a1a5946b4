"""Employments no longer copy the masked identity number: it comes from the person record.

A copy went stale when office staff corrected the person's identity number; the list of
an employer's employments now masks the record's current number.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("employments") as batch:
        batch.drop_column("id_number_masked")


def downgrade() -> None:
    # The copies cannot be restored without the encryption key: they come back empty.
    with op.batch_alter_table("employments") as batch:
        batch.add_column(
            sa.Column("id_number_masked", sa.String(18), nullable=False, server_default="")
        )
