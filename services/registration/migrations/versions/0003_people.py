"""people: person record versions (history), move-outs, residences from findings

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 05:41:05.648152
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_identity_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("person_ref", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=20), nullable=False),
        sa.Column("changed_fields", sa.JSON(), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("id_number_enc", sa.LargeBinary(), nullable=False),
        sa.Column("name_enc", sa.LargeBinary(), nullable=False),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("gender", sa.String(length=10), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("origin_region", sa.String(length=6), nullable=False),
        sa.Column("reason_enc", sa.LargeBinary(), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("correlation_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_identity_history")),
        sa.UniqueConstraint("person_ref", "version", name="uq_person_identity_history_version"),
    )
    with op.batch_alter_table("person_identity_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_identity_history_person_ref"), ["person_ref"], unique=False
        )

    # The records as they stand become their version 1 (who created them is not known).
    op.execute(
        sa.text(
            "INSERT INTO person_identity_history (person_ref, version, change, changed_fields,"
            " id_hash, id_number_enc, name_enc, phone_enc, gender, birth_date, origin_region,"
            " reason_enc, recorded_by, recorded_at, correlation_id)"
            " SELECT person_ref, 1, 'registered', '[]', id_hash, id_number_enc, name_enc,"
            " phone_enc, gender, birth_date, origin_region, NULL, 'migration 0003', updated_at,"
            " NULL FROM persons"
        )
    )

    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)
        )

    with op.batch_alter_table("residences", schema=None) as batch_op:
        batch_op.add_column(sa.Column("end_reason", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("ended_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("superseded_by", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("finding_id", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "ix_residences_person_active",
            ["person_ref"],
            unique=False,
            postgresql_where=sa.text("ended_on IS NULL"),
            sqlite_where=sa.text("ended_on IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("residences", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_residences_person_active",
            postgresql_where=sa.text("ended_on IS NULL"),
            sqlite_where=sa.text("ended_on IS NULL"),
        )
        batch_op.drop_column("finding_id")
        batch_op.drop_column("superseded_by")
        batch_op.drop_column("ended_at")
        batch_op.drop_column("ended_by")
        batch_op.drop_column("end_reason")

    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_column("version")

    with op.batch_alter_table("person_identity_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_identity_history_person_ref"))

    op.drop_table("person_identity_history")
