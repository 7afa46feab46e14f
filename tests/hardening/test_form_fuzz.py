"""Every browser form of the console (found by opening every screen the URL resolver knows, with
a project's entities in the paths) submitted with the inputs that once answered 500: NUL, lone
surrogates (as JSON escapes and as invalid UTF-8), NaN, integers past JSON's limit, nesting 600
deep, 0001-01-01 and 10^19. Every answer is a page or a form error, never a 5xx."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from urllib.parse import quote, urljoin

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from console.models import ApiKey, AuditLog, Role
from tests.console.api.endpoints import seed_entities

BUDGET_SECONDS = 60
NOT_SCREENS = ("console/v1", "v1/", "decide", "flags/", "capture", "batch", "e/", "admin")
# Leave the session and the project in place for the forms after them.
SKIPPED_ACTIONS = ("logout", "/delete-project", "/leave")
POISONS = {
    "nul": "a\x00b",
    "surrogate escape in json": '{"a": "\\ud800", "\\udfff": 1}',
    "nan in json": '{"a": NaN, "b": [Infinity]}',
    "huge integer": "9" * 5000,
    "nested 600": "[" * 600 + "]" * 600,
    "year one": "0001-01-01",
    "ten to the nineteenth": "10000000000000000000",
}
# Invalid UTF-8 (a lone surrogate as a browser cannot send it, a client can): raw bytes.
RAW_SURROGATE = "%ED%A0%80"


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and (attributes.get("method") or "get").lower() == "post":
            self._current = {"action": attributes.get("action") or "", "fields": {}}
            self.forms.append(self._current)
        elif self._current is not None and tag in ("input", "textarea", "select", "button"):
            name = attributes.get("name")
            if name and name != "csrfmiddlewaretoken":
                kind = (attributes.get("type") or "").lower()
                self._current["fields"][name] = (kind, attributes.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def _screens(values: dict[str, str]) -> list[str]:
    paths = []
    for route in _walk(get_resolver().url_patterns):
        if route.startswith(NOT_SCREENS) or route.startswith("^"):
            continue
        params = re.findall(r"<(?:\w+:)?(\w+)>", route)
        if any(param not in values for param in params):
            continue
        path = route
        for param in params:
            path = re.sub(rf"<(?:\w+:)?{param}>", values[param], path)
        paths.append("/" + path)
    return paths


def _submissions(fields: dict[str, tuple[str, str]]) -> list[tuple[str, str]]:
    """(case, form-encoded body): each poison in every field a person types into, the others
    (hidden, checkbox, submit) as the page set them."""
    typed = {"", "text", "textarea", "number", "email", "date", "datetime-local", "search"}
    bodies = []
    for case, poison in POISONS.items():
        pairs = [
            (name, poison if kind in typed else value) for name, (kind, value) in fields.items()
        ]
        bodies.append((case, "&".join(f"{quote(k)}={quote(v)}" for k, v in pairs)))
    raw = [
        (name, RAW_SURROGATE if kind in typed else quote(value))
        for name, (kind, value) in fields.items()
    ]
    bodies.append(("invalid utf-8", "&".join(f"{quote(k)}={v}" for k, v in raw)))
    return bodies


def test_every_browser_form__poisoned_input__never_5xx(world):
    started = time.monotonic()
    seeded = seed_entities(world)
    values = {
        **seeded,
        "project_slug": world.project.slug,
        "entity_id": seeded["gate_id"],
        "public_id": ApiKey.objects.filter(project=world.project).first().public_id,
        "entry_id": str(AuditLog.objects.filter(project=world.project).first().pk),
    }
    client = Client(raise_request_exception=True)
    client.force_login(world.users[Role.ADMIN])
    submitted = 0
    for path in _screens(values):
        page = client.get(path)
        assert page.status_code < 500, (path, page.status_code)
        if page.status_code != 200 or "text/html" not in page.get("Content-Type", ""):
            continue
        parser = _Forms()
        parser.feed(page.content.decode())
        for form in parser.forms:
            action = urljoin(path, form["action"]) if form["action"] else path
            if any(part in action for part in SKIPPED_ACTIONS) or not form["fields"]:
                continue
            for case, body in _submissions(form["fields"]):
                response = client.generic(
                    "POST", action, body, content_type="application/x-www-form-urlencoded"
                )
                assert response.status_code < 500, (action, case, response.status_code)
                submitted += 1
    assert submitted > 50
    assert time.monotonic() - started < BUDGET_SECONDS
