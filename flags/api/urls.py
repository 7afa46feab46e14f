"""``/console/v1/`` routes of the flags app (included by ``console.api.urls``)."""

from django.urls import path

from flags.api import dynamic_configs, experiments, gates, holdouts, layers, tags
from flags.api.outputs import DYNAMIC_CONFIG, EXPERIMENT, GATE, LAYER
from flags.api.reviews import entity_review_urlpatterns

GATE_ID = "gates/<str:gate_id>"
CONFIG_ID = "dynamic_configs/<str:config_id>"
EXPERIMENT_ID = "experiments/<str:experiment_id>"
LAYER_ID = "layers/<str:layer_id>"
HOLDOUT_ID = "holdouts/<str:holdout_id>"

gate_urls = [
    path("gates", gates.GateListCreateView.as_view(), name="capi-gates"),
    path(GATE_ID, gates.GateDetailView.as_view(), name="capi-gate"),
    path(f"{GATE_ID}/enable", gates.GateEnableView.as_view(), name="capi-gate-enable"),
    path(f"{GATE_ID}/disable", gates.GateDisableView.as_view(), name="capi-gate-disable"),
    path(f"{GATE_ID}/launch", gates.GateLaunchView.as_view(), name="capi-gate-launch"),
    path(f"{GATE_ID}/archive", gates.GateArchiveView.as_view(), name="capi-gate-archive"),
    path(f"{GATE_ID}/unarchive", gates.GateUnarchiveView.as_view(), name="capi-gate-unarchive"),
    path(f"{GATE_ID}/rule", gates.GateRuleAddView.as_view(), name="capi-gate-rule-add"),
    path(f"{GATE_ID}/rules", gates.GateRulesView.as_view(), name="capi-gate-rules"),
    path(
        f"{GATE_ID}/rules/<str:rule_id>",
        gates.GateRuleDetailView.as_view(),
        name="capi-gate-rule",
    ),
    path(f"{GATE_ID}/overrides", gates.GateOverridesView.as_view(), name="capi-gate-overrides"),
    path(f"{GATE_ID}/versions", gates.GateVersionsView.as_view(), name="capi-gate-versions"),
    path(
        f"{GATE_ID}/gate_references",
        gates.GateGateReferencesView.as_view(),
        name="capi-gate-gate-references",
    ),
    path(
        f"{GATE_ID}/experiment_references",
        experiments.GateExperimentReferencesView.as_view(),
        name="capi-gate-experiment-references",
    ),
    path(
        f"{GATE_ID}/dynamic_config_references",
        dynamic_configs.GateConfigReferencesView.as_view(),
        name="capi-gate-dynamic-config-references",
    ),
    *entity_review_urlpatterns("gates", entity_type=GATE, entity_label="Gate"),
]

config_urls = [
    path("dynamic_configs", dynamic_configs.ConfigListCreateView.as_view(), name="capi-configs"),
    path(CONFIG_ID, dynamic_configs.ConfigDetailView.as_view(), name="capi-config"),
    path(
        f"{CONFIG_ID}/enable", dynamic_configs.ConfigEnableView.as_view(), name="capi-config-enable"
    ),
    path(
        f"{CONFIG_ID}/disable",
        dynamic_configs.ConfigDisableView.as_view(),
        name="capi-config-disable",
    ),
    path(
        f"{CONFIG_ID}/archive",
        dynamic_configs.ConfigArchiveView.as_view(),
        name="capi-config-archive",
    ),
    path(
        f"{CONFIG_ID}/unarchive",
        dynamic_configs.ConfigUnarchiveView.as_view(),
        name="capi-config-unarchive",
    ),
    path(f"{CONFIG_ID}/rules", dynamic_configs.ConfigRulesView.as_view(), name="capi-config-rules"),
    path(
        f"{CONFIG_ID}/rule",
        dynamic_configs.ConfigRuleAddView.as_view(),
        name="capi-config-rule-add",
    ),
    path(
        f"{CONFIG_ID}/rule/<str:rule_id>",
        dynamic_configs.ConfigRuleDetailView.as_view(),
        name="capi-config-rule",
    ),
    path(
        f"{CONFIG_ID}/versions",
        dynamic_configs.ConfigVersionsView.as_view(),
        name="capi-config-versions",
    ),
    *entity_review_urlpatterns(
        "dynamic_configs", entity_type=DYNAMIC_CONFIG, entity_label="Dynamic config"
    ),
]

experiment_urls = [
    path("experiments", experiments.ExperimentListCreateView.as_view(), name="capi-experiments"),
    path(EXPERIMENT_ID, experiments.ExperimentDetailView.as_view(), name="capi-experiment"),
    path(
        f"{EXPERIMENT_ID}/versions",
        experiments.ExperimentVersionsView.as_view(),
        name="capi-experiment-versions",
    ),
    *(
        path(
            f"{EXPERIMENT_ID}/{view.transition.api_verb}",
            view.as_view(),
            name=f"capi-experiment-{view.transition.api_verb}",
        )
        for view in experiments.LIFECYCLE_VIEWS
    ),
    *entity_review_urlpatterns("experiments", entity_type=EXPERIMENT, entity_label="Experiment"),
]

layer_urls = [
    path("layers", layers.LayerListCreateView.as_view(), name="capi-layers"),
    path(LAYER_ID, layers.LayerDetailView.as_view(), name="capi-layer"),
    path(
        f"{LAYER_ID}/experiments",
        layers.LayerExperimentsView.as_view(),
        name="capi-layer-experiments",
    ),
    path(f"{LAYER_ID}/overrides", layers.LayerOverridesView.as_view(), name="capi-layer-overrides"),
    *entity_review_urlpatterns("layers", entity_type=LAYER, entity_label="Layer"),
]

holdout_urls = [
    path("holdouts", holdouts.HoldoutListCreateView.as_view(), name="capi-holdouts"),
    path(HOLDOUT_ID, holdouts.HoldoutDetailView.as_view(), name="capi-holdout"),
    path(
        f"{HOLDOUT_ID}/overrides",
        holdouts.HoldoutOverridesView.as_view(),
        name="capi-holdout-overrides",
    ),
]

tag_urls = [
    path("tags", tags.TagListCreateView.as_view(), name="capi-tags"),
    path("tags/<str:tag_id>", tags.TagDetailView.as_view(), name="capi-tag"),
]

urlpatterns = [
    *gate_urls,
    *config_urls,
    *experiment_urls,
    *layer_urls,
    *holdout_urls,
    *tag_urls,
]
