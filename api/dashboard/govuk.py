"""GOV.UK Frontend's component macros (the govuk-frontend-jinja package, a port of its
Nunjucks macros) for the dashboard's templates, as one template function:
`govuk("date-input", {...})` renders the component with the options the Design System
documents.

The macros read options that were not given as empty, as Nunjucks does, so they run in an
environment of their own with Jinja's default undefined; the dashboard's own templates keep
StrictUndefined, where a misspelt name is an error.

A component's HTML depends on its options alone, and the macros are slow (a date input
takes milliseconds), so `govuk_kept` keeps the HTML of recent options and renders each
distinct set once. It is for options that hold no personal data (fixed labels, choices of
codes, dates, empty fields): what it keeps stays in the server's memory until pushed out.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, PrefixLoader
from markupsafe import Markup

_MACROS = Environment(
    loader=PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    autoescape=True,
)


@cache
def _macro(component: str) -> Any:
    name = "govuk" + "".join(part.capitalize() for part in component.split("-"))
    module = _MACROS.get_template(f"govuk_frontend_jinja/components/{component}/macro.html")
    return getattr(module.module, name)


def govuk(component: str, params: dict[str, Any]) -> Markup:
    """The component's HTML (`component` as GOV.UK Frontend names its folder: "input",
    "date-input", "error-summary"...)."""
    return Markup(_macro(component)(params))


KEPT = 1024
"""How many components' HTML `govuk_kept` keeps (the least recently used go first)."""


class _Options:
    """A component's options, compared and hashed by their values and their types (a
    Markup string is not the plain string of the same text, nor True the number 1)."""

    __slots__ = ("_hash", "key", "params")

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params
        self.key = _frozen(params)
        self._hash = hash(self.key)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Options) and self.key == other.key


def _frozen(value: Any) -> Any:
    """A hashable copy of options: dicts (in their order) and lists nested, each scalar with
    its type; TypeError for anything else."""
    if isinstance(value, dict):
        return (dict, tuple((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return (list, tuple(_frozen(v) for v in value))
    if value is None or isinstance(value, str | int | float):
        return (type(value), value)
    raise TypeError(f"not kept: {type(value).__name__}")


@lru_cache(maxsize=KEPT)
def _kept(component: str, options: _Options) -> Markup:
    return govuk(component, options.params)


def govuk_kept(component: str, params: dict[str, Any]) -> Markup:
    """`govuk()`, its HTML kept for the next call with equal options (options holding no
    personal data only; a value of another type than dict, list, str, number, bool or None is
    rendered each time)."""
    try:
        options = _Options(params)
    except TypeError:
        return govuk(component, params)
    return _kept(component, options)
