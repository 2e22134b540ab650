"""`runform app [--port N]`: start the clinic app (Streamlit) on this machine.

The privacy settings are passed on the command line so they hold wherever the command is run from:
no usage statistics, headless server, upload limit (default 1 GB; --max-upload-mb or RUNFORM_MAX_UPLOAD_MB).
"""
from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from ..errors import InputError

DEFAULT_PORT = 8501
DEFAULT_MAX_UPLOAD_MB = 1024
APP_DIR = Path(__file__).resolve().parents[2] / "app"


def register(subparsers) -> None:
    p = subparsers.add_parser("app", help="start the clinic app on http://localhost:PORT",
                              description="Start the clinic app (upload, annotated replay, measurements, exports).")
    add_server_arguments(p)
    p.set_defaults(func=run)


def add_server_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to serve on (default {DEFAULT_PORT})")
    p.add_argument("--address", default="localhost",
                   help="address to listen on (default localhost; a LAN address needs TLS for the live camera)")
    p.add_argument("--max-upload-mb", type=int, default=None,
                   help=f"largest upload in MB (default {DEFAULT_MAX_UPLOAD_MB}, or RUNFORM_MAX_UPLOAD_MB)")
    p.add_argument("--session", default=None, help="id of a stored session to show first")


def max_upload_mb(cli_value: int | None) -> int:
    if cli_value is not None:
        value = cli_value
    else:
        env = os.environ.get("RUNFORM_MAX_UPLOAD_MB", "")
        try:
            value = int(env) if env else DEFAULT_MAX_UPLOAD_MB
        except ValueError:
            raise InputError(f"RUNFORM_MAX_UPLOAD_MB={env!r} is not a whole number of megabytes.",
                             "Set it to e.g. 1024, or unset it.") from None
    if value < 1:
        raise InputError(f"Upload limit {value} MB is too small.", "Use at least 1 MB (default 1024).")
    return value


def port_free(port: int, address: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1" if address == "localhost" else address, port))
        except OSError:
            return False
    return True


def streamlit_argv(port: int, address: str, upload_mb: int) -> list[str]:
    main = APP_DIR / "main.py"
    return [
        sys.executable, "-m", "streamlit", "run", str(main),
        "--server.port", str(port), "--server.address", address, "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.maxUploadSize", str(upload_mb),
        "--server.maxMessageSize", str(max(upload_mb, 200)), "--server.fileWatcherType", "none",
        "--client.showErrorDetails", "none", "--client.toolbarMode", "minimal",
        "--global.developmentMode", "false", "--runner.postScriptGC", "false",
    ]


def launch(port: int, address: str = "localhost", upload_mb: int | None = None, session_id: str | None = None
           ) -> int:
    """Replace this process with the Streamlit server (so stopping it stops the app). Does not return."""
    if not 1 <= port <= 65535:
        raise InputError(f"Port {port} is not a valid port.", "Use a number between 1024 and 65535, e.g. 8501.")
    if not port_free(port, address):
        raise InputError(f"Port {port} is already in use (another app is running there?).",
                         "Stop it or start on another port with --port N.")
    upload = max_upload_mb(upload_mb)
    env = dict(os.environ)
    env["RUNFORM_MAX_UPLOAD_MB"] = str(upload)
    if session_id:
        env["RUNFORM_DEFAULT_SESSION"] = session_id
    argv = streamlit_argv(port, address, upload)
    print(f"runform: clinic app on http://{'localhost' if address in ('localhost', '127.0.0.1') else address}:{port}"
          "  (Ctrl+C to stop)", flush=True)
    os.chdir(APP_DIR.parent)  # picks up .streamlit/config.toml (theme) beside the app
    os.execve(argv[0], argv, env)
    return 0  # pragma: no cover


def run(args) -> int:
    return launch(args.port, args.address, args.max_upload_mb, args.session)
