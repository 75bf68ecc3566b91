"""A scenario's inputs started from the authority's own figures at its latest 31 March:
children in care and their placements from SSDA903, in-house places from the register."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from tracker.capacity.tables import ExternalProvisionFigure
from tracker.children import figures
from tracker.children.mapping import Mapping, load_mapping
from tracker.core.authorities import get_authority
from tracker.core.errors import ConflictError, InvalidValueError
from tracker.households.care_types import FOSTER_CATEGORIES, ExternalProvision, PlacementCategory
from tracker.scenarios.schemas import (
    FIRST_BASELINE_YEAR,
    LAST_BASELINE_YEAR,
    ActualsSuggestion,
    CareMix,
    ScenarioInputs,
)


def baseline_march(as_at: date) -> date:
    """The latest 31 March on or before the date."""
    march = date(as_at.year, 3, 31)
    return march if as_at >= march else date(as_at.year - 1, 3, 31)


def _inhouse_home_places(session: Session, code: str, as_at: date) -> tuple[int, str]:
    figure = session.scalars(
        select(ExternalProvisionFigure)
        .where(
            ExternalProvisionFigure.authority_code == code,
            ExternalProvisionFigure.provision == ExternalProvision.INHOUSE_CHILDRENS_HOME.value,
            ExternalProvisionFigure.as_at <= as_at,
        )
        .order_by(col(ExternalProvisionFigure.as_at).desc())
    ).first()
    if figure is None:
        return 0, (
            "no in-house children's home places are recorded (capacity, external provision "
            "inhouse_childrens_home): the baseline is 0 places; enter the places to change it"
        )
    return figure.places, f"in-house children's home places as recorded on {figure.as_at}"


def scenario_inputs_from_actuals(
    session: Session, code: str, as_at: date, mapping: Mapping | None = None
) -> ActualsSuggestion:
    """Inputs whose baseline is the authority's own children in care on the latest 31 March
    on or before `as_at` (SSDA903 episodes, else monthly aggregates): the total, the in-house
    and connected foster children and the care mix; growth, path and costs are the defaults.

    ConflictError (`no_children_in_care_figures`) when there are no figures to start from.
    """
    get_authority(session, code)
    if not FIRST_BASELINE_YEAR < as_at.year <= LAST_BASELINE_YEAR:
        raise InvalidValueError(
            f"as_at must fall in {FIRST_BASELINE_YEAR + 1} to {LAST_BASELINE_YEAR}", field="as_at"
        )
    baseline = baseline_march(as_at)
    report = figures.children_in_care(session, code, baseline, mapping or load_mapping())
    counts = report.figures.by_category
    total = report.figures.children
    if not total or all(v is None for v in counts.values()):
        raise ConflictError(
            f"there are no children in care figures by placement for {baseline}: import the "
            "SSDA903 return (or enter monthly children in care figures) first",
            rule="no_children_in_care_figures",
            field="as_at",
        )
    notes = [f"children in care on {baseline} from {report.source}"]
    missing = sorted(c for c, v in counts.items() if v is None)
    if missing:
        notes.append(f"not entered, counted as 0: {', '.join(missing)}")

    def count(*categories: PlacementCategory) -> int:
        return sum(counts.get(c.value) or 0 for c in categories)

    foster = count(*FOSTER_CATEGORIES)
    notes.append(
        "IFA and other councils' foster placements are the baseline's 'required from the "
        "independent sector'"
    )
    places, places_note = _inhouse_home_places(session, code, as_at)
    notes.append(places_note)

    def share(n: int) -> float:
        # Rounded down to 6 places: the shares never add up to more than 1, and a share of
        # the baseline total still rounds back to the count for any total below 500,000.
        exact = Decimal(n) / Decimal(total)
        return float(exact.quantize(Decimal("0.000001"), rounding=ROUND_DOWN))

    inputs = ScenarioInputs(
        name=f"From actuals at {baseline}",
        baseline_year=baseline.year,
        baseline_children=total,
        change_percent=0.0,
        care_mix=CareMix(
            foster=share(foster),
            childrens_homes=share(count(PlacementCategory.CHILDRENS_HOME)),
            supported_accommodation=share(count(PlacementCategory.SUPPORTED_ACCOMMODATION)),
        ),
        inhouse_foster_baseline=count(PlacementCategory.IN_HOUSE_FOSTER),
        connected_baseline=min(count(PlacementCategory.CONNECTED_FOSTER), total),
        inhouse_home_places_baseline=places,
    )
    return ActualsSuggestion(
        inputs=inputs, source=report.source, baseline_date=baseline, notes=notes
    )
