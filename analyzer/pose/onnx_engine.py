"""The two networks in onnxruntime sessions: the verified model files (models/onnx_manifest.json), the execution
providers (CUDA first when there), the sessions, and `PoseEngine`'s batched detector and landmark calls
(pre/post-processing in `analyzer.pose.onnx_nets`).
"""
from __future__ import annotations

import json
import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from analyzer.core.errors import ModelError
from analyzer.pose.model_files import file_matches
from analyzer.pose.onnx_nets import (DETECTOR_SIZE_PX, LANDMARK_SIZE_PX, N_RAW_LANDMARKS, Detection, LandmarkResult,
                                     Rect, crop, decode_detections, decode_landmarks, letterbox_rect,
                                     remove_letterbox, weighted_nms)

REPO_ROOT = Path(__file__).resolve().parents[2]
ONNX_MANIFEST = REPO_ROOT / "models" / "onnx_manifest.json"


# ---------------------------------------------------------------------------------------------------------------
# Models and sessions
# ---------------------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def onnx_manifest() -> dict:
    return json.loads(ONNX_MANIFEST.read_text())["models"]


def _models_dir() -> Path:
    return Path(os.environ.get("RUNFORM_MODELS_DIR", REPO_ROOT / "models"))


def onnx_model_path(key: str) -> Path:
    """Verified path of 'detector', 'landmarks_full' or 'landmarks_heavy'; ModelError with the fix otherwise."""
    man = onnx_manifest()
    if key not in man:
        raise ModelError(f"Unknown ONNX pose network '{key}'.", f"Choose one of: {', '.join(man)}.")
    spec = man[key]
    path = _models_dir() / spec["file"]
    fix = "Restore it with `git checkout -- models/` or rebuild it with `models/convert/convert.sh`."
    if not path.is_file():
        raise ModelError(f"ONNX pose network '{key}' is missing ({path}).", fix)
    st = path.stat()
    if st.st_size != spec["bytes"] or not file_matches(path, spec["sha256"]):
        raise ModelError(f"ONNX pose network '{key}' at {path} does not match models/onnx_manifest.json.", fix)
    return path


def default_providers() -> list[str]:
    """CUDA execution provider first when onnxruntime-gpu and a GPU are there, then the CPU one."""
    import onnxruntime as ort

    avail = ort.get_available_providers()
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in avail] or avail


def _session(path: Path, providers: list[str] | None, threads: int | None):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 3
    # no busy-waiting between ops: the pipeline decodes and encodes on the other threads of the same (2-core) machine
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        so.intra_op_num_threads = int(threads)
    return ort.InferenceSession(str(path), sess_options=so, providers=providers or default_providers())


# ---------------------------------------------------------------------------------------------------------------
# Engine: the two networks, batched
# ---------------------------------------------------------------------------------------------------------------
class PoseEngine:
    """The detector and landmark networks in onnxruntime sessions, with batched calls.

    model: "full" or "heavy" (landmark network; the detector is shared). providers: onnxruntime execution providers
    (default: CUDA when available, then CPU). threads: intra-op threads (None = onnxruntime's default).
    """

    LANDMARK_ROLES = {  # output role -> flattened size per sample (identifies outputs by shape, not name)
        "landmarks": N_RAW_LANDMARKS * 5, "presence": 1, "segmentation": LANDMARK_SIZE_PX * LANDMARK_SIZE_PX,
        "heatmap": 64 * 64 * N_RAW_LANDMARKS, "world": N_RAW_LANDMARKS * 3}

    def __init__(self, model: str = "full", providers: list[str] | None = None, threads: int | None = None,
                 max_batch: int = 16) -> None:
        if model not in ("full", "heavy"):
            raise ModelError(f"Unknown pose model '{model}' for the ONNX backend.", "Choose 'full' or 'heavy'.")
        self.model = model
        self.max_batch = int(max_batch)
        self._det = _session(onnx_model_path("detector"), providers, threads)
        self._lmk = _session(onnx_model_path(f"landmarks_{model}"), providers, threads)
        self.providers = self._lmk.get_providers()
        self._lock = threading.Lock()
        det_out = self._det.get_outputs()
        self._det_names = [o.name for o in det_out]
        sizes = [int(np.prod([d for d in o.shape[1:]])) for o in det_out]
        self._det_boxes = self._det_names[sizes.index(2254 * 12)]
        self._det_scores = self._det_names[sizes.index(2254)]
        self._lmk_names = {}
        for o in self._lmk.get_outputs():
            size = int(np.prod([d for d in o.shape[1:]]))
            role = next(r for r, n in self.LANDMARK_ROLES.items() if n == size)
            self._lmk_names[role] = o.name
        self._lmk_order = list(self._lmk_names.values())

    # detector ---------------------------------------------------------------------------------------
    def detect(self, images: list[np.ndarray], min_score: float = 0.5, max_poses: int = 1) -> list[list[Detection]]:
        """Poses in each RGB uint8 image (any sizes), best first, at most max_poses each; one batched call."""
        if not images:
            return []
        tensors, pads = [], []
        for img in images:
            h, w = img.shape[:2]
            rect, pad = letterbox_rect(w, h)
            x = crop(img, rect, DETECTOR_SIZE_PX, border_zero=True).astype(np.float32)
            tensors.append(x / 127.5 - 1.0)
            pads.append(pad)
        outs = self._run(self._det, [self._det_boxes, self._det_scores], np.stack(tensors))
        result = []
        for i, pad in enumerate(pads):
            dets = weighted_nms(decode_detections(outs[0][i], outs[1][i], min_score))[:max_poses]
            result.append([remove_letterbox(d, pad) for d in dets])
        return result

    # landmarks --------------------------------------------------------------------------------------
    def landmarks(self, images: list[np.ndarray], rects: list[Rect], segmentation: bool = False
                  ) -> list[LandmarkResult]:
        """Landmark network on the crop of rects[i] from images[i]; one batched call for all."""
        if not images:
            return []
        x = np.stack([crop(img, r, LANDMARK_SIZE_PX, border_zero=False) for img, r in zip(images, rects)])
        outs = self._run(self._lmk, self._lmk_order, x.astype(np.float32) / 255.0)
        by_role = dict(zip(self._lmk_names.keys(), outs))
        res = []
        for i, (img, r) in enumerate(zip(images, rects)):
            h, w = img.shape[:2]
            res.append(decode_landmarks({k: v[i] for k, v in by_role.items()}, r, w, h, segmentation))
        return res

    def _run(self, sess, names: list[str], x: np.ndarray) -> list[np.ndarray]:
        inp = sess.get_inputs()[0].name
        parts = []
        with self._lock:
            for s in range(0, len(x), self.max_batch):
                parts.append(sess.run(names, {inp: x[s:s + self.max_batch]}))
        return [np.concatenate([p[k] for p in parts]) for k in range(len(names))]


@lru_cache(maxsize=4)
def shared_engine(model: str = "full", providers: tuple[str, ...] = (), threads: int | None = None) -> PoseEngine:
    """One PoseEngine per (model, providers, threads) for the whole process: backends opened one after another (a
    batch of clips, the app) reuse the loaded sessions instead of reloading them. Sessions are safe to share
    (PoseEngine serialises its calls)."""
    return PoseEngine(model, list(providers) or None, threads)
