"""403 and 404 pages keep the console's shell (``base.html``): navigation bar, skip link, main."""

from __future__ import annotations

import pytest

from console.models import Role

SHELL_MARKERS = ('class="navbar-brand', 'id="main"', "skip-link")


@pytest.fixture
def production_errors(settings):
    """Django renders 403.html / 404.html only when DEBUG is off."""
    settings.DEBUG = False


def test_unknown_page__logged_in__404_inside_the_shell(world, browser_client, production_errors):
    # Given a logged-in member
    client = browser_client(world.users[Role.ADMIN])

    # When they open a page that does not exist
    response = client.get("/p/no-such-project/gates/")

    # Then the 404 page is rendered in the shell
    assert response.status_code == 404
    assert [t.name for t in response.templates][:2] == ["404.html", "base.html"]
    html = response.content.decode()
    assert "Page not found" in html
    for marker in SHELL_MARKERS:
        assert marker in html


def test_admin_action__viewer__403_inside_the_shell(world, browser_client, production_errors):
    # Given a viewer of the project
    client = browser_client(world.users[Role.VIEWER])

    # When they try an action reserved to admins
    response = client.post(f"/p/{world.project.slug}/keys/any-key/deactivate/")

    # Then the 403 page is rendered in the shell, with the project's navigation
    assert response.status_code == 403
    assert [t.name for t in response.templates][:2] == ["403.html", "base.html"]
    html = response.content.decode()
    assert "Access denied" in html
    for marker in SHELL_MARKERS:
        assert marker in html
