"""Helpers the SSDA903 tests share: the test pseudonym key, importing files through the
service and the API, and reading figures back. Hand-made files live in each test module,
next to the figures worked out from them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from tests.conftest import STOKE, bearer
from tracker.children.importer import SourceFile, import_ssda903
from tracker.core.access import Caller, Role
from tracker.core.db import Database
from tracker.core.settings import Settings

KEY = "test-key"
CALLER = Caller(token_id=None, name="test", role=Role.ADMIN)
EPISODE_COLUMNS = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
)
HEADER_COLUMNS = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"
OC3_COLUMNS = "CHILD,DOB,IN_TOUCH,ACTIV,ACCOM"


def base(code: str = STOKE) -> str:
    return f"/api/v1/authorities/{code}/children"


@pytest.fixture
def children_client(authorities: Database) -> Iterator[TestClient]:
    """The app with a pseudonym key in its settings (no key file is made)."""
    settings = Settings(database_url=authorities.url, pseudonym_key=KEY)
    with TestClient(create_app(settings, authorities)) as test_client:
        yield test_client


def as_bytes(content: str | bytes) -> bytes:
    return content if isinstance(content, bytes) else content.encode()


def upload(
    client: TestClient,
    token: str,
    files: dict[str, str | bytes],
    code: str = STOKE,
    query: str = "",
) -> Any:
    parts = [("files", (name, as_bytes(content), "text/csv")) for name, content in files.items()]
    return client.post(f"{base(code)}/ssda903{query}", files=parts, headers=bearer(token))


def uploaded(client: TestClient, token: str, files: dict[str, str | bytes], **kwargs: Any) -> dict:
    response = upload(client, token, files, **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def read(client: TestClient, token: str, route: str, code: str = STOKE, **params: str) -> dict:
    response = client.get(f"{base(code)}/{route}", params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


def import_files(database: Database, files: dict[str, str | bytes], **kwargs: Any) -> Any:
    sources = [SourceFile(name, as_bytes(content)) for name, content in files.items()]
    with database.writing() as session:
        return import_ssda903(session, CALLER, STOKE, sources, KEY.encode(), **kwargs)


def csv_text(columns: str, rows: str) -> str:
    """A CSV file: the column line, then the rows (one a line, leading spaces ignored)."""
    lines = [line.strip() for line in rows.strip().splitlines() if line.strip()]
    return "\n".join([columns, *lines]) + "\n"
