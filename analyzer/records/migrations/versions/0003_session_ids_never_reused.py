"""Session ids are never reused: the sessions table gets SQLite AUTOINCREMENT.

Without it SQLite hands out max(id) + 1, so after a patient's deletion the next stored session could get a deleted
session's number (and an old "session 7" note, export or audit line would then point at someone else). The table
is rebuilt (SQLite cannot add AUTOINCREMENT in place); `db.upgrade` runs migrations with foreign keys off, as
SQLite's table-rebuild recipe requires, so the rebuild does not cascade into clips. The sequence starts at the
largest id in use.

PostgreSQL (and any server database): nothing to do. The id column is SERIAL, whose sequence never hands out a
number twice (nextval is not rolled back, nor reset by deletions). Rebuilding the table there would be wrong: the new
table's sequence would start again at 1, and the clips' foreign key forbids dropping the old one.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("sessions", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("sessions", recreate="always", table_kwargs={"sqlite_autoincrement": False}):
        pass
