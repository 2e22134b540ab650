"""Patient records: SQLite (SQLAlchemy 2.x, Alembic migrations upgraded on open) at data_dir()/runform.sqlite3.

`store_session(patient_id, out_dir_or_ClipResult, notes=None)` is the hook `runform analyze --patient ID` calls.
"""
from .db import Database, database_path, open_db
from .progress import KEY_METRICS, MetricChange, MetricTrend, compare_metrics, key_values, metric_trends
from .store import (DeletionReport, add_patient, check_patient_id, delete_patient, get_db, list_patients,
                    patient_detail, patient_dir, session_record, set_session_notes, set_session_plan, store_app_session,
                    store_session)

__all__ = ["Database", "database_path", "open_db", "KEY_METRICS", "MetricChange", "MetricTrend", "compare_metrics",
           "key_values", "metric_trends",
           "DeletionReport", "add_patient", "check_patient_id", "delete_patient", "get_db", "list_patients",
           "patient_detail", "patient_dir", "session_record", "set_session_notes", "set_session_plan",
           "store_app_session", "store_session"]
