"""No API key (valid or not) and no user ID appears in any log line of the server while it
answers evaluation, ingestion, console and refused requests (logging at DEBUG)."""

from __future__ import annotations

import time
import uuid


def test_server_logs__after_requests__no_key_and_no_user_id(proxied_server):
    # Given user ids and a wrong key that can be recognised in the log
    live = proxied_server
    canary = uuid.uuid4().hex[:12]
    user_ids = [f"user-{canary}-{n}" for n in range(3)]
    wrong_key = f"secret-{canary}wrongwrongwrong"
    offset = len(live.log_text())

    # When evaluation, ingestion, PostHog, console and refused requests are served
    for user_id in user_ids:
        user = {"userID": user_id, "email": f"{user_id}@example.com"}
        live.sdk("/v1/check_gate", {"user": user, "gateName": live.gate})
        live.sdk("/v1/get_config", {"user": user, "configName": live.experiment})
        live.sdk("/v1/get_layer", {"user": user, "layerName": "resilience_layer"})
        live.sdk("/v1/check_gate", {"user": user, "gateName": live.gate}, key="client")
        event = {"eventName": "purchase", "user": user, "time": int(time.time() * 1000)}
        live.sdk("/v1/log_event", {"events": [event]})
        live.request("POST", "/decide/?v=3", {"token": live.keys["client"], "distinct_id": user_id})
        live.request(
            "POST",
            "/capture/",
            {"api_key": live.keys["client"], "event": "signed_up", "distinct_id": user_id},
        )
        live.request(
            "POST", "/v1/check_gate", {"user": user, "gateName": 5}, {"statsig-api-key": wrong_key}
        )
        live.request("POST", "/decide/?v=3", {"token": wrong_key, "distinct_id": user_id})
        live.sdk("/v1/check_gate", {"user": {"userID": user_id, "custom": "not an object"}})
    live.console("GET", "/console/v1/gates")
    live.request("GET", "/console/v1/gates", headers={"STATSIG-API-KEY": wrong_key})
    time.sleep(0.5)  # let the server flush its log

    # Then no log line written meanwhile holds a key or a user id
    log = live.log_text()[offset:]
    assert log.strip(), "the server wrote no log line: the test would prove nothing"
    secrets = [*live.keys.values(), wrong_key, *user_ids, canary]
    leaks = [line for line in log.splitlines() if any(secret in line for secret in secrets)]
    assert not leaks, "\n".join(leaks[:20])
