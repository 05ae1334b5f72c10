"""ledger: who holds a claim and until when

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A claim is committed before the worker calls Zoho (no transaction stays open
    # across a Zoho call), so the row itself says who holds it and until when.
    with op.batch_alter_table('tds_sync_queue') as batch:
        batch.add_column(sa.Column('claimed_by', sa.String(length=128), nullable=True))
        batch.add_column(sa.Column('claim_expires_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tds_sync_queue') as batch:
        batch.drop_column('claim_expires_at')
        batch.drop_column('claimed_by')
