"""Settings of the durable core: frozen, validated once when built."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CoreSettings:
    """Where the core keeps its files and how hard it works to keep them.

    ``fsync`` False skips every fsync (tests and backtests only: a power
    failure can then lose acknowledged commands). ``max_batch`` caps how many
    commands share one journal write and fsync.
    """

    data_dir: Path
    fsync: bool = True
    snapshot_every: int = 100_000
    segment_bytes: int = 64 * 1024 * 1024
    keep_snapshots: int = 3
    max_batch: int = 4096

    def __post_init__(self) -> None:
        if self.snapshot_every < 1:
            raise ValueError("snapshot_every must be at least 1 command")
        if self.segment_bytes < 4096:
            raise ValueError("segment_bytes must be at least 4096")
        if self.keep_snapshots < 1:
            raise ValueError("keep_snapshots must be at least 1")
        if self.max_batch < 1:
            raise ValueError("max_batch must be at least 1")
