"""the day's quota as Zoho states it, per organization and host; the token window

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The day now resets when Zoho says (its organization's midnight), not at a UTC
    # date change, and buckets are keyed by organization and API host (longer keys).
    with op.batch_alter_table('tds_rate_buckets') as batch:
        batch.drop_column('day')
        batch.add_column(sa.Column('day_limit', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('day_resets_at', sa.DateTime(timezone=True), nullable=True))
        batch.alter_column('bucket_key', existing_type=sa.String(length=128),
                           type_=sa.String(length=200), existing_nullable=False)
    with op.batch_alter_table('tds_oauth_tokens') as batch:
        batch.add_column(sa.Column('refresh_blocked_until', sa.DateTime(timezone=True),
                                   nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tds_oauth_tokens') as batch:
        batch.drop_column('refresh_blocked_until')
    with op.batch_alter_table('tds_rate_buckets') as batch:
        batch.alter_column('bucket_key', existing_type=sa.String(length=200),
                           type_=sa.String(length=128), existing_nullable=False)
        batch.drop_column('day_resets_at')
        batch.drop_column('day_limit')
        batch.add_column(sa.Column('day', sa.String(length=10), nullable=False,
                                   server_default=''))
