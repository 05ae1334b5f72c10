"""inbox: a partial index of the events waiting for the relay

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


def upgrade() -> None:
    # The relay asks many times a second for the oldest `received` events; this index
    # holds only those, in id order, so the answer costs the backlog, not the table.
    op.create_index('ix_tds_inbox_events_waiting', 'tds_inbox_events', ['id'], unique=False,
                    postgresql_where=WAITING, sqlite_where=WAITING)


def downgrade() -> None:
    op.drop_index('ix_tds_inbox_events_waiting', table_name='tds_inbox_events')
