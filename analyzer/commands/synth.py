"""`runform synth --out CLIP.mp4 ...`: render a synthetic treadmill runner with exact ground truth.

Writes the H.264 clip and CLIP.truth.json (parameters, camera, exact events, per-step truth for every metric).
Thin CLI over analyzer.synthetic.
"""
from __future__ import annotations

import sys
from pathlib import Path

from ..errors import InputError


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "synth", help="render a synthetic treadmill runner (H.264) with an exact ground-truth file",
        description="Render a synthetic runner on a treadmill from a kinematic model with exactly known gait events "
                    "and angles. Writes CLIP.mp4 and CLIP.truth.json.")
    p.add_argument("--out", required=True, metavar="CLIP.mp4", help="output clip path (.mp4)")
    p.add_argument("--view", choices=("side", "rear"), default="side", help="camera view (default side)")
    p.add_argument("--fps", type=float, default=60.0, metavar="F", help="frame rate, 25-240 (default 60)")
    p.add_argument("--seconds", type=float, default=10.0, metavar="S", help="clip length (default 10)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="gait phase at t=0 (deterministic)")
    p.add_argument("--width", type=int, default=None, metavar="W", help="image width (default 1280 side, 720 rear)")
    p.add_argument("--height", type=int, default=None, metavar="H", help="image height (default 720 side, 1280 rear)")
    p.add_argument("--facing", choices=("left", "right"), default="left", help="running direction in a side view")
    p.add_argument("--dress", choices=("band", "dark", "markers"), default="band",
                   help="clothing: band = light shirt on dark shorts, dark = no contrast, markers = pelvis stickers")
    g = p.add_argument_group("runner")
    g.add_argument("--cadence", type=float, default=170.0, metavar="SPM", help="steps per minute (default 170)")
    g.add_argument("--speed-kmh", type=float, default=12.0, metavar="V", help="belt speed (default 12 km/h)")
    g.add_argument("--contact-ms", type=float, default=None, metavar="MS",
                   help="ground contact time (default: derived from the leg geometry)")
    g.add_argument("--overstride-pct", type=float, default=28.0, metavar="P",
                   help="heel ahead of the hip midpoint at contact, %% of leg length (default 28)")
    g.add_argument("--strike-angle", type=float, default=12.0, metavar="DEG",
                   help="foot-strike angle, toe up + (>8 rearfoot, < -1.6 forefoot; default 12)")
    g.add_argument("--knee-ic", type=float, default=15.0, metavar="DEG", help="knee flexion at contact (default 15)")
    g.add_argument("--pelvic-drop", type=float, default=4.0, metavar="DEG", help="contralateral pelvic drop (default 4)")
    g.add_argument("--vertical-osc-cm", type=float, default=7.0, metavar="CM", help="vertical oscillation (default 7)")
    g.add_argument("--trunk-lean", type=float, default=6.0, metavar="DEG", help="forward trunk lean (default 6)")
    g.add_argument("--step-width-cm", type=float, default=8.0, metavar="CM", help="step width (default 8)")
    g.add_argument("--retraction", type=float, default=0.05, metavar="FRAC",
                   help="swing retraction before contact, fraction of leg length (default 0.05)")
    g.add_argument("--runner-height-cm", type=float, default=175.0, metavar="CM", help="runner's height (default 175)")
    c = p.add_argument_group("camera")
    c.add_argument("--camera-distance", type=float, default=3.5, metavar="M", help="camera distance (default 3.5 m)")
    c.add_argument("--camera-height", type=float, default=None, metavar="M", help="camera height above the belt")
    c.add_argument("--tilt", type=float, default=0.0, metavar="DEG", help="camera pitch, + = looking down")
    c.add_argument("--focal-mm", type=float, default=None, metavar="MM",
                   help="35 mm-equivalent focal length (default: frames the runner)")
    p.add_argument("--body", choices=("figure", "mesh"), default=None,
                   help="side view drawing: figure = fast 2D capsules (default), mesh = the skinned 3D body "
                        "(always used for the rear view)")
    p.add_argument("--crf", type=int, default=23, metavar="Q", help="H.264 quality, lower = better (default 23)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..synthetic import GaitParams, simulate
    from ..synthetic.project import default_camera
    from ..synthetic.truth import truth_path_for

    out = Path(args.out)
    if out.suffix.lower() != ".mp4":
        raise InputError(f"Output {out} is not an .mp4 path.", "Give --out a file name ending in .mp4.")
    if not 25 <= args.fps <= 240:
        raise InputError(f"--fps {args.fps:g} is outside 25..240.", "Choose a frame rate such as 30, 60, 120 or 240.")
    params = GaitParams(
        cadence_spm=args.cadence, belt_speed_mps=args.speed_kmh / 3.6, contact_time_ms=args.contact_ms,
        overstride_pct_leg=args.overstride_pct, strike_angle_deg=args.strike_angle, knee_flexion_ic_deg=args.knee_ic,
        pelvic_drop_deg=args.pelvic_drop, vertical_oscillation_cm=args.vertical_osc_cm, trunk_lean_deg=args.trunk_lean,
        step_width_cm=args.step_width_cm, swing_retraction=args.retraction, height_cm=args.runner_height_cm,
        facing=args.facing)
    truth = simulate(params, args.fps, args.seconds, seed=args.seed)
    side = args.view == "side"
    w = args.width or (1280 if side else 720)
    h = args.height or (720 if side else 1280)
    cam_kw = {"tilt_deg": args.tilt, "distance_m": args.camera_distance}
    if args.camera_height is not None:
        cam_kw["height_m"] = args.camera_height
    if args.focal_mm is not None:
        cam_kw["focal_mm"] = args.focal_mm
    cam = default_camera(truth, view=args.view, width=w, height=h, **cam_kw)
    progress = None if args.quiet else (lambda f: (sys.stderr.write(f"\rrendering {100 * f:5.1f}%"),
                                                   sys.stderr.flush()))
    out.parent.mkdir(parents=True, exist_ok=True)
    if side and args.body != "mesh":
        from ..synthetic.render_side import render_side

        render_side(truth, cam, out, dress=args.dress, crf=args.crf, progress=progress)
    else:
        from ..synthetic.render_rear import render_rear

        render_rear(truth, cam, out, dress=args.dress, crf=args.crf, progress=progress)
    if not args.quiet:
        sys.stderr.write("\r")
        print(f"wrote {out} ({truth.n_frames} frames, {args.fps:g} fps) and {truth_path_for(out)}")
    return 0
