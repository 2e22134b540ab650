"""Alembic migrations of the records database (run programmatically by analyzer.records.db)."""
