"""Open reviews of a segment's definition, filed before segments moved onto the entity core,
stored their change as the console API's fields (``{"isEnabled": false}``, ``{"rules": [...]}``,
``{}``); the core stores ``{"action", "fields": {<model field>: value}, "expected_version"}``
and applies nothing else. This rewrites the open ones so they can still be committed. ID-list
changes keep their shape (``{"ids": [...]}``)."""

from django.db import migrations

OPEN_STATUSES = ("pending", "approved")
# The console API's field names -> the model's, as ``segment_update`` maps them.
MODEL_FIELDS = {
    "name": "name",
    "description": "description",
    "tags": "tags",
    "isEnabled": "is_enabled",
    "team": "team",
    "teamID": "team_id",
    "idType": "id_type",
    "rules": "rules",
}
FIXED_FIELDS = {
    "segment_archive": {"archived": True},
    "segment_unarchive": {"archived": False},
}
FIELD_CHANGES = ("segment_update", "segment_conditional_update", *FIXED_FIELDS)


def as_field_changes(apps, schema_editor):
    Review = apps.get_model("console", "Review")
    open_reviews = Review.objects.filter(entity_type="segment", status__in=OPEN_STATUSES)
    for review in open_reviews.filter(change_type__in=(*FIELD_CHANGES, "segment_delete")):
        change = review.change if isinstance(review.change, dict) else {}
        if "action" in change:
            continue
        if review.change_type == "segment_delete":
            review.change = {"action": "segment_delete"}
        else:
            fields = FIXED_FIELDS.get(review.change_type) or {
                MODEL_FIELDS.get(key, key): value for key, value in change.items()
            }
            review.change = {
                "action": review.change_type,
                "fields": fields,
                "expected_version": None,
            }
        review.save(update_fields=["change"])


class Migration(migrations.Migration):
    dependencies = [
        ("console", "0001_initial"),
        ("segments", "0001_initial"),
    ]

    operations = [migrations.RunPython(as_field_changes, migrations.RunPython.noop)]
