"""reconciliation: access-control sightings and entry keys, leads, address index, lists

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-27 05:39:55.212277
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from registration.domain.reconciliation import normalise_address

revision: str = "0005"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_entry_keys",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "key", name=op.f("pk_access_entry_keys")),
    )
    op.create_table(
        "access_sightings",
        sa.Column("subject_hash", sa.String(length=64), nullable=False),
        sa.Column("property_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("subject_kind", sa.String(length=4), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "subject_hash", "property_id", "day", name=op.f("pk_access_sightings")
        ),
    )
    with op.batch_alter_table("access_sightings", schema=None) as batch_op:
        batch_op.create_index("ix_access_sightings_day", ["day"], unique=False)

    op.create_table(
        "five_elements_lists",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("valid", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("leads_opened", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_five_elements_lists")),
        sa.UniqueConstraint("content_sha256", name="uq_five_elements_lists_content"),
    )
    property_addresses = op.create_table(
        "property_addresses",
        sa.Column("property_id", sa.String(length=36), nullable=False),
        sa.Column("grid_id", sa.String(length=50), nullable=False),
        sa.Column("address_norm", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("property_id", name=op.f("pk_property_addresses")),
    )
    with op.batch_alter_table("property_addresses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_property_addresses_address_norm"), ["address_norm"], unique=False
        )
    # Back-fill the address index from the properties registered so far; from here on
    # the PropertyRegistered consumer keeps it.
    result = op.get_bind().execute(sa.text("SELECT id, grid_id, address FROM properties"))
    while rows := result.fetchmany(10_000):
        op.bulk_insert(
            property_addresses,
            [
                {
                    "property_id": r.id,
                    "grid_id": r.grid_id,
                    "address_norm": normalise_address(r.address),
                }
                for r in rows
            ],
        )

    op.create_table(
        "leads",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subject_hash", sa.String(length=64), nullable=False),
        sa.Column("subject_ref", sa.String(length=40), nullable=False),
        sa.Column("person_ref", sa.String(length=40), nullable=True),
        sa.Column("id_number_masked", sa.String(length=18), nullable=False),
        sa.Column("property_id", sa.String(length=36), nullable=False),
        sa.Column("grid_id", sa.String(length=50), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("sightings", sa.Integer(), nullable=False),
        sa.Column("distinct_days", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.String(length=36), nullable=True),
        sa.Column("policy_version", sa.String(length=100), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("verification_id", sa.String(length=100), nullable=True),
        sa.Column("residence_id", sa.String(length=36), nullable=True),
        sa.Column("registration_needed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["property_id"], ["properties.id"], name=op.f("fk_leads_property_id_properties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
    )
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.create_index(
            "ix_leads_grid_status", ["grid_id", "status", "opened_at"], unique=False
        )
        batch_op.create_index(
            "ix_leads_pair_closed", ["subject_hash", "property_id", "closed_at"], unique=False
        )
        batch_op.create_index(
            "uq_leads_open",
            ["subject_hash", "property_id"],
            unique=True,
            postgresql_where=sa.text("status = 'open'"),
            sqlite_where=sa.text("status = 'open'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_leads_open",
            postgresql_where=sa.text("status = 'open'"),
            sqlite_where=sa.text("status = 'open'"),
        )
        batch_op.drop_index("ix_leads_pair_closed")
        batch_op.drop_index("ix_leads_grid_status")

    op.drop_table("leads")
    with op.batch_alter_table("property_addresses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_property_addresses_address_norm"))

    op.drop_table("property_addresses")
    op.drop_table("five_elements_lists")
    with op.batch_alter_table("access_sightings", schema=None) as batch_op:
        batch_op.drop_index("ix_access_sightings_day")

    op.drop_table("access_sightings")
    op.drop_table("access_entry_keys")
