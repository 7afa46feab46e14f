"""Gates, dynamic configs, experiments, layers and holdouts, and the compiled ruleset.

Every entity carries its Statsig id (``slug``: "A Gate" -> ``a_gate``), unique per project, and a
``version`` bumped on every change (reviews and ``expected_version`` compare against it). Rules are
stored in the console shape ``{id, name, passPercentage, conditions, environments, returnValue,
salt}``: ``id`` and ``salt`` are created once per rule and never change unless the user re-salts.
Writes go through ``flags.services``; this module holds tables, constraints and small properties.
"""

from __future__ import annotations

import secrets
import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from console.models import Project

ID_TYPE_MAX = 64
SLUG_MAX = 100
NAME_MAX = 100
DESCRIPTION_MAX = 1000

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def new_salt() -> str:
    return str(uuid.uuid4())


def new_rule_id() -> str:
    """A 22-character base62 id, the shape of Statsig's rule and group ids."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(22))


class GateType(models.TextChoices):
    PERMANENT = "PERMANENT", "Permanent"
    TEMPORARY = "TEMPORARY", "Temporary"


class GateStatus(models.TextChoices):
    IN_PROGRESS = "In Progress", "In progress"
    LAUNCHED = "Launched", "Launched"
    DISABLED = "Disabled", "Disabled"
    ARCHIVED = "Archived", "Archived"


class ConfigStatus(models.TextChoices):
    ENABLED = "Enabled", "Enabled"
    DISABLED = "Disabled", "Disabled"
    ARCHIVED = "Archived", "Archived"


class ExperimentStatus(models.TextChoices):
    SETUP = "setup", "Setup"
    ACTIVE = "active", "Active"
    DECISION_MADE = "decision_made", "Decision made"
    ABANDONED = "abandoned", "Abandoned"
    ARCHIVED = "archived", "Archived"
    # Concluded with the decision deferred (``defer_decision``): everyone gets the default.
    EXPERIMENT_STOPPED = "experiment_stopped", "Concluded, decision deferred"


# Experiments in these states hold their layer buckets; the others gave them back.
EXPERIMENT_STATUSES_HOLDING_BUCKETS = (
    ExperimentStatus.SETUP,
    ExperimentStatus.ACTIVE,
    ExperimentStatus.DECISION_MADE,
    # Kept so that shipping a group later still has the experiment's place in its layer.
    ExperimentStatus.EXPERIMENT_STOPPED,
)


class ParameterType(models.TextChoices):
    STRING = "string", "String"
    NUMBER = "number", "Number"
    BOOLEAN = "boolean", "Boolean"
    OBJECT = "object", "Object"
    ARRAY = "array", "Array"


class FlagEntity(models.Model):
    """What every entity shares: identity, ownership, review settings and the change counter."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    slug = models.CharField(max_length=SLUG_MAX)
    name = models.CharField(max_length=NAME_MAX)
    description = models.TextField(max_length=DESCRIPTION_MAX, blank=True, default="")
    id_type = models.CharField(max_length=ID_TYPE_MAX, default="userID")
    tags = models.JSONField(default=list, blank=True)
    salt = models.CharField(max_length=64, default=new_salt)
    # reviewSettings.requiredReview: the entity asks for review even if the project does not.
    review_required = models.BooleanField(default=False)
    # reviewSettings.allowedReviewers: the ids (``str(user.pk)``, as ``creatorID``) of the
    # members who alone may approve the entity's reviews; empty: any member but the author.
    allowed_reviewers = models.JSONField(default=list, blank=True)
    creator_id = models.CharField(max_length=64, blank=True, default="")
    creator_name = models.CharField(max_length=200, blank=True, default="")
    creator_email = models.CharField(max_length=254, blank=True, default="")
    modifier_id = models.CharField(max_length=64, blank=True, default="")
    modifier_name = models.CharField(max_length=200, blank=True, default="")
    modifier_email = models.CharField(max_length=254, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.slug


def _entity_constraints(prefix: str) -> list[models.BaseConstraint]:
    return [
        models.UniqueConstraint(fields=["project", "slug"], name=f"{prefix}_unique_slug"),
        models.UniqueConstraint(fields=["project", "name"], name=f"{prefix}_unique_name"),
        models.CheckConstraint(condition=~Q(slug=""), name=f"{prefix}_slug_not_empty"),
        models.CheckConstraint(condition=Q(version__gte=1), name=f"{prefix}_version_positive"),
    ]


def _entity_indexes(prefix: str) -> list[models.Index]:
    # List screens: newest first per project, and filtered by id type.
    return [
        models.Index(fields=["project", "-created_at"], name=f"{prefix}_project_created"),
        models.Index(fields=["project", "id_type"], name=f"{prefix}_project_idtype"),
    ]


class Gate(FlagEntity):
    type = models.CharField(max_length=16, choices=GateType.choices, default=GateType.PERMANENT)
    status = models.CharField(
        max_length=16, choices=GateStatus.choices, default=GateStatus.IN_PROGRESS
    )
    is_enabled = models.BooleanField(default=True)
    # [{id, name, passPercentage, conditions, environments, returnValue, salt}], evaluated in order.
    rules = models.JSONField(default=list, blank=True)
    # Statsig's OverrideDto: {passingUserIDs, failingUserIDs, passingCustomIDs, failingCustomIDs,
    # environmentOverrides: [{environment, unitID, passingIDs, failingIDs}]}.
    overrides = models.JSONField(default=dict, blank=True)
    archive_reason = models.TextField(blank=True, default="")
    # Statsig's gate fields nothing here evaluates (isTemplate, monitoringMetrics, team, ...),
    # kept as sent by wire name (``flags.services.gates.GATE_SETTINGS``).
    settings = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["project", "-created_at", "-id"]
        constraints = [
            *_entity_constraints("gate"),
            models.CheckConstraint(
                condition=Q(status__in=GateStatus.values), name="gate_status_valid"
            ),
            models.CheckConstraint(condition=Q(type__in=GateType.values), name="gate_type_valid"),
        ]
        indexes = [
            *_entity_indexes("gate"),
            models.Index(fields=["project", "status"], name="gate_project_status"),
        ]


class DynamicConfig(FlagEntity):
    status = models.CharField(
        max_length=16, choices=ConfigStatus.choices, default=ConfigStatus.ENABLED
    )
    is_enabled = models.BooleanField(default=True)
    default_value = models.JSONField(default=dict, blank=True)
    # Statsig's ``defaultValueJson5``: the default value as the author wrote it (comments,
    # trailing commas), returned verbatim; "" when only ``defaultValue`` was sent.
    default_value_json5 = models.TextField(blank=True, default="")
    # Statsig's config fields nothing here evaluates (isTemplate, team, targetApps), kept as sent
    # (``flags.services.configs.CONFIG_SETTINGS``).
    settings = models.JSONField(default=dict, blank=True)
    # A JSON Schema (2020-12) every value must satisfy; None when the config has none.
    schema = models.JSONField(null=True, blank=True)
    rules = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["project", "-created_at", "-id"]
        constraints = [
            *_entity_constraints("config"),
            models.CheckConstraint(
                condition=Q(status__in=ConfigStatus.values), name="config_status_valid"
            ),
        ]
        indexes = [
            *_entity_indexes("config"),
            models.Index(fields=["project", "status"], name="config_project_status"),
        ]


class Layer(FlagEntity):
    # [{name, type: string|number|boolean|object|array, defaultValue}]
    parameters = models.JSONField(default=list, blank=True)
    # Statsig's LayerOverridesDto, group references resolved to ids: {conditionalOverrides:
    # [{type: gate|segment, name, experimentName, groupName, groupID}], idOverrides: [{groupName,
    # groupID, ids, idType, environment, experimentName}]}.
    overrides = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["project", "-created_at", "-id"]
        constraints = _entity_constraints("layer")
        indexes = _entity_indexes("layer")

    @property
    def default_values(self) -> dict:
        return {p["name"]: p["defaultValue"] for p in self.parameters}


class Experiment(FlagEntity):
    hypothesis = models.TextField(blank=True, default="")
    # [{id, name, size (0–100, sum 100), parameterValues {}, disabled, description}]; ``id`` is
    # created once per group and is the group rule's id and salt.
    groups = models.JSONField(default=list, blank=True)
    control_group_id = models.CharField(max_length=32, blank=True, default="")
    # Percent of the layer (or, outside a layer, of all units) in the experiment; steps of 0.1.
    allocation = models.DecimalField(max_digits=4, decimal_places=1, default=100)
    layer = models.ForeignKey(
        Layer, null=True, blank=True, on_delete=models.PROTECT, related_name="experiments"
    )
    # The layer buckets (0–999, by the layer's salt) this experiment owns; outside a layer, the
    # buckets of its own allocation salt. Assigned by the service, stable while it runs.
    buckets = models.JSONField(default=list, blank=True)
    # The salt of the implicit layer of an experiment outside a layer (allocation buckets).
    allocation_salt = models.CharField(max_length=64, default=new_salt)
    targeting_gate = models.ForeignKey(
        Gate, null=True, blank=True, on_delete=models.PROTECT, related_name="targeted_experiments"
    )
    status = models.CharField(
        max_length=32, choices=ExperimentStatus.choices, default=ExperimentStatus.SETUP
    )
    launched_group_id = models.CharField(max_length=32, blank=True, default="")
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    decision_time = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True, default="")
    scheduled_start_time = models.DateTimeField(null=True, blank=True)
    archive_reason = models.TextField(blank=True, default="")
    # Statsig's ExperimentOverridesDto: {overrides: [{type: gate|segment, id, groupID,
    # environment}], userIDOverrides: [{groupID, ids, environment, unitType}]}.
    overrides = models.JSONField(default=dict, blank=True)
    # Statsig's experiment settings nothing here evaluates, kept as sent and returned by wire
    # name (``duration``, ``targetExposures``, ``links``, ``team``, ...;
    # ``flags.services.experiments.settings`` lists them).
    settings = models.JSONField(default=dict, blank=True)
    # Analysis settings read by Pulse (the analysis app): metrics as [{name, type}].
    primary_metrics = models.JSONField(default=list, blank=True)
    secondary_metrics = models.JSONField(default=list, blank=True)
    bonferroni_correction = models.BooleanField(default=False)
    default_confidence_interval = models.PositiveSmallIntegerField(default=95)

    class Meta:
        ordering = ["project", "-created_at", "-id"]
        constraints = [
            *_entity_constraints("experiment"),
            models.CheckConstraint(
                condition=Q(status__in=ExperimentStatus.values), name="experiment_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(allocation__gte=0) & Q(allocation__lte=100),
                name="experiment_allocation_range",
            ),
        ]
        indexes = [
            *_entity_indexes("experiment"),
            models.Index(fields=["project", "status"], name="experiment_project_status"),
            # The scheduled-start job: experiments waiting to start, by time.
            models.Index(
                fields=["scheduled_start_time"],
                condition=Q(status="setup", scheduled_start_time__isnull=False),
                name="experiment_scheduled_start",
            ),
        ]

    def group(self, group_id: str) -> dict | None:
        return next((g for g in self.groups if g["id"] == group_id), None)


