"""inbox: partial indexes of waiting and in-flight events in place of two wide ones

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 06:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

WAITING = sa.text("status = 'received'")
IN_FLIGHT = sa.text("status = 'queued'")


def upgrade() -> None:
    # The sweeper asks for `received` events left behind, the dispatcher for `queued`
    # ones without a ledger row. Each partial index holds only those rows, in id
    # order, so a question costs the backlog, not the table. The (status,
    # received_at) index they replace led the planner to a bitmap scan over every
    # superseded entry since the last vacuum; nothing reads the (entity, zoho_id)
    # one, and every insert and status change paid for both.
    op.create_index('ix_tds_inbox_events_waiting', 'tds_inbox_events', ['id'], unique=False,
                    postgresql_where=WAITING, sqlite_where=WAITING)
    op.create_index('ix_tds_inbox_events_in_flight', 'tds_inbox_events', ['id'], unique=False,
                    postgresql_where=IN_FLIGHT, sqlite_where=IN_FLIGHT)
    op.drop_index('ix_tds_inbox_events_status_received_at', table_name='tds_inbox_events')
    op.drop_index('ix_tds_inbox_events_entity_zoho_id', table_name='tds_inbox_events')


def downgrade() -> None:
    op.create_index('ix_tds_inbox_events_entity_zoho_id', 'tds_inbox_events',
                    ['entity', 'zoho_id'], unique=False)
    op.create_index('ix_tds_inbox_events_status_received_at', 'tds_inbox_events',
                    ['status', 'received_at'], unique=False)
    op.drop_index('ix_tds_inbox_events_in_flight', table_name='tds_inbox_events')
    op.drop_index('ix_tds_inbox_events_waiting', table_name='tds_inbox_events')
