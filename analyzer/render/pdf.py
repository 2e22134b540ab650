"""HTML report -> PDF with the Debian Chromium already on the machine (headless print-to-pdf), fully offline.

Chromium runs with a throw-away profile inside the data directory (nothing written elsewhere), networking off
(every host name resolves to nothing) and no background services, so printing a patient report contacts nobody.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from analyzer.core.config import data_dir
from analyzer.core.errors import InputError

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
    "--disable-default-apps", "--mute-audio", "--no-pdf-header-footer", "--host-resolver-rules=MAP * ~NOTFOUND",
    "--run-all-compositor-stages-before-draw", "--virtual-time-budget=5000",
)


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        p = shutil.which(name)
        if p:
            return p
    return None


def html_to_pdf(html_path: str | Path, pdf_path: str | Path, timeout_s: float = 90.0) -> Path:
    """Print `html_path` (local file; relative images resolve beside it) to `pdf_path`. Returns pdf_path."""
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
    if not html_path.is_file():
        raise InputError(f"Report {html_path} does not exist.", "Analyse the clip first.")
    exe = find_chromium()
    if exe is None:
        raise InputError("No Chromium found to print the PDF report.",
                         "Install it with scripts/setup.sh (Debian package 'chromium'), or print the HTML report.")
    tmp_root = data_dir() / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tmp_root, prefix="chromium-") as profile:
        out = Path(profile) / "report.pdf"
        cmd = [exe, *FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={out}", html_path.as_uri()]
        env = {"HOME": profile, "PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": profile, "XDG_CACHE_HOME": profile}
        try:
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout_s, env=env,
                           check=False)
        except subprocess.TimeoutExpired:
            raise InputError("Printing the PDF report took too long.", "Try again, or print the HTML report.") from None
        if not out.is_file() or out.stat().st_size < 500 or not out.read_bytes()[:5] == b"%PDF-":
            raise InputError("Chromium did not produce a PDF report.", "Print the HTML report from the browser instead.")
        pdf_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(out), pdf_path)
    return pdf_path
