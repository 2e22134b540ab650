"""Patient records: store analysed sessions, read a patient's history with progress, delete a patient completely.

Files: a stored session's analysis folder is always a copy the store owns, under
config.data_dir()/patients/<patient id>/sessions/<session id>/analysis (copied whole, atomically and privately, by
`analyzer.core.results.ResultFolder`, wherever the analysis was written: two patients analysed into one --out folder each
keep their own copy, and deleting one never touches the other's). Deleting a patient removes their database rows (then VACUUMs the
SQLite file so the deleted rows do not linger in free pages; on PostgreSQL a plain VACUUM of the tables, which never
blocks the other workstations: the server's own files, WAL and backups are the server administrator's), their
patient folder, every app session folder tagged with their id, and the pose-cache files of their clips. What the store
does not own but that still holds the patient's results (the --out folders their analyses were written into, inside the
data directory or outside it, and the files `runform patients export` wrote for them) is named, and removed when asked.

Several processes (workstations, batch workers) may write at once: a patient's row is created with an
insert-if-absent and locked for the whole store (row lock on PostgreSQL, the file's write lock on SQLite), so two
stores for one patient run one after the other (the second continues the first's plan) and stores for different
patients run side by side on PostgreSQL; ids come from the database (SQLite AUTOINCREMENT, PostgreSQL sequences):
never lost, duplicated or reused.

Why this module is long: storing, reading and deleting a patient's sessions share the database handle and the path
rules (`patient_dir`, the private `_inside` / `_abs`, the origin.json of a copied --out folder). The deletion part
(about 160 lines) is the seam, but as a module of its own it would import those private helpers back and be
re-exported from here for the records face and `analyzer.records.accounts`, an import circle the layering test
refuses; it stays until those helpers get a public home.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session as OrmSession

from analyzer.core.config import cache_dir, data_dir
from analyzer.core.errors import InputError
from analyzer.core.results import RESULT_MARKERS, read_result, write_private
from analyzer.records.db import Database, open_db
from analyzer.records.models import ClipRecord, Patient, SessionRecord
from analyzer.records.progress import KEY_METRICS, compare_metrics, key_values

PATIENT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_DBS: dict[str, Database] = {}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def get_db(db: Database | None = None) -> Database:
    """The records database under the current data_dir (opened once per path and kept)."""
    if db is not None:
        return db
    from analyzer.records.db import resolve

    path, url = resolve()  # RUNFORM_DATABASE_URL, else the SQLite file under data_dir
    key = str(path.resolve()) if path is not None else url.render_as_string(hide_password=False)
    if key in _DBS and path is not None and not path.exists():
        _DBS.pop(key).close()
    if key not in _DBS:
        _DBS[key] = open_db(path.resolve() if path is not None else url)
    return _DBS[key]


def _after_fork_in_child() -> None:  # a forked child must not share the parent's pooled connections
    for d in _DBS.values():
        d.engine.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)


def close_dbs() -> None:
    """Close every database `get_db` opened (a process that changes RUNFORM_DATABASE_URL or RUNFORM_DATA_DIR)."""
    while _DBS:
        _DBS.popitem()[1].close()


def _ensure_patient(s: OrmSession, pid: str, lock: bool = False) -> None:
    """Create the patient's row if absent, safely when another process does the same at the same moment (insert-if-
    absent, never a duplicate-key error); `lock`: hold the row until the transaction ends (PostgreSQL row lock; on
    SQLite the insert already holds the file's write lock)."""
    ins = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    s.execute(ins(Patient).values(id=pid, created_utc=_now()).on_conflict_do_nothing(index_elements=["id"]))
    if lock:
        s.execute(select(Patient.id).where(Patient.id == pid).with_for_update())


def check_patient_id(patient_id: str) -> str:
    pid = str(patient_id).strip()
    if not PATIENT_ID_RE.match(pid):
        raise InputError(f"patient id {patient_id!r} is not valid.",
                         "Use 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit (e.g. P0042).")
    return pid


def patient_dir(patient_id: str) -> Path:
    return data_dir() / "patients" / check_patient_id(patient_id)


# ---- patients ----------------------------------------------------------------------------------------------------
def add_patient(patient_id: str, display_name: str | None = None, notes: str | None = None,
                db: Database | None = None) -> str:
    """Create the patient if missing (idempotent; a given name/notes updates the record). Returns the id."""
    pid = check_patient_id(patient_id)
    if display_name is not None and len(display_name) > 200:
        raise InputError(f"the display name is {len(display_name)} characters long.", "Use at most 200.")
    with get_db(db).session() as s, s.begin():
        _ensure_patient(s, pid)
        if display_name is not None or notes is not None:
            p = s.get(Patient, pid, with_for_update=True)
            if display_name is not None:
                p.display_name = display_name
            if notes is not None:
                p.notes = notes
    return pid


def list_patients(db: Database | None = None) -> list[dict[str, Any]]:
    with get_db(db).session() as s:
        out = []
        for p in s.scalars(select(Patient).order_by(Patient.id)):
            dates = [r.recorded_utc for r in p.sessions]
            out.append({"id": p.id, "display_name": p.display_name, "created_utc": p.created_utc,
                        "n_sessions": len(dates), "last_session_utc": max(dates) if dates else None})
        return out


# ---- sessions ----------------------------------------------------------------------------------------------------
def _result_dir(result: Any) -> Path:
    d = getattr(result, "out_dir", result)
    if d is None:
        raise InputError("the analysis result has no output folder.", "Pass the folder written by `runform analyze`.")
    d = Path(d)
    if not d.is_dir():
        raise InputError(f"analysis folder not found: {d}.", "Pass the folder written by `runform analyze`.")
    return d


def _read_metrics(result: Any, folder: Path) -> dict[str, Any]:
    view = read_result(folder)
    if view.is_session or view.is_clip:
        return with_clip_strides(view.document(), folder)
    m = getattr(result, "metrics", None)
    if isinstance(m, Mapping):
        return dict(m)
    raise InputError(f"no metrics.json or session.json in {folder}.", "Pass the folder written by `runform analyze`.")


def with_clip_strides(doc: dict[str, Any], folder: Path | None) -> dict[str, Any]:
    """A session.json document with each clip's per-step rows attached (`clips[i]["strides"]`, read from the clip's
    metrics.json under `folder`): the plan's re-test check needs them for "held on >= 80 % of steps" (analyzer.plan
    .hold), and session.json keeps only the summaries. Clips already carrying rows, or whose folder is missing, are
    left as they are; a single-clip metrics.json already has its `strides`."""
    clips = doc.get("clips") if isinstance(doc, dict) else None
    if folder is None or not isinstance(clips, list) or isinstance(doc.get("strides"), list):
        return doc
    for c in clips:
        if not isinstance(c, dict) or isinstance(c.get("strides"), list):
            continue
        sub = c.get("dir") or c.get("name")
        clip = read_result(folder / str(sub)) if isinstance(sub, str) and sub else None
        if clip is None or not _inside(clip.dir / "metrics.json", folder) or not clip.is_clip:
            continue
        try:
            rows = clip.metrics().get("strides")
        except (InputError, AttributeError):
            continue
        if isinstance(rows, list):
            c["strides"] = rows
    return doc


def _clip_entries(doc: Any, view: str | None = None) -> Iterable[dict[str, Any]]:
    """Clip descriptions found anywhere in a metrics/session document: dicts with a sha256 or a file name."""
    if isinstance(doc, Mapping):
        v = doc.get("view") if isinstance(doc.get("view"), str) else view
        for key in ("clip", "clips"):
            sub = doc.get(key)
            for c in (sub if isinstance(sub, list) else [sub]):
                if isinstance(c, Mapping) and any(k in c for k in ("sha256", "name", "file", "path")):
                    yield {"name": c.get("name") or c.get("file") or c.get("path"), "sha256": c.get("sha256"),
                           "view": c.get("view") or v, "path": c.get("path") or c.get("file")}
        for k, sub in doc.items():
            if k not in ("clip", "clips", "summary", "strides", "events") and isinstance(sub, (Mapping, list)):
                yield from _clip_entries(sub, v)
    elif isinstance(doc, list):
        for sub in doc:
            yield from _clip_entries(sub, view)


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(data_dir().resolve()))
    except ValueError:
        return str(path.resolve())


