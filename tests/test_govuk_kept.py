"""`govuk_kept` gives exactly the HTML `govuk` gives, renders each distinct set of options
once, and tells apart options that differ only in type (Markup or text, True or 1)."""

from __future__ import annotations

from datetime import date

from markupsafe import Markup

from api.dashboard import govuk as module
from api.dashboard.govuk import govuk, govuk_kept

SELECT = {
    "id": "stage",
    "name": "stage",
    "label": {"text": "Stage"},
    "errorMessage": None,
    "items": [{"value": "", "text": "Any stage"}, {"value": "enquiry", "selected": True}],
}
DATE = {
    "id": "on",
    "namePrefix": "on",
    "fieldset": {"legend": {"text": "When?"}},
    "items": [{"name": "day", "value": "4"}, {"name": "month", "value": "12"}],
}


def test_the_kept_html_is_the_rendered_html() -> None:
    for component, params in (("select", SELECT), ("date-input", DATE), ("button", {"text": "Go"})):
        assert govuk_kept(component, params) == govuk(component, params)
        assert govuk_kept(component, params) == govuk(component, params)  # from the cache


def test_equal_options_render_once() -> None:
    module._kept.cache_clear()
    govuk_kept("select", SELECT)
    govuk_kept("select", {**SELECT, "items": [dict(i) for i in SELECT["items"]]})
    info = module._kept.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_options_differing_in_type_are_not_confused() -> None:
    module._kept.cache_clear()
    trusted = govuk_kept("button", {"text": Markup("<b>Go</b>")})
    typed = govuk_kept("button", {"text": "<b>Go</b>"})
    assert "<b>Go</b>" in trusted and "&lt;b&gt;Go&lt;/b&gt;" in typed
    checked = {"idPrefix": "x", "name": "x", "items": [{"value": "1", "text": "One", "checked": 1}]}
    as_bool = {**checked, "items": [{**checked["items"][0], "checked": True}]}
    assert module._Options(checked) != module._Options(as_bool)


def test_options_it_cannot_compare_are_rendered_each_time() -> None:
    module._kept.cache_clear()
    odd = {"text": "Go", "attributes": {"data-on": date(2026, 12, 4)}}
    assert govuk_kept("button", odd) == govuk("button", odd)
    assert module._kept.cache_info().currsize == 0
