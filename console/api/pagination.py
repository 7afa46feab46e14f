"""Statsig's list envelope: ``limit`` and 1-based ``page`` in, ``pagination`` out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from console.errors import ValidationError

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Far past any real list, and small enough that the offset fits the database's bigint.
MAX_PAGE = 1_000_000_000


@dataclass(frozen=True, slots=True)
class PageRequest:
    limit: int
    page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


def _positive_int(params, name: str, default: int, maximum: int | None = None) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ValidationError.for_field(name, f"'{name}' must be a positive integer.") from None
    if value < 1 or (maximum is not None and value > maximum):
        bound = f" between 1 and {maximum}" if maximum else " of at least 1"
        raise ValidationError.for_field(name, f"'{name}' must be an integer{bound}.")
    return value


def page_request(
    params, *, default_limit: int = DEFAULT_LIMIT, max_limit: int = MAX_LIMIT
) -> PageRequest:
    return PageRequest(
        limit=_positive_int(params, "limit", default_limit, max_limit),
        page=_positive_int(params, "page", 1, MAX_PAGE),
    )


def pagination_block(*, path: str, params, page: PageRequest, total: int) -> dict[str, Any]:
    """``nextPage``/``previousPage`` are path-relative links keeping the other query filters."""
    kept = {k: v for k, v in params.items() if k not in ("page", "limit")}

    def link(number: int) -> str:
        return f"{path}?{urlencode({**kept, 'page': number, 'limit': page.limit})}"

    has_next = page.offset + page.limit < total
    return {
        "itemsPerPage": page.limit,
        "pageNumber": page.page,
        "nextPage": link(page.page + 1) if has_next else None,
        "previousPage": link(page.page - 1) if page.page > 1 else None,
        "totalItems": total,
        "all": f"{path}?{urlencode(kept)}" if kept else path,
    }
