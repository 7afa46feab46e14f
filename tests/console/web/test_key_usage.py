"""Keys' "last used" is as fresh as the shared cache knows, and the key list refreshes it in
place."""

from __future__ import annotations

from django.urls import reverse

from console.models import ApiKey, Role


def log_one_event(api, key: str):
    response = api.post(
        "/v1/log_event", {"events": [{"eventName": "e", "user": {"userID": "u"}}]}, key=key
    )
    assert response.status_code in (200, 202)


def test_key_list__key_just_used__shows_just_now_before_the_minute_flush(
    api, browser_client, world
):
    server_key = ApiKey.objects.get(project=world.project, kind="server")
    # When an SDK uses the server key
    log_one_event(api, world.keys["server"])
    # Then its stored time is not written yet (the beat job does that every minute)
    server_key.refresh_from_db()
    assert server_key.last_used_at is None
    # But the key list already says it was used just now, and the others never
    body = (
        browser_client(world.users[Role.VIEWER])
        .get(reverse("key-list", args=[world.project.slug]))
        .content.decode()
    )
    row = body.split(f'id="last-used-{server_key.public_id}"', 1)[1].split("</span>", 1)[0]
    assert "just now" in row
    client_key = ApiKey.objects.get(project=world.project, kind="client")
    other = body.split(f'id="last-used-{client_key.public_id}"', 1)[1].split("</span>", 1)[0]
    assert "—" in other
    # And the page polls for fresh times
    assert 'hx-trigger="every 10s"' in body


def test_key_usage__poll__one_out_of_band_cell_per_key_of_the_page(api, browser_client, world):
    log_one_event(api, world.keys["client"])
    response = browser_client(world.users[Role.VIEWER]).get(
        reverse("key-usage", args=[world.project.slug]), headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    keys = ApiKey.objects.filter(project=world.project)
    assert body.count('hx-swap-oob="true"') == keys.count()
    client_key = keys.get(kind="client")
    cell = body.split(f'id="last-used-{client_key.public_id}"', 1)[1].split("</span>", 1)[0]
    assert "just now" in cell


def test_key_usage__other_project__404(browser_client, world, other_world):
    response = browser_client(world.users[Role.ADMIN]).get(
        reverse("key-usage", args=[other_world.project.slug])
    )
    assert response.status_code == 404
