"""Real servers for the reliability tests, on a free loopback port.

`ServeProcess` runs `fostering serve` in a subprocess (what an installation runs; it can be
sent SIGTERM or SIGKILL); `ThreadServer` runs uvicorn with the app in a thread of the test
process (quick to start, for tests that only need real concurrent HTTP).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from api.app import create_app
from tracker.core.db import Database
from tracker.core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
FOSTERING = Path(sys.executable).parent / "fostering"


def free_port() -> int:
    """A loopback port nobody listens on (yet)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a `fostering` subprocess: the database, and FOSTERING_<NAME>
    for each setting given (scheduler off and serial forecasts unless said otherwise)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOSTERING_")}
    env["DATABASE_URL"] = database_url
    env["PYTHONPATH"] = str(ROOT)
    values = {"scheduler_enabled": "false", "forecast_executor": "serial", "log_level": "INFO"}
    values.update(settings)
    for name, value in values.items():
        env[f"FOSTERING_{name.upper()}"] = value
    return env


def wait_healthy(url: str, timeout: float, alive: Any = None) -> None:
    """Poll GET /health until it answers 200; AssertionError after `timeout` seconds or
    when `alive()` turns false (the server exited)."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise AssertionError(f"the server exited before it was ready ({last})")
        try:
            response = httpx.get(f"{url}/health", timeout=2)
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.05)
    raise AssertionError(f"no healthy server at {url} after {timeout} s ({last})")


class ServeProcess:
    """`fostering serve` in a subprocess of its own session, its output in a log file."""

    def __init__(self, env: dict[str, str], cwd: Path, log: Path) -> None:
        self.env, self.cwd, self.log_path = env, cwd, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> ServeProcess:
        """Start the server and wait until /health answers 200."""
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(FOSTERING), "serve", "--port", str(self.port)],
                env=self.env,
                cwd=self.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        wait_healthy(self.url, timeout, alive=lambda: self.proc and self.proc.poll() is None)
        return self

    def signal(self, signum: int) -> None:
        """Send a signal to the server process."""
        assert self.proc is not None
        os.kill(self.proc.pid, signum)

    def kill(self) -> int:
        """SIGKILL the server (and whatever it started); its exit status."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        return self.proc.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s; does nothing once it has exited."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        """Everything the server has written so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class ThreadServer:
    """uvicorn serving the app over `database_url` in a thread (scheduler off)."""

    def __init__(
        self,
        database_url: str,
        pseudonym_key: str | None = None,
        requests_per_minute: int | None = None,
    ) -> None:
        self.database = Database(database_url)
        limits = {} if requests_per_minute is None else {"requests_per_minute": requests_per_minute}
        settings = Settings(
            database_url=database_url,
            scheduler_enabled=False,
            pseudonym_key=pseudonym_key,
            **limits,
        )
        app = create_app(settings, self.database)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="test-server", daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        wait_healthy(self.url, 30, alive=self.thread.is_alive)
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.database.dispose()
