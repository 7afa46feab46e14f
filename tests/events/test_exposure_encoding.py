"""The exposures of one request are encoded with their shared parts spliced in once: every item
must be byte for byte what encoding each exposure on its own writes, so the drain reads the same
rows."""

from __future__ import annotations

import orjson

from events.exposures import _encode, _encode_all
from tests.events.test_exposure_buffer import contract_exposure

RECEIVED_MS = 1_700_000_000_500


def _randomness(count: int) -> str:
    return "".join(f"{index:032x}" for index in range(count))


def _one_by_one(exposures: list[dict]) -> list[bytes]:
    randomness = _randomness(len(exposures))
    return [
        _encode(7, exposure, RECEIVED_MS, randomness[32 * index : 32 * index + 32])
        for index, exposure in enumerate(exposures)
    ]


def test_encode_all__one_user_many_gates__same_bytes_as_each_alone() -> None:
    # Given the exposures of a 100-gate check: one user dict, one time, one source
    user = {"userID": "u1", "custom": {"plan": "pro", "seats": 3}, "email": "a@example.com"}
    exposures = [
        contract_exposure(
            user=user,
            name=f"gate_{index}",
            value=index % 2 == 0,
            rule_id=None if index % 5 == 0 else f"rule-{index}",
            secondary_exposures=[] if index % 3 else contract_exposure()["secondary_exposures"],
            time=1_700_000_000_000,
        )
        for index in range(100)
    ]
    # When they are encoded together
    items = _encode_all(7, exposures, RECEIVED_MS, _randomness(100))
    # Then each item is the one encoding it alone writes, and a JSON object the drain reads
    assert items == _one_by_one(exposures)
    assert orjson.loads(items[3])["name"] == "gate_3"


def test_encode_all__values_equal_as_keys_but_not_as_json__each_keeps_its_own() -> None:
    # Given exposures whose shared parts compare equal but encode differently (True and 1,
    # 1 and 1.0) or cannot be cache keys (a dict environment), a given uuid and a missing time
    user = {"userID": "u1"}
    exposures = [
        contract_exposure(user=user, environment=True, time=1),
        contract_exposure(user=user, environment=1, time=True),
        contract_exposure(user=user, environment=1.0, time=1.0),
        contract_exposure(user=user, environment={"tier": "staging"}),
        contract_exposure(user=user, uuid="1b4e28ba-2fa1-11d2-883f-0016d3cca427", time=None),
        contract_exposure(user={"userID": "u2"}, parameter_name="color", source="layer"),
        {"kind": "config", "name": "bare"},
    ]
    # When they are encoded together, then each item is the one encoding it alone writes
    assert _encode_all(7, exposures, RECEIVED_MS, _randomness(7)) == _one_by_one(exposures)


def test_encode_all__value_orjson_refuses__that_item_falls_back_alone() -> None:
    # Given a lone surrogate and an integer past 64 bits among good exposures
    exposures = [
        contract_exposure(1),
        contract_exposure(2, name="bad\ud800"),
        contract_exposure(3, group_name=2**70),
        contract_exposure(4),
    ]
    # When they are encoded together, then each item is the one encoding it alone writes
    assert _encode_all(7, exposures, RECEIVED_MS, _randomness(4)) == _one_by_one(exposures)
