"""Inspection's settings: ``INSPECTION_*`` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from common.settings import ServiceSettings
from inspection.domain.sampling import SIGNALS, SamplingPolicy


class InspectionSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INSPECTION_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./inspection.db"

    # Spot-check sampling (抽查): how much each signal raises a property's chance of a visit.
    # INSPECTION_SAMPLING_WEIGHTS is JSON, e.g. {"open_leads": 4, "over_capacity": 3}.
    sampling_policy_version: str = "wentang-2026-1"
    sampling_policy_source: str = (
        "Wentang office practice: spot-checks favour buildings with a low self-declaration "
        "share, overcrowding, recent move-ins, open leads and no recent visit (default "
        "weights; set by the office)"
    )
    sampling_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "low_self_declaration": 3.0,
            "over_capacity": 3.0,
            "recent_move_ins": 1.0,
            "open_leads": 4.0,
            "not_visited_recently": 2.0,
        }
    )
    sampling_base_weight: float = Field(default=1.0, gt=0)
    sampling_recent_days: int = Field(default=30, ge=1, le=366)
    sampling_stale_days: int = Field(default=180, ge=1, le=3660)
    plan_max_size: int = Field(default=500, ge=1, le=10_000)

    def sampling_policy(self) -> SamplingPolicy:
        unknown = set(self.sampling_weights) - set(SIGNALS)
        if unknown:
            raise ValueError(f"INSPECTION_SAMPLING_WEIGHTS: unknown signals {sorted(unknown)}")
        return SamplingPolicy(
            version=self.sampling_policy_version,
            source=self.sampling_policy_source,
            weights=dict(self.sampling_weights),
            base=self.sampling_base_weight,
            recent_days=self.sampling_recent_days,
            stale_days=self.sampling_stale_days,
        )
