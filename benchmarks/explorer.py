"""Explorer latency: time from a click to the updated result, in real Chromium.

Starts ``dyadsim explore`` on a free local port, opens it in Debian's chromium through
Playwright, and prints one JSON line per step: the first load (includes JAX start-up and,
with a cold cache, compilation), switching MORE on (one new run at the default N; the
baseline is reused), knocking out an edge, switching MORE off, and on again (a run made
before: reused). Usage: ``python benchmarks/explorer.py [--chromium PATH]``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _table(page) -> str:
    return page.locator("[data-testid=stTable]").inner_text()


def _changed(page, before: str, timeout_s: float = 600) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout_s:
        if page.locator("[data-stale=true]").count() == 0 and \
                page.locator("[data-testid=stTable]").count() and _table(page) != before:
            return time.perf_counter() - t0
        time.sleep(0.05)
    raise TimeoutError("no update")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "dyadsim.cli", "explore", "--port",
                               str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, args=ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            t0 = time.perf_counter()
            page.goto(url)
            page.locator("[data-testid=stTable]").wait_for(timeout=900_000)
            print(json.dumps({"step": "first load", "seconds": round(
                time.perf_counter() - t0, 2)}), flush=True)
            side = page.locator("[data-testid=stSidebar]")
            more = side.get_by_text("MORE", exact=True)

            def knock_out() -> None:
                side.locator("[data-testid=stMultiSelect]").first.click()
                page.keyboard.type("Craving → Opioid use")
                page.keyboard.press("Enter")
                page.keyboard.press("Escape")

            steps = [("MORE on (new run)", more.click),
                     ("edge knock-out (new run)", knock_out),
                     ("MORE off (new run)", more.click),
                     ("MORE on again (run reused)", more.click)]
            for name, act in steps:
                time.sleep(1.0)
                before = _table(page)
                act()
                dt = _changed(page, before)
                print(json.dumps({"step": name, "seconds": round(dt, 2),
                                  "dyads": 500}), flush=True)
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
