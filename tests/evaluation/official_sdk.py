"""The official ``statsig`` SDK (0.72.1) set up to evaluate a given ruleset locally, for the
differential test and the benchmark."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from statsig import StatsigOptions, StatsigServer, StatsigUser


@contextmanager
def local_sdk(
    specs: Mapping[str, Any], id_lists: Mapping[str, set[str]] | None = None
) -> Iterator[StatsigServer]:
    """An SDK instance in local mode, bootstrapped from ``specs``, with no logging. In local mode
    the SDK downloads no id lists, so ``id_lists`` (name -> id hashes) are put straight into its
    spec store, in the shape its downloader leaves them."""
    server = StatsigServer()
    options = StatsigOptions(
        local_mode=True, bootstrap_values=json.dumps(specs), disable_all_logging=True
    )
    server.initialize("secret-differential-test", options)
    try:
        for name, hashes in (id_lists or {}).items():
            server._spec_store._id_lists[name] = {"ids": set(hashes)}
        yield server
    finally:
        server.shutdown()


def sdk_user(data: Mapping[str, Any]) -> StatsigUser:
    """The SDK's user for a wire-shaped user object."""
    return StatsigUser(
        user_id=data.get("userID"),
        email=data.get("email"),
        ip=data.get("ip"),
        user_agent=data.get("userAgent"),
        country=data.get("country"),
        locale=data.get("locale"),
        app_version=data.get("appVersion"),
        custom=data.get("custom"),
        private_attributes=data.get("privateAttributes"),
        custom_ids=data.get("customIDs"),
        _statsig_environment=data.get("statsigEnvironment"),
    )


def internal_result(server: StatsigServer, user: StatsigUser, kind: str, name: str) -> Any:
    """The SDK evaluator's raw result (exposures included), for the user as the SDK's public
    calls normalise it (default environment applied)."""
    normalised = server._StatsigServer__normalize_user(user)
    evaluate = {
        "gate": server._evaluator.check_gate,
        "config": server._evaluator.get_config,
        "layer": server._evaluator.get_layer,
    }[kind]
    return evaluate(normalised, name)
