"""Errors of the durable core: each one means the core must not start (or go on) as it is."""

from __future__ import annotations

from pathlib import Path


class JournalCorruptedError(Exception):
    """The journal is damaged somewhere other than a torn tail; the core must not start."""

    def __init__(self, path: Path, offset: int, problem: str) -> None:
        super().__init__(f"{path} at byte {offset}: {problem}")
        self.path = path
        self.offset = offset
        self.problem = problem


class SnapshotInvalidError(Exception):
    """A snapshot file is damaged or does not rebuild the state it recorded; the core must not start."""

    def __init__(self, path: Path, offset: int, problem: str) -> None:
        super().__init__(f"{path} at byte {offset}: {problem}")
        self.path = path
        self.offset = offset


class UndecodableCommandError(ValueError):
    """A journal payload is not a command this version knows."""
