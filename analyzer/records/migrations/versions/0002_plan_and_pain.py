"""Sessions keep the plan and the clinician's inputs (pain site, score, next-morning response, weekly km, goal).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("plan_json", sa.Text))
        batch.add_column(sa.Column("pain_site", sa.String(32)))
        batch.add_column(sa.Column("pain_score", sa.Float))
        batch.add_column(sa.Column("pain_next_morning", sa.String(16)))
        batch.add_column(sa.Column("weekly_km", sa.Float))
        batch.add_column(sa.Column("goal", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        for name in ("goal", "weekly_km", "pain_next_morning", "pain_score", "pain_site", "plan_json"):
            batch.drop_column(name)
