"""documents know their kind; line items, stock per location, webhook method and action

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 13:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

ENTITY_TABLES = ('products', 'customers', 'invoices', 'bills', 'credit_notes', 'stock_levels',
                 'price_lists', 'sales_orders')
# (line item table, parent table, the parent's Zoho id as Zoho names it)
LINE_ITEMS = (('invoice_line_items', 'invoices', 'invoice_id'),
              ('bill_line_items', 'bills', 'bill_id'),
              ('credit_note_line_items', 'credit_notes', 'creditnote_id'))
BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
Money = sa.Numeric(precision=20, scale=6)


def upgrade() -> None:
    # Rows stored before the kind was recorded may be list rows: `summary`, so the
    # entities whose detail matters fetch them in full once.
    for table in ENTITY_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('document_kind', sa.String(length=8),
                                       server_default='summary', nullable=False))
    with op.batch_alter_table('stock_levels') as batch:
        batch.add_column(sa.Column('location_id', sa.String(length=64), server_default='',
                                   nullable=False))
        batch.add_column(sa.Column('location_name', sa.String(length=255), nullable=True))
        batch.drop_constraint('uq_stock_levels_organization_id_zoho_id', type_='unique')
        batch.create_unique_constraint('uq_stock_levels_organization_id_zoho_id_location_id',
                                       ['organization_id', 'zoho_id', 'location_id'])
    with op.batch_alter_table('tds_inbox_events') as batch:
        batch.add_column(sa.Column('method', sa.String(length=8), server_default='POST',
                                   nullable=False))
        batch.add_column(sa.Column('action', sa.String(length=32), nullable=True))
    for table, parent, zoho_parent_id in LINE_ITEMS:
        op.create_table(
            table,
            sa.Column('parent_id', BigId, nullable=False),
            sa.Column(zoho_parent_id, sa.String(length=64), nullable=False),
            sa.Column('id', BigId, autoincrement=True, nullable=False),
            sa.Column('organization_id', sa.String(length=32), nullable=False),
            sa.Column('line_item_id', sa.String(length=64), nullable=True),
            sa.Column('item_id', sa.String(length=64), nullable=True),
            sa.Column('name', sa.String(length=255), nullable=True),
            sa.Column('description', sa.Text(), nullable=True),
            sa.Column('quantity', Money, nullable=True),
            sa.Column('rate', Money, nullable=True),
            sa.Column('unit', sa.String(length=32), nullable=True),
            sa.Column('discount', Money, nullable=True),
            sa.Column('discount_amount', Money, nullable=True),
            sa.Column('tax_id', sa.String(length=64), nullable=True),
            sa.Column('tax_name', sa.String(length=128), nullable=True),
            sa.Column('tax_percentage', Money, nullable=True),
            sa.Column('item_total', Money, nullable=True),
            sa.ForeignKeyConstraint(['parent_id'], [f'{parent}.id'],
                                    name=f'fk_{table}_parent_id_{parent}', ondelete='CASCADE'),
            sa.PrimaryKeyConstraint('id', name=f'pk_{table}'),
        )
        op.create_index(f'ix_{table}_item_id', table, ['item_id'], unique=False)
        op.create_index(f'ix_{table}_parent_id', table, ['parent_id'], unique=False)


def downgrade() -> None:
    for table, _, _ in LINE_ITEMS:
        op.drop_table(table)
    with op.batch_alter_table('tds_inbox_events') as batch:
        batch.drop_column('action')
        batch.drop_column('method')
    with op.batch_alter_table('stock_levels') as batch:
        batch.drop_constraint('uq_stock_levels_organization_id_zoho_id_location_id',
                              type_='unique')
        batch.create_unique_constraint('uq_stock_levels_organization_id_zoho_id',
                                       ['organization_id', 'zoho_id'])
        batch.drop_column('location_name')
        batch.drop_column('location_id')
    for table in ENTITY_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column('document_kind')
