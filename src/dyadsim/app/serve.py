"""Run Streamlit for the explorer with its network habits closed (issue 23).

Streamlit (1.67) accepts a WebSocket whose Origin names the same host as the request and
otherwise asks :func:`streamlit.web.server.server_util.is_url_from_allowed_origins`, which
looks up the machine's internal address (a UDP socket towards 8.8.8.8) and external address
(an HTTP request to checkip.amazonaws.com) to compare with the Origin. The explorer serves
127.0.0.1 only, so here the WebSocket accepts exactly the origins ``http://127.0.0.1:PORT``
and ``http://localhost:PORT`` (no lookup, no outside request), and Streamlit's
``server.allowedHosts`` refuses any other Host header (DNS rebinding).

Run as ``python -m dyadsim.app.serve PORT streamlit-arguments...``.
"""

from __future__ import annotations

import sys

from . import local_origins


def _no_lookup() -> None:
    """Stand-in for Streamlit's address lookups: the explorer needs no outside address."""
    return None


def close_network_habits(port: int) -> None:
    """Patch Streamlit before it starts: no address lookups, and the WebSocket's Origin
    check accepts the explorer's own origins only."""
    from streamlit import net_util
    from streamlit.web.server.starlette import starlette_websocket

    net_util.get_internal_ip = _no_lookup
    net_util.get_external_ip = _no_lookup
    allowed = local_origins(port)
    starlette_websocket.is_url_from_allowed_origins = \
        lambda url: str(url).rstrip("/") in allowed


def main(argv: list[str]) -> None:
    port = int(argv[0])
    close_network_habits(port)
    from streamlit.web import cli

    sys.argv = ["streamlit", *argv[1:]]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
