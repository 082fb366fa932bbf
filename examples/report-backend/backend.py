#!/usr/bin/env python3
"""The report example's backend: serves the page, builds reports, and tells coropush how they go.

A report is a long task (20 steps by default) that runs on a thread of this process. Each step is
reported to coropush through its server API (POST /api/jobs/{id}/progress); coropush pushes it to
every browser watching the job, and its answer says whether one of them asked to cancel.

Python 3 standard library only. Run it with run.sh, which starts coropush beside it, or alone:

    COROPUSH_API_KEY=... python3 backend.py --coropush-url http://127.0.0.1:1337
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger("backend")

WEB_ROOT = Path(__file__).resolve().parent / "web"
# The page's files, by URL path. A fixed list: nothing else on disk can be asked for.
STATIC_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/report.js": ("report.js", "text/javascript; charset=utf-8"),
    "/report.css": ("report.css", "text/css; charset=utf-8"),
}
# What a report does, by quarter of its steps: the text the page shows beside the bar.
PHASES = ("gathering the orders", "adding up the totals", "drawing the charts", "writing the summary")
# Waits before each new try when coropush answers 503 (draining, backplane down) or 429, or cannot
# be reached: about 16 s in all, then the report gives up.
RETRY_DELAYS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
REQUEST_TIMEOUT = 10.0


class ApiError(Exception):
    """An answer from coropush's server API that is not a success (or no answer at all)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Progress:
    """coropush's answer to a progress report."""

    seq: int  # the event's number in the job's stream, which browsers resume from
    cancel_requested: bool  # a browser asked to cancel the job (job_cancel)


