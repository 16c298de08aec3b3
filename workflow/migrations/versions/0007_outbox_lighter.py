"""Drop the outbox's index on initiative_id: no query reads it, and every queued message paid
for it (a sweep queues thousands in one transaction).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 19:30:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_message_initiative_id'))


def downgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_message_initiative_id'), ['initiative_id'], unique=False)
