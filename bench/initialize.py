"""``/v1/initialize`` (a client SDK's whole answer: every gate, config, experiment and layer
evaluated for one user) for a project with 200 gates and 50 experiments, against the ``/v1/ping``
floor, on the production server (gunicorn) driven by ``wrk``: requests/second, p50/p99, the ratio
to the floor and the SQL queries per request inside the workers (0 after warm-up).

    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/initialize.py [--seconds 10]

The run (throwaway database, gunicorn with the query-counting hooks, wrk) is
``http_floor.measure``; this script only makes the project and names the endpoints.
"""

from __future__ import annotations

import json
import sys

import http_floor
from http_floor import Endpoint

GATES = 200
EXPERIMENTS = 50
LAYERS = 5


def _create_entities(project, actor) -> dict:
    from flags.services.experiments import experiment_create, experiment_start
    from flags.services.layers import layer_create

    gates = http_floor._create_entities(project, actor)["gates"][:GATES]
    layers = [
        layer_create(
            project=project,
            actor=actor,
            name=f"Initialize layer {index}",
            parameters=[{"name": "color", "type": "string", "defaultValue": "blue"}],
        ).slug
        for index in range(LAYERS)
    ]
    experiments = []
    # http_floor made one experiment already; these make EXPERIMENTS in all.
    for index in range(EXPERIMENTS - 1):
        in_layer = index % 2 == 0
        experiment = experiment_create(
            project=project,
            actor=actor,
            name=f"Initialize experiment {index}",
            layer_id=layers[index % LAYERS] if in_layer else None,
            allocation=100 / (EXPERIMENTS // LAYERS) if in_layer else 100,
            targeting_gate_id=gates[index] if index % 3 == 0 else None,
            groups=[
                {"name": "Control", "size": 50, "parameterValues": {"color": "blue"}},
                {"name": "Test", "size": 50, "parameterValues": {"color": f"c{index}"}},
            ],
        )
        experiment_start(project=project, actor=actor, experiment_id=experiment.slug)
        experiments.append(experiment.slug)
    return {"gates": gates, "experiments": experiments}


def endpoints(keys: dict, setup: dict) -> list[Endpoint]:
    user = '{"user": {"userID": "user-'
    user_end = '", "email": "u@example.com", "country": "DE", "custom": {"plan": "pro"}}'
    body_end = ', "statsigMetadata": {"stableID": "device-1"}, "hash": '
    return [
        Endpoint("floor /v1/ping", "/v1/ping", user, user_end + "}"),
        Endpoint("/v1/initialize (djb2)", "/v1/initialize", user,
                 user_end + body_end + '"djb2"}', key_kind="client"),
        Endpoint("/v1/initialize (sha256)", "/v1/initialize", user,
                 user_end + body_end + '"sha256"}', key_kind="client"),
        Endpoint(f"/v1/check_gate x{http_floor.GATE_NAMES_PER_REQUEST} gateNames",
                 "/v1/check_gate", user,
                 user_end + f', "gateNames": {json.dumps(setup["gates"][:100])}}}'),
    ]  # fmt: skip


def main() -> int:
    args = http_floor.arguments(__doc__.splitlines()[0])
    if args.setup:
        print(json.dumps(http_floor.setup_entities(args.setup, _create_entities)))
        return 0
    return http_floor.measure(
        args,
        name="initialize",
        setup_script=__file__,
        make_endpoints=endpoints,
        what=f"{GATES} gates, {EXPERIMENTS} experiments in and out of {LAYERS} layers",
    )


if __name__ == "__main__":
    sys.exit(main())
