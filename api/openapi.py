"""The published OpenAPI document, with component names that do not follow the code's layout.

Litestar names a schema component after its class, and when two classes share a name (two
`Status` enums, two `Metric`s) after their module paths, so moving a module would rename a
component that API clients generate code from. The names published for those classes are
pinned here and applied when `/schema/openapi.json` is rendered.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin

from tracker.children.figures import Metric as AggregateMetric
from tracker.enquiries.stages import Status as EnquiryStatus
from tracker.targets.metrics import Metric
from tracker.targets.status import Status as TargetStatus

REF_PREFIX = "#/components/schemas/"

# Each class whose name another published class shares, with the name clients know it by.
PUBLISHED_NAMES: dict[type, str] = {
    EnquiryStatus: "tracker_stages_Status",
    TargetStatus: "forecast_target_paths_Status",
    AggregateMetric: "ssda903_figures_Metric",
    Metric: "metrics_Metric",
}


def _generated_names(classes: list[type]) -> dict[type, str]:
    """The names Litestar gives classes that share a name: their module paths and qualified
    names, joined by "_", less the leading parts all of them share."""
    keys = {cls: [*cls.__module__.split("."), cls.__qualname__] for cls in classes}
    by_name: dict[str, list[type]] = {}
    for cls in classes:
        by_name.setdefault(cls.__qualname__, []).append(cls)
    names = {}
    for group in by_name.values():
        common = 0
        while (
            all(len(keys[c]) > common + 1 for c in group)
            and len({keys[c][common] for c in group}) == 1
        ):
            common += 1
        for cls in group:
            names[cls] = "_".join(keys[cls][common:]) if len(group) > 1 else cls.__qualname__
    return names


def _renamed_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            name = ref[len(REF_PREFIX) :]
            if name in renames:
                node = {**node, "$ref": REF_PREFIX + renames[name]}
        return {key: _renamed_refs(value, renames) for key, value in node.items()}
    if isinstance(node, list):
        return [_renamed_refs(item, renames) for item in node]
    return node


def publish(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with the pinned component names in place of the generated ones."""
    generated = _generated_names(list(PUBLISHED_NAMES))
    renames = {generated[cls]: name for cls, name in PUBLISHED_NAMES.items()}
    schemas = spec.get("components", {}).get("schemas", {})
    if not any(name in schemas for name in renames):
        return spec
    renamed = {renames.get(name, name): schema for name, schema in schemas.items()}
    spec = _renamed_refs(spec, renames)
    spec["components"]["schemas"] = {
        name: _renamed_refs(renamed[name], renames) for name in sorted(renamed)
    }
    return spec


class PublishedJsonRenderPlugin(JsonRenderPlugin):
    """`/schema/openapi.json` with the published component names (computed once)."""

    def __init__(self) -> None:
        super().__init__()
        self._published: dict[str, Any] | None = None

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        """The JSON document clients read."""
        if self._published is None:
            self._published = publish(openapi_schema)
        return super().render(request, self._published)
