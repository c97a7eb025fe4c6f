"""Open a page in real headless Chromium (Debian's ``chromium``) over the DevTools protocol
on a pipe (``--remote-debugging-pipe``: no port, no network), and collect what a user would
hit: console errors, uncaught exceptions, security (CSP) messages and every request the page
made. Also returns the rendered text and a full-page screenshot."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--mute-audio",
    "--remote-debugging-pipe",
]


@dataclass
class PageVisit:
    text: str = ""
    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    screenshot: Path | None = None

    @property
    def problems(self) -> list[str]:
        return self.console_errors + self.exceptions + self.log_errors + self.failed_requests


def available() -> bool:
    return Path(CHROMIUM).exists()


def _above_4(fd: int) -> int:
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return high


class _Pipe:
    """Null-separated JSON messages to fd 3 and from fd 4 of the browser."""

    def __init__(self, user_data: Path) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # Move the child's ends above fd 4 first, so wiring them to 3 and 4 in the child can
        # neither clobber one with the other nor keep a close-on-exec flag (dup2 onto itself).
        to_child_r, from_child_w = _above_4(to_child_r), _above_4(from_child_w)

        def wire() -> None:
            os.dup2(to_child_r, 3)  # dup2 onto another fd: inheritable
            os.dup2(from_child_w, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={user_data}", "about:blank"],
            preexec_fn=wire, close_fds=False, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._next = 0
        self.inbox: queue.Queue[dict] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_child, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                self.inbox.put(json.loads(raw))

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self._next += 1
        msg: dict = {"id": self._next, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        return self._next

    def close(self) -> None:
        try:
            self.send("Browser.close")
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for fd in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                os.close(fd)


class Browser:
    def __init__(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="cld-chromium-"))
        self.pipe = _Pipe(self._dir)
        self.events: list[dict] = []

    def call(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30) -> dict:
        want = self.pipe.send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            msg = self.pipe.inbox.get(timeout=max(0.1, deadline - time.monotonic()))
            if msg.get("id") == want:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_event(self, method: str, timeout: float = 30) -> dict:
        for i, ev in enumerate(self.events):
            if ev.get("method") == method:
                return self.events.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            msg = self.pipe.inbox.get(timeout=max(0.1, deadline - time.monotonic()))
            if msg.get("method") == method:
                return msg
            self.events.append(msg)

    def drain(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            with contextlib.suppress(queue.Empty):
                self.events.append(self.pipe.inbox.get(timeout=0.05))

    def close(self) -> None:
        self.pipe.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def visit(url: str, screenshot: Path | None = None, width: int = 1280,
          settle: float = 0.5, max_height: int = 16000) -> PageVisit:
    """Load ``url`` in a fresh headless Chromium and report what happened."""
    with Browser() as b:
        target = b.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = b.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            b.call(f"{domain}.enable", session=sid)
        b.call("Emulation.setDeviceMetricsOverride",
               {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False},
               session=sid)
        b.events.clear()
        b.call("Page.navigate", {"url": url}, session=sid)
        b.wait_event("Page.loadEventFired")
        b.drain(settle)
        res = b.call("Runtime.evaluate", {"expression": "document.body.innerText",
                                          "returnByValue": True}, session=sid)
        out = PageVisit(text=res["result"].get("value", ""))
        if screenshot is not None:
            metrics = b.call("Page.getLayoutMetrics", session=sid)
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            shot = b.call("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": min(size["height"], max_height),
                         "scale": 1}}, session=sid)
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            out.screenshot = screenshot
        b.drain(0.1)
        for ev in b.events:
            m, p = ev.get("method"), ev.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.console_errors.append(" ".join(str(a.get("value", a.get("description")))
                                                   for a in p.get("args", [])))
            elif m == "Runtime.exceptionThrown":
                out.exceptions.append(p["exceptionDetails"].get("text", "exception"))
            elif m == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                out.log_errors.append(f"{p['entry']['source']}: {p['entry']['text']}")
            elif m == "Network.requestWillBeSent":
                out.requests.append(p["request"]["url"])
            elif m == "Network.loadingFailed":
                out.failed_requests.append(f"{p.get('errorText')} {p.get('blockedReason', '')}")
        return out
