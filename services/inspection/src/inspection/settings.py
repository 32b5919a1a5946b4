"""Inspection's settings: ``INSPECTION_*`` environment variables."""

from __future__ import annotations

import re
from datetime import time

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import SettingsConfigDict

from common.settings import ServiceSettings
from inspection.domain.sampling import SIGNALS, SamplingPolicy
from inspection.domain.verification import VerificationPolicy
from inspection.domain.visits import HazardPolicy, HazardRule, ShiftPolicy
from inspection.events import Severity


class HazardItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    category: str = Field(pattern=r"^[a-z][a-z0-9_]{0,49}$")
    severity: Severity
    days: int = Field(ge=0, le=365, description="Working days to correct it")


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

    # The hazard checklist (三位一體's safety check): item -> category, severity and the
    # working days given to correct it. INSPECTION_HAZARD_ITEMS is JSON like the default.
    hazard_policy_version: str = "wentang-hazards-2026-1"
    hazard_policy_source: str = (
        "Rental housing safety checklist of the Wentang office (fire, electrical, "
        "overcrowding, structure, security); correction periods in working days (default; "
        "set by the office under the fire and rental housing regulations)"
    )
    hazard_items: dict[str, HazardItem] = Field(
        default_factory=lambda: {
            "fire_exit_blocked": HazardItem(category="fire", severity="high", days=3),
            "no_extinguisher": HazardItem(category="fire", severity="medium", days=5),
            "smoke_alarm_missing": HazardItem(category="fire", severity="medium", days=10),
            "ebike_charging_indoors": HazardItem(category="fire", severity="high", days=1),
            "exposed_wiring": HazardItem(category="electrical", severity="high", days=3),
            "overloaded_sockets": HazardItem(category="electrical", severity="medium", days=5),
            "overcrowded_room": HazardItem(category="overcrowding", severity="medium", days=10),
            "unsafe_structure": HazardItem(category="structure", severity="high", days=5),
            "door_access_broken": HazardItem(category="security", severity="low", days=10),
        }
    )

    # Verification tasks (精準核查): a lead is verified on site within this many working days.
    verification_working_days: int = Field(default=3, ge=0, le=60)
    verification_policy_version: str = "wentang-verification-2026-1"
    verification_policy_source: str = (
        "Leads from access control and big-data feeds are verified on site within 3 working "
        "days (default; set by the office)"
    )

    # 錯時工作制: visits captured from this local time (to 05:00) count as evening visits.
    evening_from_hour: int = Field(default=18, ge=12, le=23)
    evening_share: float = Field(default=0.3, ge=0, le=1)

    def hazard_policy(self) -> HazardPolicy:
        for item in self.hazard_items:
            if not re.match(r"^[a-z][a-z0-9_]{0,49}$", item):
                raise ValueError(f"INSPECTION_HAZARD_ITEMS: {item!r} is not a lower-case code")
        return HazardPolicy(
            version=self.hazard_policy_version,
            source=self.hazard_policy_source,
            items={
                item: HazardRule(rule.category, rule.severity, rule.days)
                for item, rule in self.hazard_items.items()
            },
            calendar=self.working_calendar(),
        )

    def verification_policy(self) -> VerificationPolicy:
        return VerificationPolicy(
            working_days=self.verification_working_days,
            version=self.verification_policy_version,
            source=self.verification_policy_source,
            timezone=self.timezone(),
            calendar=self.working_calendar(),
        )

    def shift_policy(self) -> ShiftPolicy:
        return ShiftPolicy(
            evening_from=time(self.evening_from_hour),
            evening_share=self.evening_share,
            timezone=self.timezone(),
        )

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
