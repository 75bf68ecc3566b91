"""`make run` and `make test` set up .venv themselves: the install must show its progress (a
silent pip install of a few minutes looks stuck), which `make -n` lets us read without
installing anything."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_set_up_says_what_it_does_and_lets_pip_show_progress(tmp_path):
    venv = tmp_path / "venv"
    # Run under `make test` too: the outer make's flags must not leak into this one.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    planned = subprocess.run(
        ["make", "--no-print-directory", "-n", "-B", f"{venv}/.installed", f"VENV={venv}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    installs = [shlex.split(line) for line in planned if " pip install " in line]
    assert len(installs) == 2, planned
    for words in installs:
        assert not {"-q", "--quiet", "-qq"} & set(words), words
        assert words[words.index("--progress-bar") + 1] == "on", words
    assert planned[0].startswith("echo ") and "installing" in planned[0], planned[0]
