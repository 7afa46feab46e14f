"""The unmodified ``posthog`` and ``statsig`` SDKs against a live test server: what they send
reaches the stores, and PostHog flag answers come from our ruleset."""

from __future__ import annotations

import json
import time

import pytest

from events.models import Event, Exposure, Group, Person, PersonDistinctId
from tests.conftest import make_world
from tests.events.rulesets import payload

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def posthog_client(live_server):
    from posthog import Posthog

    clients = []

    def make(key: str):
        # 127.0.0.1, not "localhost": no IPv6 attempt before each request.
        host = live_server.url.replace("localhost", "127.0.0.1")
        client = Posthog(key, host=host, sync_mode=True, max_retries=0)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.shutdown()
    close_sdk_connections()


def close_sdk_connections() -> None:
    """Closes the SDK's pooled keep-alive connections while the live server still runs, so none
    of its request threads outlives the test (with in-memory SQLite such a thread fails when it
    finally closes its database connection)."""
    from posthog.request import reset_sessions

    reset_sessions()
    time.sleep(0.1)


def test_posthog_sdk__capture_set_group_alias__reach_the_stores(posthog_client):
    world = make_world("PostHog SDK")
    client = posthog_client(world.keys["client"])
    # When the SDK captures, sets person properties, identifies a group and aliases
    client.capture(
        "signed_up",
        distinct_id="anon-1",
        properties={"plan": "free", "$groups": {"company": "acme"}},
    )
    client.set(distinct_id="anon-1", properties={"email": "ada@acme.com"})
    client.set_once(distinct_id="anon-1", properties={"first_touch": "ad"})
    client.capture(
        "$identify",
        distinct_id="user-1",
        properties={"$anon_distinct_id": "anon-1", "$set": {"name": "Ada"}},
    )
    client.group_identify("company", "acme", {"name": "Acme", "employees": 12})
    client.alias("user-1-old", "user-1")
    client.flush()
    # Then the events are stored with their lib properties
    names = set(Event.objects.filter(project=world.project).values_list("name", flat=True))
    assert {"signed_up", "$set", "$identify", "$groupidentify", "$create_alias"} <= names
    signed_up = Event.objects.get(project=world.project, name="signed_up")
    assert signed_up.user_id == "anon-1"
    assert signed_up.custom_ids == {"company": "acme"}
    assert signed_up.properties["$lib"] == "posthog-python"
    assert signed_up.source == "posthog"
    # And one person owns the three ids, with every property
    person_ids = set(
        PersonDistinctId.objects.filter(project=world.project).values_list("person_id", flat=True)
    )
    assert len(person_ids) == 1
    assert set(
        PersonDistinctId.objects.filter(project=world.project).values_list("distinct_id", flat=True)
    ) == {
        "anon-1",
        "user-1",
        "user-1-old",
    }
    person = Person.objects.get(project=world.project)
    assert person.properties == {"email": "ada@acme.com", "first_touch": "ad", "name": "Ada"}
    assert person.is_identified is True
    group = Group.objects.get(project=world.project)
    assert (group.group_type, group.group_key, group.properties) == (
        "company",
        "acme",
        {"name": "Acme", "employees": 12},
    )


def test_posthog_sdk__flags__answers_from_our_ruleset(posthog_client, served_ruleset):
    from evaluation import CompiledRuleset, EvaluationUser, evaluate_config, evaluate_gate

    world = make_world("PostHog flags")
    served_ruleset(world.project)
    ruleset = CompiledRuleset.from_specs(payload())
    client = posthog_client(world.keys["client"])
    for i in range(6):
        distinct_id = f"user-{i}"
        user = EvaluationUser.from_dict({"userID": distinct_id})
        gate = evaluate_gate(ruleset, user, "everyone")
        experiment = evaluate_config(ruleset, user, "checkout_exp")
        # A gate is a boolean flag
        assert client.feature_enabled("everyone", distinct_id) is gate.value is True
        assert client.feature_enabled("employees_only", distinct_id) is False
        # An experiment is a multivariate flag: the variant is the group, the payload its values
        assert client.get_feature_flag("checkout_exp", distinct_id) == experiment.group_name
        assert client.get_feature_flag_payload("checkout_exp", distinct_id) == experiment.json_value
        # A dynamic config: on when a rule passed, the value as payload
        assert (
            client.get_feature_flag("pricing", distinct_id, person_properties={"plan": "pro"})
            is True
        )
        assert client.get_feature_flag_payload(
            "pricing", distinct_id, person_properties={"plan": "pro"}
        ) == {"price": 10, "currency": "EUR"}
        flags = client.get_all_flags(distinct_id)
        assert flags["everyone"] is True
        assert flags["checkout_exp"] == experiment.group_name
        assert flags["employees_only"] is False
        assert "segment:beta" not in flags
    # Unknown flags are None, as PostHog answers
    assert client.get_feature_flag("no_such_flag", "user-1") is None
    # The SDK's $feature_flag_called events became exposures of our entities
    client.flush()
    exposures = Exposure.objects.filter(project=world.project, source="posthog")
    gate_exposure = exposures.filter(name="everyone").first()
    assert gate_exposure is not None
    assert (gate_exposure.kind, gate_exposure.value) == ("gate", True)
    experiment_exposure = exposures.filter(name="checkout_exp", user_id="user-0").first()
    assert experiment_exposure.kind == "config"
    assert experiment_exposure.group_name in {"Control", "Test"}


