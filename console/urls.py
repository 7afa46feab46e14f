from django.urls import include, path

from events.ingest import urls as ingest_urls
from serving import urls as serving_urls

urlpatterns = [
    path("console/v1/", include("console.api.urls")),
    path("v1/", include(serving_urls.statsig_urlpatterns)),
    path("v1/", include(ingest_urls.statsig_urlpatterns)),
    path("v1/", include("privacy.api.urls")),
    path("v2/", include(serving_urls.v2_urlpatterns)),
    path("", include(serving_urls.posthog_urlpatterns)),
    path("", include(ingest_urls.posthog_urlpatterns)),
    path("", include("console.web.urls")),
    path("", include("flags.urls")),
    path("", include("events.urls")),
    path("", include("segments.urls")),
    path("", include("privacy.urls")),
]
