"""GOV.UK Frontend's component macros (the govuk-frontend-jinja package, a port of its
Nunjucks macros) for the dashboard's templates, as one template function:
`govuk("date-input", {...})` renders the component with the options the Design System
documents.

The macros read options that were not given as empty, as Nunjucks does, so they run in an
environment of their own with Jinja's default undefined; the dashboard's own templates keep
StrictUndefined, where a misspelt name is an error.
"""

from __future__ import annotations

from functools import cache
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
