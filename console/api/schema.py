"""OpenAPI helpers: Statsig's envelopes around any data serializer, the error shape, and the
STATSIG-API-KEY security scheme. Use with drf-spectacular's ``extend_schema``:

    @extend_schema(request=InputSerializer, responses={201: envelope("GateCreated", GateOutput)})
"""

from __future__ import annotations

from functools import cache

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers


class ConsoleKeyScheme(OpenApiAuthenticationExtension):
    target_class = "console.api.authentication.ConsoleKeyAuthentication"
    name = "StatsigApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "STATSIG-API-KEY"}


class PaginationSerializer(serializers.Serializer):
    itemsPerPage = serializers.IntegerField()
    pageNumber = serializers.IntegerField()
    nextPage = serializers.CharField(allow_null=True)
    previousPage = serializers.CharField(allow_null=True)
    totalItems = serializers.IntegerField()
    all = serializers.CharField()


class FieldErrorSerializer(serializers.Serializer):
    property = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    message = serializers.CharField()
    errors = FieldErrorSerializer(many=True, required=False)


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField()


ERROR_RESPONSES = dict.fromkeys((400, 401, 403, 404, 405, 409, 413, 415, 429), ErrorSerializer)

RESPECT_REVIEWS_HEADER = OpenApiParameter(
    name="x-respect-review-settings",
    location=OpenApiParameter.HEADER,
    required=False,
    type=str,
    description="When truthy, a mutation that needs review is filed as a review (202) instead of applied.",
)
PAGE_PARAMETERS = [
    OpenApiParameter("limit", int, OpenApiParameter.QUERY, required=False),
    OpenApiParameter("page", int, OpenApiParameter.QUERY, required=False),
]


@cache
def envelope(
    name: str,
    data: type[serializers.Serializer] | serializers.Field | None = None,
    *,
    many: bool = False,
    paginated: bool = False,
):
    """``{"message", "data"[, "pagination"]}`` around ``data`` (a serializer class or field),
    as the component ``<name>Response`` (kept apart from the data serializers' own names)."""
    fields: dict[str, serializers.Field] = {"message": serializers.CharField()}
    if data is not None:
        fields["data"] = data(many=many) if isinstance(data, type) else data
    if paginated:
        fields["pagination"] = PaginationSerializer()
    return inline_serializer(name=f"{name}Response", fields=fields)


def responses(success: dict, *, extra_codes: tuple[int, ...] = ()) -> dict:
    """Success responses plus the console API's error shape for every error code it can answer."""
    return {**success, **ERROR_RESPONSES, **dict.fromkeys(extra_codes, ErrorSerializer)}


class ConsoleAutoSchema(AutoSchema):
    """Names nested ``InputSerializer``/``OutputSerializer`` classes and operations after their
    view, so one-class-per-operation views never collide in the document."""

    def _view_name(self) -> str:
        return type(self.view).__name__.removesuffix("View")

    def get_serializer_name(self, serializer, direction):
        name = type(serializer).__name__
        if name in {"InputSerializer", "OutputSerializer"}:
            return f"{self._view_name()}{name.removesuffix('Serializer')}"
        return super().get_serializer_name(serializer, direction)

    def get_operation_id(self):
        # Review views are shared by every entity; their entity keeps the ids apart.
        entity = getattr(self.view, "entity_type", "")
        prefix = f"{entity}_" if entity else ""
        return f"{prefix}{self._view_name()}_{self.method.lower()}"


# -- the document as Statsig's reads: {id} parameters, its tags, a summary on every operation ----

API_PREFIX = "/console/v1/"
# Route keywords renamed in the document to Statsig's names; the entity's own id (the first
# parameter after the resource, whatever our view calls it) is always ``id``.
PARAMETER_NAMES = {"rule_id": "ruleID", "review_id": "reviewID"}
SINGULAR = {
    "gates": "Gate",
    "dynamic_configs": "Dynamic Config",
    "experiments": "Experiment",
    "layers": "Layer",
    "holdouts": "Holdout",
    "segments": "Segment",
    "keys": "Key",
    "tags": "Tag",
}
COLLECTION_SUMMARIES = {"get": "List {plural}", "post": "Create {singular}"}
ENTITY_SUMMARIES = {
    "get": "Read {singular}",
    "post": "Fully Update {singular}",
    "patch": "Partially Update {singular}",
    "put": "Edit {singular}",
    "delete": "Delete {singular}",
}
PART_SUMMARIES = {
    "get": "Get {singular} {part}",
    "post": "Set {singular} {part}",
    "put": "Edit {singular} {part}",
    "patch": "Update {singular} {part}",
    "delete": "Delete {singular} {part}",
}


