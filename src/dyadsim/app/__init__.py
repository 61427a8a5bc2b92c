"""The explorer (``dyadsim explore``): a local Streamlit app over the same simulate and
report code as the command line. :mod:`.scenario` holds everything but the page."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

# Streamlit settings: local only, no telemetry, no tracebacks in the page, no file watcher.
STREAMLIT_FLAGS = (
    "--server.address", "127.0.0.1",
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


def streamlit_command(port: int) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that serve the explorer on 127.0.0.1:``port``."""
    if importlib.util.find_spec("streamlit") is None or \
            importlib.util.find_spec("plotly") is None:
        raise ValueError("the explorer needs Streamlit and Plotly: pip install 'dyadsim[app]'")
    script = Path(__file__).with_name("explorer.py")
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
           "STREAMLIT_SERVER_ADDRESS": "127.0.0.1"}
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), *STREAMLIT_FLAGS,
           "--server.port", str(port), "--browser.serverPort", str(port)]
    return cmd, env
