"""``dyadsim explore`` as a server (issue 23): a busy port is a one-line error before any
URL is printed; SIGTERM or SIGINT stops the whole server; the WebSocket refuses a foreign
Origin or Host (DNS rebinding) and the Origin check makes no outside request."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from typer.testing import CliRunner

from dyadsim.app import serve
from dyadsim.cli import app

pytest.importorskip("streamlit")
START_S = 120


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "dyadsim.cli", "explore", "--port",
                             str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                        timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    raise RuntimeError("the explorer did not start")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    proc = _start(port)
    yield port
    _stop(proc)


def _handshake(port: int, origin: str, host: str | None = None) -> str:
    """The status line of a WebSocket handshake with this Origin and Host."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET /_stcore/stream HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"Origin: {origin}\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(request.encode())
        return s.recv(1024).split(b"\r\n", 1)[0].decode()


def test_the_websocket_takes_only_the_explorers_own_origin(server):
    port = server
    assert " 101 " in _handshake(port, f"http://127.0.0.1:{port}")
    assert " 101 " in _handshake(port, f"http://localhost:{port}", f"localhost:{port}")
    assert " 403 " in _handshake(port, "http://evil.example")  # a foreign page
    assert " 403 " in _handshake(port, f"http://localhost:{port + 1}")  # another local app
    # DNS rebinding: evil.example resolved to 127.0.0.1, Origin and Host agree
    assert " 403 " in _handshake(port, f"http://evil.example:{port}", f"evil.example:{port}")


def test_xsrf_protection_is_on(server):
    """An upload without the XSRF token is forbidden (403; without the protection the
    request gets as far as the missing session: 400)."""
    req = urllib.request.Request(f"http://127.0.0.1:{server}/_stcore/upload_file/x/y",
                                 data=b"x", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as err:  # no XSRF token: refused
        urllib.request.urlopen(req, timeout=20)
    assert err.value.code == 403


def test_a_foreign_origin_makes_no_outside_request(monkeypatch):
    from streamlit import config, net_util
    from streamlit.web.server import server_util
    from streamlit.web.server.starlette import starlette_websocket

    calls = []
    monkeypatch.setattr(net_util, "_make_blocking_http_get",
                        lambda *a, **k: calls.append(a) or None)
    monkeypatch.setattr(net_util, "_external_ip", None)
    for name in ("get_internal_ip", "get_external_ip"):
        monkeypatch.setattr(net_util, name, getattr(net_util, name))
    monkeypatch.setattr(starlette_websocket, "is_url_from_allowed_origins",
                        starlette_websocket.is_url_from_allowed_origins)
    config.set_option("server.enableCORS", True)
    server_util.is_url_from_allowed_origins("http://evil.example")
    assert calls, "without the patch Streamlit asks an outside server for our address"
    calls.clear()
    serve.close_network_habits(8501)
    server_util.is_url_from_allowed_origins("http://evil.example")
    assert not starlette_websocket.is_url_from_allowed_origins("http://evil.example")
    assert starlette_websocket.is_url_from_allowed_origins("http://127.0.0.1:8501")
    assert calls == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_whole_server(sig):
    port = _free_port()
    proc = _start(port)
    try:
        os.kill(proc.pid, sig)  # the process the user started, not its group
        assert proc.wait(timeout=60) is not None
        with socket.socket() as s:  # nothing serves the port any more
            assert s.connect_ex(("127.0.0.1", port)) != 0
    finally:
        _stop(proc)


def test_a_busy_port_is_one_line_before_any_url():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        res = CliRunner().invoke(app, ["explore", "--port", str(port)])
    assert res.exit_code == 2
    assert res.stderr.startswith("error: port") and "in use" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "http://" not in res.stderr
