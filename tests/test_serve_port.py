"""`fostering serve` (what `make run` ends with) on a port another program holds: one clear
line naming the address and how to choose another port (FOSTERING_PORT or --port), exit
status 2, instead of uvicorn's bare socket error."""

from __future__ import annotations

import socket
import subprocess

from tests.live_server import FOSTERING, free_port, server_env


def test_a_busy_port_is_refused_with_the_fostering_port_hint(tmp_path):
    port = free_port()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        env = server_env(f"sqlite:///{tmp_path / 'busy.db'}", port=str(port))
        done = subprocess.run(
            [str(FOSTERING), "serve"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    said = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 2, said
    assert f"cannot listen on 127.0.0.1:{port}" in said
    assert f"FOSTERING_PORT={port + 1} make run" in said
    assert "--port" in said
    assert not (tmp_path / "busy.db").exists()  # refused before anything was set up
