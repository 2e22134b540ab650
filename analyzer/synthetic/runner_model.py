"""The running model for one parameter set (RunnerModel; its physics is described in gait.py): stance on the moving
belt, swing by a Hermite ankle curve, legs by two-link inverse kinematics, pelvis and trunk motion. Evaluated at any
instants by `landmarks(t)`; `check()` rejects what it cannot realise.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.interpolate import CubicHermiteSpline
from scipy.optimize import brentq

from analyzer.core.landmarks import N_LANDMARKS, PoseLandmark as L
from analyzer.synthetic.body import BodyDims
from analyzer.synthetic.gait import SIDES, GaitParams, InvalidGaitError, check_params

_Z_SIGN = {"left": -1.0, "right": 1.0}
#: Minimum knee flexion anywhere in the cycle; below it the knee counts as locked straight (hyperextension risk).
MIN_KNEE_FLEXION_DEG = 3.0
#: Minimum toe clearance of the swing foot over the middle 60 % of swing.
MIN_MID_SWING_CLEARANCE_M = 0.02
_DENSE_HZ = 2000.0


# ---------------------------------------------------------------------------------------------------------------
# geometry helpers
def _rot2(phi: np.ndarray, v: tuple[float, float]) -> np.ndarray:
    """Rotate the 2D vector v by angles phi (radians, counter-clockwise = toe up): (N,2)."""
    c, s = np.cos(phi), np.sin(phi)
    return np.stack([v[0] * c - v[1] * s, v[0] * s + v[1] * c], axis=-1)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def two_link_ik(hip: np.ndarray, ankle: np.ndarray, a: float, b: float, pole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knee positions (N,3) for thigh a, shank b, knee bending towards `pole` (N,3 or 3,); also the reach ratio d/(a+b).

    Where the ankle is out of reach (d > a + b) the leg is clamped straight; callers check the returned ratio.
    """
    d_vec = ankle - hip
    d = np.linalg.norm(d_vec, axis=-1)
    u = d_vec / d[:, None]
    dc = np.clip(d, abs(a - b) + 1e-9, a + b)
    cos_a = (a * a + dc * dc - b * b) / (2 * a * dc)
    sin_a = np.sqrt(np.clip(1 - cos_a ** 2, 0, None))
    pole = np.broadcast_to(pole, hip.shape)
    w = _unit(pole - np.sum(pole * u, axis=-1, keepdims=True) * u)
    knee = hip + a * cos_a[:, None] * u + a * sin_a[:, None] * w
    return knee, d / (a + b)


def _angle_at(p_a: np.ndarray, p_b: np.ndarray, p_c: np.ndarray) -> np.ndarray:
    """Angle a-b-c at b in degrees (any dimension)."""
    v1, v2 = p_a - p_b, p_c - p_b
    c = np.sum(v1 * v2, axis=-1) / (np.linalg.norm(v1, axis=-1) * np.linalg.norm(v2, axis=-1))
    return np.degrees(np.arccos(np.clip(c, -1, 1)))


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


