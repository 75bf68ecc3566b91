"""Secrets (OWASP API2, API8): the pseudonym key comes from the environment or a file of the
installation's own, tokens are stored as digests only, the demo makes its own secrets, and
no secret is kept in the repository."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path

import pytest

from demo.generate import generate_demo
from demo.ssda903 import generate
from tests.conftest import STOKE, bearer
from tests.security_world import stored_values
from tracker.children.pseudonym import load_key
from tracker.core import schema
from tracker.core.access import digest
from tracker.core.db import Database
from tracker.core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r"fost_[A-Za-z0-9_-]{40,}")
SECRET_FILES = re.compile(r"(^|/)(\.env(\..*)?|.*\.key|.*\.pem|demo-tokens\.txt|.*\.db)$")


def test_the_pseudonym_key_comes_from_the_environment_first(tmp_path):
    path = tmp_path / "unused.key"
    settings = Settings.from_env(
        {
            "FOSTERING_PSEUDONYM_KEY": "from-the-environment",
            "FOSTERING_PSEUDONYM_KEY_FILE": str(path),
        }
    )
    assert load_key(settings) == b"from-the-environment"
    assert not path.exists()


def test_without_it_the_key_file_is_made_once_random_and_private(tmp_path):
    first = Settings.from_env({"FOSTERING_PSEUDONYM_KEY_FILE": str(tmp_path / "a" / "k.key")})
    other = Settings.from_env({"FOSTERING_PSEUDONYM_KEY_FILE": str(tmp_path / "b.key")})
    key = load_key(first)
    assert re.fullmatch(rb"[0-9a-f]{64}", key)
    assert load_key(first) == key  # kept: later imports match earlier ones
    assert load_key(other) != key
    mode = (tmp_path / "a" / "k.key").stat().st_mode & 0o777
    assert mode == 0o600


def test_token_secrets_and_the_key_never_reach_the_database(client, tokens, authorities):
    key = "ssda903-key-for-the-secrets-test"
    issued = client.post(
        "/api/v1/tokens",
        json={"role": "manager", "name": "new manager", "authority_code": STOKE},
        headers=bearer(tokens["admin"]),
    )
    assert issued.status_code == 201, issued.text
    secrets = [*tokens.values(), issued.json()["secret"]]
    listed = client.get("/api/v1/tokens", headers=bearer(tokens["admin"])).text
    assert not [s for s in secrets if s in listed]
    synthetic = generate(seed=2, first_year=2024, last_year=2024, starters_per_year=10)
    client.app.state.settings = Settings(database_url=authorities.url, pseudonym_key=key)
    files = [("files", (f.name, f.content, "text/csv")) for f in synthetic.files]
    uploaded = client.post(
        f"/api/v1/authorities/{STOKE}/children/ssda903",
        files=files,
        headers=bearer(tokens["manager_stoke"]),
    )
    assert uploaded.status_code == 200, uploaded.text
    stored = "\n".join(text for _, _, text in stored_values(authorities))
    assert [s for s in secrets if s in stored] == []
    assert key not in stored
    # What is stored instead: the digests.
    assert all(digest(s) in stored for s in secrets)


@pytest.fixture
def demo_database(db: Database) -> Database:
    with db.writing() as session:
        generate_demo(
            session,
            today=date(2026, 1, 15),
            authorities=(STOKE,),
            years=1,
            seed=7,
            ssda903_key=None,
        )
    return db


def test_the_demo_makes_its_own_token_secrets(demo_database):
    rows = [text for table, _, text in stored_values(demo_database) if table == "api_token"]
    assert rows and not [r for r in rows if TOKEN.search(r)]
    with tempfile.TemporaryDirectory() as folder:
        other = Database(f"sqlite:///{folder}/demo.db")
        schema.upgrade(other)
        with other.writing() as session:
            again = generate_demo(
                session, today=date(2026, 1, 15), authorities=(STOKE,), years=1, seed=7
            )
        other.dispose()
    # The same seed gives the same data but never the same tokens.
    stored = {text for table, column, text in stored_values(demo_database) if column == "digest"}
    assert stored and not {digest(secret) for _, _, secret in again.tokens} & stored


def test_no_secret_is_kept_in_the_repository():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert len(tracked) > 20
    assert [f for f in tracked if SECRET_FILES.search(f)] == []
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "fostering.key", "demo-tokens.txt", ".env", "x.key"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert sorted(ignored) == sorted(["fostering.key", "demo-tokens.txt", ".env", "x.key"])
    sources = [
        ROOT / f
        for f in tracked
        if f.endswith((".py", ".toml", ".md", ".txt", ".cfg", ".ini", ".yml", ".yaml", ".json"))
        and os.path.exists(ROOT / f)
    ]
    assert [str(p) for p in sources if TOKEN.search(p.read_text(errors="replace"))] == []
