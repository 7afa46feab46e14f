"""Experiments: groups, allocation, layer placement, targeting, overrides and the lifecycle
setup -> active -> decision_made / abandoned (and archived).

The services below are thin, typed functions over the entity core (``flags.services.kernel``)
and the experiment's kind (``kind.EXPERIMENTS``): ``groups`` validates groups and allocation,
``overrides`` the overrides, and ``lifecycle`` is the transition table every lifecycle action goes
through. Lifecycle actions are stored as their intent (``{"action": "experiment_start", ...}``), so
a start committed from a review starts the experiment when it is committed, and the state is
checked again then. What may change when (``lifecycle.STATES``):

- setup: everything;
- active: metadata, allocation, targeting gate, group names/values/descriptions (not the group
  ids, sizes or count);
- decision_made / abandoned / archived: metadata only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from console.actors import Actor
from console.errors import ValidationError
from console.models import Project
from console.services.reviews import ChangeOutcome
from console.validation import validate_bool, validate_name, validate_text
from flags.models import Experiment, ExperimentStatus
from flags.services import kernel
from flags.services.descriptor import UNSET, ensure_name_free
from flags.services.experiments.groups import DEFAULT_GROUPS, group_id_of
from flags.services.experiments.kind import EXPERIMENTS
from flags.services.experiments.lifecycle import LIFECYCLE


def _transition(
    *, project: Project, actor: Actor, experiment_id: str, action: str, **parameters: Any
) -> ChangeOutcome:
    return kernel.submit_transition(
        EXPERIMENTS,
        project=project,
        actor=actor,
        entity_id=experiment_id,
        action=action,
        parameters=parameters,
    )


@transaction.atomic
def experiment_create(
    *,
    project: Project,
    actor: Actor,
    name: str,
    experiment_id: str | None = None,
    description: str = "",
    hypothesis: str = "",
    id_type: str = "userID",
    groups: list[dict[str, Any]] | None = None,
    control_group_id: str | None = None,
    allocation: float | int | str = 100,
    layer_id: str | None = None,
    targeting_gate_id: str | None = None,
    tags: list[str] | None = None,
    review_required: bool = False,
    allowed_reviewers: list[Any] | None = None,
    settings: Mapping[str, Any] | None = None,
    creator_id: str | None = None,
    creator_email: str | None = None,
    **analysis_settings: Any,
) -> Experiment:
    """A new experiment in setup (groups default to Control/Test 50/50). ``settings``: Statsig's
    settings kept as sent (``experiments.settings``); ``creator_*``: an owner other than the
    actor; ``analysis_settings``: primary_metrics, secondary_metrics, bonferroni_correction,
    default_confidence_interval."""
    fields = {
        **analysis_settings,
        "description": description,
        "hypothesis": hypothesis,
        "id_type": id_type,
        "groups": [dict(g) for g in DEFAULT_GROUPS] if groups is None else groups,
        "allocation": allocation,
        "layer_id": layer_id,
        "targeting_gate_id": targeting_gate_id,
        "tags": tags,
        "review_required": review_required,
        "allowed_reviewers": allowed_reviewers or [],
    }
    if control_group_id:
        fields["control_group_id"] = control_group_id
    owner = {"settings": settings, "creator_id": creator_id, "creator_email": creator_email}
    fields.update({key: value for key, value in owner.items() if value is not None})
    return kernel.create(
        EXPERIMENTS,
        project=project,
        actor=actor,
        name=name,
        entity_id=experiment_id,
        fields=fields,
    )


@transaction.atomic
def experiment_update(
    *,
    project: Project,
    actor: Actor,
    experiment_id: str,
    name: Any = UNSET,
    description: Any = UNSET,
    hypothesis: Any = UNSET,
    id_type: Any = UNSET,
    groups: Any = UNSET,
    control_group_id: Any = UNSET,
    allocation: Any = UNSET,
    layer_id: Any = UNSET,
    targeting_gate_id: Any = UNSET,
    tags: Any = UNSET,
    review_required: Any = UNSET,
    allowed_reviewers: Any = UNSET,
    settings: Any = UNSET,
    creator_id: Any = UNSET,
    creator_email: Any = UNSET,
    expected_version: int | None = None,
    **analysis_settings: Any,
) -> ChangeOutcome:
    """Partial update (PATCH); a full update passes every field. Changes to an experiment in
    setup are never reviewed (nobody sees it yet); changes that reach users are."""
    experiment = kernel.locked(EXPERIMENTS, project=project, actor=actor, entity_id=experiment_id)
    given = {
        "name": name,
        "description": description,
        "hypothesis": hypothesis,
        "id_type": id_type,
        "groups": groups,
        "control_group_id": control_group_id,
        "allocation": allocation,
        "layer_id": layer_id,
        "targeting_gate_id": targeting_gate_id,
        "tags": tags,
        "review_required": review_required,
        "allowed_reviewers": allowed_reviewers,
        "settings": settings,
        "creator_id": creator_id,
        "creator_email": creator_email,
        **analysis_settings,
    }
    return kernel.submit(
        EXPERIMENTS,
        project=project,
        actor=actor,
        entity=experiment,
        fields={key: value for key, value in given.items() if value is not UNSET},
        expected_version=expected_version,
    )


@transaction.atomic
def experiment_start(*, project: Project, actor: Actor, experiment_id: str) -> ChangeOutcome:
    return _transition(
        project=project, actor=actor, experiment_id=experiment_id, action="experiment_start"
    )


def _decision_reason(value: Any) -> str:
    reason = validate_text(value, "decisionReason")
    if not reason.strip():
        raise ValidationError.for_field("decisionReason", "A decision reason is required.")
    return reason


@transaction.atomic
def experiment_make_decision(
    *,
    project: Project,
    actor: Actor,
    experiment_id: str,
    group_id: str,
    decision_reason: str,
    remove_targeting: bool = False,
) -> ChangeOutcome:
    """Ships ``group_id`` (a group id or name): everyone in the experiment gets its values."""
    reason = _decision_reason(decision_reason)
    return _transition(
        project=project,
        actor=actor,
        experiment_id=experiment_id,
        action="experiment_decision_make",
        group_id=group_id,
        reason=reason,
        remove_targeting=validate_bool(remove_targeting, "removeTargeting"),
    )


@transaction.atomic
def experiment_abandon(
    *, project: Project, actor: Actor, experiment_id: str, decision_reason: str
) -> ChangeOutcome:
    reason = _decision_reason(decision_reason)
    return _transition(
        project=project,
        actor=actor,
        experiment_id=experiment_id,
        action="experiment_abandon",
        reason=reason,
    )


@transaction.atomic
def experiment_defer_decision(
    *, project: Project, actor: Actor, experiment_id: str, stop_reason: str = ""
) -> ChangeOutcome:
    """Concludes a running experiment without shipping a group; the decision comes later."""
    return _transition(
        project=project,
        actor=actor,
        experiment_id=experiment_id,
        action="experiment_decision_defer",
        reason=validate_text(stop_reason, "stopReason"),
    )


# The reason recorded when the status is set directly rather than through its own action.
STATUS_SET_REASON = "Status set through the console API."


def _status_parameters(action: str, launched_group_id: str | None) -> dict[str, Any]:
    if action == "experiment_decision_make":
        if not launched_group_id:
            raise ValidationError.for_field(
                "launchedGroupID", "Name the group to ship (launchedGroupID) to make a decision."
            )
        return {"group_id": launched_group_id, "reason": STATUS_SET_REASON}
    if action in ("experiment_abandon", "experiment_decision_defer"):
        return {"reason": STATUS_SET_REASON}
    if action == "experiment_archive":
        return {"reason": ""}
    return {}


@transaction.atomic
def experiment_status_set(
    *,
    project: Project,
    actor: Actor,
    experiment_id: str,
    status: str | None = None,
    launched_group_id: str | None = None,
) -> ChangeOutcome | None:
    """Statsig's ``PATCH {status, launchedGroupID}``: the lifecycle actions that lead from the
    experiment's state to ``status`` (setup -> decision_made is a start, then a decision that
    ships ``launched_group_id``), each as its own endpoint would. A ``launched_group_id`` alone
    ships that group. None when the experiment is already there; a change filed for review
    stops the series (the rest waits until it is committed)."""
    experiment = kernel.get(EXPERIMENTS, project=project, entity_id=experiment_id)
    if status is None:
        if not launched_group_id:
            return None
        status = ExperimentStatus.DECISION_MADE
    if status not in ExperimentStatus.values:
        raise ValidationError.for_field(
            "status", f"status is one of {', '.join(ExperimentStatus.values)}."
        )
    if status == experiment.status:
        shipped = experiment.launched_group_id
        if (
            launched_group_id
            and shipped
            and group_id_of(experiment, experiment.groups, launched_group_id, "launchedGroupID")
            != shipped
        ):
            raise ValidationError.for_field(
                "launchedGroupID", "A decision was made already: another group cannot be shipped."
            )
        return None
    # Without a group to ship, a way through a decision is no way (active -> archived is an
    # abandon, then an archive).
    path = LIFECYCLE.path(
        experiment.status,
        status,
        avoiding=frozenset() if launched_group_id else frozenset({"experiment_decision_make"}),
    )
    if path is None and not launched_group_id:
        path = LIFECYCLE.path(experiment.status, status)
    if path is None:
        raise ValidationError.for_field(
            "status", f"An experiment that is {experiment.status} cannot become {status}."
        )
    outcome = None
    for transition in path:
        outcome = _transition(
            project=project,
            actor=actor,
            experiment_id=experiment_id,
            action=transition.action,
            **_status_parameters(transition.action, launched_group_id),
        )
        if outcome.submitted_for_review:
            break
    return outcome


@transaction.atomic
def experiment_reset(*, project: Project, actor: Actor, experiment_id: str) -> ChangeOutcome:
    """Restarts the experiment with a new salt (users are assigned afresh)."""
    return _transition(
        project=project, actor=actor, experiment_id=experiment_id, action="experiment_reset"
    )


@transaction.atomic
def experiment_restart_as_new(
    *, project: Project, actor: Actor, experiment_id: str, name: str
) -> ChangeOutcome:
    """A copy under a new name, started now, taking over the layer space; the old one is
    abandoned if it was running. ``result`` is the new experiment."""
    clean = validate_name(name)
    ensure_name_free(project=project, model=Experiment, name=clean)
    return _transition(
        project=project,
        actor=actor,
        experiment_id=experiment_id,
        action="experiment_restart_as_new",
        name=clean,
    )


@transaction.atomic
def experiment_schedule_start(
    *, project: Project, actor: Actor, experiment_id: str, scheduled_time: int
) -> ChangeOutcome:
    """Starts the experiment at ``scheduled_time`` (epoch ms) via the beat job."""
    if (
        isinstance(scheduled_time, bool)
        or not isinstance(scheduled_time, int)
        or scheduled_time <= 0
    ):
        raise ValidationError.for_field("scheduledTime", "scheduledTime is epoch milliseconds.")
    if scheduled_time < int(timezone.now().timestamp() * 1000) - 60_000:
        raise ValidationError.for_field("scheduledTime", "scheduledTime is in the past.")
    return _transition(
        project=project,
        actor=actor,
        experiment_id=experiment_id,
        action="experiment_schedule_start",
        scheduled_time=scheduled_time,
    )


@transaction.atomic
def experiment_archive(
    *, project: Project, actor: Actor, experiment_id: str, archive_reason: str = ""
) -> ChangeOutcome:
    return _transition(
        project=project,
        actor=actor,
        experiment_id=experiment_id,
        action="experiment_archive",
        reason=validate_text(archive_reason, "archiveReason"),
    )


@transaction.atomic
def experiment_unarchive(*, project: Project, actor: Actor, experiment_id: str) -> ChangeOutcome:
    return _transition(
        project=project, actor=actor, experiment_id=experiment_id, action="experiment_unarchive"
    )


@transaction.atomic
def experiment_groups_set_enabled(
    *, project: Project, actor: Actor, experiment_id: str, group_names: list[str], enabled: bool
) -> ChangeOutcome:
    """``enable_groups`` / ``disable_groups``: units bucketed into a disabled group get the
    default value (the group's rule stays, with passPercentage 0)."""
    if not isinstance(group_names, list) or not group_names:
        raise ValidationError.for_field("group_names", "group_names lists at least one group.")
    return _transition(
        project=project,
        actor=actor,
        experiment_id=experiment_id,
        action="experiment_groups_enable" if enabled else "experiment_groups_disable",
        groups=list(group_names),
    )


@transaction.atomic
def experiment_overrides_set(
    *, project: Project, actor: Actor, experiment_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    """Replaces the overrides (``ExperimentOverridesDto``)."""
    return kernel.overrides_set(
        EXPERIMENTS, project=project, actor=actor, entity_id=experiment_id, overrides=overrides
    )


@transaction.atomic
def experiment_overrides_add(
    *, project: Project, actor: Actor, experiment_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    return kernel.overrides_change(
        EXPERIMENTS, project=project, actor=actor, entity_id=experiment_id, overrides=overrides
    )


@transaction.atomic
def experiment_overrides_remove(
    *, project: Project, actor: Actor, experiment_id: str, overrides: Mapping[str, Any]
) -> ChangeOutcome:
    return kernel.overrides_change(
        EXPERIMENTS,
        project=project,
        actor=actor,
        entity_id=experiment_id,
        overrides=overrides,
        remove=True,
    )


@transaction.atomic
def experiment_delete(*, project: Project, actor: Actor, experiment_id: str) -> ChangeOutcome:
    """Deletes the experiment and frees its layer space. ``result``: the deleted experiment
    (``pk`` None)."""
    return kernel.delete(EXPERIMENTS, project=project, actor=actor, entity_id=experiment_id)


def experiments_start_scheduled(*, now: datetime | None = None) -> int:
    """Starts every experiment whose scheduled start has come (beat, every minute)."""
    now = now or timezone.now()
    due = list(
        Experiment.objects.filter(
            status=ExperimentStatus.SETUP, scheduled_start_time__lte=now
        ).select_related("project")
    )
    started = 0
    system = Actor.system("Scheduled start")
    for experiment in due:
        try:
            with transaction.atomic():
                kernel.apply_transition(
                    EXPERIMENTS,
                    project=experiment.project,
                    actor=system,
                    entity_id=experiment.slug,
                    change={"action": "experiment_start"},
                )
            started += 1
        except ValidationError:
            continue
    return started
