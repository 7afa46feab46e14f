"""Every store of user ids has an eraser: the test scans every installed model for fields that
can hold a user or unit id and asserts that a registered eraser covers the model (or that the
model is allow-listed here with the reason). A new store cannot be forgotten."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models

from privacy.erasers import covered_models, registered_erasers

#: Field names that hold (or may hold) SDK user/unit ids: the ids themselves, the Statsig user
#: object, custom ids, id lists and their files, overrides and targeting rules naming ids, the
#: compiled ruleset built from them, and payloads recording changes to any of these.
USER_ID_FIELD = re.compile(
    r"^(?:"
    r"user_?ids?|unit_?ids?|distinct_?ids?|stable_?ids?|custom_?ids|ids|id_list|"
    r"members?|group_key|user|users|person|overrides?|rules|payload|changes?|data"
    r")$",
    re.IGNORECASE,
)

#: Models with such a field that no eraser needs to cover, and why.
ALLOW_LIST = {
    "privacy.deletionrequest": (
        "the deletion request itself: its id list is wiped by the job when the request "
        "completes (test_dump proves no table keeps the ids)"
    ),
    "auth.user": "console accounts, not SDK users",
}


def _is_console_user_fk(field: models.Field) -> bool:
    return (
        field.is_relation
        and field.related_model is not None
        and (field.related_model._meta.label == settings.AUTH_USER_MODEL)
    )


def user_id_models() -> dict[str, list[str]]:
    """``{"app_label.modelname": [field names]}`` for every model with a user-id-like field."""
    found: dict[str, list[str]] = {}
    for model in apps.get_models():
        names = [
            field.name
            for field in model._meta.concrete_fields
            if USER_ID_FIELD.match(field.name) and not _is_console_user_fk(field)
        ]
        if names:
            found[model._meta.label_lower] = names
    return found


def test_scan__finds_the_known_stores():
    """The scan is not vacuous: it sees the stores we know hold user ids."""
    found = user_id_models()
    for label in ("console.auditlog", "console.review", "privacy.deletionrequest"):
        assert label in found
    assert found["flag_events.event"] == ["user_id", "stable_id", "custom_ids", "user"]


def _params():
    return [
        pytest.param(label, fields, id=label) for label, fields in sorted(user_id_models().items())
    ]


@pytest.mark.parametrize(("label", "fields"), _params())
def test_model_with_user_id_field__covered_by_an_eraser(label, fields):
    covered = covered_models()
    assert label in covered or label in ALLOW_LIST, (
        f"{label} has user-id-like fields {fields} but no registered eraser covers it: register "
        f"one in its app's erasers.py with register_eraser(name, covers=['{label}']) or add it "
        "to ALLOW_LIST in this test with the reason"
    )


def test_allow_list__names_real_models():
    labels = {model._meta.label_lower for model in apps.get_models()}
    assert set(ALLOW_LIST) - {"auth.user"} <= labels


def test_covers__name_real_models():
    labels = {model._meta.label_lower for model in apps.get_models()}
    for eraser in registered_erasers():
        for label in eraser.covers:
            assert label.lower() in labels, f"eraser {eraser.name} covers unknown model {label}"


@pytest.mark.django_db
@pytest.mark.parametrize("unit_type", ["user_id", "stableID", "companyID"])
def test_every_eraser__nothing_to_erase__returns_zero(world, unit_type):
    """Every registered eraser runs on an empty store without failing (and erases nothing)."""
    for eraser in registered_erasers():
        assert (
            eraser(project_id=world.project.pk, unit_type=unit_type, ids=["nobody-1", "nobody-2"])
            == 0
        ), eraser.name