def _abs(stored: str | None) -> Path | None:
    if not stored:
        return None
    p = Path(stored)
    return p if p.is_absolute() else data_dir() / p


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def store_session(patient_id: str, result: Any, notes: str | None = None, *, inputs: Any = None,
                  plan: Mapping[str, Any] | None = None, make_plan: bool = True, replan: bool = False,
                  label: str | None = None, recorded_utc: str | None = None, app_session_id: str | None = None,
                  clips: Iterable[str | Path] = (), db: Database | None = None) -> int:
    """Store one analysed run for a patient (created if new). Returns the session id.

    `result`: the analysis folder (metrics.json or session.json inside) or a ClipResult/SessionResult (`.out_dir`).
    The folder is copied under data_dir/patients/<id>/sessions/<sid>/analysis (never referenced in place) so the
    record is self-contained and deletable. `inputs`: analyzer.plan.PlanInputs (pain etc.). Plan (with `make_plan`, unless
    `plan` is given): the patient's first session gets a new plan built from its metrics; a later session is a
    re-test that moves the existing plan on (same baseline and goals; a phase completes only when its targets are
    met beyond measurement noise and held on >= 80 % of the re-test's steps); `replan=True` builds a fresh plan from
    this session instead. `clips`: source clip paths (their sha256 is recorded to find pose-cache files on deletion).
    """
    pid = check_patient_id(patient_id)
    folder = _result_dir(result)
    doc = _read_metrics(result, folder)
    now = _now()
    dbx = get_db(db)
    with dbx.session() as s:
        _ensure_patient(s, pid, lock=True)  # one store per patient at a time, in every process: plans continue
        plan_doc = dict(plan) if plan is not None else None
        if plan_doc is None and make_plan:
            plan_doc = None if replan else _continued_plan(pid, doc, s)
            if plan_doc is None:
                plan_doc = _auto_plan(doc, inputs)
        rec = SessionRecord(patient_id=pid, created_utc=now, recorded_utc=recorded_utc or now,
                            label=label[:200] if label else label,
                            metrics_json=json.dumps(doc), clinician_notes=notes, app_session_id=app_session_id,
                            plan_json=json.dumps(plan_doc) if plan_doc is not None else None)
        if inputs is not None:
            rec.pain_site, rec.pain_score = getattr(inputs, "pain_site", None), getattr(inputs, "pain_score", None)
            rec.pain_next_morning = getattr(inputs, "pain_next_morning", None)
            rec.weekly_km, rec.goal = getattr(inputs, "weekly_km", None), getattr(inputs, "goal", None)
        s.add(rec)
        s.flush()
        if plan_doc is not None and not (plan_doc.get("status") or {}).get("baseline_session_id"):
            plan_doc["status"] = {**(plan_doc.get("status") or {}), "baseline_session_id": rec.id}
            rec.plan_json = json.dumps(plan_doc)
        dest = patient_dir(pid) / "sessions" / str(rec.id) / "analysis"
        try:
            _copy_owned(folder, dest)
        except (OSError, InputError) as e:
            s.rollback()
            shutil.rmtree(dest.parent, ignore_errors=True)
            why = e.strerror if isinstance(e, OSError) else e.problem
            raise InputError(f"could not copy {folder} into the records folder: {why}",
                             "Check free disk space and permissions of RUNFORM_DATA_DIR.") from None
        rec.analysis_dir = _rel(dest)
        if not _inside(folder, data_dir() / "patients"):  # an --out (outside the data directory or inside it):
            # remembered so that deleting the patient can name it (a stored copy, another patient's, never is)
            write_private(dest.parent / ORIGIN_FILE, json.dumps({"analysed_into": str(folder.resolve())}))
        seen: set[str] = set()
        for c in _clip_entries(doc):
            key = c.get("sha256") or str(c.get("name"))
            if key not in seen:
                seen.add(key)
                rec.clips.append(ClipRecord(name=_s(c.get("name")), view=_s(c.get("view")), sha256=c.get("sha256"),
                                            path=_s(c.get("path"))))
        for name, view, sha, path in _result_clips(result, clips):
            if sha not in seen:
                seen.add(sha)
                rec.clips.append(ClipRecord(name=name, view=view, sha256=sha, path=path))
        s.commit()
        return rec.id


