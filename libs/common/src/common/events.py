"""Versioned integration events: the public contract between services.

Every event is a pydantic model with a CloudEvents type ``<context>.<Name>.v<version>``;
subclasses register themselves, so a consumer can turn a ``ce_type`` header back into
the model that validates the body.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, PlainSerializer

from common.pii import scrub_text


def _scrubbed(value):  # type: ignore[no-untyped-def]  # unannotated on purpose, see below
    return scrub_text(value)


FreeText = Annotated[str, PlainSerializer(_scrubbed, when_used="json")]
"""A free-text field of a public event (an address, a name, a note): identity and phone
numbers typed into it are replaced when the event is written, so they never reach a
public topic. The schema is the field's string schema, its limits (``max_length``)
included: a serializer without a return type keeps it (one with ``return_type=str``
replaced it by a bare string), and scrubbing only ever shortens the text."""

CE_TYPE = re.compile(r"^(?P<name>[a-z][a-z0-9_-]*\.[A-Z][A-Za-z0-9]*)\.v(?P<version>[1-9][0-9]*)$")

_REGISTRY: dict[str, type[Event]] = {}


class Event(BaseModel):
    """Base of every integration event.

    A context declares its events on one base that names the context and the topic, and
    each event names the field whose value is its Kafka key::

        class ShippingEvent(Event, context="shipping", topic="shipping.events"):
            pass

        class Shipped(ShippingEvent, key="parcel_id"):
            parcel_id: str

    ``Shipped`` is ``shipping.Shipped.v1`` on ``shipping.events``, keyed by its parcel id
    (``subject()``: the aggregate id, so the events of one aggregate keep their order).
    ``version=`` gives a later version; an event whose key is derived overrides
    :meth:`subject` instead of naming ``key``. A base (one that passes ``context=``, or
    ``abstract=True``) is not itself an event. Setting ``name``, ``version`` and ``topic``
    as class variables and overriding ``subject`` works too.
    """

    # Unknown fields are ignored on read: a producer may add optional fields
    # (a compatible change) before every consumer knows them.
    model_config = ConfigDict(frozen=True, extra="ignore")

    name: ClassVar[str]
    version: ClassVar[int] = 1
    topic: ClassVar[str]
    context: ClassVar[str]
    key_field: ClassVar[str | None] = None
    registered: ClassVar[bool] = True
    """False for a :class:`ForeignEvent`: the registry holds the producers' own events."""

    def __init_subclass__(
        cls,
        *,
        context: str | None = None,
        topic: str | None = None,
        version: int | None = None,
        key: str | None = None,
        abstract: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if context is not None:
            cls.context = context
        if topic is not None:
            cls.topic = topic
        if version is not None:
            cls.version = version
        if key is not None:
            cls.key_field = key
        # ``context`` is only annotated on Event: set, it comes from a context's base.
        concrete = context is None and not abstract and hasattr(cls, "context")
        if concrete and "name" not in cls.__dict__:
            cls.name = f"{cls.context}.{cls.__name__}"

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            return
        ce_type = cls.ce_type()
        if not CE_TYPE.match(ce_type):
            raise ValueError(f"event type {ce_type!r} is not <context>.<Name>.v<N>")
        existing = _REGISTRY.get(ce_type) if cls.registered else None
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise ValueError(f"event type {ce_type} is defined twice")
        if cls.key_field is not None and cls.key_field not in cls.model_fields:
            raise ValueError(f"{ce_type}: key {cls.key_field!r} is not one of its fields")
        if cls.key_field is None and cls.subject is Event.subject:
            raise ValueError(f"{ce_type}: name its key field (key=...) or override subject()")
        if not hasattr(cls, "topic"):
            raise ValueError(f"{ce_type}: no topic (topic=... on it or on its base)")
        if cls.registered:
            _REGISTRY[ce_type] = cls

    @classmethod
    def ce_type(cls) -> str:
        return f"{cls.name}.v{cls.version}"

    def subject(self) -> str:
        """The aggregate id, used as the Kafka key: the value of the ``key`` field."""
        if self.key_field is None:
            raise NotImplementedError
        return str(getattr(self, self.key_field))

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()


class ForeignEvent(Event):
    """A consumer's model of another context's event: a compatible reader of it.

    It names the producer's type (``name``, ``version``, ``topic``) and declares only the
    fields the consumer reads. It is not registered: the registry, the contract files and
    the AsyncAPI of a service hold its own events only, and an inbox decodes a foreign
    event with the class in its own handler map. The contract check reads the producer's
    committed schema (``schemas/<context>/<Name>.v<N>.json``) and fails if this reader
    could not read what it describes. A service keeps its readers of a context in one
    module, ``<service>/upstream/<context>.py``.
    """

    registered: ClassVar[bool] = False


def foreign_events(package: str) -> list[type[ForeignEvent]]:
    """The foreign events (readers) defined in the modules of ``package``, by type."""
    found: list[type[ForeignEvent]] = []
    pending: list[type[ForeignEvent]] = [ForeignEvent]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "name" in cls.__dict__ and cls.__module__.split(".")[0] == package:
            found.append(cls)
    return sorted(found, key=lambda c: c.ce_type())


def event_class(ce_type: str) -> type[Event] | None:
    """The registered model for a CloudEvents type, or None."""
    return _REGISTRY.get(ce_type)


def registered_events() -> dict[str, type[Event]]:
    """Every registered event model, by CloudEvents type."""
    return dict(_REGISTRY)


def split_ce_type(ce_type: str) -> tuple[str, int] | None:
    """``registration.ResidenceDeclared.v1`` -> ``("registration.ResidenceDeclared", 1)``."""
    match = CE_TYPE.match(ce_type)
    if match is None:
        return None
    return match["name"], int(match["version"])
