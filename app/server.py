"""The process `runform app` runs: Streamlit's own command line (`python -m app.server run app/main.py ...`), with
the one guard Streamlit has no setting for.

Streamlit checks the Origin of a cross-origin WebSocket or HTTP request against localhost, `browser.serverAddress`,
the internal IP (found by "connecting" a UDP socket to 8.8.8.8) and then its *external* IP, which it asks
`checkip.amazonaws.com` for (again on every such request while the lookup fails, as it always does offline). A
clinic machine must not call out, least of all when a foreign web page probes the app: both lookups are replaced
here by "unknown", so such requests are simply refused. Same-origin use is unaffected (Streamlit allows an Origin
equal to the Host), and at start Streamlit looks nothing up: `browser.serverAddress` is set (`runform app`,
`.streamlit/config.toml`). The Host header itself is checked by Streamlit (`server.allowedHosts`).
"""
from __future__ import annotations

import sys


def _unknown_ip() -> None:
    return None


def install_guards() -> None:
    from streamlit import net_util

    net_util.get_external_ip = _unknown_ip
    net_util.get_internal_ip = _unknown_ip


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
