"""The console API's JSON parser: DRF's (strict: NaN and Infinity are refused), also answering a
body nested too deeply, or carrying text PostgreSQL cannot store (NUL characters, unpaired UTF-16
surrogates), with a 400 that names the field."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser


class ConsoleJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
        problem = first_unstorable_text(data)
        if problem is not None:
            field, message = problem
            raise ValidationError({field or "body": [message]})
        return data


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "Must not contain NUL characters."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Must not contain unpaired UTF-16 surrogates (e.g. half of an emoji)."
    return None


def first_unstorable_text(data: Any) -> tuple[str, str] | None:
    """(field path such as ``rules[0].name``, why) of the first string or key that cannot be
    stored, or None. Walks without recursion: the parser has already bounded the depth."""
    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            problem = _text_problem(value)
            if problem is not None:
                return path, problem
        elif isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                child = f"{path}.{key}" if path else str(key)
                problem = _text_problem(key)
                if problem is not None:
                    return (path or "body"), f"Key {key.encode('utf-8', 'replace')!r}: {problem}"
                stack.append((child, item))
        elif isinstance(value, list):
            stack.extend(
                (f"{path}[{index}]", item) for index, item in reversed(list(enumerate(value)))
            )
    return None
