"""Versions keep what they refer to beside their columns since a restore brings it back
(``flags.services.versions.REFERENCES``): an experiment's layer and targeting gate by id, a
holdout's held-out gates, experiments and layers. This adds them to the versions already stored:
to an experiment's versions whose layer and gate still exist (a deleted row's id names nothing,
so such a version keeps restoring what it did), and to each holdout's current version (the links
of older ones were never stored)."""

from django.db import migrations

REFERENCES = "references"


def add_references(apps, schema_editor):
    EntityVersion = apps.get_model("flags", "EntityVersion")
    Holdout = apps.get_model("flags", "Holdout")
    layer_slugs = dict(apps.get_model("flags", "Layer").objects.values_list("pk", "slug"))
    gate_slugs = dict(apps.get_model("flags", "Gate").objects.values_list("pk", "slug"))
    for version in EntityVersion.objects.filter(entity_type="experiment").iterator():
        layer, gate = (
            version.snapshot.get("layer_id"),
            version.snapshot.get("targeting_gate_id"),
        )
        if (layer and layer not in layer_slugs) or (gate and gate not in gate_slugs):
            continue
        version.snapshot[REFERENCES] = {
            "layer_id": layer_slugs.get(layer),
            "targeting_gate_id": gate_slugs.get(gate),
        }
        version.save(update_fields=["snapshot"])
    for holdout in Holdout.objects.iterator():
        version = EntityVersion.objects.filter(
            project_id=holdout.project_id,
            entity_type="holdout",
            entity_id=holdout.slug,
            version=holdout.version,
        ).first()
        if version is None:
            continue
        version.snapshot[REFERENCES] = {
            "gate_ids": sorted(holdout.gates.values_list("slug", flat=True)),
            "experiment_ids": sorted(holdout.experiments.values_list("slug", flat=True)),
            "layer_ids": sorted(holdout.layers.values_list("slug", flat=True)),
        }
        version.save(update_fields=["snapshot"])


class Migration(migrations.Migration):
    dependencies = [("flags", "0008_gate_config_settings")]

    operations = [migrations.RunPython(add_references, migrations.RunPython.noop)]
