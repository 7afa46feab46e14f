"""Evaluating against a 1,000,000-id segment in one server process: the memory the in-memory
membership takes (target: at most ~100 MB) and what a ``check_gate`` targeting the segment costs
on top of the same gate without it (target: at most 0.2 ms).

The segment is built through the services; the gates are evaluated with ``evaluation``
against ``segments.idlists.id_lists_for_project`` exactly as the evaluation endpoints do, and
through ``/v1/check_gate`` (the production WSGI application, in process) as well.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/segments_membership.py \
        [--ids 1000000] [--checks 20000]

Runs in a throwaway database (created, migrated and dropped by the script).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def gate(name: str, condition: dict) -> dict:
    return {
        "name": name,
        "type": "feature_gate",
        "entity": "feature_gate",
        "salt": f"{name}-salt",
        "enabled": True,
        "defaultValue": False,
        "idType": "userID",
        "isDeviceBased": False,
        "rules": [
            {
                "name": "rule",
                "id": f"{name}-rule",
                "salt": f"{name}-rule",
                "passPercentage": 100,
                "returnValue": True,
                "idType": "userID",
                "isDeviceBased": False,
                "conditions": [
                    {
                        "field": None,
                        "additionalValues": {},
                        "isDeviceBased": False,
                        "idType": "userID",
                        "operator": None,
                        **condition,
                    }
                ],
            }
        ],
    }


def per_call_us(fn, users: list, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for user in users:
            fn(user)
        best = min(best, (time.perf_counter() - started) / len(users) * 1e6)
    return best


def child(database: str, project_id: int) -> None:
    """``--child``: a fresh process loads the project's lists and reports seconds and MB."""
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    settings.DATABASES["default"]["NAME"] = database
    connection.settings_dict["NAME"] = database
    from segments import idlists

    connection.ensure_connection()
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    lists = idlists.id_lists_for_project(project_id)
    assert "+" not in lists["bench_list"]
    assert len(lists["bench_list"]) > 0
    elapsed = time.perf_counter() - started
    gc.collect()
    print(elapsed, rss_mb() - before)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ids", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=20_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = f"bench_membership_{os.getpid()}"
    settings.ALLOWED_HOSTS = ["*"]
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        run(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)


