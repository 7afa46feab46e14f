"""``/decide`` (v1–v4) and ``/flags`` (v1, v2+) answering from our ruleset; the local-evaluation
endpoints refusing definitions so the SDK evaluates remotely."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evaluation import EvaluationUser, evaluate_config
from tests.events.helpers import data_statements

ALL_KEYS = [
    "acme_only",
    "checkout_exp",
    "employees_only",
    "everyone",
    "nobody_rollout",
    "office_ip",
    "pricing",
    "switched_off",
]
CONFIG_BLOCK = {
    "config": {"enable_collect_everything": True},
    "toolbarParams": {},
    "editorParams": {},
    "isAuthenticated": False,
    "supportedCompression": ["gzip", "gzip-js"],
    "sessionRecording": False,
    "siteApps": [],
    "capturePerformance": False,
    "autocapture_opt_out": False,
    "surveys": False,
    "heatmaps": False,
}


@pytest.fixture
def project_flags(world, served_ruleset):
    return served_ruleset(world.project)


def decide(api, path: str, body: dict, **kwargs):
    response = api.post(path, body, **kwargs)
    data = response.json()
    return response, data


def without_stamps(data: dict) -> dict:
    stamps = {key: data.pop(key) for key in ("requestId", "evaluatedAt")}
    assert len(stamps["requestId"]) == 36
    assert isinstance(stamps["evaluatedAt"], int)
    return data


def experiment_group(user_id: str) -> str:
    from evaluation import CompiledRuleset
    from tests.events.rulesets import payload

    ruleset = CompiledRuleset.from_specs(payload())
    return evaluate_config(
        ruleset, EvaluationUser.from_dict({"userID": user_id}), "checkout_exp"
    ).group_name


# ---------------------------------------------------------------------------------------------
# The seeds' requests.


def test_decide_v3__seed_request__every_field(api, world, project_flags):
    # Given the seed's request (groups for group-based flags)
    body = {
        "api_key": world.keys["client"],
        "distinct_id": "distinct_id_of_your_user",
        "groups": {"group_type": "group_id"},
    }
    # When
    response, data = decide(api, "/decide/?v=3", body)
    # Then every flag is listed (false ones too) and payloads are JSON strings
    assert response.status_code == 200
    group = experiment_group("distinct_id_of_your_user")
    assert without_stamps(data) == {
        **CONFIG_BLOCK,
        "featureFlags": {
            "acme_only": False,
            "checkout_exp": group,
            "employees_only": False,
            "everyone": True,
            "nobody_rollout": False,
            "office_ip": False,
            "pricing": False,
            "switched_off": False,
        },
        "featureFlagPayloads": {
            "checkout_exp": json.dumps(
                {"color": "blue" if group == "Control" else "green"}, separators=(",", ":")
            )
        },
        "errorsWhileComputingFlags": False,
    }


def test_decide_v3__seed_overrides__person_and_group_properties_used(api, world, project_flags):
    body = {
        "api_key": world.keys["client"],
        "distinct_id": "1234",
        "groups": {"companyID": "acme"},
        "person_properties": {"email": "ada@acme.com"},
        "group_properties": {"companyID": {"plan": "pro"}},
    }
    _, data = decide(api, "/decide?v=3", body)
    flags = data["featureFlags"]
    assert (flags["employees_only"], flags["acme_only"], flags["pricing"]) == (True, True, True)
    assert data["featureFlagPayloads"]["pricing"] == '{"price":10,"currency":"EUR"}'


def test_decide_v2__seed_request__enabled_flags_only(api, world, project_flags):
    body = {"api_key": world.keys["client"], "distinct_id": "1234", "groups": {"companyID": "acme"}}
    response, data = decide(api, "/decide?v=2", body)
    assert response.status_code == 200
    assert without_stamps(data) == {
        **CONFIG_BLOCK,
        "featureFlags": {
            "acme_only": True,
            "checkout_exp": experiment_group("1234"),
            "everyone": True,
        },
    }


@pytest.mark.parametrize("path", ["/decide?v=1", "/decide/", "/decide"])
def test_decide_v1__seed_request__list_of_enabled_keys(api, world, project_flags, path):
    body = {"api_key": world.keys["client"], "distinct_id": "1234"}
    response, data = decide(api, path, body)
    assert response.status_code == 200
    assert without_stamps(data) == {**CONFIG_BLOCK, "featureFlags": ["checkout_exp", "everyone"]}


def test_decide_v4__records_with_value_enabled_variant_reason_metadata(api, world, project_flags):
    body = {"token": world.keys["client"], "distinct_id": "1234"}
    _, data = decide(api, "/decide?v=4", body)
    data = without_stamps(data)
    assert data["errorsWhileComputingFlags"] is False
    flags = data["flags"]
    assert sorted(flags) == ALL_KEYS
    group = experiment_group("1234")
    assert flags["checkout_exp"] == {
        "key": "checkout_exp",
        "enabled": True,
        "variant": group,
        "value": group,
        "reason": {
            "code": "condition_match",
            "condition_index": 1 if group == "Control" else 2,
            "description": f"Matched condition set {2 if group == 'Control' else 3}",
        },
        "metadata": {
            "id": flags["checkout_exp"]["metadata"]["id"],
            "version": 1,
            "description": None,
            "payload": json.dumps(
                {"color": "blue" if group == "Control" else "green"}, separators=(",", ":")
            ),
            "has_experiment": True,
        },
    }
    assert isinstance(flags["checkout_exp"]["metadata"]["id"], int)
    assert flags["everyone"]["reason"] == {
        "code": "condition_match",
        "condition_index": 0,
        "description": "Matched condition set 1",
    }
    assert (
        flags["everyone"]["enabled"],
        flags["everyone"]["variant"],
        flags["everyone"]["value"],
    ) == (
        True,
        None,
        True,
    )
    assert flags["everyone"]["metadata"]["payload"] is None
    assert flags["employees_only"]["reason"] == {
        "code": "no_condition_match",
        "condition_index": None,
        "description": "No matching condition set",
    }
    assert flags["nobody_rollout"]["reason"] == {
        "code": "out_of_rollout_bound",
        "condition_index": 0,
        "description": "Out of rollout bound",
    }
    assert flags["switched_off"]["reason"]["code"] == "flag_disabled"
    assert flags["switched_off"]["value"] is False
    # A dynamic config whose rule did not pass: off, no payload.
    assert (flags["pricing"]["enabled"], flags["pricing"]["metadata"]["payload"]) == (False, None)


def test_flags_v2__asked_again_and_for_other_users__same_records_each_users_own(
    api, world, project_flags
):
    # Given the records of two users whose experiment groups differ
    users = {}
    for user_id in (str(n) for n in range(1, 40)):
        users.setdefault(experiment_group(user_id), user_id)
    first = {group: _records(api, world, user_id) for group, user_id in users.items()}
    assert len(first) == 2
    # When each is asked again, after the other (the second time from the shared records)
    again = {group: _records(api, world, user_id) for group, user_id in users.items()}
    # Then each user gets the very same records, and the experiment's differ between them
    assert again == first
    control, other = (first[group]["checkout_exp"] for group in sorted(first))
    assert control["variant"] != other["variant"]
    assert control["metadata"]["payload"] != other["metadata"]["payload"]


def _records(api, world, user_id: str) -> dict:
    body = {"api_key": world.keys["client"], "distinct_id": user_id}
    _, data = decide(api, "/flags/?v=2", body)
    return data["flags"]


def test_flags__no_version__v2_records_with_config_block(api, world, project_flags):
    body = {"api_key": world.keys["client"], "distinct_id": "1234"}
    _, data = decide(api, "/flags/", body)
    data = without_stamps(data)
    assert data["config"] == {"enable_collect_everything": True}
    assert sorted(data["flags"]) == ALL_KEYS
    assert data["errorsWhileComputingFlags"] is False


@pytest.mark.parametrize("version", ["2", "3", "4"])
def test_flags__v2_and_later__records_without_config_block(api, world, project_flags, version):
    body = {"api_key": world.keys["client"], "distinct_id": "1234"}
    _, data = decide(api, f"/flags/?v={version}", body)
    assert set(without_stamps(data)) == {"flags", "errorsWhileComputingFlags"}
    assert data["flags"]["everyone"]["value"] is True


def test_flags_v1__legacy_shape(api, world, project_flags):
    body = {"api_key": world.keys["client"], "distinct_id": "1234"}
    _, data = decide(api, "/flags?v=1", body)
    assert set(without_stamps(data)) == {
        "featureFlags",
        "featureFlagPayloads",
        "errorsWhileComputingFlags",
    }
    assert data["featureFlags"]["everyone"] is True
    assert data["featureFlags"]["employees_only"] is False


def test_flags__flag_keys_to_evaluate__only_those(api, world, project_flags):
    body = {
        "api_key": world.keys["client"],
        "distinct_id": "1234",
        "flag_keys_to_evaluate": ["everyone", "pricing", "no_such_flag"],
    }
    _, data = decide(api, "/flags/?v=2", body)
    assert sorted(data["flags"]) == ["everyone", "pricing"]


def test_flags__evaluator_itself_fails__every_flag_failed_not_a_500(
    api, world, project_flags, monkeypatch
):
    # Given an evaluator that fails as a whole (not a rule of one flag)
    def broken(self, entries):
        raise RuntimeError("evaluator bug")

    monkeypatch.setattr("evaluation.UserEvaluation.evaluate_specs", broken)
    # When flags are asked for
    response, data = decide(
        api, "/flags/?v=2", {"api_key": world.keys["client"], "distinct_id": "1234"}
    )
    # Then every flag answers failed and off, and the answer says so
    assert response.status_code == 200
    assert sorted(data["flags"]) == ALL_KEYS
    assert {(r["enabled"], r.get("failed")) for r in data["flags"].values()} == {(False, True)}
    assert data["errorsWhileComputingFlags"] is True


def test_flags__disable_flags__empty(api, world, project_flags):
    body = {"api_key": world.keys["client"], "distinct_id": "1234", "disable_flags": True}
    _, data = decide(api, "/flags/?v=2", body)
    assert data["flags"] == {}


# ---------------------------------------------------------------------------------------------
# The user: stored person properties, overrides, groups, IP.


def test_flags__stored_person_properties__used_with_one_query(api, world, project_flags):
    key = world.keys["client"]
    # Given a person whose email was set through capture
    api.post(
        "/capture/",
        {
            "api_key": key,
            "event": "$identify",
            "distinct_id": "ada",
            "$set": {"email": "ada@acme.com"},
        },
    )
    api.post("/flags/?v=2", {"api_key": key, "distinct_id": "warm-up"})
    # When flags are asked for, the only query is the person's properties
    with CaptureQueriesContext(connection) as captured:
        _, data = decide(api, "/flags/?v=2", {"api_key": key, "distinct_id": "ada"})
    assert data["flags"]["employees_only"]["enabled"] is True
    statements = data_statements(captured)
    assert len(statements) == 1
    assert "flag_events_persondistinctid" in statements[0]


def test_flags__override_person_properties__win_over_stored(api, world, project_flags):
    key = world.keys["client"]
    api.post(
        "/capture/",
        {"api_key": key, "event": "$set", "distinct_id": "ada", "$set": {"email": "ada@acme.com"}},
    )
    body = {
        "api_key": key,
        "distinct_id": "ada",
        "person_properties": {"email": "ada@elsewhere.org"},
    }
    _, data = decide(api, "/flags/?v=2", body)
    assert data["flags"]["employees_only"]["enabled"] is False


def test_flags__merged_alias__stored_properties_found_by_either_id(api, world, project_flags):
    key = world.keys["client"]
    api.post(
        "/capture/",
        {"api_key": key, "event": "$set", "distinct_id": "anon", "$set": {"plan": "pro"}},
    )
    api.post(
        "/capture/",
        {
            "api_key": key,
            "event": "$identify",
            "distinct_id": "user-7",
            "properties": {"$anon_distinct_id": "anon"},
        },
    )
    _, data = decide(api, "/flags/?v=2", {"api_key": key, "distinct_id": "user-7"})
    assert data["flags"]["pricing"]["enabled"] is True


def test_flags__forwarded_ip__used_unless_geoip_disabled(api, world, project_flags):
    key = world.keys["client"]
    headers = {"X-Forwarded-For": "203.0.113.7, 10.0.0.1"}
    _, data = decide(api, "/flags/?v=2", {"api_key": key, "distinct_id": "u"}, headers=headers)
    assert data["flags"]["office_ip"]["enabled"] is True
    body = {"api_key": key, "distinct_id": "u", "geoip_disable": True}
    _, data = decide(api, "/flags/?v=2", body, headers=headers)
    assert data["flags"]["office_ip"]["enabled"] is False


def test_flags__gzip_and_base64_bodies__accepted(api, world, project_flags):
    import base64
    import gzip

    body = json.dumps({"api_key": world.keys["client"], "distinct_id": "u"}).encode()
    response = api.post("/flags/?v=2", raw=gzip.compress(body), content_type="text/plain")
    assert response.json()["flags"]["everyone"]["enabled"] is True
    response = api.post(
        "/flags/?v=2&compression=base64", raw=base64.b64encode(body), content_type="text/plain"
    )
    assert response.json()["flags"]["everyone"]["enabled"] is True


# ---------------------------------------------------------------------------------------------
# Errors and other methods.


def test_flags__no_token__401_no_api_key(api, world, project_flags):
    response = api.post("/flags/?v=2", {"distinct_id": "u"})
    assert response.status_code == 401
    assert response.json() == {
        "type": "authentication_error",
        "code": "no_api_key",
        "detail": "No project API key provided. You can find your project API key in PostHog project settings.",
        "attr": None,
    }


def test_decide__unknown_token__401_invalid_api_key(api, world, project_flags):
    response = api.post("/decide/?v=3", {"api_key": "phc_nope", "distinct_id": "u"})
    assert response.status_code == 401
    assert response.json() == {
        "type": "authentication_error",
        "code": "invalid_api_key",
        "detail": "Project API key invalid. You can find your project API key in PostHog project settings.",
        "attr": None,
    }


def test_decide__no_distinct_id__400_missing_distinct_id(api, world, project_flags):
    response = api.post("/decide/?v=3", {"api_key": world.keys["client"]})
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "code": "missing_distinct_id",
        "detail": "Decide requires a distinct_id.",
        "attr": None,
    }


def test_decide__malformed_body__400_malformed_data(api, world, project_flags):
    response = api.post("/decide/?v=3", raw=b"{{{", content_type="text/plain")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_data"


def test_flags__get_without_data__empty_flags(api, world, project_flags):
    response = api.get("/flags/?v=2")
    assert response.status_code == 200
    assert response.json()["flags"] == {}
    assert api.request("OPTIONS", "/flags/").status_code == 204


# ---------------------------------------------------------------------------------------------
# Local evaluation: refused so that the SDK evaluates remotely.


@pytest.mark.parametrize("path", ["/flags/definitions", "/api/feature_flag/local_evaluation/"])
def test_definitions__valid_token__empty_set_with_etag(api, world, path):
    response = api.get(
        f"{path}?token={world.keys['client']}&send_cohorts",
        headers={"Authorization": "Bearer phx_x"},
    )
    assert response.status_code == 200
    assert response.json() == {"flags": [], "group_type_mapping": {}, "cohorts": {}}
    etag = response["ETag"]
    again = api.get(f"{path}?token={world.keys['client']}", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_definitions__unknown_token__401(api, world):
    response = api.get("/flags/definitions?token=phc_nope")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_api_key"


def test_flags__warm__no_sql_and_a_change_is_seen_at_once(api, world, project_flags):
    key = world.keys["client"]
    # Given a person whose properties this process has read once
    api.post(
        "/capture/",
        {"api_key": key, "event": "$set", "distinct_id": "ada", "$set": {"email": "ada@acme.com"}},
    )
    decide(api, "/flags/?v=2", {"api_key": key, "distinct_id": "ada"})

    # When flags are asked for again, no query is made
    with CaptureQueriesContext(connection) as captured:
        _, data = decide(api, "/flags/?v=2", {"api_key": key, "distinct_id": "ada"})
        _, again = decide(api, "/decide/?v=3", {"api_key": key, "distinct_id": "ada"})
    assert data_statements(captured) == []
    assert data["flags"]["employees_only"]["enabled"] is True
    assert again["featureFlags"]["employees_only"] is True

    # And when the person changes through ingestion, the next answer uses the new properties
    api.post(
        "/capture/",
        {"api_key": key, "event": "$set", "distinct_id": "ada", "$set": {"email": "ada@else.org"}},
    )
    _, data = decide(api, "/flags/?v=2", {"api_key": key, "distinct_id": "ada"})
    assert data["flags"]["employees_only"]["enabled"] is False
