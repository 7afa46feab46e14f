def test_console_api__console_key__reads_review_settings(api, world):
    # Given a project's console key / When it reads the review settings
    response = api.get("/console/v1/settings/reviews", key=world.keys["console"])
    # Then Statsig's envelope comes back
    assert response.status_code == 200
    assert response.json() == {
        "message": "Settings read successfully.",
        "data": {
            "is_config_review_required": False,
            "is_metric_review_required": False,
            "is_metric_review_required_on_verified_only": False,
        },
    }
