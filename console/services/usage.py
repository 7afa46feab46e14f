from __future__ import annotations

from datetime import UTC, datetime

from django.core.cache import cache

from console.keycache import USAGE_CACHE_PREFIX
from console.models import ApiKey


def api_key_usage_flush() -> int:
    """Copies the use stamps that requests left in the cache into ``ApiKey.last_used_at``:
    one read of the cache and one UPDATE per key used since the last run."""
    active = list(ApiKey.objects.filter(is_active=True).values_list("pk", flat=True))
    stamps = cache.get_many([f"{USAGE_CACHE_PREFIX}{pk}" for pk in active])
    updated = 0
    for cache_key, stamp in stamps.items():
        pk = int(cache_key.removeprefix(USAGE_CACHE_PREFIX))
        used_at = datetime.fromtimestamp(int(stamp), tz=UTC)
        updated += (
            ApiKey.objects.filter(pk=pk)
            .exclude(last_used_at__gte=used_at)
            .update(last_used_at=used_at)
        )
    return updated
