"""The architecture, as a test: packages import only packages below them, never sideways or up, and never in a circle.

Layers (lowest first; a module may import its own package and any package of a lower layer):

    0 core          errors, config, landmarks, metric definitions, result folders
    1 kinematics    pure numpy/scipy kernels       1 plan   rules, engine, hold, noise
    2 media         video in, H.264 out
    3 pose          backends, model files, cache, runner selection, image measures
    4 render        overlay, report, PDF           4 synthetic   rendered runners with exact truth
    5 records       patients, sessions, exports
    6 pipeline      offline analysis, batch
    7 live          camera analysis and recording
    8 commands, cli the command line (thin)

Third-party rules: `kinematics/` reads no pixels (no cv2, av, mediapipe, onnxruntime); `plan/` touches no video.
The app (`app/`) and the benchmarks sit above everything and use only `analyzer` and the packages' faces.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ANALYZER = ROOT / "analyzer"
LAYER = {"core": 0, "kinematics": 1, "plan": 1, "media": 2, "pose": 3, "render": 4, "synthetic": 4,
         "records": 5, "pipeline": 6, "live": 7, "commands": 8, "cli": 8}
NO_PIXELS = {"cv2", "av", "mediapipe", "onnxruntime"}
THIRD_PARTY_BANNED = {"kinematics": NO_PIXELS, "plan": NO_PIXELS, "core": NO_PIXELS}


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(ANALYZER.rglob("*.py")):
        if "migrations" in p.parts:
            continue
        parts = list(p.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) for every import in the file, at any depth (late imports count too)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: relative import (the project imports absolutely)"
            out.append((node.lineno, node.module or ""))
            out += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]  # `from analyzer import pose`
    return out


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "analyzer" else None


def test_every_package_has_a_layer():
    top = {p.name if p.is_dir() else p.stem for p in ANALYZER.iterdir()
           if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.stem != "__init__")}
    assert top == set(LAYER), f"packages without a layer (or layers without a package): {top ^ set(LAYER)}"


def test_no_upward_or_sideways_imports():
    bad = []
    mods = _modules()
    for mod, path in mods.items():
        pkg = _package(mod)
        if pkg is None:  # analyzer/__init__.py: the public API, above everything
            continue
        for line, target in _imports(path):
            tpkg = _package(target)
            if tpkg is None or tpkg == pkg or tpkg not in LAYER:
                continue
            if target not in mods and target.rsplit(".", 1)[0] not in mods:
                continue
            if LAYER[tpkg] >= LAYER[pkg]:
                bad.append(f"{path.relative_to(ROOT)}:{line}: {pkg} (layer {LAYER[pkg]}) imports {target} "
                           f"(layer {LAYER[tpkg]})")
    assert not bad, "imports that go up or sideways:\n" + "\n".join(bad)


def test_no_import_of_the_top_level_package_from_inside():
    bad = []
    for mod, path in _modules().items():
        if mod == "analyzer":
            continue
        for line, target in _imports(path):
            if target == "analyzer" or (target.startswith("analyzer.") and target.count(".") == 1
                                         and target.split(".")[1] not in LAYER):
                bad.append(f"{path.relative_to(ROOT)}:{line}: imports {target}")
    assert not bad, "modules importing the public API from inside the library:\n" + "\n".join(bad)


def test_no_circles_between_modules():
    """Module-level import graph (top-level imports only: the ones that run at import time) has no cycle."""
    mods = _modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for mod, path in mods.items():
        for node in ast.parse(path.read_text()).body:
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for n in names:
                if n in mods and n != mod:
                    graph[mod].add(n)
    # a package's face importing its own modules is not a circle with them: drop face -> member edges' reverse
    seen, stack, cycles = set(), [], []

    def visit(m: str) -> None:
        if m in stack:
            cycles.append(stack[stack.index(m):] + [m])
            return
        if m in seen:
            return
        seen.add(m)
        stack.append(m)
        for d in sorted(graph[m]):
            if not (mods[d].name == "__init__.py" and m.startswith(d + ".")):  # member -> own face: Python resolves
                visit(d)
        stack.pop()

    for m in sorted(mods):
        visit(m)
    assert not cycles, "import circles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("pkg", sorted(THIRD_PARTY_BANNED))
def test_pure_packages_read_no_pixels(pkg):
    bad = []
    for path in sorted((ANALYZER / pkg).rglob("*.py")):
        for line, target in _imports(path):
            if target.split(".")[0] in THIRD_PARTY_BANNED[pkg]:
                bad.append(f"{path.relative_to(ROOT)}:{line}: imports {target}")
    assert not bad, f"{pkg}/ must not touch video or images:\n" + "\n".join(bad)


def _face_names(pkg: str) -> set[str]:
    """The names a package's face (its __init__.py) exports."""
    tree = ast.parse((ANALYZER / pkg / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in node.targets):
            return {ast.literal_eval(e) for e in node.value.elts}
    return set()


@pytest.mark.parametrize("where", ["app", "benchmarks"])
def test_app_and_benchmarks_use_only_the_faces(where):
    """`from analyzer.records import X` is the face; `from analyzer.records.store import X` (or importing the module
    `store` itself) reaches behind it."""
    bad = []
    for path in sorted((ROOT / where).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                bad += [f"{path.relative_to(ROOT)}:{node.lineno}: import {a.name}" for a in node.names
                        if a.name.startswith("analyzer.") and a.name.count(".") >= 2]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("analyzer."):
                parts = node.module.split(".")
                if len(parts) >= 3:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: from {node.module}")
                    continue
                exported = _face_names(parts[1])
                bad += [f"{path.relative_to(ROOT)}:{node.lineno}: {node.module}.{a.name} (a module, not the face)"
                        for a in node.names if a.name not in exported]
    assert not bad, f"{where}/ reaches behind a package face:\n" + "\n".join(sorted(set(bad)))


def test_the_layering_test_can_fail(tmp_path, monkeypatch):
    """An upward import planted in kinematics is caught (the guard is not vacuous)."""
    planted = ANALYZER / "kinematics" / "_planted_upward.py"
    planted.write_text("from analyzer.pipeline import offline\nimport cv2\n")
    try:
        with pytest.raises(AssertionError, match="_planted_upward"):
            test_no_upward_or_sideways_imports()
        with pytest.raises(AssertionError, match="_planted_upward"):
            test_pure_packages_read_no_pixels("kinematics")
    finally:
        planted.unlink()


def test_no_module_imports_private_names_of_another():
    """`from analyzer.media.video_in import _rotate` reaches into another module's private parts: a kernel two
    modules need is public (and then exported by the package face), or it is not shared."""
    bad = []
    for mod, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("analyzer") and node.module != mod:
                bad += [f"{path.relative_to(ROOT)}:{node.lineno}: from {node.module} import {a.name}"
                        for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
    assert not bad, "private names imported from another module:\n" + "\n".join(bad)
