"""Alembic environment for the records database. Run programmatically (analyzer.records.db.upgrade): the caller
passes an open connection in config.attributes["connection"]; no alembic.ini, no logging configuration."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from analyzer.records.models import Base

config = context.config


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # e.g. `alembic` CLI use with sqlalchemy.url set
        engine = create_engine(config.get_main_option("sqlalchemy.url"))
        with engine.begin() as conn:
            context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
            with context.begin_transaction():
                context.run_migrations()
        return
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
