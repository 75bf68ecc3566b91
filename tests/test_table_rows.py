"""A figures page's table rows, built in one pass in Python (`Table.body_html`), give the
markup the template's cell-by-cell loop gave: the first cell a row header, numbers
right-aligned, a row's link on its link column, emphasised rows, every value escaped."""

from __future__ import annotations

import re
from datetime import date

from jinja2 import Environment

from api.dashboard.tables import Column, Table
from tracker.core.table_export import CellFormat as C

# The loop macros.html ran before body_html (kept here as the reference).
CELL_BY_CELL = """
    {% for row in t.display_rows() %}
      {% set link = t.row_links[loop.index0] if t.row_links else None %}
      <tr class="govuk-table__row{% if loop.index0 in t.emphasised %} emphasised{% endif %}">
        {% for cell in row %}
          {% set c = t.columns[loop.index0] %}
          {% set text %}{% if link and loop.index0 == t.link_column %}<a class="govuk-link" href="{{ link }}">{{ cell }}</a>{% else %}{{ cell }}{% endif %}{% endset %}
          {% if loop.first %}<th scope="row" class="govuk-table__header">{{ text }}</th>{% else %}<td class="govuk-table__cell{% if c.numeric %} govuk-table__cell--numeric{% endif %}">{{ text }}</td>{% endif %}
        {% endfor %}
      </tr>
    {% endfor %}
"""  # noqa: E501


def _squeezed(html: str) -> str:
    return re.sub(r">\s+<", "><", html).strip()


def _table(link_column: int, links: list[str | None]) -> Table:
    return Table(
        name="t",
        title="A table",
        columns=[
            Column("who", "Who", C.TEXT),
            Column("n", "Count", C.INTEGER),
            Column("share", "Share", C.SHARE),
            Column("on", "On", C.DATE),
        ],
        rows=[
            ["<b>O'Brien & Sons</b>", 1234, 0.456, date(2026, 3, 15)],
            ["Total", None, None, None],
            ['"quoted"', 7, 1.0, date(2026, 12, 4)],
        ],
        emphasised=frozenset({1}),
        row_links=links,
        link_column=link_column,
    )


def test_the_rows_are_the_markup_the_template_made() -> None:
    template = Environment(autoescape=True).from_string(CELL_BY_CELL)
    for link_column, links in (
        (0, []),
        (0, ["/a?x=1&y=<2>", None, "/c"]),
        (1, ['/b"q', "/e", None]),
    ):
        table = _table(link_column, links)
        expected = _squeezed(template.render(t=table))
        assert _squeezed(str(table.body_html())) == expected
        assert "&lt;b&gt;O&#39;Brien &amp; Sons&lt;/b&gt;" in expected
