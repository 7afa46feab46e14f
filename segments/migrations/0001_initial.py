import django.db.models.deletion
from django.db import migrations, models


def unit_id_bytewise_collation(apps, schema_editor):
    """PostgreSQL: compare member ids bytewise ("C"), not by the database locale: cheaper
    index inserts and lookups on millions of rows, and the same order as Python's sort."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        'ALTER TABLE "segments_segmentmember" ALTER COLUMN "unit_id" TYPE varchar(256) COLLATE "C"'
    )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("console", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="Segment",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=100)),
                ("name", models.CharField(max_length=100)),
                ("description", models.CharField(blank=True, max_length=1000)),
                (
                    "type",
                    models.CharField(
                        choices=[
                            ("id_list", "ID list"),
                            ("rule_based", "Rule based"),
                            ("analysis_list", "Analysis list"),
                        ],
                        max_length=16,
                    ),
                ),
                ("id_type", models.CharField(default="userID", max_length=100)),
                ("tags", models.JSONField(blank=True, default=list)),
                ("is_enabled", models.BooleanField(default=True)),
                ("archived", models.BooleanField(default=False)),
                ("archived_at", models.DateTimeField(blank=True, null=True)),
                ("rules", models.JSONField(blank=True, default=list)),
                ("salt", models.CharField(max_length=64)),
                ("version", models.PositiveIntegerField(default=1)),
                ("review_required", models.BooleanField(default=False)),
                ("creator_id", models.CharField(blank=True, max_length=100)),
                ("creator_name", models.CharField(blank=True, max_length=200)),
                ("creator_email", models.CharField(blank=True, max_length=254)),
                ("team", models.CharField(blank=True, max_length=200)),
                ("team_id", models.CharField(blank=True, max_length=100)),
                ("last_modifier_id", models.CharField(blank=True, max_length=100)),
                ("last_modifier_name", models.CharField(blank=True, max_length=200)),
                ("last_modifier_email", models.CharField(blank=True, max_length=254)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("id_count", models.BigIntegerField(default=0)),
                ("list_version", models.PositiveBigIntegerField(default=0)),
                ("list_file_id", models.CharField(blank=True, max_length=40)),
                ("list_file_size", models.BigIntegerField(default=0)),
                ("list_file_created_ms", models.BigIntegerField(default=0)),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="segments",
                        to="console.project",
                    ),
                ),
            ],
            options={
                "ordering": ["project", "key"],
            },
        ),
        migrations.CreateModel(
            name="IdListFileChunk",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("file_id", models.CharField(max_length=40)),
                ("start", models.BigIntegerField()),
                ("end", models.BigIntegerField()),
                ("data", models.TextField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "segment",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="segments.segment",
                    ),
                ),
            ],
            options={
                "ordering": ["segment", "file_id", "start"],
            },
        ),
        migrations.CreateModel(
            name="SegmentMember",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "segment",
                        "unit_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("unit_id", models.CharField(max_length=256)),
                (
                    "segment",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="segments.segment",
                    ),
                ),
            ],
            options={
                "ordering": ["segment", "unit_id"],
            },
        ),
        migrations.AddIndex(
            model_name="segment",
            index=models.Index(fields=["project", "type"], name="segment_project_type"),
        ),
        migrations.AddConstraint(
            model_name="segment",
            constraint=models.UniqueConstraint(
                fields=("project", "key"), name="segment_unique_key"
            ),
        ),
        migrations.AddConstraint(
            model_name="idlistfilechunk",
            constraint=models.UniqueConstraint(
                fields=("segment", "file_id", "start"), name="idlistfilechunk_unique_start"
            ),
        ),
        migrations.RunPython(unit_id_bytewise_collation, migrations.RunPython.noop),
    ]
