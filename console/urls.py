"""Django's URLs: the console, its API and the browser screens. The data-plane routes (Statsig's
``/v1/`` SDK endpoints, PostHog's) are not here: ``console.wsgi``'s dispatcher answers them
(``console.routes``)."""

from django.urls import include, path

urlpatterns = [
    path("console/v1/", include("console.api.urls")),
    path("", include("console.web.urls")),
    # Before flags: its experiments/<id>/<action>/ would take experiments/<id>/results/.
    path("", include("analysis.urls")),
    path("", include("flags.urls")),
    path("", include("events.urls")),
    path("", include("segments.urls")),
    path("", include("privacy.urls")),
]
