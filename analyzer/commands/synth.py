"""`runform synth --out CLIP.mp4 ...`: render a synthetic treadmill runner with exact ground truth.

Writes the H.264 clip and CLIP.truth.json (parameters, camera, exact events, per-step truth for every metric).
Thin CLI over analyzer.synthetic. `--body mesh` in the side view renders the realistic clip of
analyzer.synthetic.realistic (skinned body in running shoes, phone framing, optional motion blur).
"""
from __future__ import annotations

import sys
from pathlib import Path

from analyzer.core.errors import InputError
from analyzer.synthetic.body import BODY_SHAPES
from analyzer.synthetic.dress import DRESSES
from analyzer.synthetic.realistic import STRIKE_STYLES


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
    p.add_argument("--dress", choices=DRESSES, default="band",
                   help="clothing: band = light shirt on dark shorts, dark = no contrast, markers = pelvis stickers; "
                        "club = white shirt/shoes, navy shorts; dark_shoes = black shoes on a dark sole (low contrast "
                        "with the belt); tights = black full-length tights, neon shoes; neon = orange shoes, black "
                        "sole (the last four are meant for --body mesh)")
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
    g.add_argument("--strike", choices=tuple(STRIKE_STYLES), default=None,
                   help="foot-strike style preset (sets strike angle and overstride, overriding those options): "
                        "rearfoot-steep 20 deg, rearfoot-mild 10, midfoot 3, forefoot -8")
    g.add_argument("--runner-height-cm", type=float, default=None, metavar="CM",
                   help="runner's height (default 175, or the --body-shape's)")
    g.add_argument("--body-shape", choices=tuple(BODY_SHAPES), default="average",
                   help="build: " + ", ".join(f"{s.name} ({s.height_cm:g} cm, legs x{s.leg_scale:g}, girth "
                                              f"x{s.girth:g})" for s in BODY_SHAPES.values())
                        + " (girth only drawn with --body mesh)")
    g.add_argument("--leg-scale", type=float, default=None, metavar="X",
                   help="thigh and shank length factor, 0.9-1.1 (trunk shortened to keep the height; default: shape's)")
    g.add_argument("--girth", type=float, default=None, metavar="X",
                   help="drawn body width around the bones, 0.8-1.3 (--body mesh; default: shape's)")
    c = p.add_argument_group("camera")
    c.add_argument("--camera-distance", type=float, default=3.5, metavar="M",
                   help="camera distance from the runner's midline (default 3.5 m; phone clips: 2-5 m)")
    c.add_argument("--camera-height", type=float, default=None, metavar="M",
                   help="camera height above the belt (default hip height; belt level is about 0.1)")
    c.add_argument("--tilt", type=float, default=None, metavar="DEG",
                   help="camera pitch, + = looking down (default 0; --body mesh side: aimed at the runner)")
    c.add_argument("--focal-mm", type=float, default=None, metavar="MM",
                   help="35 mm-equivalent focal length (default: frames the runner)")
    p.add_argument("--body", choices=("figure", "mesh"), default=None,
                   help="side view drawing: figure = fast 2D capsules (default), mesh = the skinned 3D body in running "
                        "shoes, framed like a phone on a tripod (always the skinned body for the rear view)")
    r = p.add_argument_group("realistic side view (--body mesh)")
    r.add_argument("--shutter", default="none", metavar="1/N",
                   help="exposure time for motion blur, e.g. 1/120, 1/250, 1/1000 (at most the frame interval); "
                        "each frame averages sub-frame renders over it, as many as the motion needs (default none)")
    r.add_argument("--shoe", choices=("running", "body"), default="running",
                   help="running = lofted running shoe with a distinct sole (default); body = the bare mesh foot "
                        "painted as a shoe")
    f = p.add_argument_group("filming problems (footage-check cases; skinned body, analyzer.synthetic.moving)")
    f.add_argument("--yaw", type=float, nargs="+", default=None, metavar="DEG",
                   help="camera orbit from the square side view, + = towards the runner's back (90 = behind); two "
                        "values: from the first to the second over the clip (-90 90: front, side, rear)")
    f.add_argument("--travel-mps", type=float, default=0.0, metavar="V",
                   help="overground: the runner moves along the running direction at V m/s")
    f.add_argument("--follow", choices=("none", "pan", "track"), default="none",
                   help="with --travel-mps: the camera pans (turns in place) or tracks (moves alongside) the runner")
    f.add_argument("--pan-sweep", type=float, default=0.0, metavar="DEG",
                   help="a hand-held back-and-forth pan of this amplitude (2 s period)")
    f.add_argument("--backlight", type=float, default=1.0, metavar="GAIN",
                   help="< 1: a bright window behind the runner, who is exposed x GAIN (e.g. 0.3)")
    p.add_argument("--crf", type=int, default=23, metavar="Q", help="H.264 quality, lower = better (default 23)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def run(args) -> int:
    from analyzer.synthetic import GaitParams, simulate
    from analyzer.synthetic.truth import truth_path_for

    out = Path(args.out)
    if out.suffix.lower() != ".mp4":
        raise InputError(f"Output {out} is not an .mp4 path.", "Give --out a file name ending in .mp4.")
    if not 25 <= args.fps <= 240:
        raise InputError(f"--fps {args.fps:g} is outside 25..240.", "Choose a frame rate such as 30, 60, 120 or 240.")
    shape = BODY_SHAPES[args.body_shape]
    leg_scale = shape.leg_scale if args.leg_scale is None else args.leg_scale
    girth = shape.girth if args.girth is None else args.girth
    if not 0.8 <= girth <= 1.3:
        raise InputError(f"--girth {girth:g} is outside 0.8..1.3.", "Choose a girth factor such as 0.9 or 1.2.")
    params = GaitParams(
        cadence_spm=args.cadence, belt_speed_mps=args.speed_kmh / 3.6, contact_time_ms=args.contact_ms,
        overstride_pct_leg=args.overstride_pct, strike_angle_deg=args.strike_angle, knee_flexion_ic_deg=args.knee_ic,
        pelvic_drop_deg=args.pelvic_drop, vertical_oscillation_cm=args.vertical_osc_cm, trunk_lean_deg=args.trunk_lean,
        step_width_cm=args.step_width_cm, swing_retraction=args.retraction,
        height_cm=shape.height_cm if args.runner_height_cm is None else args.runner_height_cm,
        leg_length_scale=leg_scale, facing=args.facing)
    if args.strike:
        params = params.with_(**STRIKE_STYLES[args.strike])
    truth = simulate(params, args.fps, args.seconds, seed=args.seed)
    side = args.view == "side"
    realistic = side and args.body == "mesh"
    w = args.width or (1280 if side else 720)
    h = args.height or (720 if side else 1280)
    progress = None if args.quiet else (lambda f: (sys.stderr.write(f"\rrendering {100 * f:5.1f}%"),
                                                   sys.stderr.flush()))
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.yaw or args.travel_mps or args.follow != "none" or args.pan_sweep or args.backlight != 1.0:
        from analyzer.synthetic.moving import Shot, render_shot
        from analyzer.synthetic.project import default_camera

        if len(args.yaw or []) > 2 or not 0 < args.backlight <= 1:
            raise InputError("--yaw takes one or two angles and --backlight a gain in (0, 1].",
                             "E.g. --yaw 30, --yaw -90 90, --backlight 0.3.")
        yaw = tuple(args.yaw or (0.0,)) * (2 if len(args.yaw or (0,)) == 1 else 1)
        cam = default_camera(truth, view="side", width=w, height=h, distance_m=args.camera_distance,
                             **({"tilt_deg": args.tilt} if args.tilt is not None else {}))
        render_shot(truth, cam, Shot(yaw_deg=yaw, travel_mps=args.travel_mps, follow=args.follow,
                                     pan_sweep_deg=args.pan_sweep, backlight_gain=args.backlight), out,
                    dress=args.dress if args.dress != "band" else "club", crf=args.crf)
    elif realistic:
        from analyzer.synthetic.realistic import parse_shutter, phone_camera, render_realistic

        cam = phone_camera(truth, w, h, distance_m=args.camera_distance, height_m=args.camera_height)
        if args.tilt is not None or args.focal_mm is not None:
            from dataclasses import replace

            cam = replace(cam, **({"tilt_deg": args.tilt} if args.tilt is not None else {}),
                          **({"focal_mm": args.focal_mm} if args.focal_mm is not None else {}))
        if args.shoe != "running":
            from analyzer.synthetic.render_rear import render_rear

            if parse_shutter(args.shutter) > 0:
                raise InputError("--shutter needs the running shoe renderer.", "Drop --shoe body or --shutter.")
            render_rear(truth, cam, out, dress=args.dress, crf=args.crf, progress=progress, girth=girth)
        else:
            render_realistic(truth, cam, out, dress=args.dress, shutter_s=parse_shutter(args.shutter), girth=girth,
                             shape=args.body_shape, crf=args.crf, progress=progress)
    else:
        from analyzer.synthetic.project import default_camera

        if args.shutter not in ("none", "0", "off"):
            raise InputError("--shutter (motion blur) is drawn only by the skinned side view.",
                             "Add --body mesh (side view), or drop --shutter.")
        cam_kw = {"tilt_deg": args.tilt or 0.0, "distance_m": args.camera_distance}
        if args.camera_height is not None:
            cam_kw["height_m"] = args.camera_height
        if args.focal_mm is not None:
            cam_kw["focal_mm"] = args.focal_mm
        cam = default_camera(truth, view=args.view, width=w, height=h, **cam_kw)
        if side and args.body != "mesh":
            from analyzer.synthetic.render_side import render_side

            render_side(truth, cam, out, dress=args.dress, crf=args.crf, progress=progress)
        else:
            from analyzer.synthetic.render_rear import render_rear

            render_rear(truth, cam, out, dress=args.dress, crf=args.crf, progress=progress, girth=girth)
    if not args.quiet:
        sys.stderr.write("\r")
        print(f"wrote {out} ({truth.n_frames} frames, {args.fps:g} fps) and {truth_path_for(out)}")
    return 0
