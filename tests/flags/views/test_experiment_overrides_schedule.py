"""The experiment page's overrides (IDs put in a group), "Schedule the start" (UTC) and "Restart
as a new experiment": each through its service, shown only in the states the service allows,
errors at their field, viewers refused, other projects' experiments not found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console.models import Role
from flags import selectors as flag_selectors
from flags.models import Experiment, ExperimentStatus
from flags.services import experiments as experiment_services

GROUPS = [
    {"name": "Control", "size": 50, "parameterValues": {"color": "blue"}},
    {"name": "Green", "size": 50, "parameterValues": {"color": "green"}},
]
FUTURE = "2031-04-05T06:07"


def _experiment(world, *, started: bool = False, name: str = "Button color") -> Experiment:
    actor = world.actor(Role.ADMIN)
    experiment = experiment_services.experiment_create(
        project=world.project, actor=actor, name=name, groups=GROUPS
    )
    if started:
        experiment_services.experiment_start(
            project=world.project, actor=actor, experiment_id=experiment.slug
        )
    return _read(world, experiment.slug)


def _read(world, slug: str) -> Experiment:
    return flag_selectors.experiment_get(project=world.project, experiment_id=slug)


def _url(world, experiment: Experiment, tail: str = "") -> str:
    return f"/p/{world.project.slug}/experiments/{experiment.slug}/{tail}"


def _group_field(experiment: Experiment, name: str) -> str:
    group_id = next(g["id"] for g in experiment.groups if g["name"] == name)
    return f"overrides-group-{group_id}-ids"


def _overrides_via_api(api, world, experiment: Experiment) -> dict:
    response = api.get(
        f"/console/v1/experiments/{experiment.slug}/overrides", key=world.keys["console"]
    )
    assert response.status_code == 200, response.content
    return response.json()["data"]


# -- overrides ------------------------------------------------------------------------------------


def test_experiment_overrides__member_puts_ids_in_a_group__api_and_sdk_answer_it(
    world, as_role, api
):
    # Given a running experiment
    experiment = _experiment(world, started=True)
    green = next(g["id"] for g in experiment.groups if g["name"] == "Green")
    client = as_role(Role.MEMBER)
    # When a member puts two users in "Green"
    response = client.post(
        _url(world, experiment, "overrides/"),
        {_group_field(experiment, "Green"): "ada\nbob", _group_field(experiment, "Control"): ""},
    )
    # Then the page says so
    assert response.status_code == 302
    assert "Overrides saved." in client.get(response["Location"]).content.decode()
    # And the console API reads them back
    assert _overrides_via_api(api, world, experiment)["userIDOverrides"] == [
        {"groupID": green, "ids": ["ada", "bob"], "environment": None, "unitType": "userID"}
    ]
    # And the SDK endpoint puts them in that group
    answer = api.post(
        "/v1/get_config",
        {"user": {"userID": "bob"}, "configName": experiment.slug},
        key=world.keys["server"],
    ).json()
    assert (answer["value"], answer["group_name"]) == ({"color": "green"}, "Green")


def test_experiment_overrides__id_too_long__error_at_its_group_and_nothing_changes(
    world, as_role, api
):
    experiment = _experiment(world)
    field = _group_field(experiment, "Control")
    response = as_role(Role.MEMBER).post(
        _url(world, experiment, "overrides/"), {field: "ada\n" + "x" * 1001}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert f'id="id_{field}_error"' in page
    assert "Each id is a non-empty string." in page
    assert _overrides_via_api(api, world, experiment)["userIDOverrides"] == []


def test_experiment_overrides__viewer__reads_them_without_a_form_and_is_refused(
    world, as_role, api
):
    experiment = _experiment(world)
    experiment_services.experiment_overrides_set(
        project=world.project,
        actor=world.actor(Role.ADMIN),
        experiment_id=experiment.slug,
        overrides={"userIDOverrides": [{"groupID": "Green", "ids": ["ada"]}]},
    )
    client = as_role(Role.VIEWER)
    page = client.get(_url(world, experiment)).content.decode()
    assert "Always in “Green”" in page
    assert "<code>ada</code>" in page
    assert "Save overrides" not in page
    field = _group_field(experiment, "Control")
    response = client.post(_url(world, experiment, "overrides/"), {field: "eve"})
    assert response.status_code == 403
    ids = [o["ids"] for o in _overrides_via_api(api, world, experiment)["userIDOverrides"]]
    assert ids == [["ada"]]


# -- schedule the start ---------------------------------------------------------------------------


def test_experiment_schedule__in_setup__stored_as_utc_and_shown(world, as_role):
    # Given an experiment in setup, whose page offers a UTC start time
    experiment = _experiment(world)
    client = as_role(Role.MEMBER)
    page = client.get(_url(world, experiment)).content.decode()
    assert '<label class="form-label" for="id_schedule-scheduledTime">Start at (UTC)' in page
    # When a member schedules it
    response = client.post(_url(world, experiment, "schedule/"), {"schedule-scheduledTime": FUTURE})
    # Then the start is stored at that UTC time, and the input shows it again
    assert response.status_code == 302
    scheduled = _read(world, experiment.slug).scheduled_start_time
    assert scheduled == datetime(2031, 4, 5, 6, 7, tzinfo=UTC)
    page = client.get(response["Location"]).content.decode()
    assert "Start scheduled." in page
    assert f'value="{FUTURE}"' in page


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "This field is required."),
        ("next tuesday", "Enter a valid date/time."),
        (
            (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "scheduledTime is in the past.",
        ),
    ],
)
def test_experiment_schedule__bad_time__error_at_the_field_and_nothing_changes(
    world, as_role, value, message
):
    experiment = _experiment(world)
    response = as_role(Role.MEMBER).post(
        _url(world, experiment, "schedule/"), {"schedule-scheduledTime": value}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_schedule-scheduledTime_error"' in page
    assert message in page
    assert _read(world, experiment.slug).scheduled_start_time is None


def test_experiment_schedule__running__not_offered_and_refused(world, as_role):
    experiment = _experiment(world, started=True)
    client = as_role(Role.MEMBER)
    assert "Schedule the start" not in client.get(_url(world, experiment)).content.decode()
    response = client.post(_url(world, experiment, "schedule/"), {"schedule-scheduledTime": FUTURE})
    assert response.status_code == 400
    assert "Only an experiment in setup can be scheduled." in response.content.decode()
    assert _read(world, experiment.slug).scheduled_start_time is None


# -- restart as new -------------------------------------------------------------------------------


def test_experiment_restart_as_new__running__opens_the_new_running_copy(world, as_role):
    # Given a running experiment, whose page offers a restart
    experiment = _experiment(world, started=True)
    client = as_role(Role.MEMBER)
    assert "Restart as new" in client.get(_url(world, experiment)).content.decode()
    # When a member restarts it under a new name
    response = client.post(
        _url(world, experiment, "restart-as-new/"), {"restart-name": "Button color v2"}
    )
    # Then they land on the new experiment, which runs; the old one is abandoned
    new = _read(world, "button_color_v2")
    assert response.status_code == 302
    assert response["Location"] == _url(world, new)
    assert new.status == ExperimentStatus.ACTIVE
    assert [g["name"] for g in new.groups] == ["Control", "Green"]
    assert _read(world, experiment.slug).status == ExperimentStatus.ABANDONED
    assert "Restarted as a new experiment" in client.get(response["Location"]).content.decode()


def test_experiment_restart_as_new__name_taken__error_at_the_name_and_nothing_changes(
    world, as_role
):
    experiment = _experiment(world, started=True)
    _experiment(world, name="Taken")
    response = as_role(Role.MEMBER).post(
        _url(world, experiment, "restart-as-new/"), {"restart-name": "Taken"}
    )
    assert response.status_code in (400, 409)
    assert 'id="id_restart-name_error"' in response.content.decode()
    assert _read(world, experiment.slug).status == ExperimentStatus.ACTIVE
    assert Experiment.objects.filter(project=world.project).count() == 2


def test_experiment_restart_as_new__in_setup__not_offered_and_refused(world, as_role):
    experiment = _experiment(world)
    client = as_role(Role.MEMBER)
    assert "Restart as new" not in client.get(_url(world, experiment)).content.decode()
    response = client.post(
        _url(world, experiment, "restart-as-new/"), {"restart-name": "Button color v2"}
    )
    assert response.status_code == 400
    assert not Experiment.objects.filter(project=world.project, slug="button_color_v2").exists()


# -- roles and projects ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tail", "data"),
    [
        ("schedule/", {"schedule-scheduledTime": FUTURE}),
        ("restart-as-new/", {"restart-name": "Button color v2"}),
    ],
)
def test_experiment_lifecycle_forms__viewer__no_form_and_403(world, as_role, tail, data):
    experiment = _experiment(world, started=tail == "restart-as-new/")
    client = as_role(Role.VIEWER)
    page = client.get(_url(world, experiment)).content.decode()
    assert "Schedule the start" not in page
    assert "Restart as new" not in page
    assert client.post(_url(world, experiment, tail), data).status_code == 403
    assert Experiment.objects.filter(project=world.project).count() == 1
    assert _read(world, experiment.slug).scheduled_start_time is None


@pytest.mark.parametrize(
    ("tail", "data"),
    [
        ("overrides/", {}),
        ("schedule/", {"schedule-scheduledTime": FUTURE}),
        ("restart-as-new/", {"restart-name": "Button color v2"}),
    ],
)
def test_experiment_forms__another_projects_experiment__404(
    world, other_world, as_role, tail, data
):
    theirs = _experiment(other_world, started=tail == "restart-as-new/")
    client = as_role(Role.ADMIN)
    here = client.post(f"/p/{world.project.slug}/experiments/{theirs.slug}/{tail}", data)
    there = client.post(_url(other_world, theirs, tail), data)
    assert (here.status_code, there.status_code) == (404, 404)
    mine = flag_selectors.experiment_get(project=other_world.project, experiment_id=theirs.slug)
    assert (mine.scheduled_start_time, mine.overrides.get("userIDOverrides", [])) == (None, [])
    assert Experiment.objects.filter(project=other_world.project).count() == 1
