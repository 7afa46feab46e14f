"""In a real browser: console screens raise no Content-Security-Policy violation, and the API docs
page renders Redoc from this server's static file with every other origin blocked (offline)."""

from __future__ import annotations

import pytest

from console.models import Role

SCREENS = ["/", "/p/acme/gates/", "/p/acme/gates/new/", "/p/acme/settings/", "/p/acme/keys/"]


def _block_other_origins(page, live_server) -> list[str]:
    blocked: list[str] = []

    def route(request_route):
        if request_route.request.url.startswith(live_server.url):
            request_route.continue_()
        else:
            blocked.append(request_route.request.url)
            request_route.abort()

    page.context.route("**/*", route)
    return blocked


def _csp_violations(page) -> list[str]:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return violations


@pytest.mark.browser
def test_console_screens__under_csp__no_violation(logged_in_page, world, live_server):
    page = logged_in_page(world.users[Role.ADMIN])
    violations = _csp_violations(page)
    for path in SCREENS:
        page.goto(path)
        page.wait_for_load_state("networkidle")
    assert violations == []


@pytest.mark.browser
def test_api_docs__offline__redoc_from_static_file_renders(page, world, live_server):
    blocked = _block_other_origins(page, live_server)
    violations = _csp_violations(page)

    response = page.goto("/console/v1/docs")

    assert "script-src 'self'" in response.headers["content-security-policy"]
    # Redoc rendered this server's document: its title and the operations
    page.get_by_text("Download OpenAPI specification").wait_for()
    assert "GET/console/v1/gates" in page.inner_text("body").replace(" ", "").replace("\n", "")
    assert blocked == []
    # Redoc's footer links a logo from Redocly's CDN: the policy blocks it, nothing else
    assert [v for v in violations if "Loading the image" not in v] == []
