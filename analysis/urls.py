"""Browser screens of the analysis app, under ``p/<project_slug>/``."""

from django.urls import path

from analysis import views

P = "p/<slug:project_slug>/"

urlpatterns = [
    path(P + "metrics/", views.metric_list, name="metric-list"),
    path(P + "metrics/new/", views.metric_create, name="metric-create"),
    path(P + "metrics/<str:metric_id>/", views.metric_detail, name="metric-detail"),
    path(P + "metrics/<str:metric_id>/delete/", views.metric_delete, name="metric-delete"),
    path(
        P + "experiments/<str:experiment_id>/results/",
        views.experiment_results,
        name="experiment-results",
    ),
    path(
        P + "experiments/<str:experiment_id>/results/metrics/",
        views.experiment_metrics_set,
        name="experiment-metrics-set",
    ),
    path(
        P + "experiments/<str:experiment_id>/results/recompute/",
        views.experiment_results_recompute,
        name="experiment-results-recompute",
    ),
    path(P + "gates/<str:gate_id>/results/", views.gate_results, name="gate-results"),
    path(
        P + "gates/<str:gate_id>/results/recompute/",
        views.gate_results_recompute,
        name="gate-results-recompute",
    ),
]
