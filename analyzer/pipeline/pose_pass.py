"""The offline pose pass: decode + the pose step (`analyzer.pose.step.PoseStep`, the same step live mode runs) on
every frame of a clip, into a `LandmarkSeries` (+ the annotated video in the same pass when it can).

It runs on the pipeline's decoder and render threads (`analyzer.pipeline.threads`, `analyzer.pipeline.render_pass`);
`analyzer.pipeline.offline` calls `pose_pass` when the pose cache has nothing for the clip.
"""
from __future__ import annotations

import queue
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from analyzer.core.errors import InputError
from analyzer.core.landmarks import N_LANDMARKS, LandmarkSeries
from analyzer.media.video_in import VideoInfo, VideoReader
from analyzer.pipeline.render_pass import Renderer
from analyzer.pipeline.threads import END, QUEUE_FRAMES, Worker, decoder, get, work_size
from analyzer.pose.base import PoseFrame
from analyzer.pose.people import ClipScan, select_runner
from analyzer.pose.step import PoseStep

if TYPE_CHECKING:  # annotations only (offline imports this module)
    from analyzer.pipeline.offline import AnalyzeOptions, StageTimes

PEOPLE_CHECK_S = 2.0  # during a one-person pose pass, look for a second person this often (IMAGE-mode detector)


class SeriesBuilder:
    """Per-frame landmarks into growing arrays (about 3 KB a frame; frames themselves are never kept)."""

    def __init__(self, n_hint: int) -> None:
        self.n = 0
        cap = max(n_hint + 8, 64)
        self.t = np.zeros(cap)
        self.fi = np.zeros(cap, np.int64)
        self.xy = np.full((cap, N_LANDMARKS, 2), np.nan)
        self.z = np.full((cap, N_LANDMARKS), np.nan)
        self.vis = np.full((cap, N_LANDMARKS), np.nan)
        self.pres = np.full((cap, N_LANDMARKS), np.nan)
        self.world = np.full((cap, N_LANDMARKS, 3), np.nan)
        self.aux: dict[str, np.ndarray] = {}

    def _grow(self) -> None:
        for name in ("t", "fi", "xy", "z", "vis", "pres", "world", *[f"aux:{k}" for k in self.aux]):
            arr = self.aux[name[4:]] if name.startswith("aux:") else getattr(self, name)
            fill = 0 if name in ("t", "fi") else np.nan
            new = np.full((len(arr),) + arr.shape[1:], fill, dtype=arr.dtype)
            grown = np.concatenate([arr, new])
            if name.startswith("aux:"):
                self.aux[name[4:]] = grown
            else:
                setattr(self, name, grown)

    def add(self, i: int, t: float, pose: PoseFrame | None) -> None:
        """One frame: its pose (landmarks and image measures, `pose.aux`) or None (no pose kept for it)."""
        if self.n >= len(self.t):
            self._grow()
        k = self.n
        self.t[k], self.fi[k] = t, i
        if pose is not None:
            self.set(k, pose)
        self.n += 1

    def set(self, k: int, pose: PoseFrame) -> None:
        self.xy[k], self.z[k], self.vis[k], self.pres[k], self.world[k] = (pose.xy, pose.z, pose.visibility,
                                                                           pose.presence, pose.world)
        for name, v in pose.aux.items():
            if name not in self.aux:
                self.aux[name] = np.full(len(self.t), np.nan)
            self.aux[name][k] = v

    def clear(self, k: int) -> None:
        """Frame k back to "no pose" (landmarks and every aux NaN), e.g. before it is measured again."""
        for arr in (self.xy, self.z, self.vis, self.pres, self.world, *self.aux.values()):
            arr[k] = np.nan

    def as_candidates(self) -> list[list[PoseFrame]]:
        """Frames so far as single-candidate lists (when a second person appears mid-pass)."""
        out = []
        for k in range(self.n):
            if np.isnan(self.xy[k, 0, 0]) and np.isnan(self.xy[k]).all():
                out.append([])
                continue
            out.append([PoseFrame(self.xy[k].copy(), self.z[k].copy(), self.vis[k].copy(), self.pres[k].copy(),
                                  self.world[k].copy(), None, {name: v[k] for name, v in self.aux.items()})])
        return out

    def build(self, info: VideoInfo, model: str, meta: dict) -> LandmarkSeries:
        n = self.n
        return LandmarkSeries(self.t[:n].copy(), self.fi[:n].copy(), self.xy[:n].copy(), self.z[:n].copy(),
                              self.vis[:n].copy(), self.pres[:n].copy(), self.world[:n].copy(), info.width,
                              info.height, model, meta, {k: v[:n].copy() for k, v in self.aux.items()})


def scan_near_side(scan: ClipScan) -> str | None:
    return scan.near_side if scan.view in ("side", "oblique") else None