class CoropushApi:
    """The four calls of coropush's job API that a backend makes (docs/api.md)."""

    def __init__(self, base_url: str, api_key: str, stopping: threading.Event) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.stopping = stopping  # set at shutdown: no more waiting to try again

    def create_job(self, label: str) -> str:
        return self._post("/api/jobs", {"label": label})["job"]

    def progress(self, job: str, percent: int, message: str) -> Progress:
        answer = self._post(f"/api/jobs/{job}/progress", {"percent": percent, "message": message})
        return Progress(seq=answer["seq"], cancel_requested=answer["cancel_requested"])

    def done(self, job: str, result: str) -> None:
        self._post(f"/api/jobs/{job}/done", {"result": result})

    def failed(self, job: str, reason: str) -> None:
        self._post(f"/api/jobs/{job}/failed", {"reason": reason})

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        # Unavailable (503 `unavailable`), rate limited (429) and unreachable are passing states:
        # a coropush that is restarting or has lost its backplane for a moment. Try again, a
        # bounded number of times, waiting longer each time; at shutdown, once only. Any other
        # answer is final (503 `too_many_jobs` too: finished jobs are kept for minutes).
        for delay in (*RETRY_DELAYS, None):
            try:
                return self._post_once(path, body)
            except ApiError as error:
                passing = error.code == "unavailable" or error.status in (HTTPStatus.TOO_MANY_REQUESTS, 0)
                if not passing or delay is None or self.stopping.is_set():
                    raise
                log.warning("coropush: %s; trying again in %.2f s", error, delay)
                if self.stopping.wait(delay):
                    raise
        raise AssertionError("unreachable: the last delay is None")

    def _post_once(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
                return json.load(response)
        except urllib.error.HTTPError as answer:
            with answer:
                try:
                    error = json.load(answer)["error"]
                    code, message = error["code"], error["message"]
                except (ValueError, KeyError, TypeError):
                    code, message = "http_error", answer.reason
            raise ApiError(answer.code, code, message) from None
        except (urllib.error.URLError, OSError) as failure:
            raise ApiError(0, "unreachable", str(getattr(failure, "reason", failure))) from None


def build_report(api: CoropushApi, job: str, steps: int, step_time: float, stopping: threading.Event) -> None:
    """The long task: one step at a time, each reported; stops when a browser cancels."""
    try:
        for step in range(1, steps + 1):
            # The work of one step. Waiting on the event instead of sleeping lets a shutdown
            # interrupt it.
            if stopping.wait(step_time):
                log.info("report %s: the backend is stopping at step %d; stopped", job, step)
                # Tried once only (the API does not retry once stopping): coropush may be
                # stopping too.
                api.failed(job, "the backend stopped")
                return
            phase = PHASES[(step - 1) * len(PHASES) // steps]
            progress = api.progress(job, step * 100 // steps, f"step {step} of {steps}: {phase}")
            log.debug("report %s: step %d of %d reported (seq %d)", job, step, steps, progress.seq)
            if progress.cancel_requested:
                api.failed(job, "cancelled")
                log.info("report %s: cancelled at step %d of %d; stopped", job, step, steps)
                return
        api.done(job, f"the report is ready ({steps} sections)")
        log.info("report %s: done", job)
    except ApiError as error:
        # 409 job_finished or 404 unknown_job: coropush ended or forgot the job (a restart);
        # 503 after every retry: it stayed away. Either way no browser will hear more of it.
        log.error("report %s: stopped, coropush answered %s", job, error)


class Reports:
    """The reports this backend is building: starts them, and waits for them at shutdown."""

    def __init__(self, api: CoropushApi, steps: int, step_time: float, stopping: threading.Event) -> None:
        self.api = api
        self.steps = steps
        self.step_time = step_time
        self.stopping = stopping
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def start(self) -> str:
        job = self.api.create_job("report")
        # A daemon thread: a report still waiting on coropush when the shutdown's wait is over
        # does not keep the process alive.
        thread = threading.Thread(target=self._run, args=(job,), name=f"report-{job[:8]}", daemon=True)
        with self._lock:
            self._threads.add(thread)
        log.info("report %s: started (%d steps of %.2f s)", job, self.steps, self.step_time)
        thread.start()
        return job

    def _run(self, job: str) -> None:
        try:
            build_report(self.api, job, self.steps, self.step_time, self.stopping)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def wait(self, timeout: float) -> None:
        """Waits (boundedly) for the running reports to end; call after setting `stopping`."""
        with self._lock:
            running = list(self._threads)
        deadline = time.monotonic() + timeout
        for thread in running:
            thread.join(max(0.0, deadline - time.monotonic()))


class Handler(BaseHTTPRequestHandler):
    """The backend's HTTP endpoints: the page's files, its settings, and POST /reports."""

    server: BackendServer
    server_version = "report-backend"

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/config.json":
            # Where the page opens its WebSocket: coropush, as the browser reaches it.
            self._send_json(HTTPStatus.OK, {"websocket": self.server.websocket_url})
        elif path in STATIC_FILES:
            name, content_type = STATIC_FILES[path]
            self._send(HTTPStatus.OK, (WEB_ROOT / name).read_bytes(), content_type)
        else:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/reports":
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        try:
            job = self.server.reports.start()
        except ApiError as error:
            log.error("could not start a report: coropush answered %s", error)
            self._send_json(HTTPStatus.BAD_GATEWAY, {"error": f"coropush: {error}"})
            return
        # The job id is all the page needs: it watches the job on coropush with it.
        self._send_json(HTTPStatus.CREATED, {"job": job})

    def _send_json(self, status: HTTPStatus, body: dict[str, Any]) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # the base class names it `format`
        log.debug("%s %s", self.address_string(), format % args)


class BackendServer(ThreadingHTTPServer):
    def __init__(self, address: tuple[str, int], reports: Reports, websocket_url: str) -> None:
        super().__init__(address, Handler)
        self.reports = reports
        self.websocket_url = websocket_url


def default_websocket_url(coropush_url: str) -> str:
    """http://host:port -> ws://host:port/ws (https -> wss)."""
    parts = urlsplit(coropush_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, "/ws", "", ""))


def read_api_key(key_file: str | None) -> str:
    # As coropush reads it: a file (less a trailing newline), else COROPUSH_API_KEY. Never a
    # command-line value, which any local user can read in /proc.
    if key_file:
        return Path(key_file).read_text().rstrip("\n")
    key = os.environ.get("COROPUSH_API_KEY", "")
    if not key:
        sys.exit("backend: no API key: give --api-key-file or set COROPUSH_API_KEY")
    return key


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--address", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on; 0: any free one (default: %(default)s)")
    parser.add_argument("--coropush-url", default="http://127.0.0.1:1337",
                        help="coropush, as this backend reaches it, for the API (default: %(default)s)")
    parser.add_argument("--websocket-url",
                        help="coropush's WebSocket, as browsers reach it (default: from --coropush-url, path /ws)")
    parser.add_argument("--api-key-file", help="coropush's API key, from a file (default: $COROPUSH_API_KEY)")
    parser.add_argument("--steps", type=int, default=20, help="steps in a report (default: %(default)s)")
    parser.add_argument("--step-time", type=float, default=0.75, help="seconds a step takes (default: %(default)s)")
    parser.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    args = parser.parse_args()
    if args.steps < 1 or args.step_time < 0:
        parser.error("--steps must be at least 1 and --step-time at least 0")
    return args


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(message)s")
    stopping = threading.Event()
    api = CoropushApi(args.coropush_url, read_api_key(args.api_key_file), stopping)
    reports = Reports(api, args.steps, args.step_time, stopping)
    server = BackendServer((args.address, args.port), reports, args.websocket_url or default_websocket_url(args.coropush_url))

    # SIGINT (Ctrl-C) and SIGTERM: stop taking requests, let running reports say they stopped,
    # then exit. The handler only sets the event; the main thread does the work.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda signum, frame: stopping.set())

    serving = threading.Thread(target=server.serve_forever, name="http")
    serving.start()
    host, port = server.server_address[:2]
    # On stdout, for people and for run.sh (which reads the port from it); logs go to stderr.
    print(f"listening on http://{host}:{port}/", flush=True)

    stopping.wait()
    log.info("stopping")
    server.shutdown()
    serving.join()
    server.server_close()
    reports.wait(timeout=REQUEST_TIMEOUT + 1)
    log.info("stopped")


if __name__ == "__main__":
    main()
