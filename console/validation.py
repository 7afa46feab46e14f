"""Validation primitives every authoring app shares (flags, segments, privacy): names and the id
made from a name, ids, text, booleans, tags, unit types and lists of ids. Each refuses bad input
with ``console.errors.ValidationError`` naming the field (``path``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from console.errors import ValidationError

NAME_RE = re.compile(r"^[A-Za-z0-9_\-. ]+$")
ID_RE = re.compile(r"^[A-Za-z0-9_\-.]+$")
ID_TYPE_RE = re.compile(r"^[A-Za-z0-9_\-]+$")
NAME_MIN, NAME_MAX = 3, 100
MAX_TAGS = 50
ID_TYPE_MAX = 64


def id_from_name(name: str) -> str:
    """Statsig's id for a name: "A Gate" -> ``a_gate``."""
    text = re.sub(r"\s+", "_", name.strip().lower())
    return re.sub(r"[^a-z0-9_\-.]", "", text)


def validate_name(value: Any, path: str = "name") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.for_field(path, "A name is required.")
    name = value.strip()
    if not NAME_MIN <= len(name) <= NAME_MAX:
        raise ValidationError.for_field(path, f"A name has {NAME_MIN} to {NAME_MAX} characters.")
    if not NAME_RE.match(name):
        raise ValidationError.for_field(
            path, "A name may contain letters, digits, spaces, '_', '-' and '.'."
        )
    return name


def validate_slug(value: Any, path: str = "id") -> str:
    if not isinstance(value, str) or not NAME_MIN <= len(value.strip()) <= NAME_MAX:
        raise ValidationError.for_field(path, f"An id has {NAME_MIN} to {NAME_MAX} characters.")
    slug = value.strip()
    if not ID_RE.match(slug):
        raise ValidationError.for_field(
            path, "An id may contain letters, digits, '_', '-' and '.'."
        )
    return slug


def validate_text(value: Any, path: str, *, max_length: int = 1000) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError.for_field(path, f"{path} must be a string.")
    if len(value) > max_length:
        raise ValidationError.for_field(path, f"At most {max_length} characters.")
    return value


def validate_bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError.for_field(path, f"{path} must be true or false.")
    return value


def validate_tags(value: Any, path: str = "tags") -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise ValidationError.for_field(path, "tags must be a list of strings.")
    tags: list[str] = []
    for index, tag in enumerate(value):
        if not isinstance(tag, str) or not tag.strip() or len(tag) > 100:
            raise ValidationError.for_field(f"{path}[{index}]", "A tag has 1 to 100 characters.")
        if tag.strip() not in tags:
            tags.append(tag.strip())
    if len(tags) > MAX_TAGS:
        raise ValidationError.for_field(path, f"At most {MAX_TAGS} tags.")
    return tags


def validate_id_type(value: Any, path: str = "idType") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.for_field(path, "idType is required (userID or a custom unit type).")
    id_type = value.strip()
    if len(id_type) > ID_TYPE_MAX or not ID_TYPE_RE.match(id_type):
        raise ValidationError.for_field(
            path, "idType is userID or a unit type of letters, digits, '_' and '-'."
        )
    # userID in any case is userID for the SDK; store the canonical spelling.
    return "userID" if id_type.lower() == "userid" else id_type


def json_number(value: Decimal | float | int) -> float | int:
    number = float(value)
    return int(number) if number.is_integer() else number


def distinct_strings(values: Iterable[Any], path: str, *, max_items: int = 2000) -> list[str]:
    if not isinstance(values, list | tuple):
        raise ValidationError.for_field(path, f"{path} must be a list of strings.")
    out: list[str] = []
    seen: set[str] = set()
    for index, value in enumerate(values):
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip() or len(value) > 1000:
            raise ValidationError.for_field(f"{path}[{index}]", "Each id is a non-empty string.")
        if value not in seen:
            seen.add(value)
            out.append(value)
    if len(out) > max_items:
        raise ValidationError.for_field(path, f"At most {max_items} ids.")
    return out
