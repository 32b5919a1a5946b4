"""Authentication and encryption of a service's Kafka connections, from its settings.

``broker_security`` gives the FastStream security object that ``build_runtime`` passes to
the ``KafkaBroker``; ``client_options`` the same as keyword arguments of a raw aiokafka
client (producer, consumer, admin) for tools that talk to the same broker.

The password leaves its ``SecretStr`` only here, into the client's connection settings:
neither FastStream's nor aiokafka's security objects print it, and the AsyncAPI document
names the mechanism only.
"""

from __future__ import annotations

import ssl
from typing import Any

from faststream.kafka.security import parse_security
from faststream.security import (
    BaseSecurity,
    SASLPlaintext,
    SASLScram256,
    SASLScram512,
)

from common.settings import ServiceSettings

_SASL = {
    "SCRAM-SHA-512": SASLScram512,
    "SCRAM-SHA-256": SASLScram256,
    "PLAIN": SASLPlaintext,
}


def ssl_context(settings: ServiceSettings) -> ssl.SSLContext:
    """A client context verifying the brokers' certificates and host names.

    Against ``kafka_ssl_cafile`` when set (e.g. the Strimzi cluster CA), else the
    system's trusted CAs.
    """
    return ssl.create_default_context(cafile=settings.kafka_ssl_cafile or None)


def broker_security(settings: ServiceSettings) -> BaseSecurity | None:
    """The FastStream ``security=`` of the service's broker (``None``: plaintext)."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = ssl_context(settings) if protocol in ("SSL", "SASL_SSL") else None
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context)
    sasl = _SASL[settings.kafka_sasl_mechanism]
    return sasl(
        settings.kafka_sasl_username,
        settings.kafka_sasl_password.get_secret_value(),
        ssl_context=context,
        use_ssl=context is not None,
    )


def client_options(settings: ServiceSettings) -> dict[str, Any]:
    """Keyword arguments for a raw aiokafka client with the service's credentials."""
    options: dict[str, Any] = parse_security(broker_security(settings))
    return options