def _copy_owned(src: Path, dest: Path) -> None:
    """A private copy of an analysis folder at dest, complete or not at all (hidden files of the source, e.g. a
    staging folder or lock of a run in progress, are not copied)."""
    from analyzer.core.results import ResultFolder

    with ResultFolder(dest) as rf:
        shutil.copytree(src, rf.staging, dirs_exist_ok=True, copy_function=shutil.copyfile,
                        ignore=lambda _d, names: [n for n in names if n.startswith(".")])
        rf.commit()


def _result_clips(result: Any, clips: Iterable[str | Path]) -> list[tuple[str | None, str | None, str | None,
                                                                          str | None]]:
    """(name, view, sha256, path) of the analysed clips: from ClipResult/SessionResult pose series (meta sha256)
    and from explicitly given clip paths (hashed)."""
    out = []
    for r in [result, *(getattr(result, "clips", None) or [])]:
        meta = getattr(getattr(r, "series", None), "meta", None)
        if isinstance(meta, Mapping) and meta.get("sha256"):
            m = getattr(r, "metrics", None) or {}
            out.append((_s(meta.get("clip")), _s(m.get("view")) if isinstance(m, Mapping) else None,
                        str(meta["sha256"]), None))
    for p in clips:
        from analyzer.pose.cache import clip_sha256

        p = Path(p)
        out.append((p.name, None, clip_sha256(p) if p.is_file() else None, str(p.resolve())))
    return out


