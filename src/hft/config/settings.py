"""Service settings: defaults, then an optional TOML file, then the environment, then command-line flags.

Read once at start-up and frozen. An unknown setting, in the file or as an
``HFT_*`` variable, is an error that names it; so is a malformed value.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Final

import msgspec

ENV_PREFIX: Final = "HFT_"
# Variables outside the HFT_ prefix that the service reads, with the setting each one fills.
EXTRA_ENV: Final = {"DATABASE_URL": "database_url"}


class SettingsError(ValueError):
    """A setting is unknown or its value is malformed; the message names it."""


Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]
Positive = Annotated[int, msgspec.Meta(ge=1)]


class Settings(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Everything ``hft serve`` can be told. See docs/configuration.md for each one."""

    host: str = "127.0.0.1"
    port: Port = 8000
    data_dir: Path = Path("data")
    # SQLite under the data directory when unset; postgresql://... for PostgreSQL.
    database_url: str | None = None
    # Enables the admin API (Authorization: Bearer <token>) when set.
    admin_token: str | None = None
    # Create a demo account on a fresh data directory and print its API key.
    demo_account: bool = True
    fsync: bool = True
    snapshot_every: Positive = 100_000
    # Requests per second per API key (0: unlimited); over it: 429 with Retry-After.
    rate_limit: Annotated[int, msgspec.Meta(ge=0)] = 0
    max_body_bytes: Annotated[int, msgspec.Meta(ge=1024, le=16 * 1024 * 1024)] = 64 * 1024
    # Signed requests may be this old (or this far in the future).
    signature_window_seconds: Annotated[int, msgspec.Meta(ge=1, le=300)] = 5
    # Messages a WebSocket client may fall behind before it is disconnected as too slow.
    ws_max_queue: Annotated[int, msgspec.Meta(ge=10, le=1_000_000)] = 10_000
    ws_heartbeat_seconds: Annotated[float, msgspec.Meta(gt=0, le=300)] = 15.0
    log_level: str = "info"
    # Event streams (the in-process bus alone when both are unset): nats://host:4222 and host:9092[,host:9092].
    nats_url: str | None = None
    kafka_bootstrap: str | None = None
    # Prepended to every stream and topic name, so deployments can share a broker ("" keeps orders, executions, ...).
    stream_prefix: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{0,32}$")] = ""
    kafka_partitions: Annotated[int, msgspec.Meta(ge=1, le=1024)] = 3
    kafka_replication_factor: Annotated[int, msgspec.Meta(ge=1, le=16)] = 1
    # The gRPC gateway (order entry and streams for internal services), on host:grpc_port.
    grpc_enabled: bool = True
    grpc_port: Port = 50051
    # The FIX 4.4 acceptor, on host:fix_port; its sessions (SenderCompID -> account) come from fix_sessions_file.
    fix_enabled: bool = False
    fix_port: Port = 9878
    # TOML: [sessions.<SenderCompID>] account = <id>, password_sha256 = "<hex>" (see docs/api/fix.md).
    fix_sessions_file: Path | None = None
    # The venue's CompID: the TargetCompID clients send, the SenderCompID they receive.
    fix_comp_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.-]{1,64}$")] = "HFT"
    # Cancel the orders a session entered when its connection ends (a session may override it).
    fix_cancel_on_disconnect: bool = False
    # The Redis cache (none when unset): redis://host:6379/0.
    redis_url: str | None = None
    # Key prefix in Redis, so deployments can share a server ("" keeps position:... and marketdata:...).
    cache_prefix: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_:-]{0,32}$")] = ""

    def __post_init__(self) -> None:
        if self.log_level not in ("debug", "info", "warning", "error"):
            raise SettingsError("log_level must be one of debug, info, warning, error")
        if self.admin_token is not None and len(self.admin_token) < 16:
            raise SettingsError("admin_token must be at least 16 characters")
        if self.database_url is not None and not self.database_url.startswith(("sqlite", "postgresql")):
            raise SettingsError("database_url must be a sqlite:// or postgresql:// URL")
        if self.nats_url is not None and not self.nats_url.startswith(("nats://", "tls://")):
            raise SettingsError("nats_url must be a nats:// or tls:// URL")
        if self.kafka_bootstrap is not None and not _is_host_port_list(self.kafka_bootstrap):
            raise SettingsError("kafka_bootstrap must be host:port[,host:port...]")
        if self.redis_url is not None and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError("redis_url must be a redis://, rediss:// or unix:// URL")
        if self.fix_enabled and self.fix_sessions_file is None:
            raise SettingsError("fix_enabled needs fix_sessions_file (the sessions that may log on)")

    @property
    def resolved_database_url(self) -> str:
        """The database URL in use: the configured one, else SQLite in the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'hft.sqlite3'}"


def _is_host_port_list(text: str) -> bool:
    for address in text.split(","):
        host, _, port = address.strip().rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            return False
    return True


FIELDS: Final = frozenset(Settings.__struct_fields__)
PATH_FIELDS: Final = ("data_dir", "fix_sessions_file")


def load_settings(
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Merge the sources (later wins) and validate them; raise ``SettingsError`` naming what is wrong."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config_file = config_file or _path_from_env(environ)
    if config_file is not None:
        values.update(_read_file(config_file))
    values.update(_read_environment(environ))
    _convert(values)  # every configured value must be valid, even one a flag overrides
    values.update({key: value for key, value in (overrides or {}).items() if value is not None})
    return _convert(values)


def _convert(values: dict[str, Any]) -> Settings:
    for name in PATH_FIELDS:
        if isinstance(values.get(name), str):
            values = {**values, name: Path(values[name])}
    try:
        return msgspec.convert(values, Settings, strict=False)
    except msgspec.ValidationError as error:
        raise SettingsError(f"invalid setting: {error}") from error


def _path_from_env(environ: Mapping[str, str]) -> Path | None:
    value = environ.get(f"{ENV_PREFIX}CONFIG")
    return Path(value) if value else None


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """Read the TOML file ``what`` names (e.g. "config file"); raise ``SettingsError`` if unreadable or invalid."""
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except OSError as error:
        raise SettingsError(f"cannot read {what} {path}: {error.strerror}") from error
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{what} {path} is not valid TOML: {error}") from error


def _read_file(path: Path) -> dict[str, Any]:
    data = read_toml(path, "config file")
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise SettingsError(f"config file {path}: unknown setting(s) {', '.join(unknown)}")
    return data


def _read_environment(environ: Mapping[str, str]) -> dict[str, str]:
    # The conventional names first, so that HFT_DATABASE_URL wins over DATABASE_URL whatever their order.
    values = {field: environ[name] for name, field in EXTRA_ENV.items() if name in environ}
    for name, value in environ.items():
        if name.startswith(ENV_PREFIX) and name not in IGNORED_ENV:
            field = name[len(ENV_PREFIX) :].lower()
            if field not in FIELDS:
                raise SettingsError(f"unknown setting {name} in the environment")
            values[field] = value
    return values


# HFT_ variables read by other parts (tests, crash points, the config file path itself).
IGNORED_ENV: Final = frozenset({"HFT_CONFIG", "HFT_CRASH_AT", "HFT_EXPECT_COMPILED", "HFT_CRASH_KILLS"})
