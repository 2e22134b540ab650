"""`runform demo`: analyse the bundled sample clip(s) in sample_videos/ once, then open the clinic app showing them.

The result is stored as a session in the data directory (tag "demo"); a second run finds it and starts at once.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from analyzer.core.errors import InputError
from analyzer.commands import app as app_command

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_videos"
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".avi", ".webm")
DEMO_TAG = "demo"


def register(subparsers) -> None:
    p = subparsers.add_parser("demo", help="analyse the bundled sample clip and open the app on it",
                              description="Analyse the bundled sample clip (once) and start the clinic app showing "
                                          "the result.")
    app_command.add_server_arguments(p)
    p.add_argument("--no-app", action="store_true", help="only analyse and store the sample; do not start the app")
    p.set_defaults(func=run)


def sample_clips(folder: Path = SAMPLE_DIR) -> list[Path]:
    """The bundled sample clips (side view first, then rear), sorted by name within each view."""
    clips = sorted(p for p in folder.glob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
    if not clips:
        raise InputError(f"No sample clip found in {folder}.",
                         "Reinstall from a fresh clone (sample_videos/ ships with the repository).")

    def view_rank(p: Path) -> int:
        n = p.name.lower()
        return 0 if "side" in n else (1 if "rear" in n or "back" in n else 2)

    return sorted(clips, key=lambda p: (view_rank(p), p.name))


def sample_options(clips: list[Path]) -> dict:
    """Runner height / capture fps / belt speed recorded beside a synthetic sample (CLIP.truth.json), if any."""
    opts: dict = {}
    for clip in clips:
        for side in (clip.with_suffix(".truth.json"), clip.with_name(clip.name + ".truth.json")):
            if not side.is_file():
                continue
            try:
                truth = json.loads(side.read_text())
            except (OSError, json.JSONDecodeError):
                continue
            params = truth.get("params", truth) if isinstance(truth, dict) else {}
            if isinstance(params.get("height_cm"), (int, float)):
                opts.setdefault("height_cm", float(params["height_cm"]))
            if isinstance(params.get("belt_speed_mps"), (int, float)):
                opts.setdefault("treadmill_speed_kmh", round(float(params["belt_speed_mps"]) * 3.6, 2))
    return opts


def _print_progress(p) -> None:
    eta = f", about {p.eta_s:.0f} s left" if getattr(p, "eta_s", None) is not None else ""
    sys.stderr.write(f"\r  {p.stage:<12} {100 * p.fraction:5.1f}%{eta}   ")
    sys.stderr.flush()


def ensure_demo_session(clips: list[Path] | None = None):
    """The stored demo session for the sample clips, analysing them first if no finished one exists."""
    from analyzer.records.sessions import SessionStore, sha256_file
    from analyzer.pipeline.stored import analyze_stored

    clips = clips or sample_clips()
    shas = {sha256_file(c) for c in clips}
    store = SessionStore()
    for s in store.find(tag=DEMO_TAG, status="done"):
        if {c.sha256 for c in s.clips} == shas and s.has_result:
            return s
    from analyzer.pipeline.offline import AnalyzeOptions

    options = AnalyzeOptions(**sample_options(clips))
    s = store.create(title="Sample runner (synthetic demo clip)", options={}, tags=[DEMO_TAG])
    for c in clips:
        s.add_clip(c.name, c)
    print(f"runform: analysing the sample clip{'s' if len(clips) > 1 else ''} "
          f"({', '.join(c.name for c in clips)}) ...", flush=True)
    t0 = time.monotonic()
    try:
        analyze_stored(s, options, _print_progress)
    except Exception:
        store.delete(s.id)
        raise
    sys.stderr.write("\n")
    print(f"runform: sample analysed in {time.monotonic() - t0:.0f} s; stored as session {s.id}", flush=True)
    return s


def run(args) -> int:
    session = ensure_demo_session()
    if args.no_app:
        print(session.id)
        return 0
    return app_command.launch(args.port, args.address, args.max_upload_mb, args.session or session.id,
                              getattr(args, "allowed_host", None))
