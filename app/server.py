"""The process `runform app` runs: Streamlit's own command line (`python -m app.server run app/main.py ...`), with
the guards Streamlit has no setting for.

1. No address lookups. Streamlit checks the Origin of a cross-origin WebSocket or HTTP request against localhost,
   `browser.serverAddress`, the internal IP (found by "connecting" a UDP socket to 8.8.8.8) and then its *external*
   IP, which it asks `checkip.amazonaws.com` for (again on every such request while the lookup fails, as it always
   does offline). A clinic machine must not call out, least of all when a foreign web page probes the app: both
   lookups are replaced here by "unknown", so such requests are simply refused. Same-origin use is unaffected
   (Streamlit allows an Origin equal to the Host), and at start Streamlit looks nothing up: `browser.serverAddress`
   is set (`runform app`, `.streamlit/config.toml`).
2. Host check on every request. Streamlit 1.67 (Starlette/uvicorn server) checks `server.allowedHosts` only on the
   WebSocket (`/_stcore/stream`); its HTTP endpoints (the page, static files, media, uploads, health) answer any Host.
   A DNS-rebinding page (its own name pointed at this machine) could then read them. `HostCheckMiddleware` runs
   first on every HTTP and WebSocket request and refuses (403, or a closed WebSocket handshake) a Host that is not
   in `server.allowedHosts`, with Streamlit's own matching rules (`is_host_allowed`: port ignored, `*.` wildcards).
"""
from __future__ import annotations

import sys


def _unknown_ip() -> None:
    return None


class HostCheckMiddleware:
    """ASGI middleware: requests whose Host header is not in `server.allowedHosts` get 403 (HTTP) or a refused
    handshake (WebSocket). An empty allowedHosts list means Streamlit's default (any Host)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket"):
            from streamlit.web.server.starlette.starlette_websocket import is_host_allowed

            host = None
            for k, v in scope.get("headers") or ():
                if k == b"host":
                    host = v.decode("latin-1")
                    break
            if not is_host_allowed(host):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                body = b"Forbidden: this address is not one the runform app answers to.\n"
                await send({"type": "http.response.start", "status": 403,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def install_host_check() -> None:
    """Put HostCheckMiddleware first in Streamlit's middleware stack (before its path security middleware)."""
    from starlette.middleware import Middleware
    from streamlit.web.server.starlette import starlette_app

    original = starlette_app.create_streamlit_middleware
    if getattr(original, "_runform_host_check", False):
        return

    def with_host_check():
        return [Middleware(HostCheckMiddleware), *original()]

    with_host_check._runform_host_check = True
    starlette_app.create_streamlit_middleware = with_host_check


def install_guards() -> None:
    from streamlit import net_util

    net_util.get_external_ip = _unknown_ip
    net_util.get_internal_ip = _unknown_ip
    install_host_check()


def main(argv: list[str] | None = None) -> int:
    from analyzer.core import private_umask

    private_umask()
    install_guards()
    from streamlit.web import cli

    sys.argv = ["streamlit", *(sys.argv[1:] if argv is None else argv)]
    cli.main(prog_name="streamlit")  # as `python -m streamlit` calls it
    return 0


if __name__ == "__main__":
    sys.exit(main())
