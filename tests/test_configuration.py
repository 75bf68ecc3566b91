"""A misconfigured installation (a setting that is not a number, a bad cron expression, a
database that cannot be opened, an empty pseudonym key file) ends any command with one line
naming the variable, never a traceback; the worker logs what its jobs do."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from api.cli.base import main
from tracker.children.pseudonym import load_key
from tracker.core.settings import ConfigurationError, Settings

ROOT = Path(__file__).resolve().parent.parent


def fostering(env: dict[str, str], *args: str) -> Result:
    """Run the CLI in-process with this environment (exceptions left to the CLI)."""
    return CliRunner().invoke(main, list(args), env=env)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FOSTERING_PORT", "abc"),
        ("FOSTERING_SQLITE_BUSY_TIMEOUT_S", "soon"),
        ("FOSTERING_SCHEDULER_ENABLED", "maybe"),
        ("FOSTERING_FORECAST_HORIZON", "-5"),
        ("FOSTERING_RETENTION_YEARS", "-1"),
        ("FOSTERING_FORECAST_SCHEDULE", "every night"),
        ("FOSTERING_RETENTION_SCHEDULE", "61 * * * *"),
        ("FOSTERING_FORECAST_EXECUTOR", "threads"),
        ("FOSTERING_LOG_LEVEL", "loud"),
        ("DATABASE_URL", "mysql://someone@somewhere/db"),
        ("DATABASE_URL", "not a url"),
    ],
)
def test_a_bad_setting_is_one_line_naming_its_variable(tmp_path, variable, value):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", variable: value}
    result = fostering(env, "db", "upgrade")
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.output.startswith(f"error: {variable}")
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "x.db").exists()


def test_settings_name_the_variable_and_take_a_log_level_in_any_case():
    with pytest.raises(ConfigurationError, match="FOSTERING_PORT='x' is not a whole number"):
        Settings.from_env({"FOSTERING_PORT": "x"})
    with pytest.raises(ConfigurationError, match="FOSTERING_PORT=70000 must be from 1 to 65535"):
        Settings.from_env({"FOSTERING_PORT": "70000"})
    assert Settings.from_env({"FOSTERING_LOG_LEVEL": "debug"}).log_level == "DEBUG"
    assert Settings.from_env({"FOSTERING_RETENTION_SCHEDULE": "0 4 * * 1-5"})


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///{tmp}/no/such/folder/x.db",
        "postgresql://postgres:secret@127.0.0.1:1/h2_nowhere",
    ],
)
def test_a_database_that_cannot_be_opened_is_one_line_without_the_password(tmp_path, url):
    for args in (("db", "upgrade"), ("token", "list"), ("authority", "list")):
        result = fostering({"DATABASE_URL": url.format(tmp=tmp_path)}, *args)
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error: cannot open the database of DATABASE_URL")
        assert len(result.output.strip().splitlines()) == 1
        assert "secret" not in result.output


def test_serve_refuses_a_port_or_worker_count_out_of_range(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    for args in (("--port", "99999"), ("--port", "0"), ("--workers", "0")):
        result = fostering(env, "serve", *args)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output and result.exception is not None
        assert isinstance(result.exception, SystemExit)
        assert "is not in the range" in result.output


@pytest.mark.parametrize("content", ["", "  \n"])
def test_an_empty_pseudonym_key_file_is_refused_not_used(tmp_path, content):
    path = tmp_path / "fostering.key"
    path.write_text(content)
    with pytest.raises(ConfigurationError, match=r"FOSTERING_PSEUDONYM_KEY_FILE=.* is empty"):
        load_key(Settings.from_env({"FOSTERING_PSEUDONYM_KEY_FILE": str(path)}))


def test_a_pseudonym_key_file_that_is_a_folder_is_named(tmp_path):
    with pytest.raises(ConfigurationError, match=r"FOSTERING_PSEUDONYM_KEY_FILE=.*cannot be"):
        load_key(Settings.from_env({"FOSTERING_PSEUDONYM_KEY_FILE": str(tmp_path)}))


def test_the_worker_logs_its_jobs_at_the_configured_level(tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
        "FOSTERING_LOG_LEVEL": "INFO",
    }
    worker = subprocess.Popen(
        [sys.executable, "-c", "from api.cli import main; main()", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    running = threading.Event()

    def read() -> None:  # all of its output, as it comes, whatever the test waits for
        assert worker.stdout is not None
        for line in worker.stdout:
            lines.append(line)
            if "forecast worker: running" in line:
                running.set()
        running.set()  # its output ended: it stopped

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert running.wait(120), "".join(lines)
        worker.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):  # then killed, output shown
            worker.wait(120)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
        reader.join(10)
    output = "".join(lines)
    assert worker.returncode == 0, output
    assert "forecast worker: stopped" in output, output
    assert "INFO - " in output and "fostering.jobs - scheduler - forecast schedule" in output


def _commands(
    group: click.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield " ".join(("fostering", *path, name)), command


def test_the_readme_command_table_and_the_cli_agree():
    """Every command of the README's table exists with the options it shows, and every
    command and option of the CLI is in the table."""
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## Command line", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `fostering")]
    commands = dict(_commands(main))
    shown: dict[str, set[str]] = {}
    for row in rows:
        for cell in re.findall(r"`(fostering [^`]*)`", row.split(" | ")[0]):
            words = cell.split()
            name = next(
                " ".join(words[:n])
                for n in range(len(words), 0, -1)
                if " ".join(words[:n]) in commands
            )
            shown.setdefault(name, set()).update(re.findall(r"--[a-z][a-z-]*", cell))
    for name, command in commands.items():
        assert name in shown, f"{name} is not in the README's command table"
        options = {
            opt
            for param in command.params
            for opt in param.opts + param.secondary_opts
            if opt.startswith("--") and opt != "--help"
        }
        assert shown[name] <= options, f"{name}: the README shows {shown[name] - options}"
        missing = options - shown[name]
        assert not missing, f"{name}: the README's table leaves out {sorted(missing)}"


def test_listings_piped_to_a_file_are_printed_whole(tmp_path):
    """`token list | grep`, `authority list > file`: no terminal, yet no cell cut short."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    assert fostering(env, "db", "upgrade").exit_code == 0
    assert fostering(env, "authority", "add", "E06000021").exit_code == 0
    name = "recruitment team's shared laptop in the Stoke office"
    created = fostering(env, "token", "create", "--role", "manager", "--authority", "E06000021")
    assert created.exit_code == 0, created.output
    assert fostering(env, "token", "create", "--role", "admin", "--name", name).exit_code == 0
    tokens = fostering(env, "token", "list").output
    assert "E06000021" in tokens and name in tokens
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", tokens)
    authorities = fostering(env, "authority", "list").output
    assert "E06000021" in authorities and "Stoke-on-Trent" in authorities
    assert "West Midlands" in authorities
