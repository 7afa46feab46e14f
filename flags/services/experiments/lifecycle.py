"""The experiment lifecycle as one table: setup -> active -> decision_made / abandoned, and
archived. ``STATES`` says what each state allows (which fields may change, whether users are being
assigned); ``LIFECYCLE`` lists every action with the states it may start from, the state it leads
to, how screens and the console API present it, and its effect on the experiment.

Services apply it (``flags.services.kernel.submit_transition`` / ``apply_transition``: a start
filed for review starts the experiment when the review is committed, and the state is checked
again then); the experiment screens and templates ask ``LIFECYCLE.available(experiment)`` which
actions to offer; the console API takes its verbs and messages from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from console.models import Project
from flags.models import (
    EXPERIMENT_STATUSES_HOLDING_BUCKETS,
    Experiment,
    ExperimentStatus,
    new_rule_id,
    new_salt,
)
from flags.services import kernel
from flags.services.allocation import place_keeping
from flags.services.descriptor import EntityKind, Lifecycle, Transition
from flags.services.experiments.groups import group_id_of
from flags.services.experiments.overrides import validate_experiment_overrides

SETUP = ExperimentStatus.SETUP
ACTIVE = ExperimentStatus.ACTIVE
DECISION_MADE = ExperimentStatus.DECISION_MADE
ABANDONED = ExperimentStatus.ABANDONED
ARCHIVED = ExperimentStatus.ARCHIVED
STOPPED = ExperimentStatus.EXPERIMENT_STOPPED

NOT_STARTED = "Experiment has not yet started"
# Fields that never reach users; with the placement and the groups' values, a running one's.
# Analysis settings change how results are read, never what users get: editable in any state.
ANALYSIS_FIELDS = frozenset(
    {"primary_metrics", "secondary_metrics", "bonferroni_correction", "default_confidence_interval"}
)
METADATA_FIELDS = ANALYSIS_FIELDS | frozenset(
    {
        "name",
        "description",
        "hypothesis",
        "tags",
        "review_required",
        "allowed_reviewers",
        "settings",
        "creator_id",
        "creator_email",
        "creator_name",
    }
)
ACTIVE_FIELDS = METADATA_FIELDS | {"allocation", "targeting_gate_id", "groups"}


@dataclass(frozen=True, slots=True)
class ExperimentState:
    status: str
    # The fields a change may touch (None: every field).
    editable: frozenset[str] | None
    # Users are being assigned: group ids and sizes are fixed.
    running: bool = False
    # Changes beyond the metadata reach users, so they may need review.
    seen_by_users: bool = True
    # What the page says about the state.
    note: str = ""


STATES = {
    SETUP: ExperimentState(SETUP, editable=None, seen_by_users=False),
    ACTIVE: ExperimentState(ACTIVE, editable=ACTIVE_FIELDS, running=True),
    DECISION_MADE: ExperimentState(DECISION_MADE, editable=METADATA_FIELDS),
    ABANDONED: ExperimentState(ABANDONED, editable=METADATA_FIELDS, note="Abandoned"),
    ARCHIVED: ExperimentState(ARCHIVED, editable=METADATA_FIELDS),
    STOPPED: ExperimentState(STOPPED, editable=METADATA_FIELDS, note="Decision deferred"),
}


def state_of(experiment: Experiment) -> ExperimentState:
    return STATES[ExperimentStatus(experiment.status)]


# -- effects: what each action does to the locked experiment (its state set by the table) ----------


def _start(
    kind: EntityKind, project: Project, experiment: Experiment, change: dict[str, Any]
) -> None:
    experiment.start_time = timezone.now()
    experiment.scheduled_start_time = None
    place_keeping(experiment)


def _decide(
    kind: EntityKind, project: Project, experiment: Experiment, change: dict[str, Any]
) -> None:
    experiment.launched_group_id = group_id_of(
        experiment, experiment.groups, change["group_id"], "id"
    )
    experiment.decision_reason = change.get("reason", "")
    experiment.decision_time = experiment.end_time = timezone.now()
    if change.get("remove_targeting"):
        experiment.targeting_gate = None


def _abandon(
    kind: EntityKind, project: Project, experiment: Experiment, change: dict[str, Any]
) -> None:
    experiment.decision_reason = change.get("reason", "")
    experiment.decision_time = experiment.end_time = timezone.now()
    experiment.buckets = []


def _defer(
    kind: EntityKind, project: Project, experiment: Experiment, change: dict[str, Any]
) -> None:
    """Concluded: nobody is assigned any more (everyone gets the default) until a group is
    shipped or the experiment is abandoned."""
    experiment.decision_reason = change.get("reason", "")
    experiment.end_time = timezone.now()


def _reset(
    kind: EntityKind, project: Project, experiment: Experiment, change: dict[str, Any]
) -> None:
    """A new salt (fresh assignment), running from now."""
    experiment.salt = new_salt()
    experiment.start_time = timezone.now()
    experiment.end_time = experiment.decision_time = None
    experiment.decision_reason = ""
    experiment.launched_group_id = ""
    place_keeping(experiment)


def _schedule(
    kind: EntityKind, project: Project, experiment: Experiment, change: dict[str, Any]
) -> None:
    experiment.scheduled_start_time = datetime.fromtimestamp(
        change["scheduled_time"] / 1000, tz=UTC
    )


def _archive(
    kind: EntityKind, project: Project, experiment: Experiment, change: dict[str, Any]
) -> None:
    experiment.archive_reason = change.get("reason", "")
    experiment.scheduled_start_time = None
    experiment.buckets = []


def _unarchive(
    kind: EntityKind, project: Project, experiment: Experiment, change: dict[str, Any]
) -> None:
    """Back to the state it was archived from: decided, abandoned (it ran) or setup."""
    if experiment.launched_group_id:
        experiment.status = DECISION_MADE
    elif experiment.start_time is not None:
        experiment.status = ABANDONED
    else:
        experiment.status = SETUP
    experiment.archive_reason = ""
    if experiment.status in EXPERIMENT_STATUSES_HOLDING_BUCKETS:
        place_keeping(experiment)


def _groups_enabled(enabled: bool):
    def effect(
        kind: EntityKind, project: Project, experiment: Experiment, change: dict[str, Any]
    ) -> None:
        wanted = {
            group_id_of(experiment, experiment.groups, ref, f"group_names[{i}]")
            for i, ref in enumerate(change["groups"])
        }
        experiment.groups = [
            {**g, "disabled": not enabled} if g["id"] in wanted else g for g in experiment.groups
        ]

    return effect


def _set_overrides(
    kind: EntityKind, project: Project, experiment: Experiment, change: dict[str, Any]
) -> None:
    experiment.overrides = validate_experiment_overrides(project, experiment, change["overrides"])


def _restart_as_new(
    kind: EntityKind, project: Project, old: Experiment, change: dict[str, Any]
) -> Experiment:
    """A copy under a new name, running from now, taking over the old one's layer buckets; the
    old one is abandoned if it was running."""
    name, slug = kernel.new_identity(kind, project=project, name=change["name"])
    now = timezone.now()
    new = Experiment(
        project=project,
        name=name,
        slug=slug,
        description=old.description,
        hypothesis=old.hypothesis,
        id_type=old.id_type,
        tags=list(old.tags),
        review_required=old.review_required,
        groups=[{**g, "id": new_rule_id()} for g in old.groups],
        allocation=old.allocation,
        layer=old.layer,
        targeting_gate=old.targeting_gate,
        status=ACTIVE,
        start_time=now,
    )
    old_ids = [g["id"] for g in old.groups]
    control_index = old_ids.index(old.control_group_id) if old.control_group_id in old_ids else 0
    new.control_group_id = new.groups[control_index]["id"]
    inherited = list(old.buckets)
    if old.status == ACTIVE:
        old.status = ABANDONED
        old.decision_reason = f"Restarted as new experiment '{slug}'."
        old.decision_time = old.end_time = now
    old.buckets = []
    old.save()
    new.buckets = inherited
    place_keeping(new)
    kernel.save_unique(new)
    new.holdouts.set(old.holdouts.all())
    return new


ARCHIVED_REFUSAL = "Experiment is archived."
EVERY_STATE_BUT_ARCHIVED = (SETUP, ACTIVE, DECISION_MADE, ABANDONED, STOPPED)
STARTED = (ACTIVE, DECISION_MADE, ABANDONED, STOPPED)
# Running, or concluded with the decision deferred: a group may be shipped, or it is abandoned.
UNDECIDED = (ACTIVE, STOPPED)

LIFECYCLE = Lifecycle(
    label="Experiment",
    transitions=(
        Transition(
            action="experiment_start",
            verb="start",
            from_states=(SETUP,),
            to_state=ACTIVE,
            refusal="Experiment has already started.",
            effect=_start,
            label="Start experiment",
            confirm="Start {name}? Users are assigned to its groups from now on.",
            done="Experiment started: users are now assigned to its groups.",
            api_verb="start",
            api_message="Experiment successfully started.",
        ),
        Transition(
            action="experiment_decision_make",
            verb="decide",
            from_states=UNDECIDED,
            to_state=DECISION_MADE,
            refusals={SETUP: NOT_STARTED},
            effect=_decide,
            label="Ship this group",
            confirm="Ship the chosen group to everyone in the experiment?",
            done="Decision made: everyone in the experiment now gets the shipped group's values.",
            api_verb="make_decision",
            api_message="Decision made for Experiment.",
        ),
        Transition(
            action="experiment_abandon",
            verb="abandon",
            from_states=UNDECIDED,
            to_state=ABANDONED,
            refusals={SETUP: NOT_STARTED},
            effect=_abandon,
            label="Abandon",
            confirm="Abandon {name}? Everyone gets the defaults again.",
            done="Experiment abandoned: everyone gets the default values again.",
            api_verb="abandon",
            api_message="Experiment successfully abandoned.",
        ),
        Transition(
            action="experiment_decision_defer",
            verb="defer-decision",
            from_states=(ACTIVE,),
            to_state=STOPPED,
            refusals={SETUP: NOT_STARTED},
            refusal="Only a running experiment can be concluded.",
            effect=_defer,
            label="Conclude, decide later",
            confirm="Conclude {name} and decide later? Everyone gets the defaults meanwhile.",
            done="Experiment concluded; the decision is deferred.",
            api_verb="defer_decision",
            api_message="Experiment successfully concluded and decision deferred.",
        ),
        Transition(
            action="experiment_reset",
            verb="reset",
            from_states=STARTED,
            to_state=ACTIVE,
            effect=_reset,
            label="Reset",
            confirm="Restart {name}? Users are assigned afresh (new salt) and it runs again "
            "from now.",
            done="Experiment restarted with fresh assignments.",
            api_verb="reset",
            api_message="Experiment successfully restarted.",
        ),
        Transition(
            action="experiment_restart_as_new",
            verb="restart-as-new",
            from_states=STARTED,
            effect=_restart_as_new,
            label="Restart as new",
            confirm="Restart {name} as a new experiment? The copy starts now with fresh "
            "assignments.",
            done="Restarted as a new experiment: it runs from now with fresh assignments.",
            api_verb="restart_as_new",
            api_message="Restart As New Experiment Success",
        ),
        Transition(
            action="experiment_schedule_start",
            verb="schedule",
            from_states=(SETUP,),
            refusal="Only an experiment in setup can be scheduled.",
            effect=_schedule,
            label="Schedule",
            done="Start scheduled.",
            api_verb="schedule_start",
            api_message="Successfully scheduled experiment start",
        ),
        Transition(
            action="experiment_archive",
            verb="archive",
            from_states=(SETUP, DECISION_MADE, ABANDONED, STOPPED),
            to_state=ARCHIVED,
            refusals={
                ACTIVE: "Experiment is running: make a decision or abandon it before archiving."
            },
            effect=_archive,
            label="Archive",
            confirm="Archive {name}? Its layer space is freed.",
            done="Experiment archived.",
            api_verb="archive",
            api_message="Experiment successfully archived.",
        ),
        Transition(
            action="experiment_unarchive",
            verb="unarchive",
            from_states=(ARCHIVED,),
            effect=_unarchive,
            label="Unarchive",
            done="Experiment unarchived.",
            api_verb="unarchive",
            api_message="Experiment successfully unarchived.",
        ),
        Transition(
            action="experiment_groups_enable",
            verb="enable-groups",
            from_states=EVERY_STATE_BUT_ARCHIVED,
            refusal=ARCHIVED_REFUSAL,
            effect=_groups_enabled(True),
            api_verb="enable_groups",
            api_message="Experiment groups enabled successfully.",
        ),
        Transition(
            action="experiment_groups_disable",
            verb="disable-groups",
            from_states=EVERY_STATE_BUT_ARCHIVED,
            refusal=ARCHIVED_REFUSAL,
            effect=_groups_enabled(False),
            api_verb="disable_groups",
            api_message="Experiment groups disabled successfully.",
        ),
        Transition(
            action="experiment_overrides_update",
            verb="overrides",
            from_states=EVERY_STATE_BUT_ARCHIVED,
            refusal=ARCHIVED_REFUSAL,
            effect=_set_overrides,
            done="Overrides saved.",
            api_verb="overrides",
        ),
    ),
)