def _s(v: Any) -> str | None:
    return None if v is None else str(v)


def _continued_plan(pid: str, doc: Mapping[str, Any], s: OrmSession) -> dict[str, Any] | None:
    """The patient's latest plan moved on by this re-test, or None when they have no plan yet (read in the storing
    transaction `s`, which holds the patient's lock)."""
    from analyzer.plan import advance_plan

    prev = s.scalars(select(SessionRecord).where(SessionRecord.patient_id == pid,
                                                 SessionRecord.plan_json.is_not(None))
                     .order_by(SessionRecord.recorded_utc.desc(), SessionRecord.id.desc())).first()
    if prev is None:
        return None
    plan = json.loads(prev.plan_json)
    base_id = (plan.get("status") or {}).get("baseline_session_id") or prev.id
    base = s.get(SessionRecord, base_id) or prev
    baseline = with_clip_strides(json.loads(base.metrics_json), _abs(base.analysis_dir)) \
        if base.metrics_json else None
    try:
        return advance_plan(plan, doc, baseline).to_dict()
    except (InputError, KeyError, TypeError):
        return None  # an unreadable old plan: start a fresh one


def _auto_plan(doc: Mapping[str, Any], inputs: Any) -> dict[str, Any] | None:
    from analyzer.plan import PlanInputs, build_plan

    try:
        return build_plan(doc, inputs if inputs is not None else PlanInputs()).to_dict()
    except InputError:
        return None


def set_session_notes(session_id: int, notes: str, db: Database | None = None) -> None:
    with get_db(db).session() as s, s.begin():
        rec = s.get(SessionRecord, int(session_id))
        if rec is None:
            raise InputError(f"no session {session_id}.", "List sessions with `runform patients show ID`.")
        rec.clinician_notes = notes


