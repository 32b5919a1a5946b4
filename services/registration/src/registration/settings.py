"""Registration's settings: ``REGISTRATION_*`` environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from common.settings import DEV_SECRET, ServiceSettings
from registration.domain.policy import DeclarationPolicy


class RegistrationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRATION_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./registration.db"
    pii_key: SecretStr = SecretStr(DEV_SECRET)
    pii_hash_key: SecretStr = SecretStr(DEV_SECRET)

    # Policy (set by decree; see DeclarationPolicy).
    declaration_deadline_working_days: int = Field(default=3, ge=0, le=60)
    declaration_policy_version: str = "default-2026"
    declaration_policy_source: str = (
        "Declaration within 3 working days of a move-in (default; set per city)"
    )

    @model_validator(mode="after")
    def _pii_keys_set_in_prod(self) -> RegistrationSettings:
        if self.environment == "prod" and DEV_SECRET in (
            self.pii_key.get_secret_value(),
            self.pii_hash_key.get_secret_value(),
        ):
            raise ValueError("pii_key and pii_hash_key must be set outside dev")
        return self

    def declaration_policy(self) -> DeclarationPolicy:
        return DeclarationPolicy(
            deadline_working_days=self.declaration_deadline_working_days,
            version=self.declaration_policy_version,
            source=self.declaration_policy_source,
        )
