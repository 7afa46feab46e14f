"""Pure helpers that turn wire input into rows of the event store (dicts keyed by column name).

No ORM here: the Statsig and PostHog endpoints, the exposure buffer and the bench build rows with
these functions, and ``events.store`` writes them in bulk.
"""

from __future__ import annotations

import json
import math
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from events.models import MAX_ID_LENGTH, MAX_NAME_LENGTH

# An event "from the future" by more than this (after clock correction) is stamped with the time it
# was received: client clocks lie, and the monthly partitions only exist a few months ahead.
MAX_FUTURE_SKEW = timedelta(hours=1)
# Times before this are nonsense (epoch zero, seconds sent as milliseconds...).
MIN_EVENT_TIME = datetime(2000, 1, 1, tzinfo=UTC)

EVENT_COLUMNS = (
    "uuid",
    "project_id",
    "name",
    "user_id",
    "stable_id",
    "custom_ids",
    "value",
    "numeric_value",
    "properties",
    "user",
    "feature_flags",
    "secondary_exposures",
    "environment",
    "source",
    "time",
    "received_at",
)
EXPOSURE_COLUMNS = (
    "uuid",
    "project_id",
    "kind",
    "name",
    "rule_id",
    "value",
    "group_name",
    "parameter_name",
    "allocated_experiment",
    "user_id",
    "stable_id",
    "custom_ids",
    "user",
    "secondary_exposures",
    "environment",
    "source",
    "time",
    "received_at",
)
JSON_COLUMNS = frozenset(
    {"custom_ids", "properties", "user", "feature_flags", "secondary_exposures"}
)


def now() -> datetime:
    return datetime.now(UTC)


def clean_text(value: Any, limit: int = MAX_NAME_LENGTH) -> str:
    """A string fit for a text column: stringified, NUL bytes removed, cut to ``limit``."""
    if type(value) is str and len(value) <= limit and "\x00" not in value:
        return value  # nearly every value: checked without the conversions below
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, str):
        text = value
    elif isinstance(value, int | float):
        text = str(value)
    else:
        text = json.dumps(value, separators=(",", ":"), default=str)
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text[:limit]


# Built once: json.dumps with non-default options builds an encoder per call.
_CHECKER = json.JSONEncoder(allow_nan=False, separators=(",", ":"))


def clean_json(value: Any) -> Any:
    """JSON-safe data for a jsonb column: no NUL characters, no NaN/Infinity, string keys.
    Well-formed data (nearly all of it) is checked by one C-level encode and returned as is."""
    if isinstance(value, dict | list):
        try:
            encoded = _CHECKER.encode(value)
        except (TypeError, ValueError, RecursionError):
            return _clean_json(value)
        if "\\u0000" not in encoded:
            return value
    return _clean_json(value)


