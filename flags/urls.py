"""Browser screens of gates, dynamic configs, experiments, layers, holdouts and events, under
``p/<project_slug>/``. The navigation shows each area once its ``<area>-list`` name resolves."""

from django.urls import path

from flags.views import configs, experiments, gates, holdouts, layers

P = "p/<slug:project_slug>/"

urlpatterns = [
    path(P + "gates/", gates.gate_list, name="gate-list"),
    path(P + "gates/new/", gates.gate_create, name="gate-create"),
    path(P + "gates/<str:gate_id>/", gates.gate_detail, name="gate-detail"),
    path(P + "gates/<str:gate_id>/delete/", gates.gate_delete, name="gate-delete"),
    path(P + "gates/<str:gate_id>/test/", gates.gate_test, name="gate-test"),
    path(P + "gates/<str:gate_id>/overrides/", gates.gate_overrides, name="gate-overrides"),
    path(P + "gates/<str:gate_id>/<slug:action>/", gates.gate_action, name="gate-action"),
    path(P + "configs/", configs.config_list, name="config-list"),
    path(P + "configs/new/", configs.config_create, name="config-create"),
    path(P + "configs/<str:config_id>/", configs.config_detail, name="config-detail"),
    path(P + "configs/<str:config_id>/delete/", configs.config_delete, name="config-delete"),
    path(P + "configs/<str:config_id>/test/", configs.config_test, name="config-test"),
    path(
        P + "configs/<str:config_id>/<slug:action>/",
        configs.config_action,
        name="config-action",
    ),
    path(P + "experiments/", experiments.experiment_list, name="experiment-list"),
    path(P + "experiments/new/", experiments.experiment_create, name="experiment-create"),
    path(
        P + "experiments/<str:experiment_id>/",
        experiments.experiment_detail,
        name="experiment-detail",
    ),
    path(
        P + "experiments/<str:experiment_id>/delete/",
        experiments.experiment_delete,
        name="experiment-delete",
    ),
    path(
        P + "experiments/<str:experiment_id>/test/",
        experiments.experiment_test,
        name="experiment-test",
    ),
    *(
        path(
            P + f"experiments/<str:experiment_id>/{form_name}/",
            experiments.experiment_form,
            {"form_name": form_name},
            name=f"experiment-{form_name}",
        )
        for form_name in experiments.FORMS
    ),
    path(
        P + "experiments/<str:experiment_id>/<slug:action>/",
        experiments.experiment_action,
        name="experiment-action",
    ),
    path(P + "layers/", layers.layer_list, name="layer-list"),
    path(P + "layers/new/", layers.layer_create, name="layer-create"),
    path(P + "layers/<str:layer_id>/", layers.layer_detail, name="layer-detail"),
    path(P + "layers/<str:layer_id>/delete/", layers.layer_delete, name="layer-delete"),
    path(P + "layers/<str:layer_id>/test/", layers.layer_test, name="layer-test"),
    path(P + "holdouts/", holdouts.holdout_list, name="holdout-list"),
    path(P + "holdouts/new/", holdouts.holdout_create, name="holdout-create"),
    path(P + "holdouts/<str:holdout_id>/", holdouts.holdout_detail, name="holdout-detail"),
    path(P + "holdouts/<str:holdout_id>/delete/", holdouts.holdout_delete, name="holdout-delete"),
    path(P + "holdouts/<str:holdout_id>/toggle/", holdouts.holdout_toggle, name="holdout-toggle"),
]
