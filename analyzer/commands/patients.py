"""`runform patients list|show ID|add ID|export ID|delete ID`: the clinic's patient records.

Thin over analyzer.records (storage, progress) and analyzer.records.bundle (export)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from analyzer.core.errors import InputError
from analyzer.plan.engine import hold_summary
from analyzer.records import add_patient, delete_patient, list_patients, patient_detail, record_export


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("patients", help="list, show, add or delete patient records",
                       description="Patient records stored in RUNFORM_DATA_DIR/runform.sqlite3 (or on the "
                       "PostgreSQL server of RUNFORM_DATABASE_URL).")
    act = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a = act.add_parser("list", help="all patients")
    a.add_argument("--format", choices=("text", "json"), default="text")
    a = act.add_parser("show", help="one patient with their sessions and progress")
    a.add_argument("patient_id", metavar="ID")
    a.add_argument("--format", choices=("text", "json"), default="text")
    a = act.add_parser("add", help="create a patient (sessions stored with --patient create one too)")
    a.add_argument("patient_id", metavar="ID")
    a.add_argument("--name", default=None)
    a.add_argument("--notes", default=None)
    a = act.add_parser("export", help="one self-contained HTML file for the patient: plan, measurements, video")
    a.add_argument("patient_id", metavar="ID")
    a.add_argument("--session", type=int, default=None, metavar="N", help="session id (default: the latest)")
    a.add_argument("--out", type=Path, required=True, metavar="FILE.html")
    a.add_argument("--no-blur", action="store_true", help="keep the face visible (blurred by default)")
    a = act.add_parser("delete", help="delete a patient and every record and file of theirs")
    a.add_argument("patient_id", metavar="ID")
    a.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    a.add_argument("--remove-outside", action="store_true",
                   help="also remove the --out folders this patient was analysed into and the files exported for "
                        "them (listed without it)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.action == "list":
        rows = list_patients()
        if args.format == "json":
            print(json.dumps(rows, indent=2))
        elif not rows:
            print("No patients yet. Store a session with `runform analyze CLIP --patient ID`.")
        else:
            print(f"{'ID':<20} {'Name':<24} {'Sessions':>8}  Last session (UTC)")
            for r in rows:
                print(f"{r['id']:<20} {(r['display_name'] or ''):<24} {r['n_sessions']:>8}  "
                      f"{r['last_session_utc'] or '-'}")
        return 0
    if args.action == "show":
        d = patient_detail(args.patient_id)
        if args.format == "json":
            print(json.dumps(d, indent=2, default=str))
        else:
            _print_patient(d)
        return 0
    if args.action == "add":
        pid = add_patient(args.patient_id, args.name, args.notes)
        print(f"patient {pid} saved")
        return 0
    if args.action == "export":
        from analyzer.records.bundle import export_session

        sessions = patient_detail(args.patient_id)["sessions"]
        if not sessions:
            raise InputError(f"patient {args.patient_id} has no sessions.", "Store an analysis first.")
        sid = args.session if args.session is not None else sessions[-1]["id"]
        if sid not in {s["id"] for s in sessions}:
            raise InputError(f"session {sid} is not one of patient {args.patient_id}'s.",
                             "See `runform patients show ID` for their session ids.")
        out = export_session(sid, args.out, blur_face=not args.no_blur)
        record_export(args.patient_id, out)  # named (and removed when asked) when the patient is deleted
        print(f"wrote {out}")
        return 0
    if args.action == "delete":
        if not args.yes and sys.stdin.isatty():
            answer = input(f"Delete patient {args.patient_id} and all their sessions and files? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("not deleted")
                return 1
        rep = delete_patient(args.patient_id, remove_outside=args.remove_outside)
        print(f"deleted patient {rep.patient_id}: {rep.sessions} session(s), {len(rep.removed_paths)} path(s) removed")
        if rep.outside_paths:
            print("Result folders (--out) and export files still hold this patient's results (not removed):")
            for path in rep.outside_paths:
                print(f"  {path}")
            print("Remove them too with `runform patients delete ID --remove-outside`, or delete them yourself.")
        return 0
    raise InputError(f"unknown action {args.action!r}.", "Use list, show, add or delete.")


def _print_patient(d: dict) -> None:
    print(f"Patient {d['id']}" + (f" - {d['display_name']}" if d.get("display_name") else ""))
    if not d["sessions"]:
        print("  no sessions")
    for s in d["sessions"]:
        km = ", ".join(f"{m}={v['value']:.1f}" for m, v in s["key_metrics"].items())
        print(f"  session {s['id']}  {s['recorded_utc']}  primary target: {s['primary_target'] or '-'}")
        print(f"    {km}")
        for c in s["progress_vs_first"]:
            if c["beyond_noise"]:
                print(f"    vs first: {c['label']} {c['before']:g} -> {c['after']:g} ({c['change']:+g}, "
                      f"noise +/-{c['noise']:g}): {c['verdict']}")
        if s.get("retest_of_previous_plan"):
            r = s["retest_of_previous_plan"]
            print(f"    re-test of previous plan phase '{r['phase']}': {'advance' if r['advance'] else 'not yet'}")
            for c in r.get("checks", []):
                held = hold_summary(c)
                print(f"      {c['metric']}: {c.get('reason', '')}" + (f"; {held}" if held and held not in
                                                                       c.get("reason", "") else ""))
        if s.get("clinician_notes"):
            print(f"    notes: {s['clinician_notes']}")
