"""Versions stored before they kept their references (an experiment's layer and gate by row id
only, a holdout without its links) get them from the data migration, so restoring an old
version brings its layer back too."""

from __future__ import annotations

import importlib

from django.apps import apps

from console.models import Role
from flags.models import EntityVersion

migration = importlib.import_module("flags.migrations.0009_version_references")


def _stored_before_references(entity_type: str) -> None:
    for version in EntityVersion.objects.filter(entity_type=entity_type):
        version.snapshot.pop("references")
        version.save(update_fields=["snapshot"])


def test_migration__old_versions__references_added_and_restored(capi, browser_client, world):
    # Given an experiment placed in a layer behind a gate, then moved out, and a holdout of the
    # gate, all stored as versions were before they kept references
    for path, name in (("layers", "home"), ("gates", "beta"), ("gates", "gone")):
        assert capi.post(path, {"name": name, "idType": "userID"}).status_code == 201
    body = {"name": "pricing", "layerID": "home", "targetingGateID": "beta"}
    assert capi.post("experiments", body).status_code == 201
    assert capi.patch("experiments/pricing", {"layerID": None}).status_code == 200
    assert capi.post("holdouts", {"name": "holdback", "gateIDs": ["beta"]}).status_code == 200
    # and an experiment whose gate of version 1 was deleted since
    body = {"name": "checkout", "targetingGateID": "gone"}
    assert capi.post("experiments", body).status_code == 201
    assert capi.patch("experiments/checkout", {"targetingGateID": None}).status_code == 200
    assert capi.delete("gates/gone").status_code == 200
    _stored_before_references("experiment")
    _stored_before_references("holdout")

    # When the migration runs
    migration.add_references(apps, None)

    # Then every experiment version names its layer and gate, the holdout's its gates
    stored = EntityVersion.objects.filter(entity_id="pricing").order_by("version")
    assert [version.snapshot["references"] for version in stored] == [
        {"layer_id": "home", "targeting_gate_id": "beta"},
        {"layer_id": None, "targeting_gate_id": "beta"},
    ]
    # (but a version whose gate is gone: its row id names nothing)
    stored = EntityVersion.objects.filter(entity_id="checkout").order_by("version")
    assert ["references" in version.snapshot for version in stored] == [False, True]
    holdout_version = EntityVersion.objects.get(entity_type="holdout", entity_id="holdback")
    assert holdout_version.snapshot["references"] == {
        "gate_ids": ["beta"],
        "experiment_ids": [],
        "layer_ids": [],
    }
    # And restoring version 1 puts the experiment back in its layer
    member = browser_client(world.users[Role.MEMBER])
    member.post(f"/p/{world.project.slug}/experiments/pricing/versions/1/restore/")
    assert capi.get("experiments/pricing").json()["data"]["layerID"] == "home"
