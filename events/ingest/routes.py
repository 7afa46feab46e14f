"""Ingestion routes: Statsig's event endpoints under ``/v1/`` and PostHog's capture endpoints
at the root, all called by browser SDKs too (CORS), all writing to the database."""

from console import wire
from events.ingest import posthog, sdk_exceptions, statsig

_STATSIG = {"protocol": wire.STATSIG_EVENTS, "cors": True, "database": True}
_POSTHOG = {
    "methods": ("GET", "POST"),
    "protocol": wire.POSTHOG,
    "cors": True,
    "database": True,
    "trailing_slash": True,
}

ROUTES = [
    wire.Route("/v1/log_event", statsig.log_event, **_STATSIG),
    wire.Route("/v1/log_custom_exposure", statsig.log_custom_exposure, **_STATSIG),
    # The js-client's event endpoint: log_event's body, its key in the query for sendBeacon.
    wire.Route("/v1/rgstr", statsig.log_event, **_STATSIG),
    wire.Route(
        "/v1/sdk_exception", sdk_exceptions.sdk_exception, protocol=wire.STATSIG_EVENTS, cors=True
    ),
    wire.Route("/batch", posthog.batch, **_POSTHOG),
    *(
        wire.Route(path, posthog.capture, **_POSTHOG)
        for path in ("/capture", "/e", "/i/v0/e", "/track")
    ),
]
