"""Segments store a snapshot of their definition under every version since they moved onto the
entity core; this stores the current one of every existing segment, so its history starts at
the version it is at (older versions were never stored)."""

from django.db import migrations


def store_current_versions(apps, schema_editor):
    Segment = apps.get_model("segments", "Segment")
    EntityVersion = apps.get_model("flags", "EntityVersion")
    attnames = [
        field.attname
        for field in Segment._meta.concrete_fields
        if field.attname not in ("id", "project_id")
    ]
    for segment in Segment.objects.iterator():
        EntityVersion.objects.get_or_create(
            project_id=segment.project_id,
            entity_type="segment",
            entity_id=segment.key,
            version=segment.version,
            defaults={"snapshot": {name: getattr(segment, name) for name in attnames}},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("flags", "0002_entity_versions"),
        ("segments", "0002_open_segment_reviews_as_field_changes"),
    ]

    operations = [migrations.RunPython(store_current_versions, migrations.RunPython.noop)]
