"""Settings shared by every service; each service subclasses with its own env prefix."""

from __future__ import annotations

import re
from datetime import timedelta, timezone, tzinfo
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.clock import Clock, OffsetClock, SystemClock
from common.workdays import WorkingCalendar, load_calendar

DEV_SECRET = "dev-only-secret-change-me-0123456789"

KafkaSecurityProtocol = Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"]
KafkaSaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]

_UTC_OFFSET = re.compile(r"^([+-])([01][0-9]|2[0-3]):([0-5][0-9])$")


def parse_timezone(name: str) -> tzinfo:
    """An IANA zone name (``Asia/Shanghai``) or a fixed offset (``+08:00``)."""
    match = _UTC_OFFSET.match(name)
    if match:
        sign = -1 if match[1] == "-" else 1
        return timezone(sign * timedelta(hours=int(match[2]), minutes=int(match[3])), name)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}: an IANA name (needs the system tz database "
            "or the tzdata package) or a fixed offset such as +08:00"
        ) from exc


class ServiceSettings(BaseSettings):
    """Runtime settings read from the environment (``<SERVICE>_<FIELD>``)."""

    model_config = SettingsConfigDict(extra="ignore")

    environment: Literal["dev", "prod"] = "dev"
    database_url: str = "sqlite+aiosqlite:///./service.db"
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Tansu (the embedded broker) has no idempotent producer; real Kafka does.
    kafka_idempotent_producer: bool = True
    # How the service authenticates to Kafka (see common.kafka_security). PLAINTEXT: no
    # authentication (the embedded broker, compose, the local launchers); SASL_SSL with
    # SCRAM-SHA-512 and the credentials of the service's KafkaUser in Kubernetes.
    kafka_security_protocol: KafkaSecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: KafkaSaslMechanism = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    # PEM file of the CA that signed the brokers' certificates (SSL, SASL_SSL); empty:
    # the system's trusted CAs.
    kafka_ssl_cafile: str = ""
    jwt_secret: SecretStr = SecretStr(DEV_SECRET)
    # Personal data at rest: the encryption key and the key of the lookup hashes
    # (common.pii); restricted topics are sealed with the first in the outbox.
    pii_key: SecretStr = SecretStr(DEV_SECRET)
    pii_hash_key: SecretStr = SecretStr(DEV_SECRET)
    # The office's local time: what "today" is, and where every local deadline falls
    # (an IANA name, or a fixed offset such as +08:00).
    office_timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"
    # The office's own calendar file (see common.workdays): holidays and make-up working
    # days added to, or corrected in, mainland China's; every deadline counts in it.
    working_calendar_file: Path | None = None
    log_json: bool = True

    # Requests beyond this many in flight get 503 at once instead of queueing until
    # their client has given up (load shedding).
    http_limit_concurrency: int = Field(default=256, ge=1)

    run_relay: bool = True
    run_consumers: bool = True
    run_timers: bool = True

    outbox_batch_size: int = Field(default=500, ge=1, le=10_000)
    outbox_poll_interval_s: float = Field(default=0.5, gt=0)
    # After a commit wakes the relay, it waits this long for the next ones (0: none).
    outbox_linger_s: float = Field(default=0.02, ge=0, le=1)
    outbox_retention_hours: float = Field(default=24.0, ge=0)
    consumer_max_attempts: int = Field(default=5, ge=1)
    consumer_backoff_s: float = Field(default=0.2, ge=0)
    consumer_batch_size: int = Field(default=500, ge=1, le=10_000)
    # A fetch waits for this many bytes, or this long: under light load consumers then
    # apply a few events per transaction and offset commit rather than one each.
    consumer_fetch_min_bytes: int = Field(default=16_384, ge=1)
    consumer_fetch_max_wait_ms: int = Field(default=50, ge=0, le=10_000)
    # A consumer missing heartbeats this long leaves its group. Kafka refuses less than its
    # group.min.session.timeout.ms (6 s by default); Tansu holds every group join for half
    # of it, so the embedded stack uses 3 s.
    kafka_session_timeout_ms: int = Field(default=10_000, ge=1_000, le=300_000)
    timer_poll_interval_s: float = Field(default=1.0, gt=0)

    # Fault injection for the fault tests: the relay exits the process after Kafka
    # acknowledged a batch but before the rows are marked sent.
    fault_relay_crash_after_publish: bool = False

    # Tests and demos only: the service's clock runs this far ahead of the wall clock, so
    # a process restarted with it sees deadlines pass and their timers fire. Never in prod.
    clock_offset_s: float = Field(default=0.0, ge=0.0, le=400 * 86_400)

    @field_validator("office_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        parse_timezone(value)
        return value

    def timezone(self) -> tzinfo:
        return parse_timezone(self.office_timezone)

    def clock(self) -> Clock:
        """The service's clock: the wall clock, or ahead of it by ``clock_offset_s``."""
        if self.clock_offset_s:
            return OffsetClock(timedelta(seconds=self.clock_offset_s))
        return SystemClock()

    @model_validator(mode="after")
    def _kafka_credentials_complete(self) -> ServiceSettings:
        if self.kafka_security_protocol.startswith("SASL_") and not (
            self.kafka_sasl_username and self.kafka_sasl_password.get_secret_value()
        ):
            raise ValueError(
                f"kafka_security_protocol={self.kafka_security_protocol} needs "
                "kafka_sasl_username and kafka_sasl_password"
            )
        return self

    _calendar: WorkingCalendar = PrivateAttr()

    @model_validator(mode="after")
    def _calendar_loads(self) -> ServiceSettings:
        self._calendar = load_calendar(self.working_calendar_file)  # a bad file fails here
        return self

    def working_calendar(self) -> WorkingCalendar:
        """Mainland China's working days with the office's calendar file applied."""
        return self._calendar

    @model_validator(mode="after")
    def _no_dev_secrets_in_prod(self) -> ServiceSettings:
        if self.environment != "prod":
            return self
        if self.clock_offset_s:
            raise ValueError("clock_offset_s is for tests and demos, never in prod")
        if self.jwt_secret.get_secret_value() == DEV_SECRET:
            raise ValueError("jwt_secret must be set outside dev")
        if DEV_SECRET in (self.pii_key.get_secret_value(), self.pii_hash_key.get_secret_value()):
            raise ValueError("pii_key and pii_hash_key must be set outside dev")
        return self
