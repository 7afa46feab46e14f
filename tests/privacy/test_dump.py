"""After a request completes, no table of the database holds any of its ids: data for the deleted
users and for other users goes into every store through the product's own endpoints and services,
the job runs, and every table is dumped as text and searched. The others' rows are all there."""

from __future__ import annotations

import pytest

from console.models import Role
from privacy.models import DeletionRequest, DeletionStatus
from privacy.services import deletion_process_pending
from tests.privacy.conftest import submit
from tests.privacy.dump import dump_tables, pg_dump_text, tables_mentioning
from tests.privacy.test_console_erasers import add_overrides

GONE_USERS = ["gdpr-gone-7f3a1", "gdpr-gone-9b2c2"]
GONE_COMPANY = "gdpr-co-gone-44"
KEPT_USERS = ["kept-user-51d0", "kept-user-88e1"]
KEPT_COMPANY = "kept-co-2a"
OTHER_PROJECT_USERS = ["elsewhere-user-c3"]


def _id_list_hash(unit_id: str) -> str:
    from segments.listfile import id_list_hash

    return id_list_hash(unit_id)


def seed_events(api, world, users: list[str], company: str) -> None:
    """Events, exposures (Statsig HTTP) and persons, aliases, groups (PostHog)."""
    server, client = world.keys["server"], world.keys["client"]
    events = [
        {
            "eventName": "purchase",
            "value": "9.99",
            "user": {
                "userID": user,
                "email": f"{user}@example.com",
                "customIDs": {"companyID": company},
            },
            "metadata": {"item": "book"},
        }
        for user in users
    ]
    assert api.post("/v1/log_event", {"events": events}, key=server).status_code == 202
    exposures = [
        {"user": {"userID": user}, "experimentName": "checkout_exp", "group": "Test"}
        for user in users
    ]
    response = api.post("/v1/log_custom_exposure", {"exposures": exposures}, key=server)
    assert response.status_code == 202
    for user in users:
        for body in (
            {"event": "$set", "distinct_id": user, "$set": {"email": f"{user}@example.com"}},
            {
                "event": "$create_alias",
                "distinct_id": user,
                "properties": {"alias": f"{user}-anon"},
            },
        ):
            assert api.post("/capture/", {"api_key": client, **body}).status_code == 200
    group = {
        "event": "$groupidentify",
        "distinct_id": users[0],
        "properties": {
            "$group_type": "companyID",
            "$group_key": company,
            "$group_set": {"name": f"{company} Ltd"},
        },
    }
    assert api.post("/capture/", {"api_key": client, **group}).status_code == 200


def seed_segments(world, users: list[str], key: str) -> None:
    """An ID-list segment with the users as members (and its SDK id-list file)."""
    from segments import services

    actor = world.actor(Role.ADMIN)
    services.segment_create(project=world.project, actor=actor, name=f"Beta {key}", type="id_list")
    services.segment_ids_add(
        project=world.project, actor=actor, segment_id=f"beta_{key}", ids=users
    )


def seed_console(world, users: list[str]) -> None:
    """Audit entries and a pending review whose change names the users."""
    add_overrides(world, users, note=f"QA accounts {', '.join(users)}")
    add_overrides(world, users, needs_review=True)


def seed_flags(world, users: list[str], key: str) -> None:
    """A gate whose overrides name the users."""
    from flags.services.gates import gate_create, gate_overrides_add

    actor = world.actor(Role.ADMIN)
    gate = gate_create(project=world.project, actor=actor, name=f"gate {key}")
    gate_overrides_add(
        project=world.project,
        actor=actor,
        gate_id=gate.slug,
        overrides={"passingUserIDs": users},
    )


def _outside(found: dict[str, int], tables: set[str]) -> dict[str, int]:
    return {table: n for table, n in found.items() if not any(table.startswith(t) for t in tables)}


def _seed_everything(api, world, other_world) -> None:
    seed_events(api, world, GONE_USERS, GONE_COMPANY)
    seed_events(api, world, KEPT_USERS, KEPT_COMPANY)
    seed_events(api, other_world, OTHER_PROJECT_USERS, "elsewhere-co")
    seed_segments(world, GONE_USERS + KEPT_USERS, "mixed")
    seed_segments(other_world, OTHER_PROJECT_USERS, "other")
    seed_console(world, GONE_USERS + KEPT_USERS)
    seed_flags(world, GONE_USERS + KEPT_USERS, "mixed")


def _erase_and_dump(world):
    gone = [*GONE_USERS, GONE_COMPANY]
    kept = [*KEPT_USERS, KEPT_COMPANY, *OTHER_PROJECT_USERS]
    before = dump_tables()
    assert tables_mentioning(before, gone), "the seed did not store the deleted ids"
    kept_before = tables_mentioning(before, kept)

    submit(world, ",".join(GONE_USERS), request_id="gdpr-users")
    submit(world, GONE_COMPANY, request_id="gdpr-company", unit_type="companyID")
    outcomes = deletion_process_pending()
    assert [(o.request_id, o.completed, o.error) for o in outcomes] == [
        ("gdpr-users", True, ""),
        ("gdpr-company", True, ""),
    ]
    assert set(DeletionRequest.objects.values_list("status", flat=True)) == {
        DeletionStatus.COMPLETE
    }
    return gone, kept, kept_before, dump_tables()


@pytest.mark.django_db(transaction=True)
def test_dump__after_completion__no_table_holds_the_ids_others_untouched(api, world, other_world):
    # Given data in every store, for deleted users and for others
    _seed_everything(api, world, other_world)
    # When the requests are processed
    gone, kept, kept_before, after = _erase_and_dump(world)
    # Then no table mentions a deleted id, nor an id-list hash of one (SDK id-list files)
    hashes = [_id_list_hash(value) for value in GONE_USERS]
    assert tables_mentioning(after, gone) == {}
    assert tables_mentioning(after, hashes) == {}
    # And every row of the others is still there (counts per table before and after), except
    # compiled rulesets: derived data, recompiled by the erasure with older versions dropped;
    # the newest still names the kept users. The gate the erasure changed has one more version
    # (its snapshot names the kept users too).
    derived = {"flags_compiledruleset"}
    expected = _outside(kept_before, derived)
    expected["flags_entityversion"] += 1
    assert _outside(tables_mentioning(after, kept), derived) == expected
    assert tables_mentioning(after, kept).get("flags_compiledruleset", 0) >= 1
    # And the committed database, dumped by pg_dump, agrees
    text = pg_dump_text()
    if text is not None:
        sections = text.split("\nCOPY ")
        for section in sections[1:]:
            table = section.split(" ", 1)[0].split(".")[-1].strip('"')
            assert [value for value in gone + hashes if value in section] == [], table
        assert all(value in text for value in kept)
