"""The project's URLs with ``/v1/ping`` mounted, for its tests (whether or not console/urls.py
includes console.health_urls yet)."""

from django.urls import include, path

urlpatterns = [
    path("v1/", include("console.health_urls")),
    path("", include("console.urls")),
]
