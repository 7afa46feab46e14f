"""The documented ``POST /console/v1/segments`` example (seed 002), replayed over HTTP."""

from __future__ import annotations

import json

from console.models import AuditLog
from segments.models import Segment

# The request body of the documented curl, byte for byte (placeholders included).
SEED_BODY = b"""{
  "name": "<string>",
  "id": "<string>",
  "description": "<string>",
  "type": "id_list",
  "idType": "userID",
  "tags": [
    "<string>"
  ],
  "creatorID": "<string>",
  "creatorEmail": "<string>",
  "team": "<string>",
  "teamID": "<string>",
  "rules": [
    {
      "name": "<string>",
      "passPercentage": 50,
      "conditions": [
        {
          "targetValue": [
            "<string>"
          ],
          "operator": "<string>",
          "field": "<string>",
          "customID": "<string>",
          "type": "app_version"
        }
      ],
      "environments": [
        "<string>"
      ],
      "id": "<string>",
      "baseID": "<string>",
      "returnValue": {}
    }
  ]
}"""

# The documented response, whose values a request with these fields produces.
SEED_RESPONSE_DATA = {
    "id": "an_id_list",
    "isEnabled": True,
    "description": "helpful summary of what this segment is",
    "lastModifierName": "CONSOLE API",
    "lastModifierID": "ahKwUoaNauHu9AmJPc2",
    "type": "id_list",
    "count": 0,
    "tags": ["a tag"],
}


def _seed_request(api, world, body: bytes):
    return api.post(
        "/console/v1/segments",
        raw=body,
        headers={"Content-Type": "application/json", "STATSIG-API-KEY": world.keys["console"]},
    )


def test_seed__documented_fields_filled_in__201_and_documented_response(api, world, console_key_id):
    # Given the documented body with values behind the documented response
    body = json.loads(SEED_BODY)
    body.update(
        name="an id list",
        id="an_id_list",
        description="helpful summary of what this segment is",
        tags=["a tag"],
        creatorID="creator-1",
        creatorEmail="owner@example.com",
        team="growth",
        teamID="team-1",
        rules=[],
    )
    # When it is posted as in the curl example
    response = _seed_request(api, world, json.dumps(body).encode())
    # Then the answer is the documented one, field by field
    assert response.status_code == 201
    payload = response.json()
    assert list(payload) == ["message", "data"]
    assert payload["message"] == "Segment created successfully."
    data = payload["data"]
    expected = {**SEED_RESPONSE_DATA, "lastModifierID": console_key_id}
    assert {key: data[key] for key in SEED_RESPONSE_DATA} == expected
    assert list(data)[: len(SEED_RESPONSE_DATA)] == list(SEED_RESPONSE_DATA)
    segment = Segment.objects.get(project=world.project, key="an_id_list")
    assert data == {
        **expected,
        "name": "an id list",
        "idType": "userID",
        "rules": [],
        "lastModifierEmail": None,
        "lastModifiedTime": int(segment.updated_at.timestamp() * 1000),
        "creatorID": "creator-1",
        "creatorName": "CONSOLE API",
        "creatorEmail": "owner@example.com",
        "createdTime": int(segment.created_at.timestamp() * 1000),
        "team": "growth",
        "teamID": "team-1",
        "isArchived": False,
        "version": 1,
        "activeReview": None,
    }
    assert AuditLog.objects.filter(
        project=world.project, action_type="segment_create", entity_id="an_id_list"
    ).exists()


def test_seed__literal_placeholder_body__400_names_each_bad_field(api, world):
    # Given the curl body exactly as documented ("<string>" placeholders, rules on an id list)
    response = _seed_request(api, world, SEED_BODY)
    # Then nothing is created and every offending field is named
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    properties = {error["property"] for error in body["errors"]}
    assert properties == {"id", "rules"}
    assert body["message"] == "id: id may contain only letters, digits, _, - and ."
    assert not Segment.objects.filter(project=world.project).exists()


def test_seed__same_body_as_rule_based_with_valid_rule__201_with_rules(api, world):
    # Given the documented rule shape with real values
    body = json.loads(SEED_BODY)
    body.update(name="App users", type="rule_based", tags=["a tag"], description="d")
    del body["id"]
    body["rules"][0].update(name="New app", id="rule_1", baseID="rule_1")
    body["rules"][0]["environments"] = ["production"]
    body["rules"][0]["conditions"][0].update(
        targetValue=["1.2.0"], operator="version_gte", field=None, customID=None
    )
    response = _seed_request(api, world, json.dumps(body).encode())
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert data["id"] == "app_users"
    assert data["type"] == "rule_based"
    assert data["rules"] == [
        {
            "id": "rule_1",
            "baseID": "rule_1",
            "name": "New app",
            "passPercentage": 50,
            "conditions": [
                {
                    "type": "app_version",
                    "operator": "version_gte",
                    # Read back as sent (issue 18); evaluated as the one version it names.
                    "targetValue": ["1.2.0"],
                    "field": None,
                    "customID": None,
                }
            ],
            "environments": ["production"],
        }
    ]
