"""Ingestion routes: Statsig's event endpoints under ``/v1/`` (``statsig_urlpatterns``) and
PostHog's capture endpoints at the root (``posthog_urlpatterns``)."""

from django.urls import path, re_path

from events.ingest import posthog, sdk_exceptions, statsig

statsig_urlpatterns = [
    path("log_event", statsig.log_event, name="statsig-log-event"),
    path("rgstr", statsig.log_event, name="statsig-rgstr"),
    path("sdk_exception", sdk_exceptions.sdk_exception, name="statsig-sdk-exception"),
    path("log_custom_exposure", statsig.log_custom_exposure, name="statsig-log-custom-exposure"),
]

posthog_urlpatterns = [
    re_path(r"^batch/?$", posthog.capture, {"route": "batch"}, name="posthog-batch"),
    re_path(r"^(?:capture|e|i/v0/e|track)/?$", posthog.capture, name="posthog-capture"),
]
