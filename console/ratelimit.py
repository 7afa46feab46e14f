"""Fixed-window counters in the shared cache (Redis in production)."""

from __future__ import annotations

import time

from django.core.cache import cache


def hit(bucket: str, *, limit: int, window_seconds: int) -> int | None:
    """Counts one hit; returns None while under ``limit``, else the seconds until the window ends."""
    now = time.time()
    window = int(now // window_seconds)
    key = f"ratelimit:{bucket}:{window}"
    cache.add(key, 0, timeout=window_seconds + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_seconds + 1)
        count = 1
    if count <= limit:
        return None
    return max(1, int((window + 1) * window_seconds - now + 0.999))
