"""Connect an SDK: snippets with this server's address and the project's keys, keys created on
demand by admins, and the indicator of the first event."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from console.keycache import hash_secret
from console.models import ApiKey, AuditLog, Role
from console.web.snippets import (
    CLIENT_KEY_PLACEHOLDER,
    SERVER_KEY_PLACEHOLDER,
    sdk_snippets,
)

SDKS = (
    "@statsig/js-client",
    "posthog-js",
    "Python (statsig)",
    "Node (statsig-node)",
    "Go (github.com/statsig-io/go-sdk)",
    "Java / Kotlin (com.statsig:serversdk)",
    "Python (posthog)",
    "Node (posthog-node)",
)


def connect_url(world, name: str = "connect-sdk") -> str:
    return reverse(name, args=[world.project.slug])


def code_of(body: str, slug: str) -> str:
    match = re.search(rf'<code id="{slug}-code"[^>]*>(.*?)</code>', body, re.S)
    assert match, f"no {slug} snippet"
    return html.unescape(match.group(1))


def test_snippets__every_sdk__address_and_key_of_its_kind_filled_in():
    snippets = sdk_snippets(
        base_url="https://flags.example.com", server_key="secret-abc", client_key="client-xyz"
    )
    assert [s.title for s in snippets] == list(SDKS)
    for snippet in snippets:
        expected_key = "secret-abc" if snippet.key_kind == "server" else "client-xyz"
        other_key = "client-xyz" if snippet.key_kind == "server" else "secret-abc"
        assert expected_key in snippet.code, snippet.slug
        assert other_key not in snippet.code, snippet.slug
        assert "https://flags.example.com" in snippet.code, snippet.slug
        if snippet.slug.startswith("statsig"):
            assert "https://flags.example.com/v1" in snippet.code, snippet.slug
        if snippet.language == "python":
            compile(snippet.code, snippet.slug, "exec")


def test_connect__viewer__snippets_with_placeholders_and_request_address(browser_client, world):
    response = browser_client(world.users[Role.VIEWER]).get(connect_url(world))
    body = response.content.decode()
    assert response.status_code == 200
    for title in SDKS:
        assert html.escape(title) in body
    python = code_of(body, "statsig-python")
    assert 'StatsigOptions(api="http://testserver/v1")' in python
    assert SERVER_KEY_PLACEHOLDER in python
    assert CLIENT_KEY_PLACEHOLDER in code_of(body, "posthog-python")
    # The project's active keys are named by their hints; viewers get no create button
    server_hint = ApiKey.objects.get(project=world.project, kind="server").hint
    assert f"<code>{server_hint}…</code>" in body
    assert "Create a server key and a client key" not in body
    assert 'data-state="waiting"' in body
    assert f'hx-get="{connect_url(world, "connect-status")}"' in body


def test_connect__public_url_configured__snippets_use_it(browser_client, world, settings):
    settings.CONSOLE_PUBLIC_URL = "https://flags.example.com"
    body = browser_client(world.users[Role.ADMIN]).get(connect_url(world)).content.decode()
    assert 'host="https://flags.example.com"' in code_of(body, "posthog-python")
    assert 'networkConfig: { api: "https://flags.example.com/v1" }' in code_of(
        body, "statsig-js-client"
    )


def test_connect__admin_creates_keys__secrets_in_snippets_once_and_audited(as_role, world):
    before = ApiKey.objects.filter(project=world.project).count()
    response = as_role(Role.ADMIN).post(connect_url(world))
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    # A server key and a client key are made, active, audited
    new_keys = ApiKey.objects.filter(project=world.project).order_by("-id")[:2]
    assert ApiKey.objects.filter(project=world.project).count() == before + 2
    assert {k.kind for k in new_keys} == {"server", "client"}
    assert AuditLog.objects.filter(project=world.project, action_type="key_create").count() == 5
    # And their secrets fill the snippets of their kind
    server_secret = re.search(r"secret-[A-Za-z0-9_-]{40,}", code_of(body, "statsig-python"))
    client_secret = re.search(r"client-[A-Za-z0-9_-]{40,}", code_of(body, "posthog-python"))
    server_key = ApiKey.objects.get(secret_hash=hash_secret(server_secret.group(0)))
    client_key = ApiKey.objects.get(secret_hash=hash_secret(client_secret.group(0)))
    assert (server_key.kind, client_key.kind) == ("server", "client")
    assert server_secret.group(0) in code_of(body, "statsig-go")
    assert client_secret.group(0) in code_of(body, "statsig-js-client")
    # And a later visit shows placeholders again
    again = as_role(Role.ADMIN).get(connect_url(world)).content.decode()
    assert server_secret.group(0) not in again


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_connect__non_admin_creates_keys__403_nothing_made(as_role, world, role):
    before = ApiKey.objects.filter(project=world.project).count()
    assert as_role(role).post(connect_url(world)).status_code == 403
    assert ApiKey.objects.filter(project=world.project).count() == before


def test_connect_status__turns_received_after_an_event(api, browser_client, world):
    client = browser_client(world.users[Role.VIEWER])
    waiting = client.get(connect_url(world, "connect-status"), headers={"HX-Request": "true"})
    assert 'data-state="waiting"' in waiting.content.decode()
    # When an SDK logs an event with the project's server key
    logged = api.post(
        "/v1/log_event",
        {"events": [{"eventName": "sdk_connected", "user": {"userID": "u1"}}]},
        key=world.keys["server"],
    )
    assert logged.status_code in (200, 202)
    # Then the indicator says so, and stops polling
    received = client.get(connect_url(world, "connect-status")).content.decode()
    assert 'data-state="received"' in received
    assert "hx-trigger" not in received


def test_connect_status__other_projects_data_does_not_count(
    api, browser_client, world, other_world
):
    api.post(
        "/v1/log_event",
        {"events": [{"eventName": "elsewhere", "user": {"userID": "u1"}}]},
        key=other_world.keys["server"],
    )
    body = browser_client(world.users[Role.ADMIN]).get(connect_url(world, "connect-status"))
    assert 'data-state="waiting"' in body.content.decode()


def test_navigation__lists_connect_an_sdk(browser_client, world):
    body = browser_client(world.users[Role.VIEWER]).get(
        reverse("project-dashboard", args=[world.project.slug])
    )
    assert f'href="{connect_url(world)}"' in body.content.decode()