def test_posthog_sdk__evaluate_flags_snapshot__answers_and_tags_the_captured_event(
    posthog_client, served_ruleset
):
    from evaluation import CompiledRuleset, EvaluationUser, evaluate_config

    # Given the SDK's recommended API: one /flags call per request, a snapshot of every flag
    world = make_world("PostHog evaluate_flags")
    served_ruleset(world.project)
    client = posthog_client(world.keys["client"])
    experiment = evaluate_config(
        CompiledRuleset.from_specs(payload()),
        EvaluationUser.from_dict({"userID": "user-7"}),
        "checkout_exp",
    )

    # When the application evaluates the flags of a user
    flags = client.evaluate_flags("user-7", person_properties={"plan": "pro"})

    # Then the snapshot answers from our ruleset
    assert flags.is_enabled("everyone") is True
    assert flags.is_enabled("employees_only") is False
    assert flags.get_flag("checkout_exp") == experiment.group_name
    assert flags.get_flag_payload("checkout_exp") == experiment.json_value
    assert flags.get_flag("pricing") is True
    assert flags.get_flag_payload("pricing") == {"price": 10, "currency": "EUR"}
    assert flags.get_flag("no_such_flag") is None

    # And an event captured with the snapshot is stored with the values the code branched on
    client.capture("purchase", distinct_id="user-7", flags=flags)
    client.flush()
    event = Event.objects.get(project=world.project, name="purchase", user_id="user-7")
    assert event.properties["$feature/everyone"] is True
    assert event.properties["$feature/checkout_exp"] == experiment.group_name
    assert "everyone" in event.properties["$active_feature_flags"]
    # And the flags the code read became exposures, as with the per-flag calls
    exposed = set(
        Exposure.objects.filter(project=world.project, user_id="user-7").values_list(
            "name", flat=True
        )
    )
    assert {"everyone", "checkout_exp", "pricing"} <= exposed


def test_posthog_sdk__local_evaluation_configured__falls_back_to_remote(
    live_server, served_ruleset
):
    from posthog import Posthog

    world = make_world("PostHog local")
    served_ruleset(world.project)
    # Given an SDK configured for local evaluation (a personal API key)
    client = Posthog(
        world.keys["client"],
        host=live_server.url.replace("localhost", "127.0.0.1"),
        personal_api_key="phx_anything",
        sync_mode=True,
        poll_interval=3600,
    )
    try:
        client.load_feature_flags()
        # Then it loaded no definitions and answers every flag from /flags
        assert client.feature_flags == []
        assert client.feature_enabled("everyone", "user-1") is True
        assert (
            client.get_feature_flag(
                "employees_only", "user-1", person_properties={"email": "a@acme.com"}
            )
            is True
        )
        assert (
            client.get_feature_flag("employees_only", "user-1", only_evaluate_locally=True) is None
        )
    finally:
        client.shutdown()
        close_sdk_connections()


def test_statsig_sdk__log_event_gzip__events_and_exposures_stored(live_server):
    from statsig import StatsigEvent, StatsigOptions, StatsigServer, StatsigUser

    from console.models import Role

    # Given entities made through the services, served to the SDK by our /v1
    world = make_world("Statsig SDK")
    build_entities(world.project, world.actor(Role.ADMIN))
    options = StatsigOptions(
        api=live_server.url.replace("localhost", "127.0.0.1") + "/v1",
        rulesets_sync_interval=3600,
        idlists_sync_interval=3600,
        init_timeout=5,
        tier="staging",
    )
    server = StatsigServer()
    server.initialize(world.keys["server"], options)
    try:
        user = StatsigUser(user_id="user-1", email="ada@acme.com", custom_ids={"companyID": "acme"})
        # When the SDK checks a gate and an experiment and logs a custom event
        assert server.check_gate(user, "employees") is True
        group = server.get_experiment(user, "button_color").group_name
        server.log_event(StatsigEvent(user, "purchase", value=9.99, metadata={"sku": "A1"}))
    finally:
        # shutdown() flushes the queue to /v1/log_event (gzip)
        server.shutdown()
    wait_for(lambda: Event.objects.filter(project=world.project, name="purchase").exists())
    # Then the custom event is in the event store
    event = Event.objects.get(project=world.project, name="purchase")
    assert (event.user_id, event.value, event.numeric_value) == ("user-1", "9.99", 9.99)
    assert event.properties == {"sku": "A1"}
    assert event.custom_ids == {"companyID": "acme"}
    assert event.environment == "staging"
    assert event.source == "statsig_sdk"
    assert "privateAttributes" not in event.user
    # And the SDK's exposures are in the exposure store, the experiment's with its group
    gate = Exposure.objects.get(
        project=world.project, kind="gate", name="employees", source="statsig_sdk"
    )
    assert (gate.value, gate.user_id, gate.environment) == (True, "user-1", "staging")
    assert gate.rule_id
    experiment = Exposure.objects.get(
        project=world.project, kind="config", name="button_color", source="statsig_sdk"
    )
    assert experiment.group_name == (group or "")


