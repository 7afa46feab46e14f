"""Tags addressed by name, environments replaced as a list and review settings kept as sent,
through the console API as Statsig documents them (Update Environments, Update Tag, Get/Update
Reviews Settings examples)."""

from __future__ import annotations

from console.models import ApiKey, ApiKeyKind


def environment(name: str, *, with_id: bool = True, **flags) -> dict:
    entry = {
        "name": name,
        "isProduction": flags.get("isProduction", False),
        "requiresReview": flags.get("requiresReview", False),
        "requiresReleasePipeline": flags.get("requiresReleasePipeline", False),
    }
    if with_id:
        entry["id"] = name
    return entry


# -- tags ----------------------------------------------------------------------------------------


def test_tag_by_name__read_update_delete__addressed_by_name_as_statsig_does(capi):
    # Given a tag created as Statsig's example does
    created = capi.post(
        "tags", {"name": "my_tag", "description": "my tag description", "isCore": True}
    )
    assert created.status_code == 200, created.json()

    # When it is read, updated and deleted by its name (any case)
    read = capi.get("tags/my_tag")
    updated = capi.patch("tags/MY_TAG", {"description": "new words", "isCore": False})
    renamed = capi.patch("tags/my_tag", {"name": "their_tag"})
    deleted = capi.delete("tags/their_tag")

    # Then each answers as Statsig's does
    assert read.json() == {
        "message": "Tag read successfully",
        "data": {
            "id": created.json()["data"]["id"],
            "name": "my_tag",
            "description": "my tag description",
            "isCore": True,
        },
    }
    assert updated.status_code == 200
    assert updated.json()["message"] == "Tag updated successfully"
    assert updated.json()["data"]["description"] == "new words"
    assert updated.json()["data"]["isCore"] is False
    assert renamed.json()["data"]["name"] == "their_tag"
    assert deleted.json() == {"message": "Tag deleted successfully"}
    assert capi.get("tags/their_tag").status_code == 404


def test_tag_by_id__still_answers_with_the_listed_id(capi):
    tag_id = capi.post("tags", {"name": "growth", "description": ""}).json()["data"]["id"]

    assert capi.get(f"tags/{tag_id}").json()["data"]["name"] == "growth"


def test_tag_by_name__unknown_name__404_envelope(capi):
    response = capi.patch("tags/nope", {"description": "x"})

    assert response.status_code == 404
    assert response.json()["status"] == 404


# -- environments ------------------------------------------------------------------------------


def test_environments_get__statsig_fields__requires_release_pipeline_included(capi):
    response = capi.get("environments")

    assert response.status_code == 200
    assert response.json()["data"]["environments"] == [
        {
            "id": "development",
            "name": "development",
            "isProduction": False,
            "requiresReview": False,
            "requiresReleasePipeline": False,
        },
        {
            "id": "staging",
            "name": "staging",
            "isProduction": False,
            "requiresReview": False,
            "requiresReleasePipeline": False,
        },
        {
            "id": "production",
            "name": "production",
            "isProduction": True,
            "requiresReview": True,
            "requiresReleasePipeline": False,
        },
    ]


def test_environments_post__statsig_example__list_replaced_and_returned(capi):
    # Given Statsig's documented "Update Environments" answer as the wanted list: "latest" is new
    # (no id), every environment requires a release pipeline, staging is left out
    body = {
        "environments": [
            environment("development", requiresReleasePipeline=True),
            environment("latest", with_id=False, requiresReleasePipeline=True),
            environment(
                "production",
                isProduction=True,
                requiresReview=True,
                requiresReleasePipeline=True,
            ),
        ]
    }
    body["environments"][2]["requiredReviewGroupID"] = None

    # When it is posted
    response = capi.post("environments", body)

    # Then the list is the project's environments, in the order sent, as Statsig answers
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "message": "Environments updated successfully.",
        "data": {
            "environments": [
                {**environment("development", requiresReleasePipeline=True)},
                {**environment("latest", requiresReleasePipeline=True)},
                {
                    **environment(
                        "production",
                        isProduction=True,
                        requiresReview=True,
                        requiresReleasePipeline=True,
                    )
                },
            ]
        },
    }
    assert capi.get("environments").json()["data"] == response.json()["data"]
    logs = capi.get("audit_logs?actionType=company_environments_edit").json()["data"]
    assert len(logs) == 1
    assert logs[0]["changes"]["staging"]["new"] is None


