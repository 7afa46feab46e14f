def test_id_list_add__id_with_nul_byte__400_names_entry_and_adds_nothing(api, world):
    key = world.keys["console"]
    created = api.post("/console/v1/segments", {"name": "Nul check", "type": "id_list"}, key=key)
    segment_id = created.json()["data"]["id"]
    response = api.patch(
        f"/console/v1/segments/{segment_id}/id_list", {"ids": ["ok", "bad\x00id"]}, key=key
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["property"] == "ids[1]"
    listed = api.get(f"/console/v1/segments/{segment_id}/id_list", key=key).json()["data"]
    assert listed["count"] == 0