def set_session_plan(session_id: int, plan: Mapping[str, Any], inputs: Any = None, db: Database | None = None) -> None:
    with get_db(db).session() as s, s.begin():
        rec = s.get(SessionRecord, int(session_id))
        if rec is None:
            raise InputError(f"no session {session_id}.", "List sessions with `runform patients show ID`.")
        rec.plan_json = json.dumps(dict(plan))
        if inputs is not None:
            rec.pain_site, rec.pain_score = inputs.pain_site, inputs.pain_score
            rec.pain_next_morning, rec.weekly_km, rec.goal = inputs.pain_next_morning, inputs.weekly_km, inputs.goal


@dataclass
class SessionView:
    """One stored session as the CLI/app show it (JSON-ready via `asdict`)."""

    id: int
    recorded_utc: str
    label: str | None
    analysis_dir: str | None
    clinician_notes: str | None
    pain_site: str | None
    pain_score: float | None
    pain_next_morning: str | None
    weekly_km: float | None
    goal: str | None
    primary_target: str | None
    key_metrics: dict[str, dict[str, Any]]
    clips: list[dict[str, Any]]
    progress_vs_first: list[dict[str, Any]] = field(default_factory=list)
    progress_vs_previous: list[dict[str, Any]] = field(default_factory=list)
    retest_of_previous_plan: dict[str, Any] | None = None


def _load_json(s: str | None) -> Any:
    return json.loads(s) if s else None


def patient_detail(patient_id: str, db: Database | None = None) -> dict[str, Any]:
    """The patient with every session (oldest first), each with key metrics and progress against the first and the
    previous session (changes beyond measurement noise), and the re-test check of the previous session's plan
    (`retest_of_previous_plan`: a RetestResult dict; each check has the goal, noise and hold fields, e.g.
    held / hold_pct / hold_steps for "held on 87 % of 42 steps")."""
    pid = check_patient_id(patient_id)
    from analyzer.plan import check_retest

    with get_db(db).session() as s:
        p = s.get(Patient, pid)
        if p is None:
            raise InputError(f"no patient {pid!r}.", "List patients with `runform patients list`.")
        views: list[SessionView] = []
        docs: list[dict] = []
        plans: list[dict | None] = []
        by_id: dict[int, dict] = {}
        for r in p.sessions:
            doc = with_clip_strides(_load_json(r.metrics_json) or {}, _abs(r.analysis_dir))
            plan = _load_json(r.plan_json)
            v = SessionView(r.id, r.recorded_utc, r.label, str(_abs(r.analysis_dir)) if r.analysis_dir else None,
                            r.clinician_notes, r.pain_site, r.pain_score, r.pain_next_morning, r.weekly_km, r.goal,
                            (plan or {}).get("primary_target"), key_values(doc),
                            [{"name": c.name, "view": c.view, "sha256": c.sha256} for c in r.clips])
            if docs:
                v.progress_vs_first = [asdict(c) for c in compare_metrics(docs[0], doc)]
                v.progress_vs_previous = [asdict(c) for c in compare_metrics(docs[-1], doc)]
                prev_plan = plans[-1] or {}
                cur = (prev_plan.get("status") or {}).get("current_phase")
                phases = [ph for ph in prev_plan.get("phases", []) if ph.get("targets") and ph.get("key") != "retest"]
                phase = next((ph for ph in phases if ph.get("key") == cur), phases[0] if phases else None)
                base = by_id.get((prev_plan.get("status") or {}).get("baseline_session_id"), docs[0])
                if phase is not None:
                    try:
                        v.retest_of_previous_plan = asdict(check_retest(phase, doc, base))
                    except InputError:
                        v.retest_of_previous_plan = None
            views.append(v)
            docs.append(doc)
            plans.append(plan)
            by_id[r.id] = doc
        return {"id": p.id, "display_name": p.display_name, "notes": p.notes, "created_utc": p.created_utc,
                "key_metrics": list(KEY_METRICS), "sessions": [asdict(v) for v in views]}


