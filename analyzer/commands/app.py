"""`runform app [--port N]`: start the clinic app (Streamlit) on this machine.

The privacy settings are passed on the command line so they hold wherever the command is run from:
no usage statistics, headless server, CORS and XSRF protection on, the browser address set (so Streamlit never
looks up an external IP), upload limit (default 1 GB; --max-upload-mb or RUNFORM_MAX_UPLOAD_MB). The server
process is `app/server.py` (Streamlit's own CLI plus the guards Streamlit has no setting for).
"""
from __future__ import annotations

import argparse
import os
import socket
import sys
from pathlib import Path

from analyzer.core.errors import InputError

DEFAULT_PORT = 8501
DEFAULT_MAX_UPLOAD_MB = 1024
APP_DIR = Path(__file__).resolve().parents[2] / "app"


def register(subparsers) -> None:
    p = subparsers.add_parser("app", help="start the clinic app on http://localhost:PORT",
                              description="Start the clinic app (upload, annotated replay, measurements, exports).")
    add_server_arguments(p)
    p.add_argument("--no-sign-in", action="store_true",
                   help="single-user workstation: no sign-in (only with a loopback --address; the computer's own "
                        "user acts as the admin)")
    p.add_argument("--session-idle-min", type=float, default=None, metavar="MIN",
                   help="sign a browser out after MIN minutes without a click (default 30, or "
                        "RUNFORM_SESSION_IDLE_MIN)")
    p.add_argument("--session-max-hours", type=float, default=None, metavar="H",
                   help="sign a browser out after H hours in any case (default 8, or RUNFORM_SESSION_MAX_HOURS)")
    p.set_defaults(func=run)


def add_server_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to serve on (default {DEFAULT_PORT})")
    p.add_argument("--address", default="localhost",
                   help="address to listen on (default localhost; a LAN address needs TLS for the live camera)")
    p.add_argument("--max-upload-mb", type=int, default=None,
                   help=f"largest upload in MB (default {DEFAULT_MAX_UPLOAD_MB}, or RUNFORM_MAX_UPLOAD_MB)")
    p.add_argument("--session", default=None, help="id of a stored session to show first")
    p.add_argument("--allowed-host", action="append", default=None, metavar="NAME",
                   help="a host name browsers use to reach the app (repeatable; default: localhost and, with a LAN "
                        "--address, that address and this computer's name). Other Host headers are refused "
                        "(DNS rebinding). RUNFORM_ALLOWED_HOSTS (comma-separated) adds more.")


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


def browser_address(address: str) -> str:
    """The address browsers use for the app: what Streamlit checks Origin headers against and prints. Setting it
    means Streamlit never looks up this machine's external IP at start. A wildcard listen address: the host name."""
    if address in ("0.0.0.0", "::", ""):  # noqa: S104
        return socket.gethostname()
    return address


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def is_loopback_address(address: str) -> bool:
    """Only this computer can connect (localhost, 127.0.0.0/8, ::1). Empty or a wildcard: every interface."""
    import ipaddress

    a = (address or "").strip().strip("[]").lower()
    if a == "localhost":
        return True
    try:
        return ipaddress.ip_address(a).is_loopback
    except ValueError:
        return False


def allowed_hosts(address: str, extra: list[str] | None = None) -> list[str]:
    """Host names the app answers WebSocket connections for (Streamlit's server.allowedHosts): a page on another
    site that points its own name at this machine (DNS rebinding) gets no connection."""
    hosts = list(LOOPBACK_HOSTS)
    if address not in ("localhost", "127.0.0.1", "::1"):
        hosts += [browser_address(address), socket.gethostname()]
    hosts += list(extra or [])
    hosts += [h.strip() for h in os.environ.get("RUNFORM_ALLOWED_HOSTS", "").split(",") if h.strip()]
    return list(dict.fromkeys(h.lower() for h in hosts))


def streamlit_argv(port: int, address: str, upload_mb: int, hosts: list[str] | None = None) -> list[str]:
    main = APP_DIR / "main.py"
    host_flags = [a for h in allowed_hosts(address, hosts) for a in ("--server.allowedHosts", h)]
    return [
        sys.executable, "-m", "app.server", "run", str(main),  # app.server: Streamlit's CLI with its guards
        "--server.port", str(port), "--server.address", address, "--server.headless", "true",
        "--browser.serverAddress", browser_address(address), "--browser.serverPort", str(port),
        "--server.enableCORS", "true", "--server.enableXsrfProtection", "true",
        "--browser.gatherUsageStats", "false", "--server.maxUploadSize", str(upload_mb),
        "--server.maxMessageSize", str(max(upload_mb, 200)), "--server.fileWatcherType", "none",
        "--client.showErrorDetails", "none", "--client.toolbarMode", "minimal",
        "--global.developmentMode", "false", "--runner.postScriptGC", "false",
        *host_flags,
    ]


def launch(port: int, address: str = "localhost", upload_mb: int | None = None, session_id: str | None = None,
           hosts: list[str] | None = None, *, sign_in: bool = True, idle_min: float | None = None,
           max_hours: float | None = None) -> int:
    """Replace this process with the Streamlit server (so stopping it stops the app). Does not return.
    sign_in=False (a single-user workstation) only on a loopback address."""
    if not sign_in and not is_loopback_address(address):
        raise InputError(f"--no-sign-in is refused: the app would listen on {address}, reachable from the network.",
                         "Drop --no-sign-in, or use --address localhost.")
    for name, value in (("--session-idle-min", idle_min), ("--session-max-hours", max_hours)):
        if value is not None and not value > 0:
            raise InputError(f"{name} {value:g} is not a positive number.", f"Use e.g. {name} 30.")
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
    env["RUNFORM_SIGN_IN"] = "on" if sign_in else "off"  # read by app/access.py; never off off loopback
    env["RUNFORM_APP_ADDRESS"] = address
    if idle_min is not None:
        env["RUNFORM_SESSION_IDLE_MIN"] = str(idle_min)
    if max_hours is not None:
        env["RUNFORM_SESSION_MAX_HOURS"] = str(max_hours)
    argv = streamlit_argv(port, address, upload, hosts)
    print(f"runform: clinic app on http://{'localhost' if address in ('localhost', '127.0.0.1') else address}:{port}"
          "  (Ctrl+C to stop)", flush=True)
    os.chdir(APP_DIR.parent)  # picks up .streamlit/config.toml (theme) beside the app
    os.execve(argv[0], argv, env)
    return 0  # pragma: no cover


def run(args) -> int:
    return launch(args.port, args.address, args.max_upload_mb, args.session, getattr(args, "allowed_host", None),
                  sign_in=not args.no_sign_in, idle_min=args.session_idle_min, max_hours=args.session_max_hours)
