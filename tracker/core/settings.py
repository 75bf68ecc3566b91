"""Settings of one installation, read once from the environment."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

import msgspec

DEFAULT_DATABASE_URL = "sqlite:///fostering.db"
LIST_FIELDS = ("cors_origins", "forecast_models", "trusted_proxies")
EXECUTORS = ("process", "serial", "dask")
_KINDS = {"int": "a whole number", "float": "a number", "bool": "true or false"}
# The smallest and largest value of each number setting (None: no bound).
_RANGES: dict[str, tuple[float, float | None]] = {
    "port": (1, 65535),
    "max_body_bytes": (1, None),
    "max_import_bytes": (1, None),
    "sqlite_busy_timeout_s": (0, None),
    "auth_failures_per_minute": (0, None),
    "requests_per_minute": (0, None),
    "expensive_requests_per_minute": (0, None),
    "view_computations": (0, None),
    "forecast_horizon": (1, 120),
    "forecast_workers": (1, 256),
    "forecast_cooldown_s": (0, None),
    "retention_years": (0, None),
    "token_days": (0, 3650),
}


class ConfigurationError(ValueError):
    """A setting of the environment that cannot be used; the message names its variable."""


def variable(field: str) -> str:
    """The environment variable of a settings field."""
    return "DATABASE_URL" if field == "database_url" else f"FOSTERING_{field.upper()}"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything configurable about an installation; built once and passed in."""

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    max_body_bytes: int = 1_000_000
    max_import_bytes: int = 20_000_000
    sqlite_busy_timeout_s: float = 30.0
    cors_origins: tuple[str, ...] = ()
    # Failed authentications (unknown, revoked or malformed credentials) allowed per client
    # address and minute before it gets 429 (api.rate_limit); 0 turns the limit off.
    auth_failures_per_minute: int = 30
    # Requests per token and minute (anonymous ones: per client address), and for expensive
    # routes (imports, exports, the regional view, starting a forecast run); 0 turns off.
    requests_per_minute: int = 600
    expensive_requests_per_minute: int = 30
    # Days a new token lives when its creator does not say (`--expires-in`, the API's
    # `expires_in_days`); 0: such tokens never expire. Existing tokens are not changed.
    token_days: int = 90
    # Views (a council's figures, a region's, England's) computed at once per server process;
    # more wait their turn. 0: no limit. Unset: one on SQLite (ten threads computing at once
    # cost about 1.6 times the CPU each, taking turns at the interpreter lock), no limit on
    # PostgreSQL (a computation waits on the database, which a limit would leave idle).
    view_computations: int | None = None
    # Reverse proxies (addresses or networks) whose X-Forwarded-For and X-Forwarded-Proto
    # are believed; from anyone else those headers are ignored. Empty: no proxy is trusted.
    trusted_proxies: tuple[str, ...] = ()
    # The secret that keys child pseudonyms: FOSTERING_PSEUDONYM_KEY, else this file
    # (created with a random key on first use; keep it outside the repository, back it up).
    pseudonym_key: str | None = None
    pseudonym_key_file: str = "fostering.key"
    # A council's own SSDA903 placement-category mapping (TOML); None = the shipped one.
    placement_mapping: str | None = None
    # Forecast refreshes: a cron expression in Europe/London time (default 02:00 on the 1st of
    # each month), months ahead, and how the engine spreads the work ("process", "serial" or
    # "dask", with `dask_address` the scheduler of a Dask cluster).
    forecast_schedule: str = "0 2 1 * *"
    forecast_horizon: int = 24
    # Candidate models, comma-separated in the environment; empty: every model the engine has.
    forecast_models: tuple[str, ...] = ()
    forecast_executor: str = "process"
    forecast_workers: int | None = None
    dask_address: str | None = None
    # Seconds after an authority's latest forecast run before the API starts another (0: off).
    forecast_cooldown_s: int = 300
    # Personal data of closed, unsuccessful enquiries is erased this many years after closure
    # (0: kept), by a job run on this cron expression (Europe/London: 03:30 each night).
    retention_years: int = 3
    retention_schedule: str = "30 3 * * *"
    # Run the forecast schedule inside `fostering serve`; turn off where a separate
    # `fostering worker` process runs it instead.
    scheduler_enabled: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `DATABASE_URL` and `FOSTERING_*` variables."""
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        if url := env.get("DATABASE_URL"):
            values["database_url"] = url
        for field in msgspec.structs.fields(cls):
            raw = env.get(f"FOSTERING_{field.name.upper()}")
            if raw is None or field.name == "database_url":
                continue
            if field.name in LIST_FIELDS:
                values[field.name] = tuple(o.strip() for o in raw.split(",") if o.strip())
            elif field.name == "log_level":  # logging knows the names in capitals only
                values[field.name] = raw.strip().upper()
            else:
                values[field.name] = raw
        try:
            settings = msgspec.convert(values, cls, strict=False)
        except msgspec.ValidationError as exc:
            field = str(exc).rpartition("$.")[2].rstrip("`")
            expected = str(exc).partition("`")[2].partition("`")[0].removesuffix(" | null")
            raise ConfigurationError(
                f"{variable(field)}={values.get(field)!r} is not "
                f"{_KINDS.get(expected, 'a ' + expected)}"
            ) from None
        settings.check()
        return settings

    def check(self) -> None:
        """ConfigurationError naming the first setting out of its range or unusable."""
        from apscheduler.triggers.cron import CronTrigger
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        for name, (low, high) in _RANGES.items():
            value = getattr(self, name)
            if value is not None and (value < low or (high is not None and value > high)):
                bounds = f"from {low} to {high}" if high is not None else f"{low} or more"
                raise ConfigurationError(f"{variable(name)}={value} must be {bounds}")
        try:
            backend = make_url(self.database_url).get_backend_name()
        except ArgumentError:
            backend = None
        if backend not in ("sqlite", "postgresql", "postgres"):
            raise ConfigurationError(
                "DATABASE_URL is not a SQLite or PostgreSQL URL (e.g. sqlite:///fostering.db "
                "or postgresql://user:pass@host/db)"
            )
        if not isinstance(logging.getLevelName(self.log_level), int):
            raise ConfigurationError(
                f"FOSTERING_LOG_LEVEL={self.log_level!r} is not a log level (DEBUG, INFO, "
                "WARNING, ERROR)"
            )
        if self.forecast_executor not in EXECUTORS:
            raise ConfigurationError(
                f"FOSTERING_FORECAST_EXECUTOR={self.forecast_executor!r} is not one of "
                + ", ".join(EXECUTORS)
            )
        for name in ("forecast_schedule", "retention_schedule"):
            try:
                CronTrigger.from_crontab(getattr(self, name))
            except ValueError as exc:
                raise ConfigurationError(
                    f"{variable(name)}={getattr(self, name)!r} is not a cron expression "
                    f"(minute hour day month weekday, e.g. '30 3 * * *'): {exc}"
                ) from None
