"""Validation primitives every authoring app shares (flags, segments, privacy): names and the id
made from a name, ids, text, booleans, tags, unit types and lists of ids. Each refuses bad input
with ``console.errors.ValidationError`` naming the field (``path``); ``FieldErrors`` collects
the problems of several fields when one answer should name them all."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from console.errors import FieldError, ValidationError

T = TypeVar("T")

NAME_RE = re.compile(r"^[A-Za-z0-9_\-. ]+$")
ID_RE = re.compile(r"^[A-Za-z0-9_\-.]+$")
ID_TYPE_RE = re.compile(r"^[A-Za-z0-9_\-]+$")
NAME_MIN, NAME_MAX = 3, 100
MAX_TAGS = 50
ID_TYPE_MAX = 64


class FieldErrors:
    """The problems of several fields, raised together as one ``ValidationError`` whose message
    is the first problem's."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(FieldError(path, message))

    def check(self, validate: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """``validate(*args, **kwargs)``, or None with its problems kept when it refuses."""
        try:
            return validate(*args, **kwargs)
        except ValidationError as error:
            self.items.extend(error.errors or [FieldError("", error.message)])
            return None

    def raise_if_any(self) -> None:
        if self.items:
            first = self.items[0]
            raise ValidationError(f"{first.property}: {first.message}", errors=self.items)


def id_from_name(name: str) -> str:
    """Statsig's id for a name, the one rule of every entity: lower case, each run of white space
    one ``_``, other characters than letters, digits, ``_``, ``-`` and ``.`` dropped: "A Gate" ->
    ``a_gate``; a name already written as an id is its own id (``_hidden_`` -> ``_hidden_``)."""
    text = re.sub(r"\s+", "_", name.strip().lower())
    return re.sub(r"[^a-z0-9_\-.]", "", text)


def new_entity_id(value: Any, *, name: str, path: str = "id") -> str:
    """The id of a new entity: ``value`` when one is given, else the id made from ``name``."""
    if value not in (None, ""):
        return validate_slug(value, path)
    made = id_from_name(name)
    if len(made) < NAME_MIN:
        raise ValidationError.for_field(
            path,
            f"The name does not make an id of at least {NAME_MIN} letters, digits, '_', '-' or "
            "'.': give an id.",
        )
    return validate_slug(made, path)


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
    if not isinstance(value, str):
        raise ValidationError.for_field(path, f"{path} must be a string.")
    slug = value.strip()
    if not NAME_MIN <= len(slug) <= NAME_MAX:
        raise ValidationError.for_field(path, f"An id has {NAME_MIN} to {NAME_MAX} characters.")
    if not ID_RE.match(slug):
        raise ValidationError.for_field(
            path, f"{path} may contain only letters, digits, _, - and ."
        )
    return slug


def validate_text(
    value: Any, path: str, *, max_length: int = 1000, min_length: int = 0, strip: bool = False
) -> str:
    """A string of at most ``max_length`` characters, trimmed first when ``strip``. Without
    ``min_length`` the field may be empty (None is ""); with it, an empty one is missing."""
    if value is None and not min_length:
        return ""
    if value is not None and not isinstance(value, str):
        raise ValidationError.for_field(path, f"{path} must be a string.")
    text = (value.strip() if strip else value) if value is not None else ""
    if min_length and not text:
        raise ValidationError.for_field(path, f"{path} is required.")
    if len(text) > max_length:
        raise ValidationError.for_field(
            path, f"{path} is {len(text):,} characters long; at most {max_length:,} allowed."
        )
    if len(text) < min_length:
        raise ValidationError.for_field(
            path, f"{path} has {min_length} to {max_length} characters."
        )
    return text


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


class IdProblemKind(StrEnum):
    NOT_A_STRING = "not_a_string"
    EMPTY = "empty"
    TOO_LONG = "too_long"
    NUL = "nul"


@dataclass(frozen=True, slots=True)
class IdProblem:
    """An entry of a list of ids that is no id: where it was (0-based), as sent, what is wrong
    and why in words ("is empty")."""

    index: int
    value: Any
    kind: IdProblemKind
    reason: str


def scan_ids(
    values: Sequence[Any],
    *,
    max_length: int,
    strip: bool = True,
    numbers: tuple[type, ...] = (),
    drop_empty: bool = False,
) -> tuple[list[str], list[IdProblem]]:
    """The distinct ids of ``values`` in the order sent (trimmed when ``strip``), and the entries
    that are none: not a string (``numbers`` of these types become strings), empty (left out
    instead with ``drop_empty``), longer than ``max_length``, or holding NUL, which PostgreSQL
    text cannot store. Callers word the problems their way."""
    ids: dict[str, None] = {}
    problems: list[IdProblem] = []
    for index, value in enumerate(values):
        if numbers and isinstance(value, numbers) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            problems.append(IdProblem(index, value, IdProblemKind.NOT_A_STRING, "is not a string"))
            continue
        text = value.strip() if strip else value
        if not text.strip():
            if not drop_empty:
                problems.append(IdProblem(index, value, IdProblemKind.EMPTY, "is empty"))
        elif len(text) > max_length:
            too_long = f"is longer than {max_length} characters"
            problems.append(IdProblem(index, value, IdProblemKind.TOO_LONG, too_long))
        elif "\x00" in text:
            problems.append(IdProblem(index, value, IdProblemKind.NUL, "contains a NUL character"))
        else:
            ids[text] = None
    return list(ids), problems


def distinct_strings(values: Iterable[Any], path: str, *, max_items: int = 2000) -> list[str]:
    if not isinstance(values, list | tuple):
        raise ValidationError.for_field(path, f"{path} must be a list of strings.")
    ids, problems = scan_ids(values, max_length=1000, strip=False, numbers=(int, float))
    if problems:
        raise ValidationError.for_field(
            f"{path}[{problems[0].index}]", "Each id is a non-empty string."
        )
    if len(ids) > max_items:
        raise ValidationError.for_field(path, f"At most {max_items} ids.")
    return ids
