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


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
