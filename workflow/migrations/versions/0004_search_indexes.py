"""Indexes for the pages: search and the lists (reserved for the pages work).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel.sql.sqltypes.AutoString
from alembic import op  # noqa: F401

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Search on PostgreSQL: `title ILIKE '%word%'` can use a trigram GIN index; SQLite scans the
# (small, in-process) table instead, which stays within the pages' budget at 10,000 rows.
TRIGRAM_INDEXES = (
    ("ix_initiative_title_trgm", "title"),
    ("ix_initiative_summary_trgm", "summary"),
)


def upgrade() -> None:
    with op.batch_alter_table('initiative', schema=None) as batch_op:
        batch_op.create_index('ix_initiative_state', ['state'], unique=False)
        batch_op.create_index('ix_initiative_submitted_by', ['submitted_by'], unique=False)
        batch_op.create_index('ix_initiative_inbox', ['flow', 'flow_version', 'state', 'version'], unique=False)
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.create_index('ix_participant_municipality', ['municipality', 'initiative_id'], unique=False)
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.create_index('ix_deadline_initiative_open', ['initiative_id', 'status', 'due_at'], unique=False)
    # The working group lives in the JSON data; the list's working-group and theme filters use
    # exactly this expression (workflow/web/queries.py, _working_group_expr). With the home
    # municipality beside it, a theme and municipality filter is counted from the index alone.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_initiative_working_group ON initiative "
                   "((data ->> 'working_group'), municipality)")
    else:
        op.execute("CREATE INDEX ix_initiative_working_group ON initiative "
                   "(json_extract(data, '$.working_group'), municipality)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, expression in TRIGRAM_INDEXES:
            op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON initiative USING gin ({expression} gin_trgm_ops)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_initiative_working_group")
    if op.get_bind().dialect.name == "postgresql":
        for name, _expression in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.drop_index('ix_deadline_initiative_open')
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_index('ix_participant_municipality')
    with op.batch_alter_table('initiative', schema=None) as batch_op:
        batch_op.drop_index('ix_initiative_inbox')
        batch_op.drop_index('ix_initiative_submitted_by')
        batch_op.drop_index('ix_initiative_state')
