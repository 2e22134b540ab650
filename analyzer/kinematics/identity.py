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

from analyzer.core.landmarks import PoseLandmark as P

#: Landmark groups whose labels are swapped together: (left ids, right ids).
GROUPS: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...] = (
    ((P.LEFT_KNEE,), (P.RIGHT_KNEE,)),
    ((P.LEFT_ANKLE, P.LEFT_HEEL, P.LEFT_FOOT_INDEX), (P.RIGHT_ANKLE, P.RIGHT_HEEL, P.RIGHT_FOOT_INDEX)),
)
SWAP_PENALTY = 0.02  # per landmark per frame, in (leg lengths / frame^2)^2
#: Per-landmark cap of one frame's acceleration cost (truncated quadratic): a glitch (far leg collapsed onto the near
#: one) then costs the same under either assignment and cannot push the search into long wrong swaps.
COST_CAP = 0.3


def _swap_costs(left: np.ndarray, right: np.ndarray, sizes: list[int]) -> np.ndarray:
    """(T, groups, 4) squared-acceleration cost of each group for the combos (s_{t-2} = 0, s_{t-1} = b, s_t = c) at
    index 2b + c, each landmark's term capped at COST_CAP; rows 0, 1 are zero, NaN terms count 0.

    left, right: (T, n, 2) the tracked landmarks as labelled, in GROUPS order; sizes: landmarks per group. A
    landmark's term is (ax^2 + ay^2 of track 0) + (ax^2 + ay^2 of track 1). Combo (1, b, c) sees the same
    accelerations as (0, 1-b, 1-c) with the tracks exchanged, so it costs the same: index 3 - (2b + c). All groups
    are computed in one pass (same arithmetic per landmark and group sum as one group at a time)."""
    T = len(left)
    out = np.zeros((T, len(sizes), 4))
    if T < 3:
        return out
    pos = np.stack([left, right], axis=1)  # (T, track, n, 2): state 0 (as labelled)
    swp = pos[:, ::-1]                      # state 1: tracks exchanged
    has_nan = not np.isfinite(pos).all()
    p0 = pos[:-2]
    p1 = (2 * pos[1:-1], 2 * swp[1:-1])
    p2 = (pos[2:], swp[2:])
    bounds = np.cumsum([0, *sizes]).tolist()
    for j in range(4):
        b, c = j >> 1, j & 1
        acc = p2[c] - p1[b]
        acc += p0
        sq = np.multiply(acc, acc, out=acc)  # (T-2, track, n, 2)
        if has_nan:  # NaN terms count as 0
            sq[np.isnan(sq)] = 0.0
        per_track = sq[..., 0] + sq[..., 1]
        per_lm = np.minimum(per_track[:, 0] + per_track[:, 1], COST_CAP)  # (T-2, n)
        for g in range(len(sizes)):
            out[2:, g, j] = per_lm[:, bounds[g]:bounds[g + 1]].sum(axis=1)
    return out


def relative_positions(xy: np.ndarray, leg_px: float) -> np.ndarray:
    """(T,33,2) landmarks relative to the hip midpoint, in leg lengths."""
    hip = 0.5 * (xy[:, P.LEFT_HIP] + xy[:, P.RIGHT_HIP])
    return (xy - hip[:, None, :]) / leg_px