def _title(segment: str) -> str:
    return segment.replace("_", " ").title()


def statsig_path(path: str) -> tuple[str, dict[str, str]]:
    """``/console/v1/gates/{gate_id}/rules/{rule_id}`` → ``/console/v1/gates/{id}/rules/{ruleID}``
    and the renames made (``{"gate_id": "id", "rule_id": "ruleID"}``)."""
    segments = path.removeprefix(API_PREFIX).split("/")
    renames: dict[str, str] = {}
    for index, segment in enumerate(segments):
        if segment.startswith("{") and segment.endswith("}"):
            name = segment[1:-1]
            renames[name] = "id" if index == 1 else PARAMETER_NAMES.get(name, name)
            segments[index] = "{" + renames[name] + "}"
    return API_PREFIX + "/".join(segments), renames


def operation_summary(method: str, path: str, methods: set[str]) -> str:
    """A summary in the words of Statsig's reference ("Partially Update Gate", "Enable Gate",
    "Approve Gate Review") for an operation whose view gives none."""
    segments = path.removeprefix(API_PREFIX).split("/")
    resource = segments[0]
    literal = [s for s in segments[1:] if not s.startswith("{")]
    singular = SINGULAR.get(resource, _title(resource))
    if "reviews" in literal:
        singular = f"{singular} Review"
        literal = literal[literal.index("reviews") + 1 :]
        if not literal:
            nested = segments[-1].startswith("{")
            words = (
                {**ENTITY_SUMMARIES, "delete": "Cancel {singular}"}
                if nested
                else COLLECTION_SUMMARIES
            )
            return words[method].format(singular=singular, plural=f"{singular}s")
    if len(segments) == 1:
        return COLLECTION_SUMMARIES.get(method, ENTITY_SUMMARIES[method]).format(
            singular=singular, plural=_title(resource)
        )
    if not literal:
        return ENTITY_SUMMARIES[method].format(singular=singular)
    if "get" not in methods and len(methods) == 1 and not segments[-1].startswith("{"):
        # An action path (``/enable``, ``/make_decision``, ``/id_list/reset``): its verb first.
        if literal == ["rule"]:
            return f"Add {singular} Rule"
        words = literal[-1].split("_") + " ".join(literal[:-1]).split("_")
        verb, rest = words[0], [w for w in words[1:] if w]
        return " ".join([verb.title(), singular, *(w.title() for w in rest)])
    part = " ".join(_title(s) for s in literal)
    if segments[-1].startswith("{"):
        part = part.removesuffix("s")  # one rule of the list
    return PART_SUMMARIES[method].format(singular=singular, part=part)


