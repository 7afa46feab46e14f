"""The data plane's routes: Statsig's HTTP API, the ruleset download and ID lists under
``/v1/``; PostHog's flag endpoints at the root. ``console.wsgi`` serves them (with
``events.ingest.routes`` and ``privacy.api.routes``) ahead of Django."""

from console import wire
from serving import client_sdk, health, idlists, posthog, server_core, statsig

# PostHog's browser SDK calls these with or without the trailing slash.
_POSTHOG = {"protocol": wire.POSTHOG, "cors": True, "trailing_slash": True}

ROUTES = [
    wire.Route("/v1/ping", health.ping, methods=("GET", "POST"), cors=True),
    wire.Route("/v1/check_gate", statsig.check_gate, cors=True),
    wire.Route("/v1/get_config", statsig.get_config, cors=True),
    wire.Route("/v1/get_layer", statsig.get_layer, cors=True),
    wire.Route("/v1/download_config_specs", statsig.download_config_specs, methods=("GET", "POST")),
    wire.Route(
        "/v1/download_config_specs/{sdk_key}.json",
        statsig.download_config_specs,
        methods=("GET", "POST"),
    ),
    # Client SDKs (@statsig/js-client) initialise here, from browsers.
    wire.Route("/v1/initialize", client_sdk.initialize_endpoint, cors=True),
    # The server-core SDKs (Statsig's Rust core) download the v2 document.
    wire.Route(
        "/v2/download_config_specs/{sdk_key}.json",
        server_core.download_config_specs_v2,
        methods=("GET",),
    ),
    wire.Route("/v1/get_id_lists", idlists.get_id_lists, database=True),
    wire.Route(idlists.FILE_PATH, idlists.id_list_file, methods=("GET",), database=True),
    wire.Route(
        "/decide", posthog.decide, methods=("GET", "POST", "HEAD"), database=True, **_POSTHOG
    ),
    wire.Route(
        "/flags", posthog.feature_flags, methods=("GET", "POST", "HEAD"), database=True, **_POSTHOG
    ),
    wire.Route("/flags/definitions", posthog.flag_definitions, methods=("GET",), **_POSTHOG),
    wire.Route(
        "/api/feature_flag/local_evaluation",
        posthog.flag_definitions,
        methods=("GET",),
        **_POSTHOG,
    ),
]
