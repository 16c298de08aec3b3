"""Full-text search of titles and summaries on SQLite (FTS5, trigram tokenizer).

The list's `zoek` matched every title and summary with LIKE '%word%': a scan of all initiatives
for each search (2 ms at 10,000, growing with the region's history). PostgreSQL has trigram
indexes for the same (0004). The trigram tokenizer finds any part of a word of three letters
or more, as LIKE did, and ignores case beyond ASCII too. Triggers keep the index with the
table; a step of the write path changes neither title nor summary, so it never fires them.

An SQLite without FTS5 or its trigram tokenizer (older than 3.34) gets no index: the search
then reads the table as before (`workflow.web.queries` looks for the index).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 20:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATEMENTS = (
    "CREATE VIRTUAL TABLE initiative_search USING fts5("
    "title, summary, content='initiative', content_rowid='id', tokenize='trigram')",
    "INSERT INTO initiative_search(initiative_search) VALUES ('rebuild')",
    "CREATE TRIGGER initiative_search_insert AFTER INSERT ON initiative BEGIN"
    " INSERT INTO initiative_search(rowid, title, summary) VALUES (new.id, new.title, new.summary);"
    " END",
    "CREATE TRIGGER initiative_search_delete AFTER DELETE ON initiative BEGIN"
    " INSERT INTO initiative_search(initiative_search, rowid, title, summary)"
    " VALUES ('delete', old.id, old.title, old.summary);"
    " END",
    "CREATE TRIGGER initiative_search_update AFTER UPDATE OF title, summary ON initiative BEGIN"
    " INSERT INTO initiative_search(initiative_search, rowid, title, summary)"
    " VALUES ('delete', old.id, old.title, old.summary);"
    " INSERT INTO initiative_search(rowid, title, summary) VALUES (new.id, new.title, new.summary);"
    " END",
)


def _has_trigram(bind: sa.engine.Connection) -> bool:
    try:
        bind.exec_driver_sql("CREATE VIRTUAL TABLE temp.trigram_probe USING fts5(x, tokenize='trigram')")
    except sa.exc.OperationalError:
        return False
    bind.exec_driver_sql("DROP TABLE temp.trigram_probe")
    return True


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite' or not _has_trigram(bind):
        return
    for statement in STATEMENTS:
        bind.exec_driver_sql(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    for trigger in ('insert', 'delete', 'update'):
        bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS initiative_search_{trigger}")
    bind.exec_driver_sql("DROP TABLE IF EXISTS initiative_search")
