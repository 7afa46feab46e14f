"""Browser screens of gates, dynamic configs, experiments, layers, holdouts and events, under
``p/<project_slug>/``. The navigation shows each area once its ``<area>-list`` name resolves."""

from django.urls import path

from console.web.entities import Screen
from flags.views import configs, experiments, gates, generic, holdouts, layers

P = "p/<slug:project_slug>/"


def generic_urls(prefix: str, screen: Screen) -> list:
    """The list, delete and versions screens of a kind, read from its screen and descriptor."""
    return [
        path(P + f"{prefix}/", generic.entity_list, {"screen": screen}, name=screen.list_url_name),
        path(
            P + f"{prefix}/<str:entity_id>/delete/",
            generic.entity_delete,
            {"screen": screen},
            name=f"{screen.url_name}-delete",
        ),
        *version_urls(
            P + prefix, generic.VersionsScreen(screen.kind, screen.noun, screen.url_name)
        ),
    ]


def reviewer_urls(prefix: str, screen: Screen) -> list:
    """The allowed-reviewers page of a kind whose reviews may be limited to some members."""
    return [
        path(
            P + f"{prefix}/<str:entity_id>/reviewers/",
            generic.entity_reviewers,
            {"screen": screen},
            name=f"{screen.url_name}-reviewers",
        )
    ]


def version_urls(prefix: str, screen: generic.VersionsScreen) -> list:
    """The versions page of a kind and its "Restore this version" (``prefix``: the path of the
    kind's list, e.g. ``p/<project_slug>/gates``)."""
    return [
        path(
            f"{prefix}/<str:entity_id>/versions/",
            generic.entity_versions,
            {"screen": screen},
            name=screen.versions_url_name,
        ),
        path(
            f"{prefix}/<str:entity_id>/versions/<int:version>/restore/",
            generic.entity_restore,
            {"screen": screen},
            name=screen.restore_url_name,
        ),
    ]


urlpatterns = [
    *generic_urls("gates", gates.SCREEN),
    *reviewer_urls("gates", gates.SCREEN),
    path(P + "gates/new/", gates.gate_create, name="gate-create"),
    path(P + "gates/<str:gate_id>/", gates.gate_detail, name="gate-detail"),
    path(P + "gates/<str:gate_id>/test/", gates.gate_test, name="gate-test"),
    path(P + "gates/<str:gate_id>/overrides/", gates.gate_overrides, name="gate-overrides"),
    path(P + "gates/<str:gate_id>/<slug:action>/", gates.gate_action, name="gate-action"),
    *generic_urls("configs", configs.SCREEN),
    *reviewer_urls("configs", configs.SCREEN),
    path(P + "configs/new/", configs.config_create, name="config-create"),
    path(P + "configs/<str:config_id>/", configs.config_detail, name="config-detail"),
    path(P + "configs/<str:config_id>/test/", configs.config_test, name="config-test"),
    path(
        P + "configs/<str:config_id>/<slug:action>/",
        configs.config_action,
        name="config-action",
    ),
    *generic_urls("experiments", experiments.SCREEN),
    *reviewer_urls("experiments", experiments.SCREEN),
    path(P + "experiments/new/", experiments.experiment_create, name="experiment-create"),
    path(
        P + "experiments/<str:experiment_id>/",
        experiments.experiment_detail,
        name="experiment-detail",
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
    *generic_urls("layers", layers.SCREEN),
    *reviewer_urls("layers", layers.SCREEN),
    path(P + "layers/new/", layers.layer_create, name="layer-create"),
    path(P + "layers/<str:layer_id>/", layers.layer_detail, name="layer-detail"),
    path(P + "layers/<str:layer_id>/test/", layers.layer_test, name="layer-test"),
    *generic_urls("holdouts", holdouts.SCREEN),
    path(P + "holdouts/new/", holdouts.holdout_create, name="holdout-create"),
    path(P + "holdouts/<str:holdout_id>/", holdouts.holdout_detail, name="holdout-detail"),
    path(P + "holdouts/<str:holdout_id>/toggle/", holdouts.holdout_toggle, name="holdout-toggle"),
]
