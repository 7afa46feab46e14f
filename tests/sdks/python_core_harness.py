"""Drives ``statsig-python-core`` against a live server in a process of its own (its Rust HTTP
client keeps connections open past ``shutdown``; a process exit closes them), as
``node/harness.cjs`` drives the Node SDKs: ``python python_core_harness.py <job.json>
<answers.json>``."""

from __future__ import annotations

import json
import sys

from statsig_python_core import Statsig, StatsigOptions, StatsigUser


def _user(raw: dict) -> StatsigUser:
    return StatsigUser(
        user_id=raw.get("userID"),
        email=raw.get("email"),
        ip=raw.get("ip"),
        country=raw.get("country"),
        locale=raw.get("locale"),
        app_version=raw.get("appVersion"),
        user_agent=raw.get("userAgent"),
        custom=raw.get("custom"),
        custom_ids=raw.get("customIDs"),
        statsig_environment=raw.get("statsigEnvironment"),
    )


def main(job_path: str, answers_path: str) -> None:
    with open(job_path) as handle:
        job = json.load(handle)
    base = job["base"]
    statsig = Statsig(
        job["key"],
        StatsigOptions(
            specs_url=f"{base}/v2/download_config_specs",
            log_event_url=f"{base}/v1/log_event",
            id_lists_url=f"{base}/v1/get_id_lists",
            enable_id_lists=True,
            output_log_level="warn",
        ),
    )
    statsig.initialize().wait()
    answers = []
    for raw in job["users"]:
        user = _user(raw)
        answers.append(
            {
                "gates": {g: statsig.check_gate(user, g) for g in job["gates"]},
                "configs": {c: statsig.get_dynamic_config(user, c).value for c in job["configs"]},
                "experiments": {
                    e: statsig.get_experiment(user, e).value for e in job["experiments"]
                },
                "layers": {
                    layer: {p: statsig.get_layer(user, layer).get(p) for p in params}
                    for layer, params in job["layers"].items()
                },
            }
        )
        statsig.log_event(user, job["event"], 1, {"sdk": "statsig-python-core"})
    statsig.shutdown().wait()
    with open(answers_path, "w") as handle:
        json.dump({"answers": answers}, handle)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
