"""Left/right leg identity: undo MediaPipe's near/far leg label swaps from temporal continuity.

In side view MediaPipe swaps the labels of the near and far legs for runs of 1-5 frames while the legs cross
(10-11 % of frames with the full model, 5-6 % with the heavy model: ../shared/reference/synthetic.md). The legs move
in anti-phase, so at a crossing the true tracks have opposite velocities: a wrong assignment shows as a jump in
acceleration. We pick, per frame, "as labelled" or "swapped" for each landmark group (knee; ankle+heel+toe) by a
Viterbi search minimising

    sum_t ||P_t(s_t) - 2 P_{t-1}(s_{t-1}) + P_{t-2}(s_{t-2})||^2  +  SWAP_PENALTY * n_landmarks * s_t

with positions relative to the hip midpoint in leg lengths (so the cost is invariant to translation and scale).
The small per-frame penalty makes "mostly as labelled" win the global left/right ambiguity. The same transition
cost serves offline (full backtrack) and streaming (:class:`LaggedSwapTracker`, fixed-lag backtrack).
"""
from __future__ import annotations

from collections import deque

import numpy as np

from ..landmarks import PoseLandmark as P

#: Landmark groups whose labels are swapped together: (left ids, right ids).
GROUPS: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...] = (
    ((P.LEFT_KNEE,), (P.RIGHT_KNEE,)),
    ((P.LEFT_ANKLE, P.LEFT_HEEL, P.LEFT_FOOT_INDEX), (P.RIGHT_ANKLE, P.RIGHT_HEEL, P.RIGHT_FOOT_INDEX)),
)
SWAP_PENALTY = 0.02  # per landmark per frame, in (leg lengths / frame^2)^2
#: Per-landmark cap of one frame's acceleration cost (truncated quadratic): a glitch (far leg collapsed onto the near
#: one) then costs the same under either assignment and cannot push the search into long wrong swaps.
COST_CAP = 0.3
_COMBOS = [(a, b, c) for a in (0, 1) for b in (0, 1) for c in (0, 1)]


def _group_positions(rel: np.ndarray, left: tuple[int, ...], right: tuple[int, ...]) -> np.ndarray:
    """(T, 2 states, 2 tracks, k, 2): state 0 as labelled, state 1 swapped."""
    lt, rt = rel[:, list(left)], rel[:, list(right)]
    keep = np.stack([lt, rt], axis=1)
    swap = np.stack([rt, lt], axis=1)
    return np.stack([keep, swap], axis=1)


def _accel_costs(pos: np.ndarray) -> np.ndarray:
    """(T, 8) squared-acceleration cost for each (s_{t-2}, s_{t-1}, s_t) combo, each landmark's term capped at
    COST_CAP; rows 0,1 are zero. NaN terms -> 0. pos: (T, state, track, k, 2)."""
    T = len(pos)
    out = np.zeros((T, 8, pos.shape[3]))
    if T < 3:
        return out.sum(axis=2)
    for k, (a, b, c) in enumerate(_COMBOS):
        acc = pos[2:, c] - 2 * pos[1:-1, b] + pos[:-2, a]
        out[2:, k] = np.nansum(acc * acc, axis=(1, 3))
    out = np.minimum(out, COST_CAP).sum(axis=2) if out.ndim == 3 else out
    return out


def relative_positions(xy: np.ndarray, leg_px: float) -> np.ndarray:
    """(T,33,2) landmarks relative to the hip midpoint, in leg lengths."""
    hip = 0.5 * (xy[:, P.LEFT_HIP] + xy[:, P.RIGHT_HIP])
    return (xy - hip[:, None, :]) / leg_px


def viterbi_swaps(costs: np.ndarray, penalty: float) -> np.ndarray:
    """Offline Viterbi over (s_{t-1}, s_t) pairs. costs: (T, 8) from :func:`_accel_costs`.

    Returns (T,) bool: frame is swapped. Pure-Python scalar loop (about 1.5 us per frame).
    """
    T = len(costs)
    if T < 3:
        return np.zeros(T, dtype=bool)
    pen = float(penalty)
    # D[2*s_prev + s_cur] at t=1; the four (s_prev, s_cur) updates are written out (same arithmetic as a loop over
    # them, about 2x faster in CPython)
    d0, d1, d2, d3 = 0.0, pen, pen, 2 * pen
    back = bytearray(4 * T)
    cols = costs[2:].T.tolist()  # 8 lists (cheaper to build than T small rows)
    j = 4
    for c0, c1, c2, c3, c4, c5, c6, c7 in zip(*cols):
        j += 4
        v0, v1 = d0 + c0, d2 + c4
        if v0 <= v1:
            n0 = v0
        else:
            n0 = v1
            back[j] = 1
        v0, v1 = d0 + c1, d2 + c5
        if v0 <= v1:
            n1 = v0 + pen
        else:
            n1 = v1 + pen
            back[j + 1] = 1
        v0, v1 = d1 + c2, d3 + c6
        if v0 <= v1:
            n2 = v0
        else:
            n2 = v1
            back[j + 2] = 1
        v0, v1 = d1 + c3, d3 + c7
        if v0 <= v1:
            n3 = v0 + pen
        else:
            n3 = v1 + pen
            back[j + 3] = 1
        d0, d1, d2, d3 = n0, n1, n2, n3
    D = [d0, d1, d2, d3]
    s = np.zeros(T, dtype=bool)
    state = int(np.argmin(D))
    s[T - 1], s[T - 2] = state & 1, state >> 1
    for t in range(T - 1, 1, -1):
        a = back[4 * t + state]
        s[t - 2] = a
        state = 2 * a + (state >> 1)
    return s


