"""Decode at 1080p and 4K, H.264 and HEVC: scaled decoding vs full size + cv2.resize, and end-to-end / pose-only.

Clips, generated from the real treadmill clip (each source frame shown twice at 60 fps, --seconds long):
  1080p60-h264        1080x1920 portrait, libx264 preset veryfast (CABAC and B-frames, as phones write H.264)
  1080p60-hevc-rot90  stored 1920x1080 + a 90 degree display matrix (how phones store portrait), libx265 ultrafast
  4k60-hevc-rot90     stored 3840x2160 + 90 degrees, libx265 ultrafast
  4k60-h264           2160x3840 portrait, libx264 veryfast
Measured side by side in this run, per clip (best of --repeat, the modes interleaved so machine load hits all alike):
  decode old   VideoReader at full size (BGR) + cv2.resize INTER_AREA to the work size (the decoder thread before #17)
  decode new   VideoReader.scale_to(work size): swscale YUV -> BGR at the work size in one pass, FFmpeg threads
  pose-only    PoseStep (MediaPipe, --model) on the pre-decoded work-size RGB frames: no decoding, no drawing
  e2e new/old  analyze_clip with an empty pose cache; its pose pass (decode + pose + overlay + H.264 encoding on 3
               threads, StageTimes.wall_s["pose_pass"]) with the new / the old decode path
ratio = e2e pose pass wall / pose-only wall (issue #17 target <= 1.10); "whole" = the whole analyze_clip wall
(+ pre-scan, kinematics, report) / pose-only, for information.

Usage: .venv/bin/python benchmarks/bench_decode.py [--seconds 2.5] [--repeat 1] [--model full] [--only NAME ...]
"""
from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
REAL_CLIP = REPO.parent / "shared" / "videos" / "treadmill_side_left_30fps.mp4"
WORK_MAX_SIDE_PX = 1280  # as analyzer.pipeline.threads (not on the pipeline's face)

# name: (displayed width, height, encoder, display rotation in degrees)
CLIPS = {"1080p60-h264": (1080, 1920, "libx264", 0),
         "1080p60-hevc-rot90": (1080, 1920, "libx265", 90),
         "4k60-hevc-rot90": (2160, 3840, "libx265", 90),
         "4k60-h264": (2160, 3840, "libx264", 0)}


def work_size(width: int, height: int) -> tuple[int, int]:
    """The pipeline's work size (analyzer.pipeline.threads.work_size): even, long side at most 1280."""
    s = min(1.0, WORK_MAX_SIDE_PX / max(width, height))
    if s >= 1.0:
        return width, height
    return max(2, int(round(width * s / 2)) * 2), max(2, int(round(height * s / 2)) * 2)


def source_clip() -> Path:
    if REAL_CLIP.exists():
        return REAL_CLIP
    return sorted((REPO / "sample_videos").glob("*side*.mp4"))[0]


