"""The Redis cache adapter: positions and market data mirrored into Redis for readers outside the venue."""

from hft.adapters.redis.cache import RedisCache, read_cache, read_sequence
from hft.adapters.redis.entries import entries

__all__ = ["RedisCache", "entries", "read_cache", "read_sequence"]
