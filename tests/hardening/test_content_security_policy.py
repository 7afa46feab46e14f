"""Console pages carry a strict Content-Security-Policy and break nothing under it; the API docs
page has a policy of its own (the browser side: tests/browser/test_content_security_policy_e2e.py)."""

from __future__ import annotations

import re

from console.models import Role


def test_console_page__csp_header__no_inline_script_without_nonce(world, browser_client):
    response = browser_client(world.users[Role.ADMIN]).get("/p/acme/settings/")
    policy = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    script_src = re.search(r"script-src ([^;]+)", policy).group(1)
    assert script_src == f"'self' 'nonce-{nonce}'"
    assert "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    # Every script of the page is a file of this origin or carries the nonce
    html = response.content.decode()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or f'nonce="{nonce}"' in tag, tag


def test_each_response__fresh_nonce(world, browser_client):
    client = browser_client(world.users[Role.ADMIN])
    first = client.get("/")["Content-Security-Policy"]
    second = client.get("/")["Content-Security-Policy"]
    assert first != second


def test_json_api__no_html_policy_needed(api, world):
    response = api.get("/console/v1/gates", key=world.keys["console"])
    assert "Content-Security-Policy" not in response


def test_api_docs__own_policy__redoc_from_this_origin(api):
    response = api.get("/console/v1/docs")
    assert response.status_code == 200
    assert "script-src 'self';" in response["Content-Security-Policy"]
    html = response.content.decode()
    assert "/static/vendor/redoc/redoc.standalone.js" in html
    assert "cdn" not in html.lower()
    assert "https://" not in html
