"""consumer orders: their state, request and timestamps; one order per reference;
the secrets given to Zoho's webhooks

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
JSONDocument = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('sales_orders') as batch:
        batch.add_column(sa.Column('state', sa.String(length=16), server_default='pending',
                                   nullable=False))
        batch.add_column(sa.Column('reason', sa.Text(), nullable=True))
        batch.add_column(sa.Column('request', JSONDocument, server_default='{}',
                                   nullable=False))
        batch.add_column(sa.Column('attempts', sa.Integer(), server_default='0',
                                   nullable=False))
        batch.add_column(sa.Column('created_at', sa.DateTime(timezone=True),
                                   server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False))
        batch.add_column(sa.Column('updated_at', sa.DateTime(timezone=True),
                                   server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False))
        # A retried create looks its reference up in Zoho: no two orders may share one.
        # The unique constraint's index serves look-ups by reference: the plain one goes.
        batch.drop_index('ix_sales_orders_reference_number')
        batch.create_unique_constraint('uq_sales_orders_organization_id_reference_number',
                                       ['organization_id', 'reference_number'])
        batch.create_index('ix_sales_orders_state_created_at', ['state', 'created_at'],
                           unique=False)
    # The default only filled the rows that existed; new rows get theirs from the model.
    with op.batch_alter_table('sales_orders') as batch:
        batch.alter_column('request', server_default=None, existing_type=JSONDocument,
                           existing_nullable=False)
    op.create_table(
        'tds_webhook_secrets',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('secret', sa.String(length=50), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True),
                  server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_tds_webhook_secrets'),
    )


def downgrade() -> None:
    op.drop_table('tds_webhook_secrets')
    with op.batch_alter_table('sales_orders') as batch:
        batch.drop_index('ix_sales_orders_state_created_at')
        batch.drop_constraint('uq_sales_orders_organization_id_reference_number',
                              type_='unique')
        batch.create_index('ix_sales_orders_reference_number', ['reference_number'],
                           unique=False)
        batch.drop_column('updated_at')
        batch.drop_column('created_at')
        batch.drop_column('attempts')
        batch.drop_column('request')
        batch.drop_column('reason')
        batch.drop_column('state')
