"""Segments: reusable audiences, either rules (``rule_based``) or lists of unit ids (``id_list``),
plus ``analysis_list`` segments that are stored and listed but never targeted.

ID lists are built for ten million members per segment:

- ``SegmentMember`` is one narrow row per member with the composite primary key
  ``(segment, unit_id)``: no surrogate key, one index, inserts with ``ON CONFLICT DO NOTHING``.
  The segment keeps the member count (``id_count``) so no listing ever counts rows.
- ``IdListFileChunk`` is the SDK id-list file (reference §4.4): an append-only log of
  ``+<hash>`` / ``-<hash>`` lines per segment, stored as consecutive byte ranges. The segment
  keeps the current file id, its size and creation time; a reset starts a new file id. Any
  ``Range: bytes=N-`` is served from the chunks whose range ends after ``N``.
"""

from __future__ import annotations

from django.db import models

from console.models import Project

ID_MAX_LENGTH = 100
NAME_MAX_LENGTH = 100
DESCRIPTION_MAX_LENGTH = 1000
UNIT_ID_MAX_LENGTH = 256
DEFAULT_ID_TYPE = "userID"
# How reviews, audit entries and stored versions name a segment.
ENTITY_TYPE = "segment"


class SegmentType(models.TextChoices):
    ID_LIST = "id_list", "ID list"
    RULE_BASED = "rule_based", "Rule based"
    ANALYSIS_LIST = "analysis_list", "Analysis list"


class Segment(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="segments")
    # The public id (Statsig's ``id``): the name made id-like unless given.
    key = models.CharField(max_length=ID_MAX_LENGTH)
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    description = models.CharField(max_length=DESCRIPTION_MAX_LENGTH, blank=True)
    type = models.CharField(max_length=16, choices=SegmentType.choices)
    id_type = models.CharField(max_length=100, default=DEFAULT_ID_TYPE)
    tags = models.JSONField(default=list, blank=True)
    is_enabled = models.BooleanField(default=True)
    archived = models.BooleanField(default=False)
    archived_at = models.DateTimeField(null=True, blank=True)
    # Validated console rules (``ruleset.conditions.validate_rules``), each with ``id`` and ``salt``.
    rules = models.JSONField(default=list, blank=True)
    salt = models.CharField(max_length=64)
    # Bumped by every change to the segment's definition (reviews compare it).
    version = models.PositiveIntegerField(default=1)
    review_required = models.BooleanField(default=False)

    creator_id = models.CharField(max_length=100, blank=True)
    creator_name = models.CharField(max_length=200, blank=True)
    creator_email = models.CharField(max_length=254, blank=True)
    team = models.CharField(max_length=200, blank=True)
    team_id = models.CharField(max_length=100, blank=True)
    last_modifier_id = models.CharField(max_length=100, blank=True)
    last_modifier_name = models.CharField(max_length=200, blank=True)
    last_modifier_email = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # ID lists: the member count and the SDK file (see module docstring).
    id_count = models.BigIntegerField(default=0)
    list_version = models.PositiveBigIntegerField(default=0)
    list_file_id = models.CharField(max_length=40, blank=True)
    list_file_size = models.BigIntegerField(default=0)
    list_file_created_ms = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["project", "key"]
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], name="segment_unique_key"),
        ]
        indexes = [models.Index(fields=["project", "type"], name="segment_project_type")]

    def __str__(self) -> str:
        return self.key

    @property
    def is_id_list(self) -> bool:
        return self.type == SegmentType.ID_LIST


class SegmentMember(models.Model):
    pk = models.CompositePrimaryKey("segment", "unit_id")
    # The primary key's index (segment_id, unit_id) serves every lookup by segment.
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="+", db_index=False)
    unit_id = models.CharField(max_length=UNIT_ID_MAX_LENGTH)

    class Meta:
        ordering = ["segment", "unit_id"]

    def __str__(self) -> str:
        return f"{self.segment_id}:{self.unit_id}"


class IdListFileChunk(models.Model):
    """Bytes ``[start, end)`` of one id-list file: whole ``±hash`` lines, ASCII."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="+", db_index=False)
    file_id = models.CharField(max_length=40)
    start = models.BigIntegerField()
    end = models.BigIntegerField()
    data = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["segment", "file_id", "start"]
        constraints = [
            models.UniqueConstraint(
                fields=["segment", "file_id", "start"], name="idlistfilechunk_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_id}[{self.start}:{self.end}]"