def pose_meta(path: Path, options: AnalyzeOptions, info, scan: ClipScan, warnings, *, num_poses: int,
              rendered: bool, pose_rate: str) -> dict:
    """The series meta a pose pass records: clip, backend, capture fps, decode warnings, video info, people looked
    for, the scan's view, whether the annotated video was drawn in the same pass, and the pose rate ("full" or
    "sparse": analyzer.pipeline.sparse_pose)."""
    return {"clip": path.name, "backend": f"{options.backend}-{options.model}", "capture_fps": options.capture_fps,
            "decode_warnings": list(warnings), "info": info.to_dict(), "num_poses": num_poses,
            "scan": {"people_per_sample": list(scan.people_per_sample), "view": scan.view},
            "rendered_in_pose_pass": rendered, "pose_rate": pose_rate}


def pose_pass(path: Path, options: AnalyzeOptions, scan: ClipScan, meter: Callable[..., None], times: StageTimes,
              video_path: Path | None, height_cm: float | None) -> LandmarkSeries:
    """Decode + pose every frame (+ render in the same pass when video_path is given and one person is in frame).

    One person (pre-scan): num_poses=1, and every PEOPLE_CHECK_S the frame also goes through the multi-person
    detector; when a second person shows up the landmarker is reopened with num_poses=2 from that frame on, the
    in-pass video is dropped (it is drawn again from the landmarks) and the runner is chosen from the whole clip."""
    from analyzer.pose.mediapipe_backend import PeopleCounter

    reader = VideoReader(path, options.capture_fps)
    info = reader.info
    multi = scan.multi_person
    multi_from = 0 if multi else None
    step = PoseStep(options.backend, options.model, scan.view, num_poses=2 if multi else 1)
    builder = SeriesBuilder(info.n_frames)
    candidates: list[list[PoseFrame]] = []
    stop = threading.Event()
    dq: queue.Queue = queue.Queue(maxsize=QUEUE_FRAMES)
    decode = Worker(decoder(reader, dq, stop, times, True), "decode")
    renderer = None
    # a rear/front view is drawn after the analysis (render_video): its panel shows the offline per-stance pelvic
    # drop and its pelvis line the source the summary chose, so the video and metrics.json agree exactly
    if video_path is not None and not multi and scan.view not in ("rear", "front"):
        renderer = Renderer(video_path, reader, scan_near_side(scan), scan.view or "side", height_cm, times, stop)
    stage_msg = "finding the runner's joints" + (" and drawing the video" if renderer else "")
    check_every = max(1, int(round(PEOPLE_CHECK_S * info.fps)))
    ww, wh = work_size(info.width, info.height)
    # image measures taken at work size (angles: scale-free); landmarks kept in full-size pixels
    up = (info.width / ww, info.height / wh) if (ww, wh) != (info.width, info.height) else None
    counter = PeopleCounter(options.model) if not multi else None
    step.open()
    t_wall = time.perf_counter()
    try:
        decode.start()
        if renderer:
            renderer.start()
        n_est = max(info.n_frames, 1)
        while True:
            item = get(dq, stop)
            if item is END:
                break
            i, t, bgr, rgb = item
            t0 = time.perf_counter()
            if counter is not None and i % check_every == check_every // 2:
                if len(counter.poses(rgb)) >= 2:  # a bystander the pre-scan missed: follow everyone from here
                    multi, multi_from = True, i
                    candidates = builder.as_candidates()
                    counter.close()
                    counter = None
                    step.set_num_poses(2)
                    if renderer:
                        renderer.finish()
                        renderer = None
                times.add("people_check", time.perf_counter() - t0)
                t0 = time.perf_counter()
            found = step.poses(rgb, int(round(t * 1000)), up)
            times.add("pose", time.perf_counter() - t0)
            pose = found[0] if found else None
            if multi:  # every candidate kept until the runner is chosen (a few KB per person-frame)
                candidates.append(found)
                builder.add(i, t, None)
            else:  # one person: straight into the series, nothing else kept
                builder.add(i, t, pose)
            if renderer and not renderer.feed((i, t, bgr, None if pose is None else pose.xy,
                                               None if pose is None else pose.visibility)):
                break
            meter("pose", min((i + 1) / n_est, 0.999), stage_msg)
        decode.join_raise()
        if renderer:
            renderer.finish()
    except BaseException:
        stop.set()
        raise
    finally:
        stop.set()
        step.close()
        if counter is not None:
            counter.close()
        reader.close()
    times.wall_s["pose_pass"] = time.perf_counter() - t_wall
    meta = pose_meta(path, options, info, scan, reader.warnings, num_poses=2 if multi else 1,
                     rendered=renderer is not None, pose_rate="full")
    if builder.n == 0:
        raise InputError(f"{path.name} contains no decodable video frame.", "Export the clip again and retry.")
    if multi:
        chosen, sel = select_runner(candidates, info.capture_fps)
        for arr in (builder.xy, builder.z, builder.vis, builder.pres, builder.world, *builder.aux.values()):
            arr[:] = np.nan  # frames before a mid-pass switch held the first-found person: re-chosen here
        for k, pose in enumerate(chosen):
            if pose is not None:
                builder.set(k, pose)
        meta["runner_selection"] = {**sel, "from_frame": multi_from}
    return builder.build(info, options.model, meta)
