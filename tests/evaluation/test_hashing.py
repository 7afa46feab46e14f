"""The hash test vectors of reference statsig.md §3.1 (computed with the SDK)."""

from __future__ import annotations

from evaluation import bucket_hash, id_list_hash


def test_bucket_hash__rule_salt_vector__matches_sdk() -> None:
    value = bucket_hash(
        "47403b4e-7829-43d1-b1ac-3992a5c1b4ac.14862979-1468-4e49-9b2a-c8bb100eed8f.123"
    )

    assert value == 2398250103384617015
    assert value % 10000 == 7015


def test_bucket_hash__user_bucket_vector__is_bucket_423() -> None:
    assert bucket_hash("aaf3263b-2972-4ae9-ae21-58f62e596403.123") % 1000 == 423


def test_id_list_hash__statsig__matches_sdk() -> None:
    assert id_list_hash("statsig") == "Krhxyf0V"


def test_id_list_hash__any_id__is_eight_base64_characters() -> None:
    hashed = id_list_hash("user-with-ünïcode")

    assert len(hashed) == 8
    assert set(hashed) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
