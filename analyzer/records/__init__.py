"""Patient records: SQLite at data_dir()/runform.sqlite3, or a PostgreSQL server at RUNFORM_DATABASE_URL
(SQLAlchemy 2.x, Alembic migrations upgraded on open: analyzer.records.db).

`store_session(patient_id, out_dir_or_ClipResult, notes=None)` is the hook `runform analyze --patient ID` calls.
"""
from analyzer.records.db import Database, database_path, open_db
from analyzer.records.progress import KEY_METRICS, MetricChange, MetricTrend, compare_metrics, key_values, metric_trends
from analyzer.records.store import (DeletionReport, add_patient, check_patient_id, delete_patient, get_db, list_patients,
                    patient_detail, patient_dir, record_export, remove_outside_outputs, session_record,
                    set_session_notes, set_session_plan, store_app_session, store_session)

from analyzer.records.accounts import (ROLES, Actor, PermissionDenied, SessionPolicy, add_user, audit, audit_csv,
                                       audit_entries, authenticate, delete_patient_as, has_users, list_users,
                                       local_actor, remove_user, require_admin, reset_password)
from analyzer.records.bundle import export_bundle
from analyzer.records.compare import GAIT_MOMENTS, gait_cycle_frames, gait_cycle_times, pick_clip, stride_values
from analyzer.records.sessions import Session, SessionStore, mark_queued

__all__ = ["Actor", "add_patient", "add_user", "audit", "audit_csv", "audit_entries", "authenticate",
           "check_patient_id", "compare_metrics", "Database", "database_path", "delete_patient", "delete_patient_as",
           "DeletionReport", "export_bundle", "gait_cycle_frames", "gait_cycle_times", "GAIT_MOMENTS", "get_db",
           "has_users", "KEY_METRICS", "key_values", "list_patients", "list_users", "local_actor", "mark_queued",
           "metric_trends", "MetricChange", "MetricTrend", "open_db", "patient_detail", "patient_dir",
           "PermissionDenied", "pick_clip", "record_export", "remove_outside_outputs", "remove_user", "require_admin",
           "reset_password", "ROLES", "Session",
           "session_record", "SessionPolicy", "SessionStore", "set_session_notes", "set_session_plan",
           "store_app_session", "store_session", "stride_values"]
