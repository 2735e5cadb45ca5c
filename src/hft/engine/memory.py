"""Garbage-collector settings for processes that run the core.

The core allocates a few short-lived containers per command (event lists,
acks) and keeps a large, long-lived state. CPython's default collector
(a young-generation pass every 700 allocations, full passes over the whole
heap) then spends a measurable share of the time re-scanning that state.
"""

from __future__ import annotations

import gc

YOUNG_GENERATION_THRESHOLD = 50_000


def collect_less_often() -> None:
    """Run young-generation collections every 50,000 allocations instead of every 700 (process-wide)."""
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, 50, 100)


def freeze_long_lived_state() -> None:
    """Collect once, then move every object alive now out of the collector's sight (call after start-up)."""
    gc.collect()
    gc.freeze()