def session_record(session_id: int, db: Database | None = None) -> dict[str, Any]:
    """One stored session: metrics document, plan, analysis folder (absolute), inputs and notes."""
    with get_db(db).session() as s:
        r = s.get(SessionRecord, int(session_id))
        if r is None:
            raise InputError(f"no session {session_id}.", "List sessions with `runform patients show ID`.")
        return {"id": r.id, "patient_id": r.patient_id, "recorded_utc": r.recorded_utc, "label": r.label,
                "analysis_dir": str(_abs(r.analysis_dir)) if r.analysis_dir else None,
                "metrics": _load_json(r.metrics_json), "plan": _load_json(r.plan_json),
                "clinician_notes": r.clinician_notes, "pain_site": r.pain_site, "pain_score": r.pain_score,
                "pain_next_morning": r.pain_next_morning, "weekly_km": r.weekly_km, "goal": r.goal}


# ---- deletion ----------------------------------------------------------------------------------------------------
ORIGIN_FILE = "origin.json"  # in a stored session folder: the --out folder it was copied from
EXPORTS_FILE = "exports.json"  # in a patient's folder: export files written for them elsewhere (`record_export`)


@dataclass
class DeletionReport:
    """removed_paths: what was deleted; outside_paths: what the store does not own but that still holds this
    patient's results: the --out folders their analyses were written into (outside the data directory or inside it;
    their records hold copies) and the export files written for them (`record_export`), where they still hold the
    same results: named, and removed only when asked (`remove_outside`, or `remove_outside_outputs` later)."""

    patient_id: str
    sessions: int
    removed_paths: list[str]
    outside_paths: list[str] = field(default_factory=list)


def record_export(patient_id: str, path: str | Path) -> None:
    """Remember an export file written for the patient outside their folder (`runform patients export --out`), so
    that deleting the patient names it (and removes it with `remove_outside`) while it still holds these bytes."""
    from analyzer.records.sessions import sha256_file

    p = Path(path).resolve()
    if _inside(p, patient_dir(patient_id)):  # removed with the patient's folder anyway
        return
    index = patient_dir(patient_id) / EXPORTS_FILE
    try:
        known = [e for e in json.loads(index.read_text()) if e.get("path") != str(p)]
    except (OSError, ValueError, AttributeError):
        known = []
    write_private(index, json.dumps(known + [{"path": str(p), "sha256": sha256_file(p)}]))


def _same_result(folder: Path, copy: Path) -> bool:
    """Whether `folder` still holds the result `copy` was copied from: the same session.json (several clips) or
    metrics.json (one clip), byte for byte (a folder analysed into again since, e.g. for another patient, is not
    this patient's any more)."""
    name = "session.json" if (copy / "session.json").is_file() else "metrics.json"
    return (folder / name).read_bytes() == (copy / name).read_bytes()


def _outside_outputs(pid: str) -> list[Path]:
    """The --out folders this patient's stored sessions were copied from and the export files recorded for them,
    still there and still holding the same results."""
    from analyzer.records.sessions import sha256_file

    out = set()
    for f in (patient_dir(pid) / "sessions").glob(f"*/{ORIGIN_FILE}"):
        try:
            d = Path(json.loads(f.read_text())["analysed_into"])
            if _same_result(d, f.parent / "analysis"):
                out.add(d)
        except (OSError, ValueError, KeyError, TypeError):
            continue
    try:
        exports = json.loads((patient_dir(pid) / EXPORTS_FILE).read_text())
    except (OSError, ValueError):
        exports = []
    for e in exports if isinstance(exports, list) else []:
        try:
            if sha256_file(Path(e["path"])) == e["sha256"]:
                out.add(Path(e["path"]))
        except (OSError, KeyError, TypeError):
            continue
    return sorted(out)


def remove_outside_outputs(paths: Iterable[str | Path]) -> list[str]:
    """Remove the folders and files a DeletionReport named (`outside_paths`; what `runform patients delete
    --remove-outside` removes). Returns those removed. Left alone: a folder that is no longer a runform result, a
    link, the data directory (or a folder above it) and anything in the store's patient folders."""
    root = data_dir()
    removed: list[str] = []
    for p in map(Path, paths):
        if p.is_symlink() or _inside(root, p) or _inside(p, root / "patients"):
            continue
        if p.is_dir() and any((p / m).is_file() for m in RESULT_MARKERS):
            shutil.rmtree(p, ignore_errors=True)
        elif p.is_file():
            p.unlink(missing_ok=True)
        if not p.exists():
            removed.append(str(p))
    return removed


