"""Settings of one installation, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

import msgspec

DEFAULT_DATABASE_URL = "sqlite:///fostering.db"


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
            if field.name in ("cors_origins", "forecast_models", "trusted_proxies"):
                values[field.name] = tuple(o.strip() for o in raw.split(",") if o.strip())
            else:
                values[field.name] = raw
        return msgspec.convert(values, cls, strict=False)
