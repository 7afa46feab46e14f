"""Copy-ready code for the official SDKs, pointed at this console: each with its install line,
the key it needs filled in (or a placeholder naming the kind) and the server's address.

The Statsig SDKs take the API base (``<server>/v1``) through their documented option (``api``,
``networkConfig.api``, ``API``); the PostHog SDKs take the server as their host and the project's
client key as the project API key. Pure functions: no request, no database."""

from __future__ import annotations

import json
from dataclasses import dataclass

SERVER_KEY_PLACEHOLDER = "secret-YOUR-SERVER-SECRET"
CLIENT_KEY_PLACEHOLDER = "client-YOUR-CLIENT-KEY"
EXAMPLE_GATE = "my_gate"
EXAMPLE_EVENT = "sdk_connected"
EXAMPLE_USER = "user-1"


@dataclass(frozen=True, slots=True)
class Snippet:
    slug: str
    title: str
    group: str
    language: str
    install: str
    code: str
    key_kind: str  # "server" or "client"


GROUP_BROWSER = "Browser and apps (client key)"
GROUP_STATSIG_SERVER = "Statsig server SDKs (server secret)"
GROUP_POSTHOG = "PostHog SDKs (client key as the project API key)"
GROUPS = (GROUP_BROWSER, GROUP_STATSIG_SERVER, GROUP_POSTHOG)


def _q(value: str) -> str:
    """A string literal valid in JavaScript, Python, Go and Java alike."""
    return json.dumps(value)


def sdk_snippets(*, base_url: str, server_key: str, client_key: str) -> list[Snippet]:
    """Every snippet, grouped in ``GROUPS`` order. ``base_url`` is the console's address
    without a trailing slash."""
    api = _q(f"{base_url}/v1")
    host = _q(base_url)
    server, client = _q(server_key), _q(client_key)
    gate, event, user = _q(EXAMPLE_GATE), _q(EXAMPLE_EVENT), _q(EXAMPLE_USER)
    return [
        Snippet(
            slug="statsig-js-client",
            title="@statsig/js-client",
            group=GROUP_BROWSER,
            language="javascript",
            install="npm install @statsig/js-client",
            key_kind="client",
            code=f"""import {{ StatsigClient }} from "@statsig/js-client";

const client = new StatsigClient({client}, {{ userID: {user} }}, {{
  networkConfig: {{ api: {api} }},
}});
await client.initializeAsync();

if (client.checkGate({gate})) {{
  // the new experience
}}
client.logEvent({event});
""",
        ),
        Snippet(
            slug="posthog-js",
            title="posthog-js",
            group=GROUP_BROWSER,
            language="javascript",
            install="npm install posthog-js",
            key_kind="client",
            code=f"""import posthog from "posthog-js";

posthog.init({client}, {{ api_host: {host} }});
posthog.identify({user});

if (posthog.isFeatureEnabled({gate})) {{
  // the new experience
}}
posthog.capture({event});
""",
        ),
        Snippet(
            slug="statsig-python",
            title="Python (statsig)",
            group=GROUP_STATSIG_SERVER,
            language="python",
            install="pip install statsig",
            key_kind="server",
            code=f"""from statsig import StatsigEvent, StatsigOptions, StatsigUser, statsig

statsig.initialize({server}, StatsigOptions(api={api}))
user = StatsigUser({user})
print(statsig.check_gate(user, {gate}))
statsig.log_event(StatsigEvent(user, {event}))
statsig.shutdown()  # sends the queued events and exposures
""",
        ),
        Snippet(
            slug="statsig-node",
            title="Node (statsig-node)",
            group=GROUP_STATSIG_SERVER,
            language="javascript",
            install="npm install statsig-node",
            key_kind="server",
            code=f"""import Statsig from "statsig-node"; // an ES module: top-level await

await Statsig.initialize({server}, {{ api: {api} }});
const user = {{ userID: {user} }};
console.log(Statsig.checkGateSync(user, {gate}));
Statsig.logEvent(user, {event});
Statsig.shutdown(); // sends the queued events and exposures
""",
        ),
        Snippet(
            slug="statsig-go",
            title="Go (github.com/statsig-io/go-sdk)",
            group=GROUP_STATSIG_SERVER,
            language="go",
            install="go get github.com/statsig-io/go-sdk",
            key_kind="server",
            code=f"""package main

import (
	"fmt"

	statsig "github.com/statsig-io/go-sdk"
)

func main() {{
	statsig.InitializeWithOptions({server}, &statsig.Options{{API: {api}}})
	defer statsig.Shutdown() // sends the queued events and exposures

	user := statsig.User{{UserID: {user}}}
	fmt.Println(statsig.CheckGate(user, {gate}))
	statsig.LogEvent(statsig.Event{{User: user, EventName: {event}}})
}}
""",
        ),
        Snippet(
            slug="statsig-java",
            title="Java / Kotlin (com.statsig:serversdk)",
            group=GROUP_STATSIG_SERVER,
            language="java",
            install='implementation("com.statsig:serversdk:+")  // Gradle; or the Maven artifact',
            key_kind="server",
            code=f"""import com.statsig.sdk.Statsig;
import com.statsig.sdk.StatsigOptions;
import com.statsig.sdk.StatsigUser;

StatsigOptions options = new StatsigOptions();
options.setApi({api});
Statsig.initializeAsync({server}, options).get();

StatsigUser user = new StatsigUser({user});
System.out.println(Statsig.checkGateSync(user, {gate}));
Statsig.logEvent(user, {event});
Statsig.shutdown(); // sends the queued events and exposures
""",
        ),
        Snippet(
            slug="posthog-python",
            title="Python (posthog)",
            group=GROUP_POSTHOG,
            language="python",
            install="pip install posthog",
            key_kind="client",
            code=f"""from posthog import Posthog

posthog = Posthog({client}, host={host})
flags = posthog.evaluate_flags({user})  # one /flags call: every flag for this user
print(flags.is_enabled({gate}))
posthog.capture({event}, distinct_id={user}, flags=flags)
posthog.shutdown()  # sends what is queued before the program ends
""",
        ),
        Snippet(
            slug="posthog-node",
            title="Node (posthog-node)",
            group=GROUP_POSTHOG,
            language="javascript",
            install="npm install posthog-node",
            key_kind="client",
            code=f"""import {{ PostHog }} from "posthog-node"; // an ES module: top-level await

const posthog = new PostHog({client}, {{ host: {host} }});
console.log(await posthog.isFeatureEnabled({gate}, {user}));
posthog.capture({{ distinctId: {user}, event: {event} }});
await posthog.shutdown(); // sends what is queued before the program ends
""",
        ),
    ]
