"""Named points where a test can make the process kill itself with SIGKILL.

``HFT_CRASH_AT=name:n`` (read once at import) kills the process the n-th
time it reaches point ``name``. Crash tests use it to stop a real process at
exact moments, such as between a journal write and its fsync; without the
variable every point costs one global lookup.
"""

from __future__ import annotations

import os
import signal

POINTS = (
    "before_write",  # a batch is sequenced, nothing is written yet
    "torn_write",  # half of a batch's bytes are written
    "after_write",  # the batch is written, not yet fsynced
    "after_sync",  # the batch is durable, not yet applied or acknowledged
    "after_apply",  # the batch is applied, acknowledgements not yet sent
    "snapshot_written",  # a snapshot's temporary file is written, not yet renamed
)


def _parse(setting: str) -> tuple[str, int]:
    if not setting:
        return "", 0
    name, _, count = setting.partition(":")
    if name not in POINTS or not count.isdigit() or int(count) < 1:
        raise ValueError(f"HFT_CRASH_AT={setting!r}: expected NAME:N with NAME one of {', '.join(POINTS)}")
    return name, int(count)


_armed_point, _remaining = _parse(os.environ.get("HFT_CRASH_AT", ""))


def armed(name: str) -> bool:
    """Say whether the process is set to die at ``name`` (so callers can prepare, e.g. a torn write)."""
    return name == _armed_point


def reach(name: str) -> None:
    """Count one arrival at ``name``; kill the process with SIGKILL if this is the armed arrival."""
    global _remaining  # noqa: PLW0603 - one process-wide countdown, by design
    if name != _armed_point:
        return
    _remaining -= 1
    if _remaining == 0:
        os.kill(os.getpid(), signal.SIGKILL)