def viterbi_swaps(costs: np.ndarray, penalty: float) -> np.ndarray:
    """Offline Viterbi over (s_{t-1}, s_t) pairs. costs: (T, 4) of one group from :func:`_swap_costs` (combos with
    s_{t-2} = 0; combo (1, b, c) costs costs[:, 3 - (2b + c)]).

    Returns (T,) bool: frame is swapped. Pure-Python scalar loop (about 1 us per frame).
    """
    T = len(costs)
    if T < 3:
        return np.zeros(T, dtype=bool)
    pen = float(penalty)
    # D[2*s_prev + s_cur] at t=1; the four (s_prev, s_cur) updates are written out (same arithmetic as a loop over
    # them, about 2x faster in CPython). From (s_{t-2}, s_{t-1}) = (a, b) to (b, c): d[2a + b] + cost(a, b, c).
    d0, d1, d2, d3 = 0.0, pen, pen, 2 * pen
    back = bytearray(4 * T)
    cols = costs[2:].T.tolist()  # 4 lists (cheaper to build than T small rows)
    j = 4
    for q0, q1, q2, q3 in zip(*cols):
        j += 4
        v0, v1 = d0 + q0, d2 + q3
        if v0 <= v1:
            n0 = v0
        else:
            n0 = v1
            back[j] = 1
        v0, v1 = d0 + q1, d2 + q2
        if v0 <= v1:
            n1 = v0 + pen
        else:
            n1 = v1 + pen
            back[j + 1] = 1
        v0, v1 = d1 + q2, d3 + q1
        if v0 <= v1:
            n2 = v0
        else:
            n2 = v1
            back[j + 2] = 1
        v0, v1 = d1 + q3, d3 + q0
        if v0 <= v1:
            n3 = v0 + pen
        else:
            n3 = v1 + pen
            back[j + 3] = 1
        d0, d1, d2, d3 = n0, n1, n2, n3
    D = [d0, d1, d2, d3]
    s = bytearray(T)
    state = D.index(min(D))  # the first minimum, as np.argmin
    s[T - 1], s[T - 2] = state & 1, state >> 1
    for t in range(T - 1, 1, -1):
        a = back[4 * t + state]
        s[t - 2] = a
        state = 2 * a + (state >> 1)
    return np.frombuffer(s, dtype=np.uint8).astype(bool)


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


