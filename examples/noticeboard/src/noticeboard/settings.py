"""The noticeboard's settings: ``NOTICEBOARD_*`` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from common.settings import ServiceSettings


class NoticeboardSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NOTICEBOARD_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./noticeboard.db"
    # Policy: how long a notice may stay up (an example's own rule, not a regulation's).
    notice_max_days: int = Field(default=90, ge=1, le=366)
