"""places: grids, parties, property managers, sweep discoveries, agreements

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-27 05:38:47.190856
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "grids",
        sa.Column("id", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("community", sa.String(length=100), nullable=False),
        sa.Column("grid_worker", sa.String(length=200), nullable=True),
        sa.Column("registered_by", sa.String(length=200), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grids")),
    )
    with op.batch_alter_table("grids", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grids_community"), ["community"], unique=False)

    op.create_table(
        "parties",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("person_ref", sa.String(length=40), nullable=True),
        sa.Column("credit_code", sa.String(length=18), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("registered_by", sa.String(length=200), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties")),
        sa.UniqueConstraint("credit_code", name=op.f("uq_parties_credit_code")),
        sa.UniqueConstraint("person_ref", name=op.f("uq_parties_person_ref")),
    )
    op.create_table(
        "property_discoveries",
        sa.Column("discovery_id", sa.String(length=100), nullable=False),
        sa.Column("sweep_id", sa.String(length=100), nullable=False),
        sa.Column("grid_id", sa.String(length=50), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("rooms", sa.JSON(), nullable=False),
        sa.Column("landlord_hint", sa.String(length=100), nullable=True),
        sa.Column("discovered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("officer", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("property_id", sa.String(length=36), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by", sa.String(length=200), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("discovery_id", name=op.f("pk_property_discoveries")),
    )
    with op.batch_alter_table("property_discoveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_property_discoveries_grid_status", ["grid_id", "status"], unique=False
        )

    op.create_table(
        "agreements",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject_key", sa.String(length=200), nullable=False),
        sa.Column("signatory_party_id", sa.String(length=100), nullable=False),
        sa.Column("counterpart_office", sa.String(length=200), nullable=False),
        sa.Column("property_id", sa.String(length=36), nullable=True),
        sa.Column("employer_id", sa.String(length=36), nullable=True),
        sa.Column("grid_id", sa.String(length=50), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("supersedes", sa.String(length=36), nullable=True),
        sa.Column("superseded_by", sa.String(length=36), nullable=True),
        sa.Column("revoked_reason", sa.String(length=500), nullable=True),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(property_id IS NULL) <> (employer_id IS NULL)", name=op.f("ck_agreements_one_subject")
        ),
        sa.ForeignKeyConstraint(
            ["employer_id"], ["employers.id"], name=op.f("fk_agreements_employer_id_employers")
        ),
        sa.ForeignKeyConstraint(
            ["property_id"], ["properties.id"], name=op.f("fk_agreements_property_id_properties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
    )
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.create_index("ix_agreements_employer", ["employer_id", "status"], unique=False)
        batch_op.create_index(
            "ix_agreements_grid_status", ["grid_id", "status", "kind"], unique=False
        )
        batch_op.create_index(
            "ix_agreements_property", ["property_id", "kind", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_agreements_signatory_party_id"), ["signatory_party_id"], unique=False
        )
        batch_op.create_index(
            "uq_agreements_active_subject",
            ["subject_key"],
            unique=True,
            postgresql_where=sa.text("status = 'active'"),
            sqlite_where=sa.text("status = 'active'"),
        )

    op.create_table(
        "property_managers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("property_id", sa.String(length=36), nullable=False),
        sa.Column("party_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("assigned_by", sa.String(length=200), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_by", sa.String(length=200), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_property_managers_party_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["property_id"],
            ["properties.id"],
            name=op.f("fk_property_managers_property_id_properties"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_managers")),
    )
    with op.batch_alter_table("property_managers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_property_managers_party_id"), ["party_id"], unique=False
        )
        batch_op.create_index(
            "uq_property_managers_active",
            ["property_id", "party_id"],
            unique=True,
            postgresql_where=sa.text("removed_at IS NULL"),
            sqlite_where=sa.text("removed_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("property_managers", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_property_managers_active",
            postgresql_where=sa.text("removed_at IS NULL"),
            sqlite_where=sa.text("removed_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_property_managers_party_id"))

    op.drop_table("property_managers")
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_agreements_active_subject",
            postgresql_where=sa.text("status = 'active'"),
            sqlite_where=sa.text("status = 'active'"),
        )
        batch_op.drop_index(batch_op.f("ix_agreements_signatory_party_id"))
        batch_op.drop_index("ix_agreements_property")
        batch_op.drop_index("ix_agreements_grid_status")
        batch_op.drop_index("ix_agreements_employer")

    op.drop_table("agreements")
    with op.batch_alter_table("property_discoveries", schema=None) as batch_op:
        batch_op.drop_index("ix_property_discoveries_grid_status")

    op.drop_table("property_discoveries")
    op.drop_table("parties")
    with op.batch_alter_table("grids", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grids_community"))

    op.drop_table("grids")