# ---------------------------------------------------------------------------------------------------------------
class RunnerModel:
    """The periodic running model for one parameter set. Evaluate with `landmarks(t)`; check with `check()`."""

    def __init__(self, params: GaitParams, phase_s: float = 0.0) -> None:
        p = params
        check_params(p)
        self.p = p
        self.body = body = BodyDims.from_height_cm(p.height_cm, p.leg_length_scale)
        self.step_s = 60.0 / p.cadence_spm
        self.stride_s = 2 * self.step_s
        self.v = p.belt_speed_mps
        self.t0 = phase_s  # time of a right IC
        self.leg = body.leg_m
        self.os_m = p.overstride_pct_leg / 100.0 * self.leg
        self.vo_m = p.vertical_oscillation_cm / 100.0
        self.alpha = math.radians(p.strike_angle_deg)
        self.phi_to = math.radians(p.toe_off_angle_deg)
        self.rearfoot = p.strike_angle_deg >= 0
        bm, lf = body.ball_m, body.foot_m
        if self.rearfoot:
            self.phi0 = self.alpha
        else:  # toes flat at IC: solve the foot angle so that the HEEL->FOOT_INDEX landmark line makes alpha
            h_fwd, up, t_back = self.landmark_offsets()

            def f(ph: float) -> float:  # ball at the origin, toes flat
                heel = np.array([-bm * math.cos(ph), -bm * math.sin(ph)])
                heel_lm = heel + h_fwd * np.array([math.cos(ph), math.sin(ph)]) + up * np.array([-math.sin(ph),
                                                                                                   math.cos(ph)])
                toe_lm = np.array([lf - bm - t_back, up])
                d = toe_lm - heel_lm
                return math.atan2(d[1], d[0]) - self.alpha

            self.phi0 = brentq(f, -1.4, 0.0)
        self.ff_frac = (0.18 if self.phi0 > 0 else 0.0) if self.rearfoot else 0.25
        self.ho_frac = 0.50 if self.rearfoot else 0.45
        # heel X at IC is the overstride; X of the heel while the foot is flat, at stance time 0 (belt-fixed)
        # overstride is defined on the HEEL landmark, which sits inside the shoe (see landmark_offsets)
        lm_h_fwd, lm_up, _ = self.landmark_offsets()
        self.heel_ic_x = self.os_m - (lm_h_fwd * math.cos(self.phi0) - lm_up * math.sin(self.phi0))
        self.flat_heel_x0 = self.heel_ic_x if self.rearfoot else self.heel_ic_x + bm * math.cos(self.phi0) - bm
        self._set_contact_time(self._contact_time())
        if self.tc >= self.step_s * 0.97:
            raise InvalidGaitError(
                f"Contact time {self.tc * 1000:.0f} ms leaves no flight phase at {p.cadence_spm:g} steps/min "
                f"(step time {self.step_s * 1000:.0f} ms): that is not running.",
                "Lower contact_time_ms, raise the belt speed or cadence, or reduce the overstride.")
        if self.stride_s - self.tc < 0.2:
            raise InvalidGaitError(f"Swing time {(self.stride_s - self.tc) * 1000:.0f} ms is too short for a leg swing.",
                                   "Lower the cadence or the contact time.")
        self._fit_swing()

    # ---- timing -------------------------------------------------------------------------------------------
    def landmark_offsets(self) -> tuple[float, float, float]:
        """Where BlazePose's HEEL and FOOT_INDEX sit relative to the shoe sole (m): (heel forward of the sole's back
        edge, both above the sole line, toe landmark behind the toe tip).

        Measured on this renderer with the full model (median over 90 frames): MediaPipe puts both points inside the
        shoe, about 4 cm in from the heel, 2.4 cm in from the tip and 4-5 cm above the sole. The same perpendicular
        offset for both keeps the heel->toe line parallel to the sole, so the foot-strike angle is unchanged.
        """
        k = self.body.height_m / 1.75
        return 0.035 * k, 0.03 * k, 0.02 * k

    def _set_contact_time(self, tc: float) -> None:
        self.tc = tc
        self.t_ff = self.ff_frac * tc
        self.t_ho = self.ho_frac * tc
        self.t_sw = self.stride_s - tc
        self._fit_pelvis_height()

    def _knee_flexion_at_to(self, tc: float) -> float:
        self._set_contact_time(tc)
        st = self._stance_chain(np.array([tc]))
        if st["reach"][0] > 1.0:
            return -(st["reach"][0] - 1.0) * 100  # out of reach: negative "flexion", keeps the root bracket monotone
        return float(180 - _angle_at(st["hip"], st["knee"], self._to3(st["ankle"], "right"))[0])

    def _contact_time(self) -> float:
        """Given contact time, or the one at which the stance knee has extended to knee_flexion_to_deg."""
        if self.p.contact_time_ms is not None:
            if not 80 <= self.p.contact_time_ms <= 600:
                raise InvalidGaitError(f"contact_time_ms={self.p.contact_time_ms:g} is outside 80..600 ms.",
                                       "Choose a running contact time (about 180-320 ms).")
            return self.p.contact_time_ms / 1000.0
        target = self.p.knee_flexion_to_deg
        lo, hi = 0.08, 0.97 * self.step_s
        f = lambda tc: self._knee_flexion_at_to(tc) - target  # noqa: E731
        if f(lo) < 0 or f(hi) > 0:
            raise InvalidGaitError(
                f"No contact time between {lo * 1000:.0f} and {hi * 1000:.0f} ms ends stance with "
                f"{target:g} deg knee flexion for these parameters.",
                "Give contact_time_ms explicitly, or change knee_flexion_to_deg, overstride or belt speed.")
        return float(brentq(f, lo, hi, xtol=1e-6))

    def tau(self, t: np.ndarray, side: str) -> np.ndarray:
        """Time since that side's last IC, in [0, stride)."""
        off = 0.0 if side == "right" else self.step_s
        return np.mod(t - self.t0 - off, self.stride_s)

    # ---- pelvis -------------------------------------------------------------------------------------------
    def _bump(self, x: np.ndarray) -> np.ndarray:
        inside = (x >= 0) & (x <= 1)
        return np.where(inside, np.sin(np.pi * np.clip(x, 0, 1) ** 0.75) ** 2, 0.0)

    def pelvis(self, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(centre (N,3), yaw rad (N,), roll rad (N,)); roll > 0 = left hip lower (right stance)."""
        y = self.y_bar - 0.5 * self.vo_m * np.cos(2 * np.pi * (t - self.t0 - self.tc / 2) / self.step_s)
        centre = np.stack([np.zeros_like(t), y, np.zeros_like(t)], axis=-1)
        yaw = math.radians(self.p.pelvic_rotation_deg) * np.cos(2 * np.pi * (t - self.t0) / self.stride_s)
        roll = (math.radians(self.p.drop_deg("right")) * self._bump(self.tau(t, "right") / self.tc)
                - math.radians(self.p.drop_deg("left")) * self._bump(self.tau(t, "left") / self.tc))
        return centre, yaw, roll

    def hips(self, t: np.ndarray) -> dict[str, np.ndarray]:
        centre, yaw, roll = self.pelvis(t)
        e = np.stack([np.sin(yaw) * np.cos(roll), np.sin(roll), np.cos(yaw) * np.cos(roll)], axis=-1)
        hw = self.body.hip_width_m / 2
        return {"right": centre + hw * e, "left": centre - hw * e, "mid": centre}

    def _fit_pelvis_height(self) -> None:
        b = self.body
        foot = self.stance_foot(np.array([0.0]))
        ankle = np.array([foot["ankle"][0, 0], foot["ankle"][0, 1], self.foot_z("right")])
        hw = b.hip_width_m / 2
        yaw = math.radians(self.p.pelvic_rotation_deg)
        hip_xz = np.array([hw * math.sin(yaw), hw * math.cos(yaw)])
        kf = math.radians(self.p.knee_flexion_ic_deg)
        d = math.sqrt(b.thigh_m ** 2 + b.shank_m ** 2 + 2 * b.thigh_m * b.shank_m * math.cos(kf))
        horiz2 = (ankle[0] - hip_xz[0]) ** 2 + (ankle[2] - hip_xz[1]) ** 2
        if horiz2 >= d * d:
            raise InvalidGaitError(
                f"At initial contact the foot ({self.p.overstride_pct_leg:g} % of leg length ahead) is out of reach "
                f"of a leg with {self.p.knee_flexion_ic_deg:g} deg knee flexion.",
                "Reduce overstride_pct_leg or knee_flexion_ic_deg.")
        hip_y_ic = ankle[1] + math.sqrt(d * d - horiz2)
        self.y_bar = hip_y_ic + 0.5 * self.vo_m * math.cos(math.pi * self.tc / self.step_s)

    # ---- feet ---------------------------------------------------------------------------------------------
    def foot_z(self, side: str) -> float:
        return _Z_SIGN[side] * self.p.step_width_cm / 200.0

    def stance_foot(self, u: np.ndarray) -> dict[str, np.ndarray]:
        """Sagittal (X,Y) foot points during stance at stance times u (s since IC). Also 'phi' and 'toe_phi'."""
        b = self.body
        u = np.asarray(u, dtype=float)
        phi = np.zeros_like(u)
        ph1 = u < self.t_ff
        ph3 = u >= self.t_ho
        if self.t_ff > 0:
            phi = np.where(ph1, self.phi0 * (1 - u / self.t_ff) ** 2, phi)
        phi = np.where(ph3, -self.phi_to * ((u - self.t_ho) / (self.tc - self.t_ho)) ** 2, phi)
        heel_flat_x = self.flat_heel_x0 - self.v * u
        # pivot points
        heel = np.stack([heel_flat_x, np.zeros_like(u)], axis=-1)
        ball_pivot = np.stack([heel_flat_x + b.ball_m, np.zeros_like(u)], axis=-1)
        use_ball = ph3 | (ph1 & (not self.rearfoot))  # forefoot: the ball is the belt-fixed pivot while the heel lowers
        heel_from_ball = ball_pivot - _rot2(phi, (b.ball_m, 0.0))
        heel = np.where(use_ball[:, None], heel_from_ball, heel)
        return self._foot_from_heel(heel, phi, np.maximum(phi, 0.0))

    def _foot_from_heel(self, heel: np.ndarray, phi: np.ndarray, toe_phi: np.ndarray) -> dict[str, np.ndarray]:
        b = self.body
        ankle = heel + _rot2(phi, (b.ankle_fwd_m, b.ankle_up_m))
        ball = heel + _rot2(phi, (b.ball_m, 0.0))
        toe = ball + (b.foot_m - b.ball_m) * np.stack([np.cos(toe_phi), np.sin(toe_phi)], axis=-1)
        return {"heel": heel, "ankle": ankle, "ball": ball, "toe": toe, "phi": phi, "toe_phi": toe_phi}

    def _foot_from_ankle(self, ankle: np.ndarray, phi: np.ndarray, toe_phi: np.ndarray) -> dict[str, np.ndarray]:
        b = self.body
        heel = ankle - _rot2(phi, (b.ankle_fwd_m, b.ankle_up_m))
        return self._foot_from_heel(heel, phi, toe_phi)

    # ---- swing --------------------------------------------------------------------------------------------
    def _pole(self, side: str) -> np.ndarray:
        k = math.radians(self.p.knee_valgus_deg)
        return np.array([math.cos(k), 0.0, -_Z_SIGN[side] * math.sin(k)])  # valgus: knee towards the midline

    def _to3(self, xy: np.ndarray, side: str) -> np.ndarray:
        return np.concatenate([xy, np.full((len(xy), 1), self.foot_z(side))], axis=1)

    def _shank_angle(self, knee: np.ndarray, ankle_xy: np.ndarray) -> np.ndarray:
        d = ankle_xy - knee[:, :2]
        return np.arctan2(d[:, 1], d[:, 0])

    def _stance_chain(self, u: np.ndarray, side: str = "right") -> dict[str, np.ndarray]:
        foot = self.stance_foot(u)
        hip = self.hips(self.t0 + (0.0 if side == "right" else self.step_s) + u)[side]
        knee, reach = two_link_ik(hip, self._to3(foot["ankle"], side), self.body.thigh_m, self.body.shank_m,
                                  self._pole(side))
        foot["beta"] = foot["phi"] - self._shank_angle(knee, foot["ankle"])
        return {**foot, "hip": hip, "knee": knee, "reach": reach}

    _fwd_lift = 0.06

    def _fit_swing(self) -> None:
        h = 1e-4
        st = self._stance_chain(np.array([self.tc - h, self.tc, 0.0, h]))
        a_to, a_ic = st["ankle"][1], st["ankle"][2]
        v_to = (st["ankle"][1] - st["ankle"][0]) / h + np.array([0.0, self.p.toe_off_lift_mps])
        beta_to, beta_ic = st["beta"][1], st["beta"][2]
        dbeta_to = (st["beta"][1] - st["beta"][0]) / h
        T = self.t_sw
        L = self.leg
        r = self.p.swing_retraction * L
        k_kick, k_fwd = 0.40 * T, 0.88 * T
        x_fwd = a_ic[0] + r
        y_fwd = a_ic[1] + self._fwd_lift * L
        hip_fwd = self.hips(np.array([self.t0 + self.tc + k_fwd]))["right"][0]
        v_fwd = np.array([x_fwd - hip_fwd[0], y_fwd - hip_fwd[1], self.foot_z("right") - hip_fwd[2]])
        a_, b_ = self.body.thigh_m, self.body.shank_m
        kf_min = math.radians(max(0.8 * self.p.knee_flexion_ic_deg, 6.0))
        max_d = math.sqrt(a_ * a_ + b_ * b_ + 2 * a_ * b_ * math.cos(kf_min))
        if np.linalg.norm(v_fwd) > max_d:
            v_fwd *= max_d / np.linalg.norm(v_fwd)
            x_fwd, y_fwd = hip_fwd[0] + v_fwd[0], hip_fwd[1] + v_fwd[1]
        x_kick = -0.22 * L
        y_kick = self.body.ankle_up_m + self.p.heel_kick * L
        knots = np.array([0.0, k_kick, k_fwd, T])
        xs = np.array([a_to[0], x_kick, x_fwd, a_ic[0]])
        ys = np.array([a_to[1], y_kick, y_fwd, a_ic[1]])
        dxs = np.array([v_to[0], (x_fwd - x_kick) / (k_fwd - k_kick) * 1.2, 0.0, -2 * r / (T - k_fwd)])
        dys = np.array([v_to[1], 0.0, -(y_fwd - a_ic[1]) / (T - k_fwd), -self.p.touchdown_speed_mps])
        self._sx = CubicHermiteSpline(knots, xs, dxs)
        self._sy = CubicHermiteSpline(knots, ys, dys)
        # shank angle rate at the end of swing, to make the foot angle still (phi' = 0) at touch-down
        sw_end = self._swing_ankle_chain(np.array([T - h, T]))
        dsig_ic = (sw_end["sigma"][1] - sw_end["sigma"][0]) / h
        bk = np.array([0.0, 0.45 * T, T])
        beta_mid = math.radians(95.0)
        self._sb = CubicHermiteSpline(bk, np.array([beta_to, beta_mid, beta_ic]),
                                      np.array([0.3 * dbeta_to, (beta_ic - beta_to) / T, -dsig_ic]))
        self._beta_ic = beta_ic

    def _swing_ankle_chain(self, s: np.ndarray, side: str = "right") -> dict[str, np.ndarray]:
        ankle_xy = np.stack([self._sx(s), self._sy(s)], axis=-1)
        t_abs = self.t0 + (0.0 if side == "right" else self.step_s) + self.tc + s
        hip = self.hips(t_abs)[side]
        knee, reach = two_link_ik(hip, self._to3(ankle_xy, side), self.body.thigh_m, self.body.shank_m,
                                  self._pole(side))
        return {"ankle_xy": ankle_xy, "hip": hip, "knee": knee, "reach": reach,
                "sigma": self._shank_angle(knee, ankle_xy)}

    def _swing_chain(self, s: np.ndarray, side: str = "right") -> dict[str, np.ndarray]:
        c = self._swing_ankle_chain(s, side)
        phi = c["sigma"] + self._sb(s)
        # toe bend: relaxes after toe-off; forefoot strikers dorsiflex the toes to flat just before contact
        bend = self.phi_to * (1 - _smoothstep(s / 0.10))
        if not self.rearfoot:
            bend = bend + (-self.phi0) * _smoothstep((s - (self.t_sw - 0.08)) / 0.08)
        foot = self._foot_from_ankle(c["ankle_xy"], phi, phi)
        # keep the toe tip at least half the ball's height above the belt (the toes trail, they do not dig in)
        lt = self.body.foot_m - self.body.ball_m
        toe_min = np.arcsin(np.clip(-0.5 * foot["ball"][:, 1] / lt, -1.0, 0.0))
        foot = self._foot_from_ankle(c["ankle_xy"], phi, np.maximum(phi + bend, toe_min))
        return {**foot, "hip": c["hip"], "knee": c["knee"], "reach": c["reach"]}

    # ---- whole leg / body ---------------------------------------------------------------------------------
    def leg_chain(self, t: np.ndarray, side: str) -> dict[str, np.ndarray]:
        """3D hip, knee, ankle, heel, ball, toe (N,3) of one leg, plus 'stance' (N,) bool, 'reach', 'phi'."""
        tau = self.tau(t, side)
        stance = tau < self.tc
        n = len(t)
        out: dict[str, np.ndarray] = {}
        parts = []
        if stance.any():
            parts.append((stance, self._stance_chain(tau[stance], side)))
        if (~stance).any():
            parts.append((~stance, self._swing_chain(tau[~stance] - self.tc, side)))
        z = self.foot_z(side)
        for key in ("hip", "knee", "ankle", "heel", "ball", "toe"):
            arr = np.zeros((n, 3))
            for mask, ch in parts:
                v = ch[key]
                arr[mask] = v if v.shape[1] == 3 else np.concatenate([v, np.full((len(v), 1), z)], axis=1)
            out[key] = arr
        for key in ("reach", "phi"):
            arr = np.zeros(n)
            for mask, ch in parts:
                arr[mask] = ch[key]
            out[key] = arr
        out["stance"] = stance
        # landmark points inside the shoe (see landmark_offsets)
        h_fwd, up, t_back = self.landmark_offsets()
        u = _unit(out["ball"] - out["heel"])
        nrm = np.stack([-u[:, 1], u[:, 0], np.zeros(n)], axis=-1)
        ut = _unit(out["toe"] - out["ball"])
        nt = np.stack([-ut[:, 1], ut[:, 0], np.zeros(n)], axis=-1)
        out["heel_lm"] = out["heel"] + h_fwd * u + up * nrm
        out["toe_lm"] = out["toe"] - t_back * ut + up * nt
        return out

    def landmarks(self, t: np.ndarray) -> tuple[np.ndarray, dict[str, dict[str, np.ndarray]]]:
        """(N,33,3) landmark positions at times t and the two leg chains."""
        t = np.asarray(t, dtype=float)
        n = len(t)
        b = self.body
        out = np.zeros((n, N_LANDMARKS, 3))
        legs = {s: self.leg_chain(t, s) for s in SIDES}
        names = {"hip": "HIP", "knee": "KNEE", "ankle": "ANKLE", "heel_lm": "HEEL", "toe_lm": "FOOT_INDEX"}
        for s in SIDES:
            for k, nm in names.items():
                out[:, L[f"{s.upper()}_{nm}"]] = legs[s][k]
        centre, yaw, _ = self.pelvis(t)
        lean = math.radians(self.p.trunk_lean_deg)
        sh_mid = centre + b.trunk_m * np.array([math.sin(lean), math.cos(lean), 0.0])
        yaw_s = -0.6 * yaw
        e_sh = np.stack([np.sin(yaw_s), np.zeros(n), np.cos(yaw_s)], axis=-1)
        phase = 2 * np.pi * (t - self.t0) / self.stride_s
        amp = math.radians(30.0) * self.p.arm_swing
        for s in SIDES:
            zs = _Z_SIGN[s]
            sh = sh_mid + zs * b.shoulder_width_m / 2 * e_sh
            th = math.radians(-8.0) - zs * amp * np.cos(phase)  # right arm back at right IC
            elbow = sh + b.upper_arm_m * np.stack([np.sin(th), -np.cos(th), np.full(n, zs * 0.12)], axis=-1) \
                / np.sqrt(1 + 0.12 ** 2)
            flex = math.radians(85.0) + math.radians(10.0) * np.cos(phase) * zs
            thf = th + flex
            fdir = np.stack([np.sin(thf), -np.cos(thf), np.full(n, -zs * 0.25)], axis=-1) / np.sqrt(1 + 0.25 ** 2)
            wrist = elbow + b.forearm_m * fdir
            lat = np.array([0.0, 0.0, zs])
            out[:, L[f"{s.upper()}_SHOULDER"]] = sh
            out[:, L[f"{s.upper()}_ELBOW"]] = elbow
            out[:, L[f"{s.upper()}_WRIST"]] = wrist
            out[:, L[f"{s.upper()}_INDEX"]] = wrist + 0.45 * b.hand_m * fdir - 0.01 * lat
            out[:, L[f"{s.upper()}_PINKY"]] = wrist + 0.40 * b.hand_m * fdir + 0.02 * lat
            out[:, L[f"{s.upper()}_THUMB"]] = wrist + 0.25 * b.hand_m * fdir - 0.02 * lat + np.array([0, 0.015, 0])
        hr = b.head_radius_m
        head = sh_mid + np.array([0.03 * b.height_m / 1.75, b.head_up_m, 0.0])
        face = {
            "NOSE": (0.95, -0.15, 0.0),
            "LEFT_EYE_INNER": (0.85, 0.2, -0.15), "LEFT_EYE": (0.82, 0.22, -0.3), "LEFT_EYE_OUTER": (0.75, 0.22, -0.45),
            "RIGHT_EYE_INNER": (0.85, 0.2, 0.15), "RIGHT_EYE": (0.82, 0.22, 0.3), "RIGHT_EYE_OUTER": (0.75, 0.22, 0.45),
            "LEFT_EAR": (0.0, 0.05, -0.95), "RIGHT_EAR": (0.0, 0.05, 0.95),
            "MOUTH_LEFT": (0.8, -0.5, -0.25), "MOUTH_RIGHT": (0.8, -0.5, 0.25),
        }
        for nm, (fx, fy, fz) in face.items():
            out[:, L[nm]] = head + hr * np.array([fx, fy, fz])
        return out, legs

    def head_centre(self, t: np.ndarray) -> np.ndarray:
        b = self.body
        centre, _, _ = self.pelvis(np.asarray(t, dtype=float))
        lean = math.radians(self.p.trunk_lean_deg)
        return centre + b.trunk_m * np.array([math.sin(lean), math.cos(lean), 0.0]) + \
            np.array([0.03 * b.height_m / 1.75, b.head_up_m, 0.0])

    # ---- validity -----------------------------------------------------------------------------------------
    def check(self) -> None:
        """Raise InvalidGaitError when the parameter set is not physically realisable by this model."""
        p, b = self.p, self.body
        u = np.arange(0.0, self.tc, 1.0 / _DENSE_HZ)
        st = self._stance_chain(u)
        if st["reach"].max() > 1.0:
            slip_mm = (st["reach"].max() - 1.0) * b.leg_m * 1000
            where = u[np.argmax(st["reach"])] / self.tc * 100
            raise InvalidGaitError(
                f"The stance foot would slip by {slip_mm:.1f} mm on the belt: at {where:.0f} % of stance the foot is "
                f"out of reach of the leg (belt speed {p.belt_speed_mps:g} m/s x contact {self.tc * 1000:.0f} ms).",
                "Shorten contact_time_ms, lower the belt speed or vertical oscillation, or increase knee flexion.")
        s = np.arange(0.0, self.t_sw, 1.0 / _DENSE_HZ)[1:]
        sw = self._swing_chain(s)
        if sw["reach"].max() > 1.0:
            raise InvalidGaitError("The swing leg cannot reach its own foot path (the leg would have to stretch).",
                                   "Reduce swing_retraction or heel_kick, or raise knee_flexion_ic_deg.")
        kf_st = 180 - _angle_at(st["hip"], st["knee"], self._to3(st["ankle"], "right"))
        kf_sw = 180 - _angle_at(sw["hip"], sw["knee"], self._to3(sw["ankle"], "right"))
        kmin = min(kf_st.min(), kf_sw.min())
        if kmin < MIN_KNEE_FLEXION_DEG:
            where = "stance" if kf_st.min() <= kf_sw.min() else "swing"
            raise InvalidGaitError(
                f"The knee locks straight ({kmin:.1f} deg flexion in {where}; hyperextension risk below "
                f"{MIN_KNEE_FLEXION_DEG:g} deg).",
                "Increase knee_flexion_ic_deg or vertical_oscillation_cm, or raise knee_flexion_to_deg / shorten the contact time.")
        low = np.minimum(np.minimum(sw["heel"][:, 1], sw["ball"][:, 1]), sw["toe"][:, 1])
        if low.min() <= 0:
            i = int(np.argmin(low))
            raise InvalidGaitError(
                f"The swing foot scuffs the belt ({low[i] * 1000:.1f} mm at {s[i] / self.t_sw * 100:.0f} % of swing).",
                "Raise heel_kick or toe_off_lift_mps, or reduce the strike angle.")
        mid = (s > 0.2 * self.t_sw) & (s < 0.8 * self.t_sw)
        if low[mid].min() < MIN_MID_SWING_CLEARANCE_M:
            raise InvalidGaitError(
                f"Mid-swing foot clearance is only {low[mid].min() * 1000:.0f} mm "
                f"(need {MIN_MID_SWING_CLEARANCE_M * 1000:.0f}).", "Raise heel_kick.")
        low_st = np.minimum(np.minimum(st["heel"][:, 1], st["ball"][:, 1]), st["toe"][:, 1])
        if low_st.min() < -1e-9:
            raise InvalidGaitError("A stance foot point goes below the belt.", "Change the strike or toe-off angle.")
