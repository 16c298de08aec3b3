"""Frameworks: the yearly task sheets per theme (opgavebladen) with their core tasks.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 10:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'task_sheet',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('theme_slug', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('budget_cents', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['theme_slug'], ['theme.slug']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('theme_slug', 'year'),
    )
    op.create_table(
        'core_task',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('task_sheet_id', sa.Integer(), nullable=False),
        sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.ForeignKeyConstraint(['task_sheet_id'], ['task_sheet.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('task_sheet_id', 'code'),
    )


def downgrade() -> None:
    op.drop_table('core_task')
    op.drop_table('task_sheet')
