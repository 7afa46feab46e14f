"""What every app shares: the project (the tenant), its environments, members, API keys, the
audit log and reviews (stored change requests)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"
    VIEWER = "viewer", "Viewer"


class Project(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    # Statsig's project-level "is_config_review_required".
    requires_review = models.BooleanField(default=False)
    # The other flags of Statsig's review settings (metric reviews, warehouse-native reviews...),
    # kept as sent and returned: nothing here acts on them.
    review_flags = models.JSONField(default=dict, blank=True)
    ruleset_revision = models.PositiveBigIntegerField(
        default=0,
        help_text="Bumped with every ruleset change, so that rebuilds lost with a worker are found.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


DEFAULT_ENVIRONMENTS = ("development", "staging", "production")
PRODUCTION = "production"


class Environment(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="environments")
    name = models.CharField(max_length=64)
    # Statsig's environment ``id``: the name, unless a client sent another id for it (a Terraform
    # configuration written against Statsig carries Statsig's ids), which is then kept.
    public_id = models.CharField(max_length=64, blank=True, default="")
    # Changes that touch an environment requiring review go through review when the entity or
    # project requires it. Production always does (Statsig's rule).
    requires_review = models.BooleanField(default=False)
    is_production = models.BooleanField(default=False)
    # Statsig's flag, kept as sent: this console has no release pipelines to require.
    requires_release_pipeline = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["project", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="environment_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "project"], name="membership_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} ({self.role})"


class ApiKeyKind(models.TextChoices):
    SERVER = "server", "Server secret"
    CLIENT = "client", "Client SDK"
    CONSOLE = "console", "Console"


class ApiKeyScope(models.TextChoices):
    """Statsig's key scopes. Console keys: ``omni_*`` act with admin rights, ``personal_*`` with
    their holder's role in the project; ``*_read_only`` may only read; ``can_access_keys`` may
    manage (and list in full) the project's keys. A console key stored without scopes predates
    them and keeps every console scope. Client keys: the client SDK scopes."""

    OMNI_READ_ONLY = "omni_read_only"
    OMNI_READ_WRITE = "omni_read_write"
    PERSONAL_READ_ONLY = "personal_read_only"
    PERSONAL_READ_WRITE = "personal_read_write"
    CAN_ACCESS_KEYS = "can_access_keys"
    CLIENT_DOWNLOAD_CONFIG_SPECS = "client_download_config_specs"
    NONE_HASH_ENABLED = "none_hash_enabled"
    CLIENT_CAN_WRITE_USER_STORE = "client_can_write_user_store"


API_KEY_PREFIXES = {
    ApiKeyKind.SERVER: "secret-",
    ApiKeyKind.CLIENT: "client-",
    ApiKeyKind.CONSOLE: "console-",
}


class ApiKey(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="api_keys")
    # The public handle used in URLs and listings (a key is also addressed by its secret).
    public_id = models.CharField(max_length=32, unique=True)
    kind = models.CharField(max_length=16, choices=ApiKeyKind.choices)
    description = models.CharField(max_length=1000, blank=True)
    secret_hash = models.CharField(max_length=64, unique=True)
    # The secret encrypted with settings.API_KEY_SEALING_KEY (Fernet), so a console key with
    # ``can_access_keys`` can list keys in full as Statsig does; lookups use only the hash. Empty
    # for keys made before it was kept.
    secret_sealed = models.TextField(blank=True)
    # Prefix and first characters of the secret, enough to recognise a key in a list.
    hint = models.CharField(max_length=32)
    # Environment names the key may act in; empty means every environment of the project.
    environments = models.JSONField(default=list, blank=True)
    # ApiKeyScope values, as sent when the key was created.
    scopes = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The key's holder: approvals of changes filed with the key need someone else.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    deactivated_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    rotated_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rotated_to"
    )

    class Meta:
        ordering = ["project", "-created_at"]
        indexes = [models.Index(fields=["project", "kind"], name="apikey_project_kind")]

    def __str__(self) -> str:
        return f"{self.hint}… ({self.kind})"


class ActorType(models.TextChoices):
    USER = "user", "User"
    API_KEY = "api_key", "API key"
    SYSTEM = "system", "System"


class AuditLog(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="audit_logs")
    created_at = models.DateTimeField(auto_now_add=True)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL)
    actor_name = models.CharField(max_length=200)
    actor_email = models.CharField(max_length=254, blank=True)
    # Statsig-style action type: gate_create, gate_update, experiment_start, segment_create, ...
    action_type = models.CharField(max_length=64)
    entity_type = models.CharField(max_length=32)
    entity_id = models.CharField(max_length=100)
    entity_name = models.CharField(max_length=200, blank=True)
    # {field: {"old": ..., "new": ...}}
    changes = models.JSONField(default=dict, blank=True)
    review = models.ForeignKey(
        "Review", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_logs"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "-created_at"], name="auditlog_project_time"),
            models.Index(fields=["project", "entity_type", "entity_id"], name="auditlog_entity"),
            models.Index(fields=["project", "action_type"], name="auditlog_action"),
        ]

    def __str__(self) -> str:
        return f"{self.action_type} {self.entity_id}"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    COMMITTED = "committed", "Committed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_REVIEW_STATUSES = (ReviewStatus.PENDING, ReviewStatus.APPROVED)


class Review(models.Model):
    """A change that needs approval, stored as its intent: which registered change to apply, to
    which entity, with which payload. Committing calls the same service that applies it directly."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="reviews")
    public_id = models.CharField(max_length=32, unique=True)
    entity_type = models.CharField(max_length=32)
    entity_id = models.CharField(max_length=100)
    entity_name = models.CharField(max_length=200, blank=True)
    # The registered change kind, e.g. "gate_update", "experiment_start".
    change_type = models.CharField(max_length=64)
    change = models.JSONField(default=dict)
    # The entity's version when the review was filed: committing refuses a changed entity.
    base_version = models.PositiveIntegerField(null=True, blank=True)
    description = models.TextField(blank=True)
    # Who the author asked to review: [{"id": ..., "kind": "user" | "group"}] (Statsig's
    # reviewer_ids and reviewer_group_ids); any member may still review.
    reviewers = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    author_type = models.CharField(max_length=16, choices=ActorType.choices)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="authored_reviews",
    )
    author_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL)
    author_name = models.CharField(max_length=200)
    author_email = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    committed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "status"], name="review_project_status"),
            models.Index(fields=["project", "entity_type", "entity_id"], name="review_entity"),
        ]

    def __str__(self) -> str:
        return f"{self.change_type} {self.entity_id} ({self.status})"


class ReviewDecisionKind(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class ReviewDecision(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="decisions")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    reviewer_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL)
    reviewer_name = models.CharField(max_length=200)
    decision = models.CharField(max_length=16, choices=ReviewDecisionKind.choices)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.decision} by {self.reviewer_name}"


class Invitation(models.Model):
    """An admin's invitation of someone who has no account yet. Its link carries a secret token,
    of which only the SHA-256 is stored; accepting sets the person's password and makes them a
    member with ``role``. Inviting the same email again replaces the open invitation."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    # Stored lower-cased: one open invitation per address and project.
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.project} ({self.role})"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None
