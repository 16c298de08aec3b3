"""Lighter indexes for the sweep and the write path.

- The outbox's index on initiative_id is dropped: no query reads it, and every queued message
  paid for it (a sweep queues thousands in one transaction).
- Reminders: `ix_reminder_pending (sent_at, remind_at)` becomes `ix_reminder_due`, a partial
  index over the reminders still to send, in order of their moment. With the old index SQLite
  answered "cancel the unsent reminders of this deadline" by scanning every unsent reminder
  (`sent_at IS NULL` matched the index's first column), so each change of state got slower
  with the number of open deadlines; now it takes the deadline_id index.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 19:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same words as the sweep's query (`cancelled IS 0` / `IS false`, as SQLAlchemy writes
# `.is_(False)`): both databases use a partial index only for a query whose condition implies it.
DUE_SQLITE = sa.text("sent_at IS NULL AND cancelled IS 0")
DUE_POSTGRESQL = sa.text("sent_at IS NULL AND cancelled IS false")


def upgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_initiative_id'))
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_index('ix_reminder_pending')
    op.create_index('ix_reminder_due', 'reminder', ['remind_at', 'id'], unique=False,
                    sqlite_where=DUE_SQLITE, postgresql_where=DUE_POSTGRESQL)


def downgrade() -> None:
    op.drop_index('ix_reminder_due', table_name='reminder',
                  sqlite_where=DUE_SQLITE, postgresql_where=DUE_POSTGRESQL)
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.create_index('ix_reminder_pending', ['sent_at', 'remind_at'], unique=False)
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_message_initiative_id'), ['initiative_id'], unique=False)
