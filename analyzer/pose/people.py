"""Which person is the runner, and which part of the clip is steady running.

1. Pre-scan (`scan_clip`): a handful of frames spread over the clip go through the pose model in IMAGE mode with
   up to 3 people. If nobody but one person ever shows up, the pose pass runs with num_poses=1 (fastest: one
   tracked person). If a second person shows up (a clinician beside the treadmill), the pass asks for 2 poses per
   frame and the runner is chosen afterwards from the whole clip (`select_runner`). The pre-scan also guesses the
   camera view (rear view -> the pose pass asks for segmentation masks for the pelvis measurement).
2. Runner selection (`select_runner`): candidates are linked frame to frame into tracks (nearest hip centre, gated
   by body size). Each track is scored by the periodic leg motion of running: the RMS of the band-passed
   (0.5-5 Hz, kinematics.filters.bandpass) ankle-to-ankle vector, in leg lengths (kinematics.scale.leg_length_px,
   the leg length the metrics use), times the share of frames it is present; a person who walks
   across the frame also loses score for hip drift (a treadmill runner stays in place). The best track is the runner.
3. Steady part (`steady_segment`): stepping on/off the belt shows as small or irregular ankle motion; the longest
   stretch where the rolling amplitude of the ankle-to-ankle signal stays above half its typical running value is
   analysed, the rest reported.
4. Visibility checks (`assess_visibility`): no person, person too small, feet/head cut off by the frame.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analyzer.core.errors import InputError
from analyzer.core.landmarks import N_LANDMARKS, LandmarkSeries
from analyzer.core.landmarks import PoseLandmark as P
from analyzer.kinematics.filters import bandpass, fill_gaps
from analyzer.kinematics.scale import leg_length_px
from analyzer.kinematics.view import detect_view
from analyzer.media import frames_at, probe
from analyzer.pose.base import PoseFrame

SCAN_MAX_SIDE_PX = 1280
MIN_PERSON_HEIGHT_PX = 150  # head-to-feet landmark span below this: too small for the landmark model to be useful
FIX_FRAMING = ("Film the whole runner, head to feet, filling at least half the frame height, from beside "
               "(side view) or behind (rear view) the treadmill.")


# ---------------------------------------------------------------------------------------------------------------
# Pre-scan
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClipScan:
    """Result of the pre-scan. people_per_sample: count of people per sampled frame; view: majority view of the
    largest person in the sampled frames ('' when no one was found)."""

    people_per_sample: tuple[int, ...]
    view: str
    near_side: str | None = None

    @property
    def max_people(self) -> int:
        return max(self.people_per_sample, default=0)

    @property
    def multi_person(self) -> bool:
        return self.max_people >= 2


def sample_frames(path: str, n: int = 5, rotation_deg: int = 0, duration_s: float = 0.0) -> list[np.ndarray]:
    """Up to n RGB frames spread over the clip: the key frames nearest to n evenly spaced times (the decoder skips
    every other frame, so this costs a few frame decodes plus reading the file, even for long clips with long
    key-frame intervals). A key frame nearest to several of the times is returned once."""
    if not duration_s:
        try:
            duration_s = probe(path).duration_s
        except InputError:
            return []
    targets = [duration_s * (k + 0.5) / n for k in range(n)] if duration_s > 0 else [0.0]
    out: list[np.ndarray] = []
    seen: set[float] = set()
    for kf in frames_at(path, targets, rotation_deg=rotation_deg, max_side=SCAN_MAX_SIDE_PX, rgb=True,
                        keyframes_only=True):  # the detector sees 224x224: no need for 4K
        if kf is not None and kf.t_s not in seen:
            seen.add(kf.t_s)
            out.append(kf.image)
    return out


def _person_height(p: PoseFrame) -> float:
    x0, y0, x1, y1 = p.bbox_px
    return y1 - y0


def scan_clip(path: str, rotation_deg: int, duration_s: float, model: str = "full", n: int = 5) -> ClipScan:
    from analyzer.pose.mediapipe_backend import count_people

    frames = sample_frames(path, n, rotation_deg, duration_s)
    poses = count_people(frames, model=model, max_people=3) if frames else []
    counts = tuple(len(p) for p in poses)
    view, near = "", None
    largest = [max(ps, key=_person_height) for ps in poses if ps]
    if largest:
        vi = detect_view(np.stack([p.xy for p in largest]))
        view = "rear" if vi.fractions.get("rear", 0) >= 0.5 else vi.view
        near = vi.near_side
    return ClipScan(counts, view, near)


# ---------------------------------------------------------------------------------------------------------------
# Runner selection among several people
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class _Track:
    frames: list[int] = field(default_factory=list)
    poses: list[PoseFrame] = field(default_factory=list)

    @property
    def last(self) -> PoseFrame:
        return self.poses[-1]


def _size_px(p: PoseFrame) -> float:
    torso = np.linalg.norm((p.xy[P.LEFT_SHOULDER] + p.xy[P.RIGHT_SHOULDER]) / 2 - p.hip_center_px)
    return float(torso) if np.isfinite(torso) and torso > 1 else 50.0


def link_tracks(candidates: list[list[PoseFrame]], max_gap: int = 15) -> list[_Track]:
    """Greedy frame-to-frame association by hip-centre distance (gate: 1 torso length)."""
    tracks: list[_Track] = []
    for i, poses in enumerate(candidates):
        live = [t for t in tracks if i - t.frames[-1] <= max_gap]
        pairs = sorted(((float(np.linalg.norm(p.hip_center_px - t.last.hip_center_px)), pi, ti)
                        for pi, p in enumerate(poses) for ti, t in enumerate(live)), key=lambda x: x[0])
        used_p, used_t = set(), set()
        for d, pi, ti in pairs:
            if pi in used_p or ti in used_t or d > _size_px(live[ti].last):
                continue
            live[ti].frames.append(i)
            live[ti].poses.append(poses[pi])
            used_p.add(pi)
            used_t.add(ti)
        for pi, p in enumerate(poses):
            if pi not in used_p:
                tracks.append(_Track([i], [p]))
    return tracks


def _leg_px(xy: np.ndarray) -> float:
    """The measured leg length (kinematics.scale.leg_length_px, the one the metrics are scaled by); NaN when the
    candidate's legs were never seen or collapse to a point."""
    v = leg_length_px(xy) if len(xy) else float("nan")
    return v if v > 1 else float("nan")