def delete_patient(patient_id: str, db: Database | None = None, remove_outside: bool = False) -> DeletionReport:
    """Remove every record and every file of the patient the store owns under data_dir (and their pose-cache files).
    The --out folders their analyses were written into and their recorded export files, where they still hold the
    same results, are listed in the report (`outside_paths`), and removed too with `remove_outside`."""
    pid = check_patient_id(patient_id)
    dbx = get_db(db)
    root = data_dir()
    outside = _outside_outputs(pid)
    folders: set[Path] = set()
    shas: set[str] = set()
    app_ids: set[str] = set()
    with dbx.session() as s:
        p = s.get(Patient, pid, with_for_update=True)  # waits for a store in progress for this patient
        if p is None:
            raise InputError(f"no patient {pid!r}.", "List patients with `runform patients list`.")
        n = len(p.sessions)
        for r in p.sessions:
            if r.app_session_id:
                app_ids.add(r.app_session_id)
            d = _abs(r.analysis_dir)
            if d is not None and _inside(d, root):
                folders.add(_owning_folder(d, root))
            shas.update(c.sha256 for c in r.clips if c.sha256)
        others = {c for c in s.scalars(select(ClipRecord.sha256).join(SessionRecord)
                                       .where(SessionRecord.patient_id != pid)) if c}
        s.delete(p)
        s.commit()
    if dbx.dialect == "sqlite":
        with dbx.engine.connect() as conn:  # deleted rows must not linger in the file's free pages
            conn.execute(text("VACUUM"))
    else:  # dead rows pruned from the tables' pages (VACUUM runs outside a transaction; it never locks out writers)
        with dbx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM patients, sessions, clips"))
    folders.add(root / "patients" / pid)
    for app in _app_sessions(pid, app_ids):
        folders.add(app.dir)
        shas.update(c.sha256 for c in app.clips if getattr(c, "sha256", None))
    removed: list[str] = []
    for f in sorted(folders):
        if f.exists() and _inside(f, root) and f.resolve() != root.resolve():
            shutil.rmtree(f)
            removed.append(str(f))
    pose = cache_dir() / "pose"
    for sha in sorted(shas - others):
        for f in pose.glob(f"{sha}_*"):
            f.unlink(missing_ok=True)
            removed.append(str(f))
    left = [str(d) for d in outside if d.exists()]  # an --out in an app session folder went with it
    if remove_outside:
        gone = remove_outside_outputs(left)
        removed += gone
        left = [d for d in left if d not in gone]
    return DeletionReport(pid, n, removed, left)


def _owning_folder(d: Path, root: Path) -> Path:
    """The folder to remove for an analysis dir under data_dir: the whole app session folder when it is one."""
    rel = d.resolve().relative_to(root.resolve())
    if len(rel.parts) >= 2 and rel.parts[0] == "sessions":
        return root / "sessions" / rel.parts[1]
    return d


def _app_sessions(pid: str, ids: set[str]) -> list[Any]:
    """App session folders (analyzer.records.sessions) tagged with this patient or referenced by their records."""
    from analyzer.records.sessions import SessionStore

    try:
        return [s for s in SessionStore().list() if s.patient_id == pid or s.id in ids]
    except OSError:
        return []


def store_app_session(patient_id: str, session: Any, notes: str | None = None, inputs: Any = None,
                      db: Database | None = None) -> int:
    """Store a finished app session (analyzer.records.sessions.Session) for a patient; tags the app session with the id."""
    pid = add_patient(patient_id, db=db)
    session.patient_id = pid
    session.save()
    return store_session(pid, session.result_dir, notes, inputs=inputs, label=session.title or None,
                         recorded_utc=session.created_utc or None, app_session_id=session.id,
                         clips=session.clip_paths(), db=db)