def run(args: argparse.Namespace) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from console.actors import Actor
    from console.services.projects import project_create
    from evaluation import CompiledRuleset, EvaluationUser, evaluate_gate
    from segments import idlists, listfile, services
    from segments.listfile import id_list_hash
    from segments.models import Segment
    from segments.ruleset import segment_specs

    project, keys = project_create(name="Segments membership bench")
    actor = Actor.system("bench")
    members = [f"user-{n}" for n in range(args.ids)]
    started = time.perf_counter()
    services.segment_create(project=project, actor=actor, name="Bench list", type="id_list")
    for start in range(0, len(members), 100_000):
        services.segment_ids_add(
            project=project,
            actor=actor,
            segment_id="bench_list",
            ids=members[start : start + 100_000],
        )
    segment = Segment.objects.get(project=project, key="bench_list")
    print(
        f"\nMembership of a {args.ids:,}-id segment, database: {connection.vendor} "
        f"(built in {time.perf_counter() - started:.1f} s)\n"
    )

    # -- memory -------------------------------------------------------------------------------
    started = time.perf_counter()
    read = sum(
        len(data)
        for _end, data in listfile.iter_chunks(segment_pk=segment.pk, file_id=segment.list_file_id)
    )
    read_s = time.perf_counter() - started
    # A fresh server process: what loading the list adds to its resident memory.
    child = subprocess.run(
        [sys.executable, __file__, "--child", connection.settings_dict["NAME"], str(project.pk)],
        capture_output=True,
        text=True,
        check=True,
    )
    load_s, rss_growth = (float(x) for x in child.stdout.split()[-2:])
    # The same load here under tracemalloc, for the peak of temporary allocations.
    tracemalloc.start()
    assert id_list_hash(members[0]) in idlists.id_lists_for_project(project.pk)["bench_list"]
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    idlists.forget_all()
    lists = idlists.id_lists_for_project(project.pk)
    membership = lists["bench_list"]
    assert id_list_hash(members[0]) in membership
    print(
        f"{'reading the id-list file from the database':<46} {read_s:>8.2f} s ({read / 1e6:.0f} MB)"
    )
    print(f"{'fresh process: first load (read, decode, sort)':<46} {load_s:>8.2f} s")
    print(f"{'fresh process: RSS growth after the load':<46} {rss_growth:>8.1f} MB")
    print(f"{'membership structure':<46} {membership.memory_bytes() / 1e6:>8.1f} MB")
    print(f"{'peak Python allocations while loading':<46} {peak / 1e6:>8.1f} MB")
    growth = max(rss_growth, membership.memory_bytes() / 1e6)
    verdict = "PASS" if growth <= 100 else "FAIL"
    print(f"{'target (<= ~100 MB per process)':<46} {verdict:>8}")

    # -- check_gate cost ----------------------------------------------------------------------
    payload = {
        "time": int(time.time() * 1000),
        "has_updates": True,
        "feature_gates": [
            *segment_specs(project=project),
            gate("with_segment", {"type": "pass_gate", "targetValue": "segment:bench_list"}),
            gate("without_segment", {"type": "public", "targetValue": None}),
        ],
        "dynamic_configs": [],
        "layer_configs": [],
    }
    ruleset = CompiledRuleset.from_specs(payload, lists)
    rng = random.Random(7)
    users = [
        EvaluationUser.from_dict(
            {"userID": rng.choice(members) if i % 2 else f"stranger-{i}", "email": "a@b.c"}
        )
        for i in range(args.checks)
    ]
    for user in users[:100]:
        evaluate_gate(ruleset, user, "with_segment")
    with CaptureQueriesContext(connection) as queries:
        with_us = per_call_us(lambda u: evaluate_gate(ruleset, u, "with_segment"), users)
        without_us = per_call_us(lambda u: evaluate_gate(ruleset, u, "without_segment"), users)
        lookup_us = per_call_us(lambda u: id_list_hash(u.user_id) in membership, users)
    passed = sum(evaluate_gate(ruleset, u, "with_segment").value for u in users)
    print(f"{'evaluate_gate, gate without the segment':<46} {without_us:>8.1f} us")
    print(f"{'evaluate_gate, gate targeting the segment':<46} {with_us:>8.1f} us")
    print(f"{'  extra per check':<46} {with_us - without_us:>8.1f} us")
    print(f"{'  of which hash + membership lookup':<46} {lookup_us:>8.1f} us")
    print(f"{'queries during all checks':<46} {len(queries):>8}")
    print(f"{'members among checked users':<46} {passed:>8} of {len(users)}")
    verdict = "PASS" if with_us - without_us <= 200 and not queries else "FAIL"
    print(f"{'target (<= 0.2 ms extra, no SQL)':<46} {verdict:>8}")

    http_check(project, keys["server"][1], members)
    print()


def http_check(project, server_key: str, members: list[str]) -> None:
    """The same through ``/v1/check_gate``."""
    from werkzeug.test import Client

    from console.actors import Actor
    from console.wsgi import application
    from flags.services.gates import gate_create

    actor = Actor.system("bench")
    rule = {"name": "r", "passPercentage": 100}
    gate_create(
        project=project,
        actor=actor,
        name="with segment",
        rules=[{**rule, "conditions": [{"type": "passes_segment", "targetValue": "bench_list"}]}],
    )
    gate_create(
        project=project,
        actor=actor,
        name="without segment",
        rules=[{**rule, "conditions": [{"type": "public"}]}],
    )
    from ruleset.store import rebuild

    rebuild(project.pk)
    client = Client(application)
    headers = {"STATSIG-API-KEY": server_key}

    def once(gate_name: str, user_id: str) -> float:
        body = {"user": {"userID": user_id}, "gateName": gate_name}
        started = time.perf_counter()
        response = client.post("/v1/check_gate", json=body, headers=headers)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.data
        return elapsed

    for n in range(200):  # warm-up
        once("with_segment", members[n])
    with_samples, without_samples = [], []
    for n in range(3000):  # interleaved, so load changes hit both alike
        with_samples.append(once("with_segment", members[n * 7]))
        without_samples.append(once("without_segment", members[n * 7]))
    with_us = statistics.median(with_samples) * 1e6
    without_us = statistics.median(without_samples) * 1e6
    print(f"{'POST /v1/check_gate without the segment':<46} {without_us:>8.0f} us (median)")
    print(f"{'POST /v1/check_gate targeting the segment':<46} {with_us:>8.0f} us (median)")
    print(f"{'  extra per request':<46} {with_us - without_us:>8.0f} us")


if __name__ == "__main__":
    main()