def _ankle_gap(xy: np.ndarray, leg: float) -> np.ndarray:
    """(T, 2) left-minus-right ankle vector in leg lengths, every gap filled (ends held; a never-seen ankle: 0)."""
    return np.nan_to_num(fill_gaps(xy[:, P.LEFT_ANKLE] - xy[:, P.RIGHT_ANKLE], len(xy), hold_ends=True), nan=0.0) / leg


def running_motion_score(xy: np.ndarray, fps: float) -> float:
    """RMS of the band-passed ankle-to-ankle vector in leg lengths ((T,33,2) px, NaN allowed). ~0 standing."""
    leg = _leg_px(xy)
    if not np.isfinite(leg) or len(xy) < 10:
        return 0.0
    bp = bandpass(_ankle_gap(xy, leg), fps)
    return float(np.sqrt(np.mean(np.sum(bp ** 2, axis=1))))


def track_score(track: _Track, n_frames: int, fps: float) -> float:
    """Running-likeness of a track: coverage x periodic ankle motion / (1 + hip drift in leg lengths)."""
    xy = np.full((track.frames[-1] - track.frames[0] + 1, N_LANDMARKS, 2), np.nan)
    for f, p in zip(track.frames, track.poses):
        xy[f - track.frames[0]] = p.xy
    coverage = len(track.frames) / max(n_frames, 1)
    leg = _leg_px(xy)
    hips = np.array([p.hip_center_px for p in track.poses])
    drift = float(np.nanpercentile(hips[:, 0], 95) - np.nanpercentile(hips[:, 0], 5)) / leg if np.isfinite(leg) else 9
    return coverage * running_motion_score(xy, fps) / (1.0 + max(drift - 0.5, 0.0))


def select_runner(candidates: list[list[PoseFrame]], fps: float) -> tuple[list[PoseFrame | None], dict]:
    """Per frame, the runner's pose (None where absent), from every frame's candidate poses. Also returns info
    {n_tracks, scores, chosen} for the report."""
    tracks = link_tracks(candidates)
    n = len(candidates)
    if not tracks:
        return [None] * n, {"n_tracks": 0, "scores": [], "chosen": None}
    scores = [track_score(t, n, fps) for t in tracks]
    best = int(np.argmax(scores))
    out: list[PoseFrame | None] = [None] * n
    for f, p in zip(tracks[best].frames, tracks[best].poses):
        out[f] = p
    return out, {"n_tracks": len(tracks), "scores": [round(s, 4) for s in scores], "chosen": best}


# ---------------------------------------------------------------------------------------------------------------
# Steady running part
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Segment:
    start: int  # first frame (index into the series)
    stop: int  # one past the last frame
    trimmed: bool
    note: str | None


