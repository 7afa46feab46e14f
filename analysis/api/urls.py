"""``/console/v1/`` routes of the analysis app (included by ``console.api.urls``)."""

from django.urls import path

from analysis.api import metrics, pulse

urlpatterns = [
    path("metrics", metrics.MetricCreateView.as_view(), name="capi-metrics"),
    path("metrics/list", metrics.MetricListView.as_view(), name="capi-metric-list"),
    path("metrics/<str:metric_id>", metrics.MetricDetailView.as_view(), name="capi-metric"),
    path(
        "experiments/<str:experiment_id>/load_pulse",
        pulse.LoadPulseView.as_view(),
        name="capi-experiment-load-pulse",
    ),
    path(
        "experiments/<str:experiment_id>/pulse_results",
        pulse.PulseResultsView.as_view(),
        name="capi-experiment-pulse-results",
    ),
    path(
        "gates/<str:gate_id>/load_pulse",
        pulse.GateLoadPulseView.as_view(),
        name="capi-gate-load-pulse",
    ),
    path(
        "gates/<str:gate_id>/rules/<str:rule_id>/pulse_results",
        pulse.GatePulseResultsView.as_view(),
        name="capi-gate-pulse-results",
    ),
]
