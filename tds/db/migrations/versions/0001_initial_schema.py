"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-29 02:53:01.725438
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('bills',
    sa.Column('bill_number', sa.String(length=64), nullable=True),
    sa.Column('vendor_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=True),
    sa.Column('date', sa.String(length=10), nullable=True),
    sa.Column('due_date', sa.String(length=10), nullable=True),
    sa.Column('currency_code', sa.String(length=8), nullable=True),
    sa.Column('total', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('balance', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('zoho_id', sa.String(length=64), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('last_modified_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('synced_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bills')),
    sa.UniqueConstraint('organization_id', 'zoho_id', name='uq_bills_organization_id_zoho_id')
    )
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.create_index('ix_bills_last_modified_time', ['organization_id', 'last_modified_time'], unique=False)
        batch_op.create_index(batch_op.f('ix_bills_vendor_id'), ['vendor_id'], unique=False)

    op.create_table('credit_notes',
    sa.Column('creditnote_number', sa.String(length=64), nullable=True),
    sa.Column('customer_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=True),
    sa.Column('date', sa.String(length=10), nullable=True),
    sa.Column('currency_code', sa.String(length=8), nullable=True),
    sa.Column('total', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('balance', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('zoho_id', sa.String(length=64), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('last_modified_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('synced_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_notes')),
    sa.UniqueConstraint('organization_id', 'zoho_id', name='uq_credit_notes_organization_id_zoho_id')
    )
    with op.batch_alter_table('credit_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_notes_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_credit_notes_last_modified_time', ['organization_id', 'last_modified_time'], unique=False)

    op.create_table('customers',
    sa.Column('contact_name', sa.String(length=255), nullable=True),
    sa.Column('company_name', sa.String(length=255), nullable=True),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=True),
    sa.Column('currency_code', sa.String(length=8), nullable=True),
    sa.Column('outstanding_receivable_amount', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('zoho_id', sa.String(length=64), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('last_modified_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('synced_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    sa.UniqueConstraint('organization_id', 'zoho_id', name='uq_customers_organization_id_zoho_id')
    )
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customers_email'), ['email'], unique=False)
        batch_op.create_index('ix_customers_last_modified_time', ['organization_id', 'last_modified_time'], unique=False)

    op.create_table('invoices',
    sa.Column('invoice_number', sa.String(length=64), nullable=True),
    sa.Column('customer_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=True),
    sa.Column('date', sa.String(length=10), nullable=True),
    sa.Column('due_date', sa.String(length=10), nullable=True),
    sa.Column('currency_code', sa.String(length=8), nullable=True),
    sa.Column('total', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('balance', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('zoho_id', sa.String(length=64), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('last_modified_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('synced_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('organization_id', 'zoho_id', name='uq_invoices_organization_id_zoho_id')
    )
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invoices_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_invoices_last_modified_time', ['organization_id', 'last_modified_time'], unique=False)

    op.create_table('price_lists',
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('currency_code', sa.String(length=8), nullable=True),
    sa.Column('pricebook_type', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('zoho_id', sa.String(length=64), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('last_modified_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('synced_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_lists')),
    sa.UniqueConstraint('organization_id', 'zoho_id', name='uq_price_lists_organization_id_zoho_id')
    )
    with op.batch_alter_table('price_lists', schema=None) as batch_op:
        batch_op.create_index('ix_price_lists_last_modified_time', ['organization_id', 'last_modified_time'], unique=False)

    op.create_table('products',
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('sku', sa.String(length=128), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=True),
    sa.Column('rate', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('unit', sa.String(length=32), nullable=True),
    sa.Column('stock_on_hand', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('zoho_id', sa.String(length=64), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('last_modified_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('synced_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('organization_id', 'zoho_id', name='uq_products_organization_id_zoho_id')
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index('ix_products_last_modified_time', ['organization_id', 'last_modified_time'], unique=False)
        batch_op.create_index(batch_op.f('ix_products_sku'), ['sku'], unique=False)

    op.create_table('sales_orders',
    sa.Column('zoho_id', sa.String(length=64), nullable=True),
    sa.Column('idempotency_key', sa.String(length=128), nullable=True),
    sa.Column('reference_number', sa.String(length=64), nullable=True),
    sa.Column('salesorder_number', sa.String(length=64), nullable=True),
    sa.Column('customer_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=True),
    sa.Column('total', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('request_hash', sa.String(length=64), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('last_modified_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('synced_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_orders')),
    sa.UniqueConstraint('organization_id', 'idempotency_key', name=op.f('uq_sales_orders_organization_id_idempotency_key')),
    sa.UniqueConstraint('organization_id', 'zoho_id', name='uq_sales_orders_organization_id_zoho_id')
    )
    with op.batch_alter_table('sales_orders', schema=None) as batch_op:
        batch_op.create_index('ix_sales_orders_last_modified_time', ['organization_id', 'last_modified_time'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_orders_reference_number'), ['reference_number'], unique=False)

    op.create_table('stock_levels',
    sa.Column('sku', sa.String(length=128), nullable=True),
    sa.Column('stock_on_hand', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('available_stock', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('actual_available_stock', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('zoho_id', sa.String(length=64), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('last_modified_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('synced_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_levels')),
    sa.UniqueConstraint('organization_id', 'zoho_id', name='uq_stock_levels_organization_id_zoho_id')
    )
    with op.batch_alter_table('stock_levels', schema=None) as batch_op:
        batch_op.create_index('ix_stock_levels_last_modified_time', ['organization_id', 'last_modified_time'], unique=False)

    op.create_table('tds_inbox_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('zoho_id', sa.String(length=64), nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=True),
    sa.Column('dedup_key', sa.String(length=128), nullable=False),
    sa.Column('signature_scheme', sa.String(length=16), nullable=False),
    sa.Column('content_type', sa.String(length=128), nullable=False),
    sa.Column('raw_body', sa.Text(), nullable=False),
    sa.Column('headers', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('last_modified_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('correlation_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tds_inbox_events')),
    sa.UniqueConstraint('dedup_key', name=op.f('uq_tds_inbox_events_dedup_key'))
    )
    with op.batch_alter_table('tds_inbox_events', schema=None) as batch_op:
        batch_op.create_index('ix_tds_inbox_events_entity_zoho_id', ['entity', 'zoho_id'], unique=False)
        batch_op.create_index('ix_tds_inbox_events_status_received_at', ['status', 'received_at'], unique=False)

    op.create_table('tds_oauth_tokens',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('credential_key', sa.String(length=64), nullable=False),
    sa.Column('access_token', sa.Text(), nullable=True),
    sa.Column('api_domain', sa.String(length=255), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refresh_lock_owner', sa.String(length=64), nullable=True),
    sa.Column('refresh_lock_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tds_oauth_tokens')),
    sa.UniqueConstraint('credential_key', name=op.f('uq_tds_oauth_tokens_credential_key'))
    )
    op.create_table('tds_rate_buckets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('bucket_key', sa.String(length=128), nullable=False),
    sa.Column('tokens', sa.Float(), nullable=False),
    sa.Column('refilled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('day_count', sa.Integer(), nullable=False),
    sa.Column('in_flight', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tds_rate_buckets')),
    sa.UniqueConstraint('bucket_key', name=op.f('uq_tds_rate_buckets_bucket_key'))
    )
    op.create_table('tds_sync_state',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('cursor', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_incremental_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_full_sync_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_reconcile_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tds_sync_state')),
    sa.UniqueConstraint('organization_id', 'entity', name=op.f('uq_tds_sync_state_organization_id_entity'))
    )
    op.create_table('price_list_items',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('price_list_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('pricebook_rate', sa.Numeric(precision=20, scale=6), nullable=True),
    sa.ForeignKeyConstraint(['price_list_id'], ['price_lists.id'], name=op.f('fk_price_list_items_price_list_id_price_lists'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_list_items')),
    sa.UniqueConstraint('price_list_id', 'item_id', name=op.f('uq_price_list_items_price_list_id_item_id'))
    )
    op.create_table('tds_sync_queue',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('unit_key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('organization_id', sa.String(length=32), nullable=True),
    sa.Column('inbox_event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('correlation_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('next_retry_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('queued_at', sa.DateTime(timezone=True), server_default=sa.text('CURRENT_TIMESTAMP'), nullable=False),
    sa.Column('processing_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('processing_completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['inbox_event_id'], ['tds_inbox_events.id'], name=op.f('fk_tds_sync_queue_inbox_event_id_tds_inbox_events'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tds_sync_queue')),
    sa.UniqueConstraint('unit_key', name=op.f('uq_tds_sync_queue_unit_key'))
    )
    with op.batch_alter_table('tds_sync_queue', schema=None) as batch_op:
        batch_op.create_index('ix_tds_sync_queue_inbox_event_id', ['inbox_event_id'], unique=False)
        batch_op.create_index('ix_tds_sync_queue_status_next_retry_at', ['status', 'next_retry_at'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('tds_sync_queue', schema=None) as batch_op:
        batch_op.drop_index('ix_tds_sync_queue_status_next_retry_at')
        batch_op.drop_index('ix_tds_sync_queue_inbox_event_id')

    op.drop_table('tds_sync_queue')
    op.drop_table('price_list_items')
    op.drop_table('tds_sync_state')
    op.drop_table('tds_rate_buckets')
    op.drop_table('tds_oauth_tokens')
    with op.batch_alter_table('tds_inbox_events', schema=None) as batch_op:
        batch_op.drop_index('ix_tds_inbox_events_status_received_at')
        batch_op.drop_index('ix_tds_inbox_events_entity_zoho_id')

    op.drop_table('tds_inbox_events')
    with op.batch_alter_table('stock_levels', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_levels_last_modified_time')

    op.drop_table('stock_levels')
    with op.batch_alter_table('sales_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_orders_reference_number'))
        batch_op.drop_index('ix_sales_orders_last_modified_time')

    op.drop_table('sales_orders')
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_products_sku'))
        batch_op.drop_index('ix_products_last_modified_time')

    op.drop_table('products')
    with op.batch_alter_table('price_lists', schema=None) as batch_op:
        batch_op.drop_index('ix_price_lists_last_modified_time')

    op.drop_table('price_lists')
    with op.batch_alter_table('invoices', schema=None) as batch_op:
        batch_op.drop_index('ix_invoices_last_modified_time')
        batch_op.drop_index(batch_op.f('ix_invoices_customer_id'))

    op.drop_table('invoices')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.drop_index('ix_customers_last_modified_time')
        batch_op.drop_index(batch_op.f('ix_customers_email'))

    op.drop_table('customers')
    with op.batch_alter_table('credit_notes', schema=None) as batch_op:
        batch_op.drop_index('ix_credit_notes_last_modified_time')
        batch_op.drop_index(batch_op.f('ix_credit_notes_customer_id'))

    op.drop_table('credit_notes')
    with op.batch_alter_table('bills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bills_vendor_id'))
        batch_op.drop_index('ix_bills_last_modified_time')

    op.drop_table('bills')

