"""Statsig's HTTP API and ruleset download, mounted at ``/v1/``."""

from django.urls import path

from flags.sdk import views

urlpatterns = [
    path("check_gate", views.check_gate, name="statsig-check-gate"),
    path("get_config", views.get_config, name="statsig-get-config"),
    path("get_layer", views.get_layer, name="statsig-get-layer"),
    path(
        "download_config_specs/<str:sdk_key>.json",
        views.download_config_specs,
        name="statsig-download-config-specs-key",
    ),
    path(
        "download_config_specs",
        views.download_config_specs,
        name="statsig-download-config-specs",
    ),
]