def steady_segment(series: LandmarkSeries, window_s: float = 1.5, rel_threshold: float = 0.45) -> Segment:
    """The longest stretch of steady running (see module docstring). Frames are series indices."""
    from scipy.ndimage import uniform_filter1d

    n = series.n_frames
    fps = series.fps
    leg = _leg_px(series.xy)
    if n < 10 or not np.isfinite(leg) or not np.isfinite(fps):
        return Segment(0, n, False, None)
    det = series.detected
    bp = bandpass(_ankle_gap(series.xy, leg), fps)
    w = max(3, int(round(window_s * fps)))
    power = np.sum(bp ** 2, axis=1)
    if n < 2 * w:  # too short to tell steady from not: keep it all (the too-short check follows)
        return Segment(0, n, False, None)
    amp = np.sqrt(uniform_filter1d(power, w, mode="nearest"))
    present = uniform_filter1d(det.astype(float), w, mode="nearest")
    typical = np.nanpercentile(amp[det], 75) if det.any() else 0.0
    if typical <= 0.05:  # no running motion anywhere: leave it to the kinematics core to say so
        return Segment(0, n, False, None)
    ok = (amp >= rel_threshold * typical) & (present >= 0.5)
    best, cur_start, best_len = (0, 0), None, 0
    for i, v in enumerate(np.append(ok, False)):
        if v and cur_start is None:
            cur_start = i
        elif not v and cur_start is not None:
            if i - cur_start > best_len:
                best, best_len = (cur_start, i), i - cur_start
            cur_start = None
    start, stop = best
    if best_len == 0:
        return Segment(0, n, False, None)
    # only trim ends that are clearly not running (at least half a second)
    min_trim = int(round(0.5 * fps))
    start = start if start >= min_trim else 0
    stop = stop if n - stop >= min_trim else n
    if start == 0 and stop == n:
        return Segment(0, n, False, None)
    note = (f"analysed {series.t[start]:.1f}-{series.t[stop - 1]:.1f} s, the steady running part; "
            f"stepping on/off or irregular motion outside it was left out")
    return Segment(start, stop, True, note)


# ---------------------------------------------------------------------------------------------------------------
# Visibility
# ---------------------------------------------------------------------------------------------------------------
def assess_visibility(series: LandmarkSeries, clip_name: str) -> list[str]:
    """InputError when no runner can be analysed; otherwise warnings (list of str)."""
    det = series.detected
    n = series.n_frames
    share = float(det.mean()) if n else 0.0
    if share < 0.2:
        raise InputError(f"No person found in {clip_name} (a runner was detected in {share:.0%} of frames).",
                         FIX_FRAMING)
    warnings = []
    if share < 0.8:
        warnings.append(f"a runner was detected in only {share:.0%} of frames")
    xy = series.xy[det]
    # cut off: feet or hips outside the image (or predicted there with low presence) in most frames
    w, h = series.width, series.height
    feet = xy[:, [P.LEFT_ANKLE, P.RIGHT_ANKLE, P.LEFT_HEEL, P.RIGHT_HEEL, P.LEFT_HIP, P.RIGHT_HIP]]
    inside = (feet[..., 0] >= 0) & (feet[..., 0] < w) & (feet[..., 1] >= 0) & (feet[..., 1] < h)
    vis = series.visibility[det][:, [P.LEFT_ANKLE, P.RIGHT_ANKLE, P.LEFT_HEEL, P.RIGHT_HEEL, P.LEFT_HIP,
                                      P.RIGHT_HIP]]
    seen = inside & (np.nan_to_num(vis) >= 0.3)
    cut = float(1.0 - np.mean(np.all(seen[:, 4:], axis=1) & np.any(seen[:, :4], axis=1)))
    if cut > 0.5:
        raise InputError(f"The runner is cut off by the frame in {clip_name}: hips or feet are outside the image "
                         f"in {cut:.0%} of frames.", FIX_FRAMING)
    # body size: height of the landmarks' bounding box (head to feet, as the model predicts them)
    span = float(np.nanmedian(np.nanmax(xy[..., 1], axis=1) - np.nanmin(xy[..., 1], axis=1)))
    if not np.isfinite(span) or span < MIN_PERSON_HEIGHT_PX:
        raise InputError(f"The runner is too small in {clip_name} (about {max(span, 0):.0f} px tall; "
                         f"at least {MIN_PERSON_HEIGHT_PX} px needed).", FIX_FRAMING)
    if cut > 0.15:
        warnings.append(f"hips or feet are outside the image in {cut:.0%} of frames")
    return warnings