def _clean_json(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {clean_text(k, 10_000): _clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def parse_time(value: Any) -> datetime | None:
    """Epoch milliseconds (number or numeric string; seconds are recognised) or ISO 8601
    (``Z``, offsets, a space instead of ``T``; naive means UTC). None when absent or unreadable."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    number: float | None = None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if number is None or not math.isfinite(number):
        return None
    if number < 100_000_000_000:  # 1973 in ms, 5138 in seconds: this is seconds
        number *= 1000
    try:
        return datetime.fromtimestamp(number / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def settle_time(event_time: datetime | None, *, received_at: datetime, skew: timedelta) -> datetime:
    """The stored time: the client's time corrected by ``skew`` (server − client clock), or the
    receive time when absent, implausibly old or in the future."""
    if event_time is None:
        return received_at
    corrected = event_time + skew
    if corrected > received_at + MAX_FUTURE_SKEW or corrected < MIN_EVENT_TIME:
        return received_at
    return corrected


def split_statsig_user(
    user: Any, *, clean: bool = True
) -> tuple[str, str, dict[str, str], dict, str]:
    """``(user_id, stable_id, custom_ids, stored_user, environment)`` of a Statsig user. Private
    attributes are never stored. ``clean=False``: the caller knows the user is storable JSON
    already (no NUL, no NaN), so the stored copy skips ``clean_json``."""
    if not isinstance(user, dict):
        return "", "", {}, {}, ""
    user_id = clean_text(user.get("userID"), MAX_ID_LENGTH)
    custom_ids: dict[str, str] = {}
    raw_ids = user.get("customIDs")
    if isinstance(raw_ids, dict):
        for key, value in raw_ids.items():
            text = clean_text(value, MAX_ID_LENGTH)
            if text:
                custom_ids[clean_text(key, 100)] = text
    stable_id = custom_ids.pop("stableID", "")
    stored = (
        {k: v for k, v in user.items() if k != "privateAttributes"}
        if "privateAttributes" in user
        else user
    )
    if clean:
        stored = clean_json(stored)
    environment = ""
    tier = user.get("statsigEnvironment")
    if isinstance(tier, dict):
        environment = clean_text(tier.get("tier"), 64)
    return user_id, stable_id, custom_ids, stored, environment


def split_value(value: Any) -> tuple[str | None, float | None]:
    if type(value) is int:
        return str(value), float(value)  # the common numeric value: nothing to clean
    if value is None:
        return None, None
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, int | float):
        number = float(value)
        return clean_text(value, 10_000), (number if math.isfinite(number) else None)
    text = clean_text(value, 10_000)
    try:
        number = float(text)
    except ValueError:
        return text, None
    return text, (number if math.isfinite(number) else None)


def exposure_row(
    project_id: int, exposure: dict, *, received_at: datetime, skew: timedelta = timedelta(0)
) -> dict[str, Any]:
    """A row of the exposure store from a contract dict (``buffer_exposures``' format)."""
    user_id, stable_id, custom_ids, user, tier = split_statsig_user(exposure.get("user"))
    value = exposure.get("value")
    row_uuid = exposure.get("uuid")
    return {
        "uuid": uuid.UUID(str(row_uuid)) if row_uuid else uuid.uuid4(),
        "project_id": project_id,
        "kind": clean_text(exposure.get("kind"), 8) or "gate",
        "name": clean_text(exposure.get("name")),
        "rule_id": clean_text(exposure.get("rule_id")),
        "value": value if isinstance(value, bool) else None,
        "group_name": clean_text(exposure.get("group_name")),
        "parameter_name": clean_text(exposure.get("parameter_name")),
        "allocated_experiment": clean_text(exposure.get("allocated_experiment")),
        "user_id": user_id,
        "stable_id": stable_id,
        "custom_ids": custom_ids,
        "user": user,
        "secondary_exposures": clean_json(_as_list(exposure.get("secondary_exposures"))),
        "environment": clean_text(exposure.get("environment"), 64) or tier,
        "source": clean_text(exposure.get("source"), 16) or "statsig_http",
        "time": settle_time(parse_time(exposure.get("time")), received_at=received_at, skew=skew),
        "received_at": received_at,
    }


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def new_row_uuids(count: int) -> list[str]:
    """``count`` random row uuids as 32 hex digits (which PostgreSQL and ``uuid.UUID`` read),
    from one read of the system's randomness: a ``uuid4`` per row of a large batch cost a system
    call and an object each."""
    randomness = secrets.token_hex(16 * count)
    return [randomness[start : start + 32] for start in range(0, 32 * count, 32)]


def event_row(
    *,
    project_id: int,
    name: str,
    source: str,
    time: datetime,
    received_at: datetime,
    user_id: str = "",
    stable_id: str = "",
    custom_ids: dict | None = None,
    value: Any = None,
    properties: dict | None = None,
    user: dict | None = None,
    feature_flags: dict | None = None,
    secondary_exposures: list | None = None,
    environment: str = "",
    row_uuid: uuid.UUID | str | None = None,
) -> dict[str, Any]:
    text, number = split_value(value)
    return {
        "uuid": row_uuid or uuid.uuid4(),
        "project_id": project_id,
        "name": name,
        "user_id": user_id,
        "stable_id": stable_id,
        "custom_ids": custom_ids or {},
        "value": text,
        "numeric_value": number,
        "properties": properties or {},
        "user": user or {},
        "feature_flags": feature_flags or {},
        "secondary_exposures": secondary_exposures or [],
        "environment": environment,
        "source": source,
        "time": time,
        "received_at": received_at,
    }


def parse_uuid(value: Any) -> uuid.UUID | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
