"""Clinic accounts (users) and the audit log.

users: local accounts of the clinic app (Argon2id password hashes, role clinician or admin).
audit_log: who signed in, failed to sign in, opened, exported or deleted which patient, and when. Its patient_id is
plain text, not a foreign key: deleting a patient keeps the trail (analyzer.records.accounts).
Both tables use AUTOINCREMENT, so an id is never reused.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("created_utc", sa.String(32), nullable=False),
        sa.Column("password_changed_utc", sa.String(32), nullable=False),
        sa.Column("last_sign_in_utc", sa.String(32)),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_users_username", "users", ["username"], unique=True)
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at_utc", sa.String(32), nullable=False),
        sa.Column("username", sa.String(64)),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("patient_id", sa.String(64)),
        sa.Column("detail", sa.Text),
        sa.Column("remote", sa.String(64)),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_log_at_utc", "audit_log", ["at_utc"])
    op.create_index("ix_audit_log_username", "audit_log", ["username"])
    op.create_index("ix_audit_log_patient_id", "audit_log", ["patient_id"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("users")