def build_entities(project, actor) -> None:
    """A gate by email, a 30 % rollout, a disabled gate, a config by plan and a started 50/50
    experiment with 80 % allocation, through the flags services."""
    from flags.services.configs import dynamic_config_create
    from flags.services.experiments import experiment_create, experiment_start
    from flags.services.gates import gate_create

    gate_create(
        project=project,
        actor=actor,
        name="Employees",
        rules=[
            {
                "name": "Company email",
                "passPercentage": 100,
                "conditions": [
                    {"type": "email", "operator": "str_ends_with_any", "targetValue": ["@acme.com"]}
                ],
            }
        ],
    )
    gate_create(
        project=project,
        actor=actor,
        name="Rollout",
        rules=[{"name": "Thirty", "passPercentage": 30, "conditions": [{"type": "public"}]}],
    )
    gate_create(project=project, actor=actor, name="Kill Switch", is_enabled=False)
    dynamic_config_create(
        project=project,
        actor=actor,
        name="Pricing",
        default_value={"price": 20},
        rules=[
            {
                "name": "Pro plan",
                "passPercentage": 100,
                "conditions": [
                    {
                        "type": "custom_field",
                        "field": "plan",
                        "operator": "any",
                        "targetValue": ["pro"],
                    }
                ],
                "returnValue": {"price": 10},
            }
        ],
    )
    experiment = experiment_create(
        project=project,
        actor=actor,
        name="Button Color",
        allocation=80,
        groups=[
            {"name": "Control", "size": 50, "parameterValues": {"color": "blue"}},
            {"name": "Green", "size": 50, "parameterValues": {"color": "green"}},
        ],
    )
    experiment_start(project=project, actor=actor, experiment_id=experiment.slug)


def test_posthog_sdk__flags_equal_v1_check_gate_and_get_config(posthog_client):
    from console.models import Role
    from tests.wire_client import WireClient

    # Given entities made through the services (the ruleset rebuilds on commit)
    world = make_world("Equivalence")
    build_entities(world.project, world.actor(Role.ADMIN))
    client = posthog_client(world.keys["client"])
    statsig = WireClient()

    def v1(path: str, body: dict) -> dict:
        response = statsig.post(
            path,
            data=json.dumps(body),
            content_type="application/json",
            headers={"STATSIG-API-KEY": world.keys["server"]},
        )
        assert response.status_code == 200, response.content
        return response.json()

    compared = 0
    quiet = {"send_feature_flag_events": False}
    for i in range(12):
        distinct_id = f"user-{i}"
        email = f"u{i}@acme.com" if i % 3 == 0 else f"u{i}@example.org"
        plan = "pro" if i % 2 else "free"
        properties = {"email": email, "plan": plan}
        user = {"userID": distinct_id, "email": email, "custom": properties}
        # Gates: feature_enabled == check_gate's value
        for gate in ("employees", "rollout", "kill_switch"):
            expected = v1("/v1/check_gate", {"user": user, "gateName": gate})["value"]
            enabled = client.feature_enabled(
                gate, distinct_id, person_properties=properties, **quiet
            )
            assert enabled is expected
        # The experiment: the variant is get_config's group, the payload its value
        answer = v1("/v1/get_config", {"user": user, "configName": "button_color"})
        flag = client.get_feature_flag(
            "button_color", distinct_id, person_properties=properties, **quiet
        )
        payload = client.get_feature_flag_payload(
            "button_color", distinct_id, person_properties=properties
        )
        if answer["group_name"]:
            assert flag == answer["group_name"]
            assert payload == answer["value"]
            compared += 1
        else:
            assert flag is False
            assert payload is None
        # The config: on when a rule passed, the value as payload
        config = v1("/v1/get_config", {"user": user, "configName": "pricing"})
        passed = config["rule_id"] not in (None, "", "default", "disabled")
        assert (
            client.get_feature_flag("pricing", distinct_id, person_properties=properties) is passed
        )
        expected_payload = config["value"] if passed else None
        assert (
            client.get_feature_flag_payload("pricing", distinct_id, person_properties=properties)
            == expected_payload
        )
        # get_all_flags: the same answers at once
        flags = client.get_all_flags(distinct_id, person_properties=properties)
        assert (
            flags["employees"]
            is v1("/v1/check_gate", {"user": user, "gateName": "employees"})["value"]
        )
        assert flags["button_color"] == (answer["group_name"] or False)
        assert flags["pricing"] is passed
    # Enough users were allocated to compare variants (80 % allocation)
    assert compared >= 5
