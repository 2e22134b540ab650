"""Initial schema: patients, sessions, clips.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patients",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("display_name", sa.String(200)),
        sa.Column("notes", sa.Text),
        sa.Column("created_utc", sa.String(32), nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("patient_id", sa.String(64), sa.ForeignKey("patients.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_utc", sa.String(32), nullable=False),
        sa.Column("recorded_utc", sa.String(32), nullable=False),
        sa.Column("label", sa.String(200)),
        sa.Column("analysis_dir", sa.String(1000)),
        sa.Column("metrics_json", sa.Text),
        sa.Column("clinician_notes", sa.Text),
        sa.Column("app_session_id", sa.String(64)),
    )
    op.create_index("ix_sessions_patient_id", "sessions", ["patient_id"])
    op.create_table(
        "clips",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.Integer, sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(500)),
        sa.Column("view", sa.String(16)),
        sa.Column("sha256", sa.String(64)),
        sa.Column("path", sa.String(1000)),
    )
    op.create_index("ix_clips_session_id", "clips", ["session_id"])
    op.create_index("ix_clips_sha256", "clips", ["sha256"])


def downgrade() -> None:
    op.drop_table("clips")
    op.drop_table("sessions")
    op.drop_table("patients")