def apply_swaps(xy: np.ndarray, swapped: np.ndarray, left: tuple[int, ...], right: tuple[int, ...]) -> None:
    """Swap the given left/right landmark groups in place on frames where `swapped` is True (works on (T,33[,k]))."""
    if not swapped.any():
        return
    li, ri = list(left), list(right)
    tmp = xy[swapped][:, li].copy()
    sub = xy[swapped]
    sub[:, li] = sub[:, ri]
    sub[:, ri] = tmp
    xy[swapped] = sub


def correct_swaps(xy: np.ndarray, leg_px: float, extra: list[np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return (corrected copy of xy (T,33,2), swapped mask (T, n_groups) bool).

    `extra`: other per-landmark arrays (T,33[,k]) swapped the same way in place (visibility, z...).
    """
    out = np.array(xy, dtype=float, copy=True)
    # positions relative to the hip midpoint for the tracked landmarks only (the others are not read)
    ids = [i for left, right in GROUPS for i in (*left, *right)]
    rel = np.empty_like(out)
    hip = 0.5 * (out[:, P.LEFT_HIP] + out[:, P.RIGHT_HIP])
    rel[:, ids] = (out[:, ids] - hip[:, None, :]) / leg_px
    masks = np.zeros((len(xy), len(GROUPS)), dtype=bool)
    for g, (left, right) in enumerate(GROUPS):
        pos = _group_positions(rel, left, right)
        s = viterbi_swaps(_accel_costs(pos), SWAP_PENALTY * len(left))
        masks[:, g] = s
        apply_swaps(out, s, left, right)
        for arr in extra or []:
            apply_swaps(arr, s, left, right)
    return out, masks


def swap_all_legs(arrays: list[np.ndarray]) -> None:
    """Swap every leg landmark group (hips too) on all frames, in place: used to fix the global left/right labels."""
    every = (((P.LEFT_HIP,), (P.RIGHT_HIP,)),) + GROUPS
    for arr in arrays:
        for left, right in every:
            apply_swaps(arr, np.ones(len(arr), bool), left, right)


_TRACK_L = np.array([g for left, _ in GROUPS for g in left])
_TRACK_R = np.array([g for _, right in GROUPS for g in right])
_GROUP_OF = np.concatenate([[k] * len(left) for k, (left, _) in enumerate(GROUPS)])
_GROUP_SUM = (np.arange(len(GROUPS))[None, :] == _GROUP_OF[:, None]).astype(float)  # (n, groups) one-hot
_SWAP_IDX = np.array([[0, 1], [1, 0]])
_PENALTY = np.array([SWAP_PENALTY * len(left) for left, _ in GROUPS])


class LaggedSwapTracker:
    """Streaming form of :func:`correct_swaps`: fixed-lag Viterbi, decisions `lag` frames behind the input.

    push(rel33) takes one frame's landmarks relative to the hip midpoint in leg lengths (33,2) and returns the
    per-group swap decisions (list of bool, one per GROUPS entry) for the frame `lag` frames back (None while
    filling up). Same transition cost as the offline search; about 25 us per frame.
    """

    def __init__(self, lag: int = 6) -> None:
        self.lag = lag
        self.reset()

    def reset(self) -> None:
        self._hist: deque = deque(maxlen=3)  # (2 states, 2 tracks, n, 2) per frame
        self._D = np.zeros((len(GROUPS), 4))
        self._back: deque = deque(maxlen=self.lag + 2)
        self._n = 0
        self._last = None

    def push(self, rel: np.ndarray) -> list[bool] | None:
        P2 = np.stack((rel[_TRACK_L], rel[_TRACK_R]))  # (track, n, 2)
        if np.isnan(P2).any():
            P2 = np.where(np.isnan(P2), self._last if self._last is not None else 0.0, P2)
        self._last = P2
        X = P2[_SWAP_IDX]  # (state, track, n, 2)
        self._hist.append(X)
        self._n += 1
        pen = _PENALTY[:, None] * np.array([0.0, 1.0, 0.0, 1.0])[None, :]
        if self._n == 1:
            self._D = np.stack([np.array([0.0, 0.0, np.inf, np.inf])] * len(GROUPS)) + pen
            self._back.append(np.zeros((len(GROUPS), 4), np.int64))
        elif self._n == 2:
            D = self._D
            self._D = np.stack([D[:, 0], D[:, 0], D[:, 1], D[:, 1]], axis=1) + pen
            self._back.append(np.zeros((len(GROUPS), 4), np.int64))
        else:
            x2, x1, x0 = self._hist
            acc = x0[None, None, :] - 2.0 * x1[None, :, None] + x2[:, None, None]  # (a,b,c,track,n,2)
            per_lm = np.minimum((acc * acc).sum(axis=(3, 5)), COST_CAP)  # (a,b,c,n)
            cost = (per_lm @ _GROUP_SUM).transpose(3, 0, 1, 2).reshape(len(GROUPS), 2, 4)  # (g, a, 2b+c)
            Dab = self._D.reshape(len(GROUPS), 2, 2)
            tot = np.repeat(Dab, 2, axis=2) + cost  # (g, a, 2b+c)
            arg = np.argmin(tot, axis=1)
            newD = np.take_along_axis(tot, arg[:, None, :], axis=1)[:, 0, :] + pen
            self._D = newD - newD.min(axis=1, keepdims=True)
            self._back.append(arg)
        if self._n <= self.lag + 1:
            return None
        states = np.argmin(self._D, axis=1)
        out = []
        for g in range(len(GROUPS)):
            st = int(states[g])
            for k in range(1, self.lag + 1):
                st = 2 * int(self._back[-k][g, st]) + (st >> 1)
            out.append(bool(st & 1))
        return out
