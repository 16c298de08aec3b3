"""Drop `ix_deadline_initiative_id`: `ix_deadline_initiative_open (initiative_id, status,
due_at)` starts with the same column and answers every query it did.

Every deadline written and every change of a deadline's status (closing one in a step, a
sweep's claims) kept both up to date; a sweep claims a thousand in one transaction.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 22:50:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.drop_index('ix_deadline_initiative_id')


def downgrade() -> None:
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.create_index('ix_deadline_initiative_id', ['initiative_id'], unique=False)
