"""SQLAlchemy 2.x ORM models of the patient records (SQLite file at config.data_dir()/runform.sqlite3, or the
PostgreSQL server of RUNFORM_DATABASE_URL: analyzer.records.db).

Tables (schema changes only through Alembic migrations in ./migrations/versions; `db.open_db` upgrades on open):
  patients  id (the clinic's own patient code, str), display_name, notes, created_utc
  sessions  one analysed run of a patient (id AUTOINCREMENT: never reused): analysis folder (relative to data_dir), metrics.json content, plan JSON,
            clinician inputs (pain site/score/next morning, weekly km, goal) and notes
  clips     the clips of a session: name, view, sha256 (to find the pose-cache files on deletion), stored path
Times are ISO-8601 UTC strings. Deleting a patient cascades to sessions and clips (FK ON DELETE CASCADE, enforced
with PRAGMA foreign_keys=ON on SQLite, natively on PostgreSQL, and ORM cascades). Ids: SQLite AUTOINCREMENT,
PostgreSQL SERIAL sequences: never reused after a deletion.
"""
from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Patient(Base):
    __tablename__ = "patients"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    created_utc: Mapped[str] = mapped_column(String(32))

    sessions: Mapped[list["SessionRecord"]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", passive_deletes=True,
        order_by="SessionRecord.recorded_utc, SessionRecord.id")


class SessionRecord(Base):
    __tablename__ = "sessions"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused after a deletion (migration 0003)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    created_utc: Mapped[str] = mapped_column(String(32))
    recorded_utc: Mapped[str] = mapped_column(String(32))
    label: Mapped[str | None] = mapped_column(String(200))
    analysis_dir: Mapped[str | None] = mapped_column(String(1000))  # relative to data_dir (or absolute outside it)
    metrics_json: Mapped[str | None] = mapped_column(Text)
    clinician_notes: Mapped[str | None] = mapped_column(Text)
    app_session_id: Mapped[str | None] = mapped_column(String(64))
    # added in migration 0002
    plan_json: Mapped[str | None] = mapped_column(Text)
    pain_site: Mapped[str | None] = mapped_column(String(32))
    pain_score: Mapped[float | None] = mapped_column(Float)
    pain_next_morning: Mapped[str | None] = mapped_column(String(16))
    weekly_km: Mapped[float | None] = mapped_column(Float)
    goal: Mapped[str | None] = mapped_column(Text)

    patient: Mapped[Patient] = relationship(back_populates="sessions")
    clips: Mapped[list["ClipRecord"]] = relationship(back_populates="session", cascade="all, delete-orphan",
                                                     passive_deletes=True)


class ClipRecord(Base):
    __tablename__ = "clips"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(500))
    view: Mapped[str | None] = mapped_column(String(16))
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    path: Mapped[str | None] = mapped_column(String(1000))

    session: Mapped[SessionRecord] = relationship(back_populates="clips")
