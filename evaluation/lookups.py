"""Values derived from the user's IP address and user agent with offline databases
(``ip3country``, ``ua-parser``), shaped the way the SDK shapes them.

The user-agent regexes are ``ua-parser-builtins``, pinned in pyproject.toml to uap-core 0.18: the
version whose readings agree with Statsig's servers (newer regexes read a Chrome carrying an
``ADG/`` token as "AOL Desktop Gold"). ``tests/evaluation/test_user_agents.py`` holds the readings.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any, NamedTuple

import ua_parser
from ip3country import CountryLookup

# uap-core has no iPadOS pattern: "iPadOS 17.4" parses as iOS without a version, and the SDK
# (0.72.1) fills the version in from this pattern.
_IPADOS_VERSION = re.compile(r"\biPadOS (\d+)(?:\.(\d+))?(?:\.(\d+))?")
_UNKNOWN_FAMILY = "Other"


class UserAgentFields(NamedTuple):
    os_name: str
    os_version: str | None
    browser_name: str
    browser_version: str | None


# The user-agent fields a ua_based condition may name, in the spellings the SDK accepts.
UA_FIELD_INDEX = {
    "os_name": 0,
    "osname": 0,
    "os_version": 1,
    "osversion": 1,
    "browser_name": 2,
    "browsername": 2,
    "browser_version": 3,
    "browserversion": 3,
}


@cache
def _countries() -> CountryLookup:
    # Loading the table takes a noticeable moment; only rulesets with country conditions pay it.
    return CountryLookup()


@lru_cache(maxsize=16384)
def country_for_ip(ip: str) -> str | None:
    """The two-letter country of an IPv4 address, or None. Malformed addresses raise, as they
    do in the SDK (an ``error`` result)."""
    return _countries().lookupStr(ip)


def _version_string(major: str | None, minor: str | None, patch: str | None) -> str | None:
    """The version as major.minor.patch, missing parts as 0; None when a part is not an integer."""
    try:
        return "{}.{}.{}".format(
            *(0 if part is None else int(part) for part in (major, minor, patch))
        )
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def parse_user_agent(user_agent: str) -> UserAgentFields:
    browser = ua_parser.parse_user_agent(user_agent)
    os = ua_parser.parse_os(user_agent)
    os_name = os.family if os else _UNKNOWN_FAMILY
    os_parts = (os.major, os.minor, os.patch) if os else (None, None, None)
    if os_parts[0] is None and (ipados := _IPADOS_VERSION.search(user_agent)):
        os_parts = ipados.groups()
    if browser is None:
        return UserAgentFields(os_name, _version_string(*os_parts), _UNKNOWN_FAMILY, "0.0.0")
    return UserAgentFields(
        os_name,
        _version_string(*os_parts),
        browser.family,
        _version_string(browser.major, browser.minor, browser.patch),
    )


def user_agent_field(user_agent: Any, index: int) -> str | None:
    """One of the parsed fields, or None when the user agent cannot be parsed (the SDK swallows
    parser errors)."""
    if not isinstance(user_agent, str):
        return None
    try:
        return parse_user_agent(user_agent)[index]
    except Exception:
        return None