# Where Statsig documents no behaviour, this console keeps its own; the document says which.
UNDOCUMENTED_BEHAVIOUR = """

## Where Statsig's behaviour is undocumented

This console answers Statsig's requests with Statsig's shapes. Where Statsig's reference says
nothing, it keeps its own behaviour:

- **Lifecycle edge cases.** An action the entity's state does not allow (starting an experiment
  that already started, enabling an archived gate) is refused with 400 naming `status`.
- **Rule ids.** A rule's `id` is an opaque string made by this console; send it back unchanged to
  keep a rule, or leave it out for a new rule.
- **Environments.** `POST /environments` replaces the list. An environment's `id` is its name
  unless a client sent another one for it: an entry whose `id` is unknown is the environment of
  its name (or a new one), which keeps that id, so a configuration written with Statsig's ids
  reads back unchanged. Renaming is refused (this console's rules and keys name environments),
  and so is removing one that an API key is limited to. `requiresReleasePipeline` and
  `requiredReviewGroupID` are kept but act on nothing (no release pipelines or review groups).
- **Review settings.** Every flag is kept and returned; only `is_config_review_required` acts.
- **Tags.** `/tags/{id}` takes the tag's name (any case) or the `id` it is listed with.
- **Reviews.** A change filed for review answers 202 with the review; `x-respect-review-settings`
  files it when the project, or the entity, requires review and the change touches an
  environment that requires it or the entity as a whole; a change touching no environment (a
  description, tags) is filed when the project requires reviews. Review `status` is Statsig's
  (`pending`, `accepted`, `rejected`, `committed`); a cancelled review is kept as `cancelled`.
  `reviewer_ids` and `reviewer_group_ids` are listed on the review, but any member may review.
  Change kinds naming features this console lacks (teams, release pipelines, target apps,
  owners; experiment `stop`, `pause`, `rollout`, ...) are refused by name.
- **Allowed reviewers.** `reviewSettings.allowedReviewers` takes `[{id, name?, email?}]`, `id`
  being a project member's user id (as in `creatorID`); an id that is no member's is refused
  with 400 naming `reviewSettings.allowedReviewers[i]`. It is read back with each member's
  current name and email; a member who left the project drops out. When the list is not empty,
  only the people on it may approve the entity's reviews (with a key: the key's holder), and
  Statsig documents no exception, so an admin is none either (an admin may still apply a
  review at once with a reason, audited as a bypass); the author still may not approve their
  own change. Changing the list (an update, the review change `allowed_reviewers`, the
  experiment review `update_allowed_reviewers` with `allowed_reviewers`) is reviewed as a
  change of the whole entity.
  `PUT .../reviews/{reviewID}` edits the description and reviewers, not the change.
- **Audit logs.** `actionType` uses Statsig's names where Statsig has one for the change
  (`gate_create`, `config_conditions_update`, ...); changes Statsig names nothing for keep this
  console's names (`segment_archive`, `member_invite`).
- **Gate Pulse.** `POST /gates/{id}/load_pulse` (202) computes every rule of the gate with a
  partial rollout (a pass percentage between 0 and 100; none: 400 naming `rules`), comparing the
  units the rule passed (group `pass`, the test) with those it failed (`fail`, the control).
  It measures the metrics named in `?metrics=` (comma-separated ids `name::type`, or names,
  which take every type of the name; an unknown one: 400 naming `metrics`), else the gate's
  `monitoringMetrics`, else every metric of the project, as Statsig measures a gate's lifts on
  all metrics. `GET /gates/{id}/rules/{ruleID}/pulse_results?cuped=&confidence=` answers in the
  shape of an experiment's `pulse_results` (a rule the gate lacks: 400 naming `ruleID`; nothing
  computed yet: 404); its `srm` tests the split against the rule's pass percentage.
- **Unknown paths and methods** under `/console/v1/` answer 404 and 405 in the error envelope.
"""


def statsig_document(result: dict, generator, request, public) -> dict:
    """drf-spectacular post-processing hook: Statsig's ``{id}`` path parameters, its tags
    ("Gates", "Dynamic Configs", "Audit Logs") and a summary on every operation."""
    paths: dict[str, dict] = {}
    for path, operations in result.get("paths", {}).items():
        new_path, renames = statsig_path(path)
        methods = {m for m in operations if m in ENTITY_SUMMARIES}
        for method, operation in operations.items():
            if method not in ENTITY_SUMMARIES:
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter["name"] in renames:
                    parameter["name"] = renames[parameter["name"]]
            resource = new_path.removeprefix(API_PREFIX).split("/")[0]
            operation["tags"] = [_title(resource)]
            operation.setdefault("summary", operation_summary(method, path, methods))
        paths[new_path] = operations
    result["paths"] = paths
    info = result.setdefault("info", {})
    info["description"] = info.get("description", "") + UNDOCUMENTED_BEHAVIOUR
    result["tags"] = [
        {"name": name}
        for name in sorted(
            {
                op["tags"][0]
                for ops in paths.values()
                for op in ops.values()
                if isinstance(op, dict) and "tags" in op
            }
        )
    ]
    return result
