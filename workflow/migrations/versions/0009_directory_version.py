"""A counter of changes to users and their roles, kept by triggers: `directory_version`.

Every step of the write path asks who receives its messages: users by role and scope. That
answer changes only when a user or a role grant does, so the engine keeps it per question and
per value of this counter, which the step's lock statement reads along with the initiative (no
extra round trip). Triggers count every change made by any process (web, CLI, an admin's SQL),
so a kept answer is never older than the transaction that uses it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 21:30:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The columns of user_account that the recipients of a message depend on.
USER_COLUMNS = "name, email, active, email_notifications"
BUMP = "UPDATE directory_version SET version = version + 1 WHERE id = 1"

SQLITE = tuple(
    f"CREATE TRIGGER directory_{table}_{name} AFTER {event} ON {table} BEGIN {BUMP}; END"
    for table, name, event in (
        ("user_account", "insert", "INSERT"),
        ("user_account", "update", f"UPDATE OF {USER_COLUMNS}"),
        ("user_account", "delete", "DELETE"),
        ("role_grant", "insert", "INSERT"),
        ("role_grant", "update", "UPDATE"),
        ("role_grant", "delete", "DELETE"),
    )
)

POSTGRESQL = (
    "CREATE FUNCTION directory_changed() RETURNS trigger LANGUAGE plpgsql AS"
    f" $$ BEGIN {BUMP}; RETURN NULL; END $$",
    "CREATE TRIGGER directory_user_account AFTER INSERT OR DELETE"
    f" OR UPDATE OF {USER_COLUMNS} ON user_account"
    " FOR EACH STATEMENT EXECUTE FUNCTION directory_changed()",
    "CREATE TRIGGER directory_role_grant AFTER INSERT OR UPDATE OR DELETE ON role_grant"
    " FOR EACH STATEMENT EXECUTE FUNCTION directory_changed()",
    "CREATE TRIGGER directory_user_account_truncate AFTER TRUNCATE ON user_account"
    " FOR EACH STATEMENT EXECUTE FUNCTION directory_changed()",
    "CREATE TRIGGER directory_role_grant_truncate AFTER TRUNCATE ON role_grant"
    " FOR EACH STATEMENT EXECUTE FUNCTION directory_changed()",
)


def upgrade() -> None:
    bind = op.get_bind()
    bind.exec_driver_sql(
        "CREATE TABLE directory_version (id INTEGER PRIMARY KEY CHECK (id = 1),"
        " version BIGINT NOT NULL)"
    )
    bind.exec_driver_sql("INSERT INTO directory_version (id, version) VALUES (1, 0)")
    for statement in SQLITE if bind.dialect.name == 'sqlite' else POSTGRESQL:
        bind.exec_driver_sql(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        for statement in SQLITE:
            name = statement.split()[2]
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    else:
        for table in ("user_account", "role_grant"):
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS directory_{table} ON {table}")
            bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS directory_{table}_truncate ON {table}")
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS directory_changed()")
    bind.exec_driver_sql("DROP TABLE directory_version")