def test_environments_post__rename__400_naming_the_entry(capi):
    response = capi.post(
        "environments",
        {"environments": [{**environment("development"), "name": "dev"}]},
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "environments[0].name"
    assert [env["name"] for env in capi.get("environments").json()["data"]["environments"]] == [
        "development",
        "staging",
        "production",
    ]


def test_environments_post__missing_flag__400_naming_the_field(capi):
    entry = environment("development")
    del entry["requiresReleasePipeline"]

    response = capi.post("environments", {"environments": [entry]})

    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == ("environments[0].requiresReleasePipeline")


def test_environments_post__removing_one_a_key_is_limited_to__400_nothing_changed(capi, world):
    ApiKey.objects.filter(project=world.project, kind=ApiKeyKind.SERVER).update(
        environments=["staging"]
    )

    response = capi.post(
        "environments",
        {"environments": [environment("development"), environment("production")]},
    )

    assert response.status_code == 400
    assert "staging" in response.json()["message"]
    assert len(capi.get("environments").json()["data"]["environments"]) == 3


def test_environments_post__empty_list__400_a_project_keeps_one(capi):
    response = capi.post("environments", {"environments": []})

    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "environments"


# -- review settings ---------------------------------------------------------------------------


def test_review_settings_post__every_flag_kept_and_returned(capi):
    body = {
        "is_config_review_required": True,
        "is_metric_review_required": True,
        "is_metric_review_required_on_verified_only": True,
        "is_whn_analysis_only_review_required": False,
        "is_whn_source_review_required": True,
    }

    updated = capi.post("settings/reviews", body)
    read = capi.get("settings/reviews")

    assert updated.status_code == 200
    assert updated.json() == {"message": "Settings updated successfully.", "data": body}
    assert read.json() == {"message": "Settings read successfully.", "data": body}


def test_review_settings_post__only_config_flag__others_kept_from_before(capi):
    capi.post(
        "settings/reviews",
        {"is_config_review_required": False, "is_metric_review_required": True},
    )

    response = capi.post("settings/reviews", {"is_config_review_required": True})

    assert response.json()["data"] == {
        "is_config_review_required": True,
        "is_metric_review_required": True,
        "is_metric_review_required_on_verified_only": False,
    }


# -- Terraform provider bodies (statsig_environments, statsig_tag, statsig_settings_reviews) ----


def test_terraform_environments__statsig_ids__kept_and_read_back(capi):
    # Given the provider's documented statsig_environments body, with Statsig's own ids
    body = {
        "environments": [
            {**environment("development", requiresReleasePipeline=True), "id": "0.356"},
            {**environment("staging", requiresReleasePipeline=True), "id": "0.015"},
            {
                **environment(
                    "production",
                    isProduction=True,
                    requiresReview=True,
                    requiresReleasePipeline=True,
                ),
                "id": "0.406",
            },
        ]
    }

    # When it is applied twice (Terraform's apply, then its refresh and a second plan)
    first = capi.post("environments", body)
    second = capi.post("environments", body)

    # Then what is read back equals what was sent, ids included
    assert first.status_code == 200, first.json()
    assert first.json()["data"] == body
    assert second.json()["data"] == body
    assert capi.get("environments").json()["data"] == body
    logs = capi.get("audit_logs?actionType=company_environments_edit").json()["data"]
    assert len(logs) == 1


def test_terraform_environments__id_of_another_environment__rename_refused(capi):
    capi.post(
        "environments",
        {"environments": [{**environment("development"), "id": "dev-id"}]},
    )

    response = capi.post("environments", {"environments": [{**environment("qa"), "id": "dev-id"}]})

    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "environments[0].name"


def test_terraform_tag__name_with_space__create_read_update_delete(capi):
    body = {
        "name": "New Tag",
        "description": "A short description of what this tag is used for.",
        "isCore": False,
    }

    created = capi.post("tags", body)
    read = capi.get("tags/New%20Tag")
    updated = capi.patch("tags/New%20Tag", {**body, "isCore": True})
    deleted = capi.delete("tags/New%20Tag")

    assert created.json()["data"] == {"id": created.json()["data"]["id"], **body}
    assert read.json()["data"] == created.json()["data"]
    assert updated.json()["data"]["isCore"] is True
    assert deleted.status_code == 200


def test_terraform_settings_reviews__sparse_body__read_back_as_sent(capi):
    body = {
        "is_config_review_required": False,
        "is_metric_review_required": True,
        "is_metric_review_required_on_verified_only": True,
    }

    applied = capi.post("settings/reviews", body)

    assert applied.json()["data"] == body
    assert capi.get("settings/reviews").json()["data"] == body
