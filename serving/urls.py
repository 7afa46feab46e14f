"""The data plane's routes: Statsig's HTTP API, ruleset download and ID lists under ``/v1/``
(``statsig_urlpatterns``), PostHog's flag endpoints at the root (``posthog_urlpatterns``)."""

from django.urls import path, re_path

from serving import client_sdk, health, idlists, posthog, server_core, statsig

statsig_urlpatterns = [
    path("ping", health.ping, name="health-ping"),
    path("initialize", client_sdk.initialize_view, name="statsig-initialize"),
    path("check_gate", statsig.check_gate, name="statsig-check-gate"),
    path("get_config", statsig.get_config, name="statsig-get-config"),
    path("get_layer", statsig.get_layer, name="statsig-get-layer"),
    path(
        "download_config_specs/<str:sdk_key>.json",
        statsig.download_config_specs,
        name="statsig-download-config-specs-key",
    ),
    path(
        "download_config_specs",
        statsig.download_config_specs,
        name="statsig-download-config-specs",
    ),
    path("get_id_lists", idlists.get_id_lists, name="sdk-get-id-lists"),
    path("id_list_file/<str:file_id>", idlists.id_list_file, name="sdk-id-list-file"),
]

# Under /v2/: the server-core SDKs' ruleset download.
v2_urlpatterns = [
    path(
        "download_config_specs/<str:sdk_key>.json",
        server_core.download_config_specs_v2,
        name="statsig-download-config-specs-v2",
    ),
]

posthog_urlpatterns = [
    re_path(r"^decide/?$", posthog.decide, name="posthog-decide"),
    re_path(r"^flags/definitions/?$", posthog.flag_definitions, name="posthog-flag-definitions"),
    re_path(r"^flags/?$", posthog.feature_flags, name="posthog-flags"),
    re_path(
        r"^api/feature_flag/local_evaluation/?$",
        posthog.flag_definitions,
        name="posthog-local-evaluation",
    ),
]
