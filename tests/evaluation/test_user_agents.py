"""Browser and OS conditions on real user agents, read with the pinned ``ua-parser-builtins``
regexes (uap-core 0.18), as Statsig's servers and the official SDK read them: a Chrome that
carries an ``ADG/`` token is Chrome, not "AOL Desktop Gold" as newer regexes say."""

from __future__ import annotations

import pytest

from evaluation import CompiledRuleset, evaluate_gate
from evaluation.lookups import parse_user_agent
from tests.evaluation.official_sdk import local_sdk, sdk_user
from tests.evaluation.specs import condition, gate, rule, user
from tests.user_agents import CHROME_ADG, CHROME_ANDROID, EDGE_MAC, FIREFOX_LINUX, SAFARI_IPHONE

READINGS = [
    (CHROME_ADG, "Chrome", "109.0.5414", "Windows", "10.0.0"),
    (SAFARI_IPHONE, "Mobile Safari", "17.1.2", "iOS", "17.1.2"),
    (EDGE_MAC, "Edge", "120.0.2210", "Mac OS X", "10.15.7"),
    (FIREFOX_LINUX, "Firefox", "121.0.0", "Linux", "0.0.0"),
    (CHROME_ANDROID, "Chrome Mobile", "119.0.6045", "Android", "13.0.0"),
]


@pytest.mark.parametrize(("agent", "browser", "browser_version", "os", "os_version"), READINGS)
def test_user_agent__pinned_regexes__statsig_readings(
    agent, browser, browser_version, os, os_version
):
    parsed = parse_user_agent(agent)
    assert (parsed.browser_name, parsed.browser_version) == (browser, browser_version)
    assert (parsed.os_name, parsed.os_version) == (os, os_version)


def _ua_gates() -> dict:
    return {
        "time": 1_700_000_000_000,
        "dynamic_configs": [],
        "layer_configs": [],
        "feature_gates": [
            gate(
                "chrome", rule("r", condition("ua_based", "any", ["Chrome"], field="browser_name"))
            ),
            gate(
                "modern_browser",
                rule("r", condition("ua_based", "version_gte", "110", field="browser_version")),
            ),
            gate(
                "desktop_os",
                rule(
                    "r",
                    condition("ua_based", "any", ["Windows", "Mac OS X", "Linux"], field="os_name"),
                ),
            ),
            gate(
                "ios_17", rule("r", condition("ua_based", "version_gte", "17", field="os_version"))
            ),
        ],
    }


@pytest.mark.parametrize("agent", [reading[0] for reading in READINGS])
def test_browser_and_os_conditions__real_user_agents__equal_the_official_sdk(agent):
    specs = _ua_gates()
    compiled = CompiledRuleset.from_specs(specs)
    ours = {
        name: evaluate_gate(compiled, user(userID="1", userAgent=agent), name).value
        for name in compiled.gates
    }
    with local_sdk(specs) as sdk:
        theirs = {
            name: sdk.check_gate(sdk_user({"userID": "1", "userAgent": agent}), name)
            for name in compiled.gates
        }
    assert ours == theirs
    if agent == CHROME_ADG:
        assert ours == {
            "chrome": True,
            "modern_browser": False,
            "desktop_os": True,
            "ios_17": False,
        }