def make_clip(src: Path, out: Path, w: int, h: int, codec: str, rotation: int, seconds: float) -> Path:
    """src upscaled to w x h displayed, 60 fps (each frame twice); stored turned so that `rotation` displays it."""
    import av
    import cv2

    from analyzer.media import open_video

    raw = out.with_name(out.stem + ".raw.mp4") if rotation else out
    sw, sh = (h, w) if rotation in (90, 270) else (w, h)
    with av.open(str(raw), "w") as c, open_video(src) as v:
        s = c.add_stream(codec, rate=60)
        s.width, s.height, s.pix_fmt = sw, sh, "yuv420p"
        s.options = ({"preset": "veryfast", "crf": "20"} if codec == "libx264" else
                     {"preset": "ultrafast", "crf": "22", "x265-params": "log-level=error"})
        for i, t, img in v:
            if t >= seconds:
                break
            big = cv2.resize(img, (w, h), interpolation=cv2.INTER_CUBIC)
            stored = np.ascontiguousarray(np.rot90(big, -rotation // 90)) if rotation else big
            frame = av.VideoFrame.from_ndarray(stored, format="bgr24")
            for _ in range(2):
                for p in s.encode(frame):
                    c.mux(p)
        for p in s.encode():
            c.mux(p)
    if rotation:  # the display matrix, by stream copy (ffmpeg >= 6: -display_rotation; 5: the rotate tag)
        cmds = [["ffmpeg", "-v", "error", "-y", "-display_rotation", str(rotation), "-i", str(raw), "-c", "copy",
                 str(out)],
                ["ffmpeg", "-v", "error", "-y", "-i", str(raw), "-c", "copy", "-metadata:s:v:0",
                 f"rotate={rotation}", str(out)]]
        if not any(subprocess.run(cmd, capture_output=True).returncode == 0 for cmd in cmds):
            raise SystemExit("ffmpeg could not tag the rotation")
        raw.unlink()
        check_upright(src, out, w, h)
    return out


def check_upright(src: Path, clip: Path, w: int, h: int) -> None:
    """The rotated clip displays like the source (the runner upright), not merely at the right size."""
    import cv2

    from analyzer.media import open_video

    with open_video(src) as a, open_video(clip) as b:
        want = cv2.resize(next(iter(a))[2], (w // 8, h // 8), interpolation=cv2.INTER_AREA)
        got = cv2.resize(next(iter(b))[2], (w // 8, h // 8), interpolation=cv2.INTER_AREA)
    d = np.abs(want.astype(int) - got.astype(int)).mean()
    if d > 8:
        raise SystemExit(f"{clip.name}: the display matrix turns the picture the wrong way (mean diff {d:.1f})")


@contextlib.contextmanager
def old_decode_path(on: bool) -> Iterator[None]:
    """While on: readers ignore scale_to, so the pipeline's decoder gets full-size frames and cv2.resizes them."""
    from analyzer.media import open_video

    if not on:
        yield
        return
    with open_video(source_clip()) as v:  # the reader class, from the media package's face
        reader_cls = type(v)
    new = reader_cls.scale_to
    reader_cls.scale_to = lambda self, size: new(self, None)
    try:
        yield
    finally:
        reader_cls.scale_to = new


def decode_ms(clip: Path, old: bool) -> float:
    """ms per frame to decode the clip to work-size BGR frames (rotation applied), old or new path."""
    import cv2

    from analyzer.media import open_video

    with open_video(clip) as v:
        size = work_size(v.info.width, v.info.height)
        if not old:
            v.scale_to(size)
        t0 = time.perf_counter()
        n = 0
        for _, _, img in v:
            if old:
                img = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
            n += 1
        return (time.perf_counter() - t0) / n * 1000


def predecode(clip: Path) -> tuple[list[tuple[float, np.ndarray]], tuple[float, float] | None]:
    """(t, rgb) work-size frames of the clip, and the work -> full-size landmark scale (as the pose pass)."""
    import cv2

    from analyzer.media import open_video

    with open_video(clip) as v:
        size = work_size(v.info.width, v.info.height)
        v.scale_to(size)
        frames = [(t, cv2.cvtColor(img, cv2.COLOR_BGR2RGB)) for _, t, img in v]
        full = (v.info.width, v.info.height)
    return frames, (None if size == full else (full[0] / size[0], full[1] / size[1]))


def pose_only_s(frames: list[tuple[float, np.ndarray]], up, model: str, view: str | None) -> tuple[float, float]:
    """(wall s, CPU cores busy) of the pose step alone (model loaded beforehand, as in the pose pass) on pre-decoded
    frames; cores = this process's CPU time / wall (nothing else runs in it meanwhile)."""
    from analyzer.pose import PoseStep

    with PoseStep("mediapipe", model, view, num_poses=1) as step:  # opened (model loaded) here
        t0, c0 = time.perf_counter(), time.process_time()
        for t, rgb in frames:
            step.poses(rgb, int(round(t * 1000)), up)
        wall = time.perf_counter() - t0
        return wall, (time.process_time() - c0) / wall


def e2e(clip: Path, model: str, old: bool) -> dict:
    """analyze_clip with a fresh pose cache: the pose pass wall, the whole wall, per-stage busy ms/frame."""
    from analyzer.pipeline import AnalyzeOptions, analyze_clip

    with tempfile.TemporaryDirectory() as d, old_decode_path(old):
        saved = {k: os.environ.get(k) for k in ("RUNFORM_CACHE_DIR", "RUNFORM_DATA_DIR")}
        os.environ["RUNFORM_CACHE_DIR"] = str(Path(d) / "cache")
        os.environ["RUNFORM_DATA_DIR"] = str(Path(d) / "data")
        try:
            t0 = time.perf_counter()
            r = analyze_clip(clip, Path(d) / "out", AnalyzeOptions(model=model))
            wall = time.perf_counter() - t0
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    meta = r.series.meta
    return {"pose_pass_s": r.timings.wall_s["pose_pass"], "total_s": wall, "ms": r.timings.ms_per_frame(),
            "frames": r.series.n_frames, "view": (meta.get("scan") or {}).get("view"),
            "rendered": bool(meta.get("rendered_in_pose_pass"))}


def bench(name: str, clip: Path, model: str, repeat: int) -> dict:
    from analyzer.media import probe

    info = probe(clip)
    frames, up = predecode(clip)
    runs: dict[str, list] = {"dec_old": [], "dec_new": [], "pose": [], "e2e_new": [], "e2e_old": []}
    view = None
    for _ in range(repeat):
        runs["dec_old"].append(decode_ms(clip, old=True))
        runs["dec_new"].append(decode_ms(clip, old=False))
        runs["e2e_new"].append(e2e(clip, model, old=False))
        view = runs["e2e_new"][-1]["view"]
        runs["pose"].append(pose_only_s(frames, up, model, view))
        runs["e2e_old"].append(e2e(clip, model, old=True))
    new = min(runs["e2e_new"], key=lambda r: r["pose_pass_s"])
    old = min(runs["e2e_old"], key=lambda r: r["pose_pass_s"])
    pose, cores = min(runs["pose"])
    row = {"name": name, "size": f"{info.width}x{info.height}", "codec": info.codec, "rot": info.rotation_deg,
           "frames": len(frames), "dec_old_ms": min(runs["dec_old"]), "dec_new_ms": min(runs["dec_new"]),
           "pose_ms": pose / len(frames) * 1000, "pose_s": pose, "pose_cores": cores, "new": new, "old": old,
           "ratio_new": new["pose_pass_s"] / pose, "ratio_old": old["pose_pass_s"] / pose,
           "whole_new": new["total_s"] / pose}
    ms = new["ms"]
    print(f"  {name}: {row['size']} {info.codec} rot {info.rotation_deg}, {len(frames)} frames, view {view}, "
          f"rendered in pose pass: {new['rendered']}; e2e new busy ms/frame: "
          + ", ".join(f"{k} {ms[k]:.1f}" for k in ("decode", "pose", "draw", "encode") if k in ms)
          + f"; old decode busy {old['ms'].get('decode', float('nan')):.1f}", flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=2.5, help="length of each generated clip (60 fps)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--model", default="full")
    ap.add_argument("--only", action="append", choices=sorted(CLIPS), help="clip(s) to run (default: all)")
    args = ap.parse_args()
    import av

    print(f"machine: {os.cpu_count()} CPU cores; load average {os.getloadavg()[0]:.2f} at start; "
          f"PyAV {av.__version__}, FFmpeg {getattr(av, 'ffmpeg_version_info', '?')}")
    missing = sorted({c for _, _, c, _ in CLIPS.values()} - set(av.codecs_available))
    if missing:
        print(f"encoders missing from this PyAV build: {', '.join(missing)} (their clips are skipped)")
    src = source_clip()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for name in args.only or list(CLIPS):
            w, h, codec, rot = CLIPS[name]
            if codec in missing:
                continue
            t0 = time.perf_counter()
            clip = make_clip(src, Path(d) / f"{name}.mp4", w, h, codec, rot, args.seconds)
            print(f"(generated {clip.name} in {time.perf_counter() - t0:.0f} s)", flush=True)
            rows.append(bench(name, clip, args.model, args.repeat))
            clip.unlink()
    print(f"\nbest of {args.repeat}; decode = ms/frame to work-size BGR; pose = pose step alone, ms/frame "
          "(cores: CPU cores it kept busy);\ne2e = analyze_clip's pose pass (decode + pose + draw + encode), s; "
          "ratio = e2e / pose-only")
    head = (f"{'clip':<20}{'displayed':>11}{'rot':>5}{'dec old':>9}{'dec new':>9}{'pose':>7}{'cores':>6}{'pose s':>8}"
            f"{'e2e old':>9}{'e2e new':>9}{'ratio old':>11}{'ratio new':>11}{'whole new':>11}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['name']:<20}{r['size']:>11}{r['rot']:>5}{r['dec_old_ms']:>9.1f}{r['dec_new_ms']:>9.1f}"
              f"{r['pose_ms']:>7.1f}{r['pose_cores']:>6.1f}{r['pose_s']:>8.2f}{r['old']['pose_pass_s']:>9.2f}"
              f"{r['new']['pose_pass_s']:>9.2f}"
              f"{r['ratio_old']:>11.2f}{r['ratio_new']:>11.2f}{r['whole_new']:>11.2f}")
    print(f"\ntarget: ratio new <= 1.10; load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
