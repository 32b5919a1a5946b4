"""Registration's settings: ``REGISTRATION_*`` environment variables."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from common.settings import ServiceSettings
from registration.domain.agreements import AgreementPolicy
from registration.domain.policy import DeclarationPolicy, EmployerReturnPolicy
from registration.domain.reconciliation import LeadPolicy


class RegistrationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRATION_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./registration.db"

    # Policy (set by decree; see DeclarationPolicy).
    declaration_deadline_working_days: int = Field(default=3, ge=0, le=60)
    declaration_policy_version: str = "default-2026"
    declaration_policy_source: str = (
        "Declaration within 3 working days of a move-in (default; set per city)"
    )

    # Employers' monthly returns (每月統計、逐月上報): the return of month M is due at 00:00
    # (the office's time) on day EMPLOYER_RETURN_DUE_DAY of month M+1.
    employer_return_due_day: int = Field(default=5, ge=1, le=28)
    employer_return_policy_version: str = "default-2026"
    employer_return_policy_source: str = (
        "Monthly employment return (headcount, hires, leavers) due on the 5th of the "
        "following month, 00:00 China time (default; set per city)"
    )

    # Roster (CSV) uploads: operational limits, refused with 413 above them.
    roster_max_rows: int = Field(default=20_000, ge=1, le=200_000)
    roster_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)

    # Responsibility agreements (責任書): how long one may run; its days end at 00:00 local.
    agreement_max_validity_years: int = Field(default=3, ge=1, le=30)
    agreement_policy_version: str = "default-2026"
    agreement_policy_source: str = (
        "Responsibility agreements run at most 3 years and lapse at the end of their last "
        "day, China time (default; set per city)"
    )

    def declaration_policy(self) -> DeclarationPolicy:
        return DeclarationPolicy(
            deadline_working_days=self.declaration_deadline_working_days,
            version=self.declaration_policy_version,
            source=self.declaration_policy_source,
            timezone=self.timezone(),
            calendar=self.working_calendar(),
        )

    def employer_return_policy(self) -> EmployerReturnPolicy:
        return EmployerReturnPolicy(
            due_day=self.employer_return_due_day,
            timezone=self.timezone(),
            version=self.employer_return_policy_version,
            source=self.employer_return_policy_source,
        )

    def agreement_policy(self) -> AgreementPolicy:
        return AgreementPolicy(
            max_validity_years=self.agreement_max_validity_years,
            timezone=self.timezone(),
            version=self.agreement_policy_version,
            source=self.agreement_policy_source,
        )

    # Reconciliation with external feeds (access control 智能門禁, five elements 五大要素).
    # The lead rule: a person seen at a property at least LEAD_MIN_SIGHTINGS times, on at
    # least LEAD_MIN_DISTINCT_DAYS local days within the last LEAD_WINDOW_DAYS, with no
    # active residence there, is suspected of living there unregistered.
    lead_min_sightings: int = Field(default=3, ge=1, le=1000)
    lead_window_days: int = Field(default=7, ge=1, le=60)
    lead_min_distinct_days: int = Field(default=2, ge=1, le=60)
    lead_policy_version: str = "default-2026"
    lead_policy_source: str = (
        "Office practice: seen 3 times on 2 different days within 7 days at a rental "
        "building without a declared residence -> verify (default; set per city)"
    )
    # Operational limits of the feeds; above them a request is refused with 413.
    access_batch_max_entries: int = Field(default=5000, ge=1, le=50_000)
    access_batch_max_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    access_consumer_batch_size: int = Field(default=5000, ge=1, le=20_000)
    access_future_tolerance_s: float = Field(default=300.0, ge=0)
    sightings_retention_days: int = Field(default=90, ge=1)
    five_elements_max_rows: int = Field(default=50_000, ge=1, le=500_000)
    five_elements_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)

    def lead_policy(self) -> LeadPolicy:
        return LeadPolicy(
            min_sightings=self.lead_min_sightings,
            window_days=self.lead_window_days,
            min_distinct_days=self.lead_min_distinct_days,
            timezone=self.timezone(),
            version=self.lead_policy_version,
            source=self.lead_policy_source,
            future_tolerance=timedelta(seconds=self.access_future_tolerance_s),
        )