class Holdout(FlagEntity):
    is_enabled = models.BooleanField(default=True)
    pass_percentage = models.DecimalField(max_digits=4, decimal_places=2, default=0)
    # "Applied to all new gates, experiments and layers" (Statsig's isGlobal).
    is_global = models.BooleanField(default=False)
    # The holdout's own rule id, created once (Statsig: "<id>:<percent>:1").
    rule_key = models.CharField(max_length=32, default=new_rule_id)
    gates = models.ManyToManyField(Gate, blank=True, related_name="holdouts")
    experiments = models.ManyToManyField(Experiment, blank=True, related_name="holdouts")
    layers = models.ManyToManyField(Layer, blank=True, related_name="holdouts")
    overrides = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["project", "-created_at", "-id"]
        constraints = [
            *_entity_constraints("holdout"),
            models.CheckConstraint(
                condition=Q(pass_percentage__gte=0) & Q(pass_percentage__lte=10),
                name="holdout_percentage_range",
            ),
        ]
        indexes = _entity_indexes("holdout")


class CompiledRuleset(models.Model):
    """One compiled ``download_config_specs`` document per rebuild; the newest per project is
    served. ``time`` (epoch ms) strictly increases per project: SDKs reject older times."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    time = models.BigIntegerField()
    payload = models.JSONField()
    source_revision = models.PositiveBigIntegerField(
        default=0,
        help_text="The project's ruleset_revision compiled here; a newer one means a lost rebuild.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "-time"]
        # The unique constraint's index also serves "newest ruleset of a project".
        constraints = [
            models.UniqueConstraint(fields=["project", "time"], name="ruleset_unique_time")
        ]

    def __str__(self) -> str:
        return f"ruleset {self.project_id}@{self.time}"


class EntityVersion(models.Model):
    """The state of a gate, config, experiment, layer or holdout at one of its versions, written
    with every change (``GET /gates/{id}/versions``). ``snapshot`` holds the model's fields."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    entity_type = models.CharField(max_length=32)
    entity_id = models.CharField(max_length=SLUG_MAX)
    version = models.PositiveIntegerField()
    snapshot = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "entity_type", "entity_id", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "entity_type", "entity_id", "version"],
                name="entity_version_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.entity_type} {self.entity_id} v{self.version}"


class Tag(models.Model):
    """A project's tag (Statsig's ``/console/v1/tags``). Entities carry tags by name."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    public_id = models.CharField(max_length=32, unique=True, default=new_rule_id)
    name = models.CharField(max_length=100)
    description = models.TextField(max_length=1000, blank=True, default="")
    is_core = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "name"]
        constraints = [models.UniqueConstraint(Lower("name"), "project", name="tag_unique_name_ci")]

    def __str__(self) -> str:
        return self.name
