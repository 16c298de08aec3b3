"""Monitor, calendar feeds and public flags (issue #5).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel.sql.sqltypes.AutoString
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('initiative', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public', sa.Boolean(), nullable=True))
    op.create_table(
        'calendar_feed',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    with op.batch_alter_table('calendar_feed', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_feed_user_id'), ['user_id'], unique=False)
    # The monitor reads the state changes and the spending reports of a year from these partial
    # indexes instead of the whole event log (workflow/monitor_queries.py).
    move = sa.text('from_state IS NULL OR from_state <> to_state')
    op.create_index('ix_event_move', 'event', ['initiative_id', 'at', 'id', 'to_state'], unique=False,
                    sqlite_where=move, postgresql_where=move)
    spending = sa.text("trigger = 'report_spending'")
    op.create_index('ix_event_spending', 'event', ['at'], unique=False,
                    sqlite_where=spending, postgresql_where=spending)


def downgrade() -> None:
    op.drop_index('ix_event_spending', table_name='event')
    op.drop_index('ix_event_move', table_name='event')
    with op.batch_alter_table('calendar_feed', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_feed_user_id'))
    op.drop_table('calendar_feed')
    with op.batch_alter_table('initiative', schema=None) as batch_op:
        batch_op.drop_column('public')
