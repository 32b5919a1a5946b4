"""Penalties' settings: ``PENALTIES_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from common.settings import ServiceSettings

DEFAULT_SCHEDULE = Path(__file__).parent / "policy" / "schedule.json"


class PenaltiesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PENALTIES_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./penalties.db"

    # The penalty schedule an empty store starts with (versioned data citing its
    # articles; the office edits it through POST /schedules, effective-dated).
    default_schedule: Path = DEFAULT_SCHEDULE
