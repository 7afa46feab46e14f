"""An experiment in a layer is read through the layer's parameters: its units come from layer
exposures allocated to it, logged by the server (``get_layer``) or by a client SDK."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from events.exposures import drain_all
from events.models import Exposure
from flags.models import Experiment
from tests.analysis.traffic import METRICS, T0, ms, statsig_event


def _layer_experiment(capi) -> Experiment:
    assert capi.post("metrics", METRICS[0]).status_code == 201
    layer = {
        "name": "checkout_layer",
        "idType": "userID",
        "parameters": [{"name": "color", "type": "string", "defaultValue": "grey"}],
    }
    assert capi.post("layers", layer).status_code == 201
    body = {
        "name": "layered_test",
        "layerID": "checkout_layer",
        "groups": [
            {"name": "Control", "size": 50, "parameterValues": {"color": "blue"}},
            {"name": "Test", "size": 50, "parameterValues": {"color": "green"}},
        ],
        "primaryMetrics": [{"name": METRICS[0]["name"], "type": METRICS[0]["type"]}],
    }
    created = capi.post("experiments", body)
    assert created.status_code == 201, created.json()
    assert capi.put("experiments/layered_test/start").status_code == 200
    return Experiment.objects.get(slug="layered_test")


def test_layer_exposures__server_and_client_logged__units_in_their_groups(api, world, capi):
    _layer_experiment(capi)
    seen: dict[str, str] = {}
    for index in range(40):
        unit = f"server{index}"
        response = api.post(
            "/v1/get_layer",
            {"user": {"userID": unit}, "layerName": "checkout_layer"},
            key=world.keys["server"],
        )
        answer = response.json()
        assert answer["allocatedExperimentName"] == "layered_test"
        seen[unit] = answer["value"]["color"]
    assert drain_all() >= 40
    # A client SDK logs its own layer exposure, naming the group's rule id.
    client_unit = "client1"
    server_answer = api.post(
        "/v1/get_layer",
        {"user": {"userID": client_unit}, "layerName": "checkout_layer"},
        key=world.keys["server"],
    ).json()
    drain_all()
    event = {
        "eventName": "statsig::layer_exposure",
        "user": {"userID": client_unit},
        "time": ms(T0),
        "metadata": {
            "config": "checkout_layer",
            "ruleID": server_answer["ruleID"],
            "allocatedExperiment": "layered_test",
            "parameterName": "color",
        },
    }
    assert (
        api.post("/v1/log_event", {"events": [event]}, key=world.keys["server"]).status_code == 202
    )
    seen[client_unit] = server_answer["value"]["color"]
    group = {"blue": "Control", "green": "Test"}[seen[client_unit]]
    rows = Exposure.objects.filter(user_id=client_unit, kind="layer")
    assert sorted(rows.values_list("allocated_experiment", "group_name")) == [
        ("layered_test", group),
        ("layered_test", group),
    ]
    statsig_event(api, world, "server0", T0)

    call_command("compute_pulse", "--experiment", "layered_test", stdout=StringIO())

    data = capi.get("experiments/layered_test/pulse_results").json()["data"]
    expected = {
        "Control": sum(color == "blue" for color in seen.values()),
        "Test": sum(color == "green" for color in seen.values()),
    }
    assert data["exposures"] == expected
    assert sum(expected.values()) == 41
