"""The explorer (``dyadsim explore``): a local Streamlit app over the same simulate and
report code as the command line. :mod:`.scenario` holds everything but the page."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

# Streamlit settings: local only, no telemetry, no tracebacks in the page, no file watcher;
# XSRF protection on, and only the Host names of this machine (no DNS rebinding). The Origin
# check and the absence of outside requests are in :mod:`.serve`.
STREAMLIT_FLAGS = (
    "--server.address", "127.0.0.1",
    "--server.enableXsrfProtection", "true",
    "--server.enableCORS", "true",
    "--server.allowedHosts", "127.0.0.1",
    "--server.allowedHosts", "localhost",
    "--server.headless", "true",
    "--server.fileWatcherType", "none",
    "--server.runOnSave", "false",
    "--browser.gatherUsageStats", "false",
    "--browser.serverAddress", "127.0.0.1",
    "--client.showErrorDetails", "false",
    "--client.toolbarMode", "minimal",
    "--global.developmentMode", "false",
    "--theme.base", "light",
)


def local_origins(port: int) -> tuple[str, ...]:
    """The origins a page of the explorer itself has (the only ones its WebSocket takes)."""
    return (f"http://127.0.0.1:{port}", f"http://localhost:{port}")


def streamlit_command(port: int) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that serve the explorer on 127.0.0.1:``port``."""
    if importlib.util.find_spec("streamlit") is None or \
            importlib.util.find_spec("plotly") is None:
        raise ValueError("the explorer needs Streamlit and Plotly: pip install 'dyadsim[app]'")
    script = Path(__file__).with_name("explorer.py")
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
           "STREAMLIT_SERVER_ADDRESS": "127.0.0.1"}
    origins = [x for o in local_origins(port) for x in ("--server.corsAllowedOrigins", o)]
    cmd = [sys.executable, "-m", "dyadsim.app.serve", str(port), "run", str(script),
           *STREAMLIT_FLAGS, *origins, "--server.port", str(port),
           "--browser.serverPort", str(port)]
    return cmd, env
