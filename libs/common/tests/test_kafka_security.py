"""Kafka authentication settings -> FastStream security / aiokafka options; no broker."""

from __future__ import annotations

import datetime as dt
import json
import logging
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from faststream.security import SASLPlaintext, SASLScram256, SASLScram512
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from common.http import asyncapi_document
from common.kafka_security import broker_security, client_options
from common.runtime import build_runtime
from common.settings import ServiceSettings

PASSWORD = "s3cr3t-Kafka-pa55word"


class _Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KSEC_", extra="ignore")


def _sasl(**overrides: str) -> _Settings:
    values: dict[str, str] = {
        "database_url": "sqlite+aiosqlite://",
        "kafka_security_protocol": "SASL_PLAINTEXT",
        "kafka_sasl_username": "registration",
        "kafka_sasl_password": PASSWORD,
        **overrides,
    }
    return _Settings.model_validate(values)


def test_default_is_plaintext_without_credentials() -> None:
    settings = _Settings()
    assert settings.kafka_security_protocol == "PLAINTEXT"
    assert broker_security(settings) is None
    assert client_options(settings) == {}


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KSEC_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KSEC_KAFKA_SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("KSEC_KAFKA_SASL_USERNAME", "registration")
    monkeypatch.setenv("KSEC_KAFKA_SASL_PASSWORD", PASSWORD)
    settings = _Settings()
    security = broker_security(settings)
    assert isinstance(security, SASLScram256)
    assert (security.username, security.password) == ("registration", PASSWORD)
    assert not security.use_ssl


@pytest.mark.parametrize(
    ("mechanism", "cls"),
    [("SCRAM-SHA-512", SASLScram512), ("SCRAM-SHA-256", SASLScram256), ("PLAIN", SASLPlaintext)],
)
def test_sasl_plaintext_options(mechanism: str, cls: type) -> None:
    settings = _sasl(kafka_sasl_mechanism=mechanism)
    assert isinstance(broker_security(settings), cls)
    options = client_options(settings)
    assert options["security_protocol"] == "SASL_PLAINTEXT"
    assert options["sasl_mechanism"] == mechanism
    assert options["sasl_plain_username"] == "registration"
    assert options["sasl_plain_password"] == PASSWORD
    assert options["ssl_context"] is None


@pytest.mark.parametrize("value", ["SASL_PLAINTEXT", "SASL_SSL"])
def test_sasl_needs_username_and_password(value: str) -> None:
    with pytest.raises(ValidationError, match="kafka_sasl_username and kafka_sasl_password"):
        _Settings(kafka_security_protocol=value, kafka_sasl_username="registration")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="kafka_sasl_username"):
        _Settings(kafka_security_protocol=value, kafka_sasl_password=PASSWORD)  # type: ignore[arg-type]


def test_unknown_protocol_or_mechanism_is_refused() -> None:
    with pytest.raises(ValidationError):
        _sasl(kafka_security_protocol="SASL_PLAIN")
    with pytest.raises(ValidationError):
        _sasl(kafka_sasl_mechanism="SCRAM-SHA-1")


def _ca_file(tmp_path: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test cluster CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path / "ca.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def test_sasl_ssl_verifies_against_the_given_ca(tmp_path: Path) -> None:
    ca = _ca_file(tmp_path)
    settings = _sasl(kafka_security_protocol="SASL_SSL", kafka_ssl_cafile=str(ca))
    options = client_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert [c["subject"] for c in context.get_ca_certs()] == [
        ((("commonName", "test cluster CA"),),)
    ]


def test_ssl_without_sasl_and_a_missing_ca_file(tmp_path: Path) -> None:
    settings = _Settings(kafka_security_protocol="SSL")  # system CAs
    options = client_options(settings)
    assert options["security_protocol"] == "SSL"
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert "sasl_mechanism" not in options
    missing = _Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=str(tmp_path / "no.crt"))
    with pytest.raises(FileNotFoundError):
        broker_security(missing)


def test_the_password_is_never_printed(caplog: pytest.LogCaptureFixture) -> None:
    settings = _sasl()
    caplog.set_level(logging.DEBUG)
    runtime = build_runtime("ksec", settings)
    document = asyncapi_document(runtime, title="t", version="1", description="d").to_jsonable()
    texts = [
        repr(settings),
        str(settings),
        settings.model_dump_json(),
        repr(broker_security(settings)),
        repr(runtime.broker),
        json.dumps(document),
        caplog.text,
    ]
    assert not [t for t in texts if PASSWORD in t]
    assert "scram512" in json.dumps(document)  # the mechanism is documented, not the secret


def test_an_authenticated_service_creates_no_topics() -> None:
    """Topics are declared (KafkaTopic); the principal has no Create right to try with."""
    plain = build_runtime("ksec", _Settings(database_url="sqlite+aiosqlite://"))
    assert plain.broker.config.allow_auto_create_topics is True
    sasl = build_runtime("ksec", _sasl())
    assert sasl.broker.config.allow_auto_create_topics is False
