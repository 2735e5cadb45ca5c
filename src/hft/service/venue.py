"""The venue: the durable core with its read models, projections and subscribers, as one async service.

Every gateway (REST, WebSocket, and later FIX and gRPC) talks to a
``Venue``; none of them touches the core, the journal or the database
directly. Start-up recovers the core, replays the journal into the read
models (and into the database where it is behind), then accepts commands.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Final

from hft.config.settings import Settings
from hft.core import rejects
from hft.domain.commands import Command
from hft.domain.events import Event, OrderRejected
from hft.domain.exchange.commands import CreateAccount, SetApiKey
from hft.domain.exchange.events import CommandRejected, PositionChanged
from hft.domain.exchange.money import CASH_SCALE
from hft.domain.instruments import Instrument, default_instruments
from hft.engine.core import Ack, DurableCore
from hft.engine.replay import replay, replay_batches
from hft.engine.service import CoreService
from hft.engine.settings import CoreSettings
from hft.observability.metrics import Metrics
from hft.service.auth import RateLimiter, SignatureChecker, key_digest, new_api_key
from hft.service.database import Database
from hft.service.history import Changes, TradingHistory
from hft.service.market import MarketChanges, MarketData
from hft.streams.publisher import Broker, StreamPublisher
from hft.streams.schema import MessageEncoder

if TYPE_CHECKING:
    from hft.adapters.redis.cache import RedisCache

log = logging.getLogger("hft.venue")

DEMO_ACCOUNT_NAME: Final = "demo"
DEMO_ACCOUNT_CASH: Final = 1_000_000 * CASH_SCALE
DEMO_KEY_FILE: Final = "demo-api-key.txt"
LOCK_FILE: Final = "hft.lock"


class DataDirectoryInUseError(Exception):
    """Another process has the data directory open: one journal has exactly one writer."""


class CommandRefusedError(Exception):
    """An account or admin command was refused by the exchange; ``code`` says why."""

    def __init__(self, code: int) -> None:
        super().__init__(rejects.reject_text(code))
        self.code = code
        self.reason = rejects.reject_name(code)


class Update:
    """What one durable batch changed, handed to every subscriber on the event loop."""

    __slots__ = ("acks", "changes", "market")

    def __init__(self, acks: list[Ack], changes: Changes, market: MarketChanges) -> None:
        self.acks = acks
        self.changes = changes
        self.market = market


Subscriber = Callable[[Update], None]


class Venue:
    """The trading service behind every gateway. Create, ``await start()``, use, ``await stop()``."""

    def __init__(self, settings: Settings, instruments: Iterable[Instrument] | None = None) -> None:
        self.settings = settings
        self.instruments = list(instruments) if instruments is not None else default_instruments()
        self.by_symbol = {instrument.symbol: instrument for instrument in self.instruments}
        self.metrics = Metrics()
        self.history = TradingHistory(self.instruments)
        self.market = MarketData(self.instruments)
        self.signatures = SignatureChecker(settings.signature_window_seconds)
        self.rate_limiter = RateLimiter(settings.rate_limit)
        self.database = Database(settings.resolved_database_url, self.instruments, self.metrics)
        self.publishers = [
            StreamPublisher(broker, MessageEncoder(self.instruments), self._read_journal, self.metrics)
            for broker in brokers(settings)
        ]
        self.cache = _cache(settings, self)
        self.started_at = time.time()
        self.demo_api_key: str | None = None
        self._subscribers: list[Subscriber] = []
        self._nonzero_positions: set[tuple[int, str]] = set()
        # The event sequence of each position's last change (the cache shows it; the exchange does not keep it).
        self.position_sequences: dict[tuple[int, str], int] = {}
        self._next_account_id = 1
        self._core: CoreService | None = None
        self._lock_fd: int | None = None

    # -- life cycle -------------------------------------------------------------

    async def start(self) -> None:
        """Recover the core, rebuild the read models, catch the database up, then accept commands."""
        settings = self.settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_data_dir()
        core_settings = CoreSettings(settings.data_dir, fsync=settings.fsync, snapshot_every=settings.snapshot_every)
        core = await asyncio.to_thread(DurableCore, core_settings, self.instruments)
        core.exchange.risk_timer = time.perf_counter_ns
        database_sequence = await self.database.open()
        started = time.perf_counter()

        def rebuild(acks: list[Ack]) -> None:
            changes = self._fold(acks).changes
            if changes.last_sequence > database_sequence:
                self.database.enqueue(changes)

        replay(core.journal_dir, self.instruments, core.sequence, rebuild)
        log.info(
            "read models rebuilt from %d journaled commands in %.2f s", core.sequence, time.perf_counter() - started
        )
        self._next_account_id = max(core.exchange.accounts, default=0) + 1
        for publisher in self.publishers:
            publisher.start(core.sequence, core.exchange.engine.sequence)
        self._core = CoreService(core)
        self._core.subscribe(self._on_acks)
        self._core.observer = self._observe_batch
        await self._core.start()
        self.database.start()
        if self.cache is not None:
            self.subscribe(self.cache.on_update)
            self.cache.start()
        if settings.demo_account:
            await self._ensure_demo_account()

    async def stop(self) -> None:
        """Stop taking commands, finish the queued ones, snapshot, flush the database and close it."""
        if self._core is not None:
            await self._core.stop()
        for publisher in self.publishers:
            await publisher.stop()
        if self.cache is not None:
            await self.cache.stop()
        await self.database.stop()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _lock_data_dir(self) -> None:
        """Take the data directory for this process, or raise ``DataDirectoryInUseError``. The OS frees it on exit."""
        path = self.settings.data_dir / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise DataDirectoryInUseError(
                f"{self.settings.data_dir} is in use by process {owner}; stop it or choose another --data-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._lock_fd = fd

    @property
    def core(self) -> CoreService:
        """The running core service (raises if the venue is not started)."""
        if self._core is None:
            raise RuntimeError("the venue is not started")
        return self._core

    def subscribe(self, subscriber: Subscriber) -> None:
        """Call ``subscriber`` with every durable batch's ``Update``, on the event loop, in order."""
        self._subscribers.append(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        """Stop calling ``subscriber``."""
        if subscriber in self._subscribers:
            self._subscribers.remove(subscriber)

    # -- commands ------------------------------------------------------------------

    async def execute(self, command: Command) -> Ack:
        """Journal and apply ``command``; return its ack once durable (read models already updated)."""
        return await self.core.execute(command)

    async def execute_admin(self, command: Command) -> list[Event]:
        """Run an account, risk or status command; raise ``CommandRefusedError`` if the exchange refused it."""
        ack = await self.execute(command)
        _raise_if_refused(ack.events)
        return ack.events

    async def create_account(
        self, name: str, cash: int = 0, credit_limit: int = 0, maker_fee_bps: int = 0, taker_fee_bps: int = 0
    ) -> tuple[int, str]:
        """Open an account with a new API key; return its id and the key (shown only now)."""
        account_id = self._next_account_id
        self._next_account_id += 1
        api_key = new_api_key()
        acks = await self.core.execute_many(
            [
                CreateAccount(account_id, name, cash, credit_limit, maker_fee_bps, taker_fee_bps),
                SetApiKey(account_id, key_digest(api_key)),
            ]
        )
        for ack in acks:
            _raise_if_refused(ack.events)
        return account_id, api_key

    async def rotate_api_key(self, account_id: int) -> str:
        """Give ``account_id`` a new API key (the old one stops working at once); return it."""
        api_key = new_api_key()
        await self.execute_admin(SetApiKey(account_id, key_digest(api_key)))
        return api_key

    def authenticate(self, api_key: str) -> int | None:
        """Return the account that owns ``api_key``, or None. O(1)."""
        return self.core.exchange.api_keys.get(key_digest(api_key))

    async def _ensure_demo_account(self) -> None:
        key_file = self.settings.data_dir / DEMO_KEY_FILE
        if self.core.exchange.accounts:
            if key_file.exists():
                self.demo_api_key = key_file.read_text().strip()
            return
        _, api_key = await self.create_account(DEMO_ACCOUNT_NAME, cash=DEMO_ACCOUNT_CASH)
        key_file.write_text(api_key + "\n")
        key_file.chmod(0o600)
        self.demo_api_key = api_key

    # -- what happens after every durable batch ------------------------------------

    def _fold(self, acks: list[Ack]) -> Update:
        changes = self.history.apply(acks)
        market = self.market.apply(acks)
        for position in changes.positions.values():
            self._count_position(position)
        return Update(acks, changes, market)

    def _read_journal(self, last_sequence: int) -> Iterator[list[Ack]]:
        core = self.core.core
        return replay_batches(core.journal_dir, self.instruments, last_sequence)

    def _on_acks(self, acks: list[Ack]) -> None:
        update = self._fold(acks)
        self.database.enqueue(update.changes)
        for publisher in self.publishers:
            publisher.enqueue(acks)
        self.database.catch_up_if_needed(self.history, self.core.exchange, acks[-1].ts)
        for subscriber in self._subscribers:
            try:
                subscriber(update)
            except Exception:
                log.exception("subscriber %r failed", subscriber)
                self.metrics.execution_errors.labels("publish").inc()
        metrics = self.metrics
        metrics.trades.inc(len(update.market.trades))
        metrics.active_positions.set(len(self._nonzero_positions))
        metrics.journal_sequence.set(acks[-1].sequence)

    def _count_position(self, position: PositionChanged) -> None:
        key = (position.account, position.symbol)
        self.position_sequences[key] = position.sequence
        if position.net_quantity:
            self._nonzero_positions.add(key)
        else:
            self._nonzero_positions.discard(key)

    def _observe_batch(self, commands: int, journal_ns: int, apply_ns: int, publish_ns: int) -> None:
        exchange = self.core.exchange
        risk_ns = exchange.risk_ns
        exchange.risk_ns = 0
        stage = self.metrics.stage_latency
        stage.labels("journal").observe(journal_ns / 1000 / commands)
        stage.labels("risk").observe(risk_ns / 1000 / commands)
        stage.labels("match").observe(max(apply_ns - risk_ns, 0) / 1000 / commands)
        stage.labels("publish").observe(publish_ns / 1000 / commands)
        self.metrics.batch_size.observe(commands)

    # -- health ----------------------------------------------------------------------

    def _stream_health(self) -> dict[str, object]:
        """The in-process bus always runs; each configured broker reports on its own, and any down is down."""
        brokers = {publisher.broker.name: publisher.health() for publisher in self.publishers}
        down = any(broker["status"] == "down" for broker in brokers.values())
        status = "down" if down else "up" if brokers else "embedded"
        return {"status": status, "subscribers": len(self._subscribers), "brokers": brokers}

    def health(self) -> dict[str, dict[str, object]]:
        """Return every component's status; trading is possible when the engine and journal are up."""
        core = self._core
        failure = None if core is None else core.failure
        engine_ok = core is not None and failure is None
        components: dict[str, dict[str, object]] = {
            "engine": {"status": "up" if engine_ok else "down", "sequence": 0 if core is None else core.core.sequence},
            "journal": {
                "status": "up" if engine_ok else "down",
                "fsync": self.settings.fsync,
                "error": None if failure is None else str(failure),
            },
            "database": self.database.health(),
            "cache": {"status": "embedded"} if self.cache is None else self.cache.health(),
            "stream": self._stream_health(),
        }
        self.metrics.projection_lag.labels("database").set(self.database.writer.lag.sequences)
        for name, component in components.items():
            self.metrics.component_up.labels(name).set(0 if component["status"] == "down" else 1)
        return components


def brokers(settings: Settings) -> list[Broker]:
    """Return an adapter for every broker ``settings`` configure (none: the in-process bus only)."""
    brokers: list[Broker] = []
    if settings.nats_url:
        from hft.adapters.nats.broker import NatsBroker  # noqa: PLC0415 (optional adapters load only when configured)

        brokers.append(NatsBroker(settings.nats_url, settings.stream_prefix))
    if settings.kafka_bootstrap:
        from hft.adapters.kafka.broker import KafkaBroker  # noqa: PLC0415

        kafka = KafkaBroker(
            settings.kafka_bootstrap,
            settings.stream_prefix,
            settings.kafka_partitions,
            settings.kafka_replication_factor,
        )
        brokers.append(kafka)
    return brokers


def _cache(settings: Settings, venue: Venue) -> RedisCache | None:
    if not settings.redis_url:
        return None
    from hft.adapters.redis.cache import RedisCache  # noqa: PLC0415

    return RedisCache(settings.redis_url, settings.cache_prefix, venue, venue.metrics)


def _raise_if_refused(events: list[Event]) -> None:
    for event in events:
        if isinstance(event, CommandRejected | OrderRejected):
            raise CommandRefusedError(event.code)
