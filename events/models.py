"""The event store: events, exposures, persons, groups and dropped-event counters.

Events and exposures are written in bulk (COPY on PostgreSQL) and read by day; on PostgreSQL both
are range-partitioned by month on ``time`` (see ``flags/events/partitioning.py`` and
``docs/events.md``), so Django's ``id`` is unique but the table's primary key is ``(id, time)``.
Neither table has a foreign-key constraint to the project: a check per inserted row is the price
of a constraint, and deleting a project deletes its rows with one set-based statement anyway.
"""

from __future__ import annotations

import uuid

from django.db import models

from console.models import Project

MAX_NAME_LENGTH = 400
MAX_ID_LENGTH = 400


class EventSource(models.TextChoices):
    STATSIG_HTTP = "statsig_http", "Statsig HTTP API"
    STATSIG_SDK = "statsig_sdk", "Statsig SDK"
    CUSTOM = "custom", "Custom exposure"
    POSTHOG = "posthog", "PostHog"


class ExposureKind(models.TextChoices):
    GATE = "gate", "Gate"
    CONFIG = "config", "Dynamic config or experiment"
    LAYER = "layer", "Layer"


class DropReason(models.TextChoices):
    INVALID_EVENT = "invalid_event", "Not an object"
    MISSING_EVENT_NAME = "missing_event_name", "No event name"
    MISSING_UNIT_ID = "missing_unit_id", "No user id or custom id"
    MISSING_DISTINCT_ID = "missing_distinct_id", "No distinct_id"
    MISSING_EXPOSURE_NAME = "missing_exposure_name", "No gate, config or experiment name"
    SDK_DIAGNOSTICS = "sdk_diagnostics", "SDK diagnostics event (not stored)"
    BUFFER_FULL = "buffer_full", "Exposure buffer full"
    BUFFER_WRITE_FAILED = "buffer_write_failed", "Exposure buffer could not be written"


def _project_fk(related_name: str) -> models.ForeignKey:
    # Every index of these tables starts with the project, so no index of its own.
    return models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        db_constraint=False,
        db_index=False,
        related_name=related_name,
    )


class Event(models.Model):
    """One custom event (Statsig ``log_event``) or captured event (PostHog)."""

    id = models.BigAutoField(primary_key=True)
    uuid = models.UUIDField(default=uuid.uuid4)
    project = _project_fk("+")
    name = models.CharField(max_length=MAX_NAME_LENGTH)
    # Unit ids: Statsig userID / PostHog distinct_id, Statsig stableID, other custom ids
    # (PostHog ``$groups`` land here as {group_type: group_key}).
    user_id = models.CharField(max_length=MAX_ID_LENGTH, blank=True, default="")
    stable_id = models.CharField(max_length=MAX_ID_LENGTH, blank=True, default="")
    custom_ids = models.JSONField(default=dict, blank=True)
    # Statsig ``value``: kept as sent (text) and, when it is a number, as a number to sum.
    value = models.TextField(null=True, blank=True)
    numeric_value = models.FloatField(null=True, blank=True)
    # Statsig ``metadata`` / PostHog ``properties`` (tokens removed).
    properties = models.JSONField(default=dict, blank=True)
    # The Statsig user (never its privateAttributes) / PostHog ``$set`` and ``$set_once``.
    user = models.JSONField(default=dict, blank=True)
    # ``$feature/<key>`` attributions: {key: value}.
    feature_flags = models.JSONField(default=dict, blank=True)
    secondary_exposures = models.JSONField(default=list, blank=True)
    environment = models.CharField(max_length=64, blank=True, default="")
    source = models.CharField(max_length=16, choices=EventSource.choices)
    # When it happened (client clock corrected by the server); the partition key.
    time = models.DateTimeField()
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-time", "-id"]
        indexes = [
            # Per-day counts per name and the chart; the live tail filtered by name.
            models.Index(fields=["project", "name", "time"], name="event_project_name_time"),
            # The live tail and the recent list.
            models.Index(fields=["project", "-time"], name="event_project_time"),
            # Per-user deletion and the tail filtered by user.
            models.Index(fields=["project", "user_id"], name="event_project_user"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.user_id})"


class Exposure(models.Model):
    """One exposure to a gate, config, experiment or layer (checked or logged)."""

    id = models.BigAutoField(primary_key=True)
    # Assigned when the exposure is accepted; makes the buffer drain idempotent.
    uuid = models.UUIDField(default=uuid.uuid4)
    project = _project_fk("+")
    kind = models.CharField(max_length=8, choices=ExposureKind.choices)
    name = models.CharField(max_length=MAX_NAME_LENGTH)
    rule_id = models.CharField(max_length=MAX_NAME_LENGTH, blank=True, default="")
    # Gates: pass or fail. Configs, experiments and layers: None.
    value = models.BooleanField(null=True, blank=True)
    # Experiments: the group the user was in.
    group_name = models.CharField(max_length=MAX_NAME_LENGTH, blank=True, default="")
    parameter_name = models.CharField(max_length=MAX_NAME_LENGTH, blank=True, default="")
    allocated_experiment = models.CharField(max_length=MAX_NAME_LENGTH, blank=True, default="")
    user_id = models.CharField(max_length=MAX_ID_LENGTH, blank=True, default="")
    stable_id = models.CharField(max_length=MAX_ID_LENGTH, blank=True, default="")
    custom_ids = models.JSONField(default=dict, blank=True)
    user = models.JSONField(default=dict, blank=True)
    secondary_exposures = models.JSONField(default=list, blank=True)
    environment = models.CharField(max_length=64, blank=True, default="")
    source = models.CharField(max_length=16, choices=EventSource.choices)
    time = models.DateTimeField()
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["-time", "-id"]
        indexes = [
            # Exposure counts per gate/experiment per day.
            models.Index(fields=["project", "kind", "name", "time"], name="exposure_entity_time"),
            models.Index(fields=["project", "user_id"], name="exposure_project_user"),
        ]
        constraints = [
            # The partition key must be part of any unique index of a partitioned table.
            models.UniqueConstraint(fields=["uuid", "time"], name="exposure_unique_uuid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} ({self.user_id})"


class Person(models.Model):
    """PostHog person: the properties set through ``$set``/``$set_once``/``$identify``, shared by
    every distinct id merged into it (``$create_alias``, ``$identify`` with ``$anon_distinct_id``)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    uuid = models.UUIDField(default=uuid.uuid4, unique=True)
    properties = models.JSONField(default=dict, blank=True)
    is_identified = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "-created_at"]

    def __str__(self) -> str:
        return str(self.uuid)


class PersonDistinctId(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    distinct_id = models.CharField(max_length=MAX_ID_LENGTH)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="distinct_ids")

    class Meta:
        ordering = ["project", "distinct_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "distinct_id"], name="person_distinct_id_unique"
            )
        ]

    def __str__(self) -> str:
        return self.distinct_id


class Group(models.Model):
    """PostHog group (``$groupidentify``): properties per group type and key."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    group_type = models.CharField(max_length=MAX_NAME_LENGTH)
    group_key = models.CharField(max_length=MAX_ID_LENGTH)
    properties = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "group_type", "group_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "group_type", "group_key"], name="group_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.group_type}:{self.group_key}"


class DroppedEventCount(models.Model):
    """Events refused one by one (the request itself was accepted), per day, source and reason."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    source = models.CharField(max_length=16, choices=EventSource.choices)
    reason = models.CharField(max_length=32, choices=DropReason.choices)
    count = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["project", "-day", "source", "reason"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "day", "source", "reason"], name="dropped_event_unique_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.source} {self.reason}: {self.count}"
