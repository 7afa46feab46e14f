from django.urls import include, path

urlpatterns = [
    path("console/v1/", include("console.api.urls")),
    path("v1/", include("flags.sdk.urls")),
    path("v1/", include("flags.ingest.urls")),
    path("v1/", include("segments.sdk.urls")),
    path("v1/", include("privacy.api.urls")),
    path("v1/", include("console.health_urls")),
    path("", include("flags.posthog.urls")),
    path("", include("console.browser_urls")),
    path("", include("flags.urls")),
    path("", include("segments.urls")),
    path("", include("privacy.urls")),
]
