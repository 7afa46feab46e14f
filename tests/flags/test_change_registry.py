"""Every change type of every entity kind is registered when Django starts
(``FlagsConfig.ready()``), not when a service module happens to be imported: a process that never
loads the URLs (a Celery worker, a management shell) can commit a review of any kind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from console.models import Review, ReviewStatus, Role
from console.services.reviews import change_kind, review_approve, review_forced
from flags.models import Experiment, ExperimentStatus, Gate
from flags.services import configs, experiments, gates, holdouts, kernel, layers

ROOT = Path(__file__).resolve().parents[2]
# A fresh interpreter that only sets Django up, then commits the reviews given on its command line.
COMMIT_IN_A_FRESH_PROCESS = """
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
import django
django.setup()
from django.contrib.auth import get_user_model
from console.actors import Actor
from console.models import Project, Role
from console.services.reviews import review_commit

project = Project.objects.get(pk=int(sys.argv[1]))
admin = Actor.for_user(get_user_model().objects.get(username=sys.argv[2]), Role.ADMIN)
committed = {}
for review_id in sys.argv[3:]:
    review, _result = review_commit(project=project, actor=admin, review_id=review_id)
    committed[review.change_type] = review.status
own = ("console", "flags", "segments", "serving", "events", "privacy", "ruleset")
screens = sorted(
    name for name in sys.modules
    if name.split(".")[0] in own
    and (name.endswith(".urls") or ".views" in name or name.startswith("flags.api"))
)
print(json.dumps({"committed": committed, "screens_loaded": screens}))
"""


def _database_url() -> str:
    settings = connection.settings_dict
    return f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"


def test_registry__every_kind__all_its_change_types_registered():
    kinds = {kind.entity_type for kind in kernel.registered_kinds()}
    assert kinds == {"gate", "dynamic_config", "experiment", "layer", "holdout", "segment"}
    for kind in kernel.registered_kinds():
        for change_type, _apply in kernel.change_types(kind):
            assert change_kind(change_type).entity_type == kind.entity_type


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the fresh process needs the server")
@pytest.mark.django_db(transaction=True)
def test_fresh_process__django_setup_only__commits_a_review_of_every_kind(world):
    # Given one approved review of a change to each kind of entity, and of a delete
    admin, member = world.actor(Role.ADMIN), world.actor(Role.MEMBER)
    project = world.project
    gates.gate_create(project=project, actor=admin, name="Checkout")
    gates.gate_create(project=project, actor=admin, name="Legacy")
    configs.dynamic_config_create(project=project, actor=admin, name="Copy")
    layers.layer_create(project=project, actor=admin, name="Buttons")
    experiments.experiment_create(project=project, actor=admin, name="Button color")
    holdouts.holdout_create(project=project, actor=admin, name="Global holdout")
    with review_forced("Reviewed in a fresh process"):
        filed = [
            gates.gate_disable(project=project, actor=member, gate_id="checkout"),
            configs.dynamic_config_update(
                project=project, actor=member, config_id="copy", default_value={"title": "Hi"}
            ),
            layers.layer_update(
                project=project,
                actor=member,
                layer_id="buttons",
                parameters=[{"name": "color", "type": "string", "defaultValue": "blue"}],
            ),
            experiments.experiment_start(
                project=project, actor=member, experiment_id="button_color"
            ),
            holdouts.holdout_update(
                project=project, actor=member, holdout_id="global_holdout", pass_percentage=5
            ),
            gates.gate_delete(project=project, actor=member, gate_id="legacy"),
        ]
    review_ids = [outcome.review.public_id for outcome in filed]
    for review_id in review_ids:
        review_approve(project=project, actor=admin, review_id=review_id)

    # When a process that only ran django.setup() commits them
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            COMMIT_IN_A_FRESH_PROCESS,
            str(project.pk),
            world.users[Role.ADMIN].username,
            *review_ids,
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": _database_url()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])

    # Then each is committed, and no screen, URL or API module was loaded to do it
    assert answer["committed"] == {
        "gate_disable": ReviewStatus.COMMITTED,
        "config_update": ReviewStatus.COMMITTED,
        "layer_update": ReviewStatus.COMMITTED,
        "experiment_start": ReviewStatus.COMMITTED,
        "holdout_update": ReviewStatus.COMMITTED,
        "gate_delete": ReviewStatus.COMMITTED,
    }
    assert answer["screens_loaded"] == []
    assert set(Review.objects.values_list("status", flat=True)) == {ReviewStatus.COMMITTED}
    assert Gate.objects.get(project=project, slug="checkout").is_enabled is False
    assert not Gate.objects.filter(project=project, slug="legacy").exists()
    assert Experiment.objects.get(project=project).status == ExperimentStatus.ACTIVE
