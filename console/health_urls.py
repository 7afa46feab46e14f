"""Mounted at ``/v1/`` (``path("v1/", include("console.health_urls"))``)."""

from django.urls import path

from console import health

urlpatterns = [
    path("ping", health.ping, name="health-ping"),
]
