"""Dependencies resolved one after another (api.dependency_order) behave as Litestar's own:
levels in order, generators cleaned up after the response, a dependency's error answered."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from litestar import Litestar, get
from litestar._kwargs import kwargs_model
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.testing import TestClient

from api import dependency_order
from api.app import create_app
from tracker.core.db import Database
from tracker.core.settings import Settings


def _app(tmp_path) -> Litestar:
    url = f"sqlite:///{tmp_path / 'deps.db'}"
    settings = Settings.from_env({"DATABASE_URL": url, "FOSTERING_SCHEDULER_ENABLED": "false"})
    return create_app(settings, Database.from_settings(settings))


def test_the_app_installs_the_resolver_on_this_litestar(tmp_path, monkeypatch):
    model = kwargs_model.KwargsModel
    monkeypatch.setattr(model, "resolve_dependencies", dependency_order.LITESTAR_RESOLVER)
    assert dependency_order.installable()
    _app(tmp_path)
    assert model.resolve_dependencies is dependency_order.resolve_in_order


def test_levels_in_order_cleanup_after_the_response_and_errors_answered():
    dependency_order.install()
    calls: list[str] = []

    def first() -> str:
        calls.append("first")
        return "a"

    def second(first: str) -> str:
        calls.append("second")
        return first + "b"

    def held() -> Iterator[str]:
        calls.append("opened")
        yield "held"
        calls.append("closed")

    def missing() -> str:
        raise NotFoundException("nothing here")

    @get("/", sync_to_thread=False)
    def both(second: str, held: str) -> str:
        calls.append("handler")
        return f"{second} {held}"

    @get("/missing", sync_to_thread=False)
    def refused(held: str, missing: str) -> str:
        return "never"

    app = Litestar(
        [both, refused],
        dependencies={
            "first": Provide(first, sync_to_thread=False),
            "second": Provide(second, sync_to_thread=False),
            "held": Provide(held),
            "missing": Provide(missing, sync_to_thread=False),
        },
    )
    with TestClient(app) as client:
        answer = client.get("/")
        assert (answer.status_code, answer.text) == (200, "ab held")
        assert calls.index("first") < calls.index("second") < calls.index("handler")
        assert calls.index("opened") < calls.index("handler") < calls.index("closed")
        assert client.get("/missing").status_code == 404


def test_a_changed_litestar_keeps_its_own_resolver(monkeypatch, caplog):
    class Changed:
        __slots__ = ("batches",)

        async def resolve_dependencies(self, connection, kwargs):  # pragma: no cover
            raise AssertionError

    monkeypatch.setattr(kwargs_model, "KwargsModel", Changed)
    with caplog.at_level(logging.WARNING, logger="fostering"):
        assert not dependency_order.installable()
        assert dependency_order.install() is False
    assert Changed.resolve_dependencies is not dependency_order.resolve_in_order
    assert "its own is kept" in caplog.text


@pytest.fixture(autouse=True)
def _installed() -> Iterator[None]:
    yield
    dependency_order.install()
