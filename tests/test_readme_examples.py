"""The README's first commands work as written: the awk recipes find each token in a tokens
file written the way `fostering demo --tokens-file` writes it (a region's name has a space),
and every curl request of the quick start answers 200 with that token."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

from api.cli.demo import token_line
from tests.conftest import STOKE, bearer
from tracker.core.access import Role

README = Path(__file__).resolve().parent.parent / "README.md"
BASE_URL = "http://127.0.0.1:8000"
RECIPE = re.compile(r"^(\w+)=\$\(awk '([^']+)' demo-tokens\.txt\)$")


def _quick_start() -> list[str]:
    """The lines of the README's code block that reads demo-tokens.txt."""
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.S)
    return next(b for b in blocks if "demo-tokens.txt" in b).strip().splitlines()


def test_the_quick_start_token_recipes_and_requests_work(client, tokens, tmp_path):
    secrets = {
        "recruiter": tokens["recruiter_stoke"],
        "manager": tokens["manager_stoke"],
        "regional": tokens["regional_wm"],
    }
    scopes = {"recruiter": STOKE, "manager": STOKE, "regional": "West Midlands"}
    tokens_file = tmp_path / "demo-tokens.txt"
    lines = [token_line(Role.ADMIN, None, tokens["admin"])]
    lines += [token_line(Role(role), scopes[role], secret) for role, secret in secrets.items()]
    tokens_file.write_text("\n".join(lines) + "\n")

    found: dict[str, str] = {}
    requests = 0
    for line in _quick_start():
        if recipe := RECIPE.match(line):
            name, program = recipe.groups()
            printed = subprocess.run(
                ["awk", program, str(tokens_file)], capture_output=True, text=True, check=True
            ).stdout.strip()
            role = re.search(r'\$1=="(\w+)"', program)
            assert role is not None, program
            assert printed == secrets[role.group(1)], f"{line} printed {printed!r}"
            found[name] = printed
        elif line.startswith("curl "):
            words = shlex.split(line)
            header = words[words.index("-H") + 1]
            variable = header.rsplit("$", 1)[1]
            url = next(w for w in words if w.startswith(BASE_URL))
            response = client.get(url.removeprefix(BASE_URL), headers=bearer(found[variable]))
            assert response.status_code == 200, (line, response.text[:200])
            requests += 1
    assert "REGIONAL" in found, "the quick start shows the regional token too"
    assert requests >= 2