def correct_swaps(xy: np.ndarray, leg_px: float, extra: list[np.ndarray] | None = None,
                  inplace: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Return (corrected xy (T,33,2): a copy, or xy itself when `inplace`; swapped mask (T, n_groups) bool).

    `extra`: other per-landmark arrays (T,33[,k]) swapped the same way in place (visibility, z...).
    """
    out = xy if inplace else np.array(xy, dtype=float, copy=True)
    # positions relative to the hip midpoint for the tracked landmarks only (the others are not read)
    left = [i for lt, _ in GROUPS for i in lt]
    right = [i for _, rt in GROUPS for i in rt]
    hip = 0.5 * (out[:, P.LEFT_HIP] + out[:, P.RIGHT_HIP])
    rel = (out[:, left + right] - hip[:, None, :]) / leg_px
    costs = _swap_costs(rel[:, :len(left)], rel[:, len(left):], [len(lt) for lt, _ in GROUPS])
    masks = np.zeros((len(xy), len(GROUPS)), dtype=bool)
    for g, (lt, rt) in enumerate(GROUPS):
        s = viterbi_swaps(costs[:, g], SWAP_PENALTY * len(lt))
        masks[:, g] = s
        apply_swaps(out, s, lt, rt)
        for arr in extra or []:
            apply_swaps(arr, s, lt, rt)
    return out, masks


def relabel(arr: np.ndarray, swap_masks: np.ndarray | None, swapped_all: bool) -> None:
    """Apply, in place, the label corrections `correct_swaps` found (per-frame masks, (T, n_groups)) and then the
    global left/right swap (`swap_all_legs`) to another per-landmark array (T,33[,k]), e.g. the world landmarks."""
    if swap_masks is not None:
        for g, (lt, rt) in enumerate(GROUPS):
            apply_swaps(arr, swap_masks[:, g], lt, rt)
    if swapped_all:
        swap_all_legs([arr])


def swap_all_legs(arrays: list[np.ndarray]) -> None:
    """Swap every leg landmark group (hips too) on all frames, in place: used to fix the global left/right labels."""
    every = (((P.LEFT_HIP,), (P.RIGHT_HIP,)),) + GROUPS
    for arr in arrays:
        for left, right in every:
            apply_swaps(arr, np.ones(len(arr), bool), left, right)


_TRACK_L = [g for left, _ in GROUPS for g in left]
_TRACK_R = [g for _, right in GROUPS for g in right]
_TRACKED = np.array(_TRACK_L + _TRACK_R)  # (2n,): left tracks then right tracks
_N_TRACKED = len(_TRACK_L)
_AS_SWAPPED = np.r_[np.arange(_N_TRACKED, 2 * _N_TRACKED), np.arange(_N_TRACKED)]  # the same rows, tracks exchanged
_BOTH_STATES = np.stack([_TRACKED, _TRACKED[_AS_SWAPPED]])  # (2 states, 2n): as labelled, tracks exchanged
_GROUP_OF = np.concatenate([[k] * len(left) for k, (left, _) in enumerate(GROUPS)])
_GROUP_SUM = (np.arange(len(GROUPS))[None, :] == _GROUP_OF[:, None]).astype(float)  # (n, groups) one-hot
_PENALTY = [SWAP_PENALTY * len(left) for left, _ in GROUPS]


class LaggedSwapTracker:
    """Streaming form of :func:`correct_swaps`: fixed-lag Viterbi, decisions `lag` frames behind the input.

    push(rel33) takes one frame's landmarks relative to the hip midpoint in leg lengths (33,2) and returns the
    per-group swap decisions (list of bool, one per GROUPS entry) for the frame `lag` frames back (None while
    filling up). Same costs and transitions as the offline search (a missing point keeps its last position). The
    accelerations of the four combos with s_{t-2} = 0 are computed in one numpy pass (the other four are the same
    with the tracks exchanged, as in _swap_costs); the 2 x 4-state update and the traceback are plain Python on
    floats: about 20 us per frame.
    """

    def __init__(self, lag: int = 6) -> None:
        self.lag = lag
        self.reset()

    def reset(self) -> None:
        self._hist: deque = deque(maxlen=3)  # per frame: (2 states, 2n tracked rows, 2), state 1 = tracks exchanged
        self._D = [[0.0] * 4 for _ in GROUPS]  # per group: cost of (s_{t-1}, s_t) at index 2 s_{t-1} + s_t
        self._back: deque = deque(maxlen=self.lag + 2)  # per frame, per group: the best s_{t-2} for each index
        self._n = 0
        self._last = None

    def push(self, rel: np.ndarray) -> list[bool] | None:
        z = rel[_BOTH_STATES]  # (2 states, 2n, 2)
        if np.isnan(z).any():
            z = np.where(np.isnan(z), self._last if self._last is not None else 0.0, z)
        self._last = z
        self._hist.append(z)
        self._n += 1
        if self._n == 1:
            self._D = [[0.0, p, np.inf, np.inf] for p in _PENALTY]
            self._back.append([[0] * 4 for _ in GROUPS])
        elif self._n == 2:
            self._D = [[d[0], d[0] + p, d[1], d[1] + p] for d, p in zip(self._D, _PENALTY)]
            self._back.append([[0] * 4 for _ in GROUPS])
        else:
            x2, x1, x0 = self._hist  # t-2, t-1, t; each (state, 2n, 2)
            acc = x0[None, :] - 2.0 * x1[:, None] + x2[0]  # (b, c, 2n, 2) with s_{t-2} = 0
            sq = (acc * acc).sum(axis=3)  # (b, c, 2n)
            per_lm = np.minimum(sq[..., :_N_TRACKED] + sq[..., _N_TRACKED:], COST_CAP)  # (b, c, n): both tracks
            cost0 = (per_lm @ _GROUP_SUM).reshape(4, len(GROUPS)).T.tolist()  # [g][2b+c] for s_{t-2} = 0
            back, newDs = [], []
            for d, c0, p in zip(self._D, cost0, _PENALTY):
                # cost(a=1, b, c) = cost(0, 1-b, 1-c) = c0[3 - (2b+c)]
                nd, bk = [], []
                for j in range(4):  # j = 2b + c; previous index 2a + b
                    b_ = j >> 1
                    v0, v1 = d[b_] + c0[j], d[2 + b_] + c0[3 - j]
                    if v0 <= v1:
                        nd.append(v0 + p * (j & 1))
                        bk.append(0)
                    else:
                        nd.append(v1 + p * (j & 1))
                        bk.append(1)
                m = min(nd)
                newDs.append([v - m for v in nd])
                back.append(bk)
            self._D = newDs
            self._back.append(back)
        if self._n <= self.lag + 1:
            return None
        out = []
        for g, d in enumerate(self._D):
            st = d.index(min(d))
            for k in range(1, self.lag + 1):
                st = 2 * self._back[-k][g][st] + (st >> 1)
            out.append(bool(st & 1))
        return out
