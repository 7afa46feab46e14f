"""Client-side SDKs from their registries against a live server: ``@statsig/js-client`` in real
Chromium (``/v1/initialize``, ``/v1/rgstr``) and ``posthog-node`` (``/flags``, ``/batch``). Each
answers every gate, config, experiment and layer as our HTTP API does for the same user, and what
it logs (its events and the exposures of the values the page read) lands in the store."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from events.models import Event, EventSource, Exposure
from tests.chromium import TIMEOUT_MS
from tests.sdks.conftest import reference_answers, sdk_job, wait_for
from tests.sdks.world import sdk_users

pytestmark = pytest.mark.django_db(transaction=True)

PAGE_HTML = (
    b"<!doctype html><html><head><script src='/statsig-js-client.min.js'></script></head></html>"
)
JS_CLIENT_USERS = 8

# Runs in the page: one client, every user in turn (``updateUserAsync`` fetches /v1/initialize),
# every value read (each read queues its exposure), one event per user, then shutdown (flush).
DRIVE_JS_CLIENT = """
async ({key, base, users, gates, configs, experiments, layers, event}) => {
  const client = new window.Statsig.StatsigClient(key, users[0], {networkConfig: {api: base}});
  await client.initializeAsync();
  const answers = [];
  for (const user of users) {
    await client.updateUserAsync(user);
    answers.push({
      source: client.getFeatureGate(gates[0]).details.reason,
      gates: Object.fromEntries(gates.map((g) => [g, client.checkGate(g)])),
      configs: Object.fromEntries(configs.map((c) => [c, client.getDynamicConfig(c).value])),
      experiments: Object.fromEntries(experiments.map((e) => [e, client.getExperiment(e).value])),
      layers: Object.fromEntries(Object.entries(layers).map(([l, params]) => {
        const layer = client.getLayer(l);
        return [l, Object.fromEntries(params.map((p) => [p, layer.get(p, null)]))];
      })),
    });
    client.logEvent(event, 1, {sdk: "js-client"});
  }
  await client.shutdown();
  return answers;
}
"""


@pytest.fixture
def page_origin(node_modules) -> Iterator[str]:
    """Another origin than the API's (as an application's pages are), on loopback: an HTTP server
    of its own serving the page and the js-client bundle, so every SDK call is cross-origin."""
    files = {
        "/index.html": (PAGE_HTML, "text/html"),
        "/statsig-js-client.min.js": (
            (node_modules / "@statsig/js-client/build/statsig-js-client.min.js").read_bytes(),
            "application/javascript",
        ),
    }

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, content_type = files.get(self.path, (b"", "text/plain"))
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.browser
def test_js_client__in_chromium__agrees_with_http_api_and_logs(
    world, sdk_world, live_base, page_origin, browser
):
    # Given the SDK world, and a page on another origin that loads the js-client from npm
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    # Nothing leaves the machine: Statsig's default hosts and DNS fallbacks are refused.
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
    page = context.new_page()
    failed: list[str] = []
    page.on(
        "response",
        lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    page.goto(f"{page_origin}/index.html")
    browser_agent = page.evaluate("navigator.userAgent")
    users = sdk_users()[:JS_CLIENT_USERS]
    job = sdk_job(
        "js-client", f"{live_base}/v1", world.keys["client"], users, sdk_world, "sdk_test_js"
    )

    # When the client initialises for each user, reads every value and logs an event
    try:
        answers = page.evaluate(DRIVE_JS_CLIENT, job)
    finally:
        context.close()

    # Then every value came from the network and equals our HTTP API's answer for the user as
    # the server saw it (the request's address and user agent where the user brings none)
    assert failed == []
    seen_by_server = [{"ip": "127.0.0.1", "userAgent": browser_agent, **user} for user in users]
    expected = reference_answers(live_base, world.keys["server"], seen_by_server, sdk_world)
    for user, answer, reference in zip(users, answers, expected, strict=True):
        # (NetworkNotModified: has_updates false for the user it already had)
        assert answer.pop("source") in {"Network:Recognized", "NetworkNotModified:Recognized"}
        assert answer == reference, user
    # And its events and the exposures of what it read are stored
    project = world.project
    assert wait_for(
        lambda: Event.objects.filter(project=project, name="sdk_test_js").count() == len(users)
    )
    assert {e.user_id for e in Event.objects.filter(project=project, name="sdk_test_js")} == {
        user["userID"] for user in users
    }
    exposures = Exposure.objects.filter(project=project, source=EventSource.STATSIG_SDK)
    exposed = set(exposures.values_list("kind", "name"))
    assert {("gate", gate) for gate in sdk_world.gates} <= exposed
    assert ("config", "checkout") in exposed
    assert ("layer", "homepage") in exposed
    assert set(exposures.values_list("user_id", flat=True)) == {u["userID"] for u in users}


def test_posthog_node__flags_and_capture__agree_and_land(world, sdk_world, live_base, run_node_sdk):
    # Given people as PostHog sees them: a distinct id, person properties and a company group
    users = [u for u in sdk_users() if "statsigEnvironment" not in u]
    people = [
        {
            "distinctId": user["userID"],
            "properties": {
                **{k: user[k] for k in ("email", "ip", "userAgent", "country") if k in user},
                **user.get("custom", {}),
            },
            "groups": user.get("customIDs", {}),
        }
        for user in users
    ]
    job = {**sdk_job("posthog-node", live_base, world.keys["client"], people, sdk_world, "")}
    job["event"] = "sdk_test_posthog_node"

    # When posthog-node reads every gate and experiment as flags and captures an event
    answers = run_node_sdk(job)

    # Then a gate is on exactly when /v1/check_gate passes, an experiment's variant is its group
    statsig_users = [
        {
            "userID": person["distinctId"],
            **{k: v for k, v in user.items() if k in ("email", "ip", "userAgent", "country")},
            "custom": user.get("custom", {}),
            "customIDs": user.get("customIDs", {}),
        }
        for person, user in zip(people, users, strict=True)
    ]
    expected = reference_answers(live_base, world.keys["server"], statsig_users, sdk_world)
    groups = _experiment_groups(live_base, world.keys["server"], statsig_users)
    for user, answer, reference, group in zip(users, answers, expected, groups, strict=True):
        for gate in sdk_world.gates:
            assert answer["flags"][gate] is reference["gates"][gate], (user, gate)
        for experiment in sdk_world.experiments:
            assert answer["flags"][experiment] == group[experiment], (user, experiment)
    # And the captured events are stored
    assert wait_for(
        lambda: (
            Event.objects.filter(project=world.project, name="sdk_test_posthog_node").count()
            == len(people)
        )
    )


def _experiment_groups(base: str, key: str, users: list[dict]) -> list[dict]:
    import requests

    groups = []
    for user in users:
        answer = {}
        for experiment in ("checkout", "banner"):
            response = requests.post(
                f"{base}/v1/get_config",
                json={
                    "user": user,
                    "configName": experiment,
                    "statsigMetadata": {"exposureLoggingDisabled": True},
                },
                headers={"STATSIG-API-KEY": key},
                timeout=10,
            )
            # PostHog answers False for a user outside the experiment, else the group's name.
            answer[experiment] = response.json()["group_name"] or False
        groups.append(answer)
    return groups
