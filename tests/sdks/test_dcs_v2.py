"""``GET /v2/download_config_specs/<key>.json``: the v2 document the server-core SDKs parse,
``has_updates: false`` for ``sinceTime``, ETag/304, and 4xx for the wrong keys."""

from __future__ import annotations

import pytest

from serving.dcs_v2 import condition_key

pytestmark = pytest.mark.django_db


def test_dcs_v2__server_key__v1_specs_keyed_by_name_with_a_condition_map(api, world, staff_gate):
    key = world.keys["server"]
    v1 = api.get(f"/v1/download_config_specs/{key}.json").json()

    response = api.get(f"/v2/download_config_specs/{key}.json?supports_proto=true")

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response["ETag"] != api.get(f"/v1/download_config_specs/{key}.json")["ETag"]
    body = response.json()
    [gate_v1] = [spec for spec in v1["feature_gates"] if spec["name"] == "staff"]
    [rule_v1] = gate_v1["rules"]
    [condition_v1] = rule_v1["conditions"]
    condition = {
        field: condition_v1[field]
        for field in ("type", "targetValue", "operator", "field", "additionalValues", "idType")
    }
    expected_gate = {k: v for k, v in gate_v1.items() if k != "name"}
    expected_gate["rules"] = [{**rule_v1, "conditions": [condition_key(condition)]}]
    assert body == {
        "feature_gates": {"staff": expected_gate},
        "dynamic_configs": {},
        "layer_configs": {},
        "condition_map": {condition_key(condition): condition},
        "experiment_to_layer": {},
        "default_environment": "production",
        "has_updates": True,
        "time": v1["time"],
        "response_format": "dcs-v2",
    }


def test_dcs_v2__since_time_and_etag__no_updates(api, world, staff_gate):
    key = world.keys["server"]
    first = api.get(f"/v2/download_config_specs/{key}.json")
    time = first.json()["time"]

    current = api.get(f"/v2/download_config_specs/{key}.json?sinceTime={time}")
    assert current.status_code == 200
    assert current.json() == {"has_updates": False, "time": time}

    cached = api.get(
        f"/v2/download_config_specs/{key}.json", headers={"If-None-Match": first["ETag"]}
    )
    assert cached.status_code == 304
    assert cached["ETag"] == first["ETag"]
    assert cached.content == b""

    stale = api.get(
        f"/v2/download_config_specs/{key}.json", headers={"If-None-Match": '"an-older-version"'}
    )
    assert stale.status_code == 200
    assert stale.json()["has_updates"] is True


@pytest.mark.parametrize(
    ("secret", "query", "status"),
    [
        ("client", "", 401),
        ("console", "", 401),
        ("unknown", "", 401),
        ("server", "?sinceTime=yesterday", 400),
    ],
)
def test_dcs_v2__bad_request__clear_4xx(api, world, staff_gate, secret, query, status):
    key = world.keys.get(secret, "secret-unknown")
    response = api.get(f"/v2/download_config_specs/{key}.json{query}")
    assert response.status_code == status
    assert response.json()["status"] == status
    assert api.post(f"/v2/download_config_specs/{world.keys['server']}.json").status_code == 405
