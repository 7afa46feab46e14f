"""Seeded random ``download_config_specs`` (v1) rulesets and users, shaped like the rulesets
Statsig compiles (reference statsig.md §3.5-3.8): gates with every condition type and operator,
segments, holdouts, dynamic configs, experiments with overrides / holdouts / layer assignment /
targeting / groups / lifecycle rules, and layers delegating to them. Shared by the differential
test and ``bench/evaluator_vs_sdk.py``."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from evaluation import id_list_hash

ID_POOL = [f"user-{n}" for n in range(400)]
COMPANY_POOL = [f"company-{n}" for n in range(40)]
ID_LIST_NAMES = ("beta_testers", "blocked_companies", "vip")
APP_IDS = ("app-web", "app-ios")
TIERS = ("production", "staging", "development")
COUNTRIES = ("US", "DE", "FR", "JP", "GB", "BR", "IN", "CA")
PLANS = ("free", "Pro", "ENTERPRISE", "team")
LOCALES = ("en_US", "fr-FR", "EN_us", "de_DE", "ja_JP")
VERSIONS = (
    "1.0.0",
    "1.2",
    "2.0.0-beta",
    "2.10.1",
    "3",
    "10.0.1",
    "1.2.x",
    "0.9.9",
    "2.0.0",
    "-1.0",
)
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.109 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.144 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
    "Mozilla/5.0 (Linux; Android 10; SM-G973F) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/8.4.0",
    "MyApp/5.1 (iPadOS 17.4; Tablet)",
    "Opera/9.80 (Windows NT 6.0) Presto/2.12.388 Version/12.14",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.2; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; U; Android 4.4.2; en-us; SCH-I535 Build/KOT49H) AppleWebKit/534.30 "
    "(KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
    "Dalvik/2.1.0 (Linux; U; Android 9; SM-G960F Build/PPR1.180610.011)",
    "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 12_5_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "CriOS/119.0.6045.169 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 11; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/118.3.1 "
    "like Chrome/118.0.5993.111 Safari/537.36",
    "",
    "not a browser at all",
)
BAD_IPS = ("", "abc", "::1", "10.0.0", "1.2.3.x")
DAY_MS = 86_400_000
VERSION_OPERATORS = (
    "version_gt",
    "version_gte",
    "version_lt",
    "version_lte",
    "version_eq",
    "version_neq",
)
# The operators each generated condition kind draws from; together they cover the SDK's list.
OPERATORS: dict[str, tuple[str | None, ...]] = {
    "public": (None,),
    "pass_gate": (None,),
    "fail_gate": (None,),
    "multi_pass_gate": (None,),
    "multi_fail_gate": (None,),
    "ip_based": ("any", "none", "any_case_sensitive"),
    "ua_based": ("any", "none", *VERSION_OPERATORS),
    "email": (
        "any",
        "none",
        "str_contains_any",
        "str_contains_none",
        "str_starts_with_any",
        "str_ends_with_any",
        "str_matches",
    ),
    "user_id": ("any", "none", "any_case_sensitive", "none_case_sensitive", "str_contains_any"),
    "app_version": (*VERSION_OPERATORS, "any"),
    "locale": ("any", "none", "str_starts_with_any"),
    "custom_string": (
        "any",
        "none",
        "any_case_sensitive",
        "none_case_sensitive",
        "str_contains_any",
        "eq",
        "neq",
        "ANY",
    ),
    "custom_number": ("gt", "gte", "lt", "lte", "any", "none", "eq", "neq"),
    "custom_date": ("before", "after", "on"),
    "custom_array": (
        "array_contains_any",
        "array_contains_none",
        "array_contains_all",
        "not_array_contains_all",
    ),
    "custom_bool": ("eq", "neq", "any", "none"),
    "custom_regex": ("str_matches",),
    "environment_field": ("any", "none"),
    "current_time": ("before", "after", "on", "gt", "lt"),
    "user_bucket": ("lt", "gt", "gte", "lte", "any", "none"),
    "unit_id": ("any", "none", "str_contains_any", "str_starts_with_any"),
    "target_app": ("any", "none"),
    "segment_list": ("in_segment_list", "not_in_segment_list"),
}


@dataclass
class GeneratedRuleset:
    specs: dict[str, Any]
    # List name -> the raw ids in it (hash them with ``id_list_hash``).
    id_list_members: dict[str, list[str]] = field(default_factory=dict)

    def id_list_hashes(self) -> dict[str, set[str]]:
        return {
            name: {id_list_hash(member) for member in members}
            for name, members in self.id_list_members.items()
        }

    @property
    def gate_names(self) -> list[str]:
        return [spec["name"] for spec in self.specs["feature_gates"]]

    @property
    def config_names(self) -> list[str]:
        return [spec["name"] for spec in self.specs["dynamic_configs"]]

    @property
    def layer_names(self) -> list[str]:
        return [spec["name"] for spec in self.specs["layer_configs"]]


def _uid(rng: random.Random) -> str:
    return "".join(
        rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        for _ in range(22)
    )


class _Builder:
    def __init__(self, rng: random.Random, now_ms: int, *, id_lists: bool) -> None:
        self.rng = rng
        self.now_ms = now_ms
        self.id_lists = id_lists
        # Gates a new condition may reference: only ones defined earlier, so there is no cycle.
        self.referable: list[str] = []
        self.holdouts: list[str] = []
        self.unsupported: list[str] = []

    # -- conditions --------------------------------------------------------------------------

    def condition(self, kind: str | None = None, op: str | None = None) -> dict[str, Any]:
        rng = self.rng
        if kind is None:
            kinds = [name for name in OPERATORS if self.id_lists or name != "segment_list"]
            kind = rng.choice(kinds)
        return getattr(self, f"_c_{kind}")(op or rng.choice(OPERATORS[kind]))

    def _base(self, type_: str, operator: str | None, target: Any, **extra: Any) -> dict[str, Any]:
        condition = {
            "type": type_,
            "operator": operator,
            "targetValue": target,
            "field": extra.pop("field", None),
            "additionalValues": extra.pop("additionalValues", {}),
            "isDeviceBased": False,
            "idType": extra.pop("idType", "userID"),
        }
        condition.update(extra)
        return condition

    def _gate_target(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.04:
            return "missing_gate"
        if roll < 0.08 and self.unsupported:
            return rng.choice(self.unsupported)
        if roll < 0.2 and self.holdouts:
            return rng.choice(self.holdouts)
        return rng.choice(self.referable) if self.referable else "missing_gate"

    def _c_public(self, op: str | None) -> dict[str, Any]:
        return self._base("public", op, None)

    def _c_pass_gate(self, op: str | None) -> dict[str, Any]:
        return self._base("pass_gate", op, self._gate_target())

    def _c_fail_gate(self, op: str | None) -> dict[str, Any]:
        return self._base("fail_gate", op, self._gate_target())

    def _c_multi_pass_gate(self, op: str | None) -> dict[str, Any]:
        gates = [self._gate_target() for _ in range(self.rng.choice((0, 1, 2, 3)))]
        return self._base("multi_pass_gate", op, gates)

    def _c_multi_fail_gate(self, op: str | None) -> dict[str, Any]:
        gates = [self._gate_target() for _ in range(self.rng.choice((0, 1, 2, 3)))]
        return self._base("multi_fail_gate", op, gates)

    def _c_ip_based(self, op: str) -> dict[str, Any]:
        codes = [*self.rng.sample(COUNTRIES, 3), self.rng.choice(("us", "de"))]
        return self._base("ip_based", op, codes, field="country")

    def _c_ua_based(self, op: str) -> dict[str, Any]:
        rng = self.rng
        if op in VERSION_OPERATORS:
            field_ = rng.choice(("os_version", "browser_version"))
            target = rng.choice(("16.0", "17", "120.0.6099", "10.15.7", "0.0.0"))
            return self._base("ua_based", op, target, field=field_)
        if rng.random() < 0.5:
            names = ["iOS", "Android", "Windows", "Mac OS X", "Linux", "other"]
            return self._base("ua_based", op, rng.sample(names, 3), field="os_name")
        names = ["Chrome", "Firefox", "Safari", "Mobile Safari", "Edge", "IE", "Other"]
        return self._base("ua_based", op, rng.sample(names, 3), field="browser_name")

    def _c_email(self, op: str) -> dict[str, Any]:
        rng = self.rng
        field_ = rng.choice(("email", "Email", "EMAIL"))
        if op == "str_matches":
            target: Any = rng.choice((r"@example\.(com|org)$", r"^admin", "["))
        elif op in ("any", "none"):
            target = ["alice@example.com", "BOB@EXAMPLE.COM", "carol@test.io"]
        else:
            target = rng.sample(["@example.com", "admin", "test", "EXAMPLE", "@"], 2)
        return self._base("user_field", op, target, field=field_)

    def _c_user_id(self, op: str) -> dict[str, Any]:
        rng = self.rng
        ids = [*rng.sample(ID_POOL, 20), "USER-1", 7, 3.0]
        return self._base("user_field", op, ids, field=rng.choice(("userID", "user_id", "USERID")))

    def _c_app_version(self, op: str) -> dict[str, Any]:
        target = ["1.0.0", "2.10.1"] if op == "any" else self.rng.choice(VERSIONS[:6])
        return self._base(
            "user_field", op, target, field=self.rng.choice(("appVersion", "app_version"))
        )

    def _c_locale(self, op: str) -> dict[str, Any]:
        return self._base("user_field", op, ["en_us", "fr"], field="locale")

    def _c_custom_string(self, op: str) -> dict[str, Any]:
        rng = self.rng
        field_ = rng.choice(("plan", "Plan", "region", "secret_tier"))
        if op in ("eq", "neq"):
            return self._base("user_field", op, rng.choice(PLANS), field=field_)
        return self._base("user_field", op, [*rng.sample(PLANS, 2), "eu-west"], field=field_)

    def _c_custom_number(self, op: str) -> dict[str, Any]:
        rng = self.rng
        field_ = rng.choice(("age", "score", "level"))
        if op in ("any", "none"):
            target: Any = [18, 21.0, "30", 1.5]
        elif op in ("eq", "neq"):
            target = rng.choice((18, 18.0, "18", True))
        else:
            target = rng.choice((18, 21.5, "30", 0, -3))
        return self._base("user_field", op, target, field=field_)

    def _c_custom_date(self, op: str) -> dict[str, Any]:
        rng = self.rng
        target = self.now_ms + rng.choice((-400, -30, -1, 0, 1, 30, 400)) * DAY_MS
        return self._base(
            "user_field", op, target if rng.random() < 0.7 else target // 1000, field="signup"
        )

    def _c_custom_array(self, op: str) -> dict[str, Any]:
        target = self.rng.sample(
            ["red", "blue", "green", 1, "2", 0, "0", 3.0], self.rng.choice((1, 2, 3))
        )
        return self._base("user_field", op, target, field="tags")

    def _c_custom_bool(self, op: str) -> dict[str, Any]:
        target = self.rng.choice((True, False)) if op in ("eq", "neq") else ["true"]
        return self._base("user_field", op, target, field="beta")

    def _c_custom_regex(self, op: str) -> dict[str, Any]:
        rng = self.rng
        return self._base(
            "user_field",
            op,
            rng.choice((r"^\d+$", "pro|team", "^$")),
            field=rng.choice(("plan", "age")),
        )

    def _c_environment_field(self, op: str) -> dict[str, Any]:
        rng = self.rng
        # "Tier" (capitalised) makes the SDK fail (it reads the original key after finding the
        # lowercased one); rare, to cover that error path.
        field_ = "Tier" if rng.random() < 0.05 else "tier"
        return self._base(
            "environment_field", op, rng.sample(TIERS, rng.choice((1, 2))), field=field_
        )

    def _c_current_time(self, op: str) -> dict[str, Any]:
        # Far from now (or whole days away for "on"), so the two evaluations cannot disagree.
        days = self.rng.choice((-3, 3)) if op == "on" else self.rng.choice((-800, -10, 10, 800))
        return self._base("current_time", op, self.now_ms + days * DAY_MS)

    def _c_user_bucket(self, op: str) -> dict[str, Any]:
        rng = self.rng
        if op in ("any", "none"):
            target: Any = sorted(rng.sample(range(1000), 300))
        else:
            target = rng.choice((100, 500, 999, 0))
        salt = {"salt": _uid(rng)}
        return self._base(
            "user_bucket",
            op,
            target,
            additionalValues=salt,
            idType=rng.choice(("userID", "companyID")),
        )

    def _c_unit_id(self, op: str) -> dict[str, Any]:
        rng = self.rng
        id_type = rng.choice(("companyID", "CompanyID", "stableID", "userID"))
        if op in ("any", "none"):
            target = [*rng.sample(COMPANY_POOL, 10), *rng.sample(ID_POOL, 10)]
        else:
            target = ["company-1", "-3"]
        return self._base("unit_id", op, target, idType=id_type)

    def _c_target_app(self, op: str) -> dict[str, Any]:
        return self._base("target_app", op, [self.rng.choice(APP_IDS)])

    def _c_segment_list(self, op: str) -> dict[str, Any]:
        rng = self.rng
        list_name = rng.choice((*ID_LIST_NAMES, "unknown_list"))
        if rng.random() < 0.5:
            return self._base("unit_id", op, list_name, idType="companyID")
        return self._base("user_field", op, list_name, field="userID")

    # -- rules and specs ---------------------------------------------------------------------

    def pass_percentage(self) -> float | int:
        return self.rng.choice((100, 100, 100, 0, 50, 25.5, 99.9, 0.01, 10))

    def rule(
        self,
        *,
        return_value: Any,
        id_type: str,
        conditions: int | None = None,
        kinds: list[str] | None = None,
    ) -> dict[str, Any]:
        rng = self.rng
        rule_id = _uid(rng)
        count = rng.choice((0, 1, 1, 2, 2, 3)) if conditions is None else conditions
        rule = {
            "name": rule_id,
            "id": rule_id,
            "passPercentage": self.pass_percentage(),
            "conditions": [self.condition(kinds and rng.choice(kinds)) for _ in range(count)],
            "returnValue": return_value,
            "idType": id_type,
            "isDeviceBased": False,
        }
        salt = rng.random()
        if salt < 0.7:
            rule["salt"] = rule_id
        elif salt < 0.85:
            rule["salt"] = _uid(rng)
        elif salt < 0.9:
            rule["salt"] = ""
        return rule

    def gate(
        self, name: str, *, entity: str = "feature_gate", kinds: list[str] | None = None
    ) -> dict[str, Any]:
        rng = self.rng
        id_type = rng.choice(("userID", "userID", "companyID"))
        rules = []
        if self.holdouts and rng.random() < 0.15:
            holdout = rng.choice(self.holdouts)
            rules.append(
                self._holdout_rule(holdout, return_value=True, id_type=id_type, pass_percentage=0)
            )
        rules += [
            self.rule(return_value=True, id_type=id_type, kinds=kinds)
            for _ in range(rng.choice((1, 2, 3, 4)))
        ]
        return {
            "name": name,
            "type": "feature_gate",
            "entity": entity,
            "salt": _uid(rng),
            "enabled": rng.random() > 0.08,
            "defaultValue": False,
            "rules": rules,
            "isDeviceBased": False,
            "idType": id_type,
        }

    def _holdout_rule(
        self, holdout: str, *, return_value: Any, id_type: str, pass_percentage: float | int = 100
    ) -> dict[str, Any]:
        rule_id = _uid(self.rng)
        return {
            "name": rule_id,
            "id": rule_id,
            "salt": rule_id,
            "passPercentage": pass_percentage,
            "conditions": [self._base("pass_gate", None, holdout)],
            "returnValue": return_value,
            "idType": id_type,
            "isDeviceBased": False,
        }

    def catalogue_gate(self, name: str, kind: str, op: str | None) -> dict[str, Any]:
        """A gate whose rules all use one condition kind and operator, so that every pair is
        exercised whatever the random draws elsewhere."""
        spec = self.gate(name)
        for rule in spec["rules"]:
            rule["conditions"] = [self.condition(kind, op)]
        return spec

    def error_paths(self) -> list[dict[str, Any]]:
        """Gates where an evaluation error follows a passing nested gate, directly and one level
        down: the SDK then answers with the value the nested gate left behind."""
        always_on = self.gate("always_on")
        always_on["enabled"] = True
        always_on["rules"] = [
            self._fixed_rule("on", [self._c_public(None)], True, "userID", group_name="on")
        ]
        stale = self.gate("error_after_gate")
        stale["enabled"] = True
        stale["rules"][0]["conditions"] = [self._c_pass_gate(None), self._c_custom_number("gt")]
        stale["rules"][0]["conditions"][0]["targetValue"] = "always_on"
        outer = self.gate("error_one_level_down")
        outer["enabled"] = True
        outer["rules"][0]["conditions"] = [self._c_pass_gate(None), self._c_custom_date("before")]
        outer["rules"][0]["conditions"][0]["targetValue"] = "error_after_gate"
        return [always_on, stale, outer]

    def error_path_config(self) -> dict[str, Any]:
        spec = self.config("error_after_gate_config")
        spec["enabled"] = True
        spec["rules"][0]["conditions"] = [self._c_pass_gate(None), self._c_custom_number("lte")]
        spec["rules"][0]["conditions"][0]["targetValue"] = "always_on"
        return spec

    def holdout(self, name: str) -> dict[str, Any]:
        holdout_id = _uid(self.rng)
        pass_percentage = self.rng.choice((5, 10, 50))
        rule_id = f"{holdout_id}:{pass_percentage / 100:.2f}:1"
        return {
            "name": name,
            "type": "feature_gate",
            "entity": "holdout",
            "salt": holdout_id,
            "enabled": True,
            "defaultValue": False,
            "rules": [
                {
                    "name": rule_id,
                    "id": rule_id,
                    "salt": holdout_id,
                    "passPercentage": pass_percentage,
                    "conditions": [self._base("public", None, None)],
                    "returnValue": True,
                    "idType": "userID",
                    "isDeviceBased": False,
                }
            ],
            "isDeviceBased": False,
            "idType": "userID",
        }

    def segment(self, name: str) -> dict[str, Any]:
        kinds = ["email", "custom_string", "unit_id", "ip_based"] + (
            ["segment_list"] if self.id_lists else []
        )
        spec = self.gate(name, entity="segment", kinds=kinds)
        spec["enabled"] = True
        for rule in spec["rules"]:
            rule["passPercentage"] = 100
        return spec

    def unsupported_spec(self, name: str, table: str) -> dict[str, Any]:
        spec = self.gate(name) if table == "feature_gates" else self.config(name)
        bad = self.rng.choice(
            (
                {"type": "javascript"},
                {"operator": "is_null"},
                {"type": "url"},
                {"operator": "encoded_any"},
            )
        )
        spec["rules"][-1]["conditions"].append({**self.condition("email"), **bad})
        return spec

    def values(self, keys: list[str]) -> dict[str, Any]:
        rng = self.rng
        return {
            key: rng.choice((rng.randint(0, 100), rng.choice(PLANS), rng.random() < 0.5, [1, 2]))
            for key in keys
        }

    def config(self, name: str) -> dict[str, Any]:
        rng = self.rng
        id_type = rng.choice(("userID", "userID", "companyID"))
        keys = rng.sample(["color", "size", "limit", "banner", "ratio"], 3)
        rules = [
            self.rule(return_value=self.values(keys), id_type=id_type)
            for _ in range(rng.choice((1, 2, 3)))
        ]
        return {
            "name": name,
            "type": "dynamic_config",
            "entity": "dynamic_config",
            "salt": _uid(rng),
            "enabled": rng.random() > 0.08,
            "defaultValue": self.values(keys),
            "rules": rules,
            "isDeviceBased": False,
            "idType": id_type,
        }

    def experiment(
        self,
        name: str,
        *,
        layer_salt: str | None,
        buckets: list[int] | None,
        defaults: dict[str, Any],
        owned: list[str],
    ) -> dict[str, Any]:
        rng = self.rng
        id_type = rng.choice(("userID", "userID", "companyID"))
        salt = _uid(rng)
        groups = [
            (_uid(rng), group_name)
            for group_name in ("Control", "Test", "Test 2")[: rng.choice((2, 3))]
        ]
        group_values = {group_id: {**defaults, **self.values(owned)} for group_id, _ in groups}
        rules: list[dict[str, Any]] = []
        if rng.random() < 0.5:
            group_id, group_name = rng.choice(groups)
            override = f"{group_id}:{id_type}:id_override"
            condition = (
                self._base("user_field", "any", rng.sample(ID_POOL, 30), field="userID")
                if id_type == "userID"
                else self._base("unit_id", "any", rng.sample(COMPANY_POOL, 5), idType=id_type)
            )
            rules.append(
                self._fixed_rule(
                    override, [condition], group_values[group_id], id_type, group_name=group_name
                )
            )
        if self.holdouts and rng.random() < 0.4:
            rules.append(
                self._holdout_rule(
                    rng.choice(self.holdouts), return_value=defaults, id_type=id_type
                )
            )
        active = rng.random() < 0.8
        if active:
            if buckets is None:
                assignment = self._base(
                    "user_bucket", "any", [-1], additionalValues={"salt": _uid(rng)}, idType=id_type
                )
            else:
                assignment = self._base(
                    "user_bucket",
                    "none",
                    buckets,
                    additionalValues={"salt": layer_salt},
                    idType=id_type,
                )
            rules.append(self._fixed_rule("layerAssignment", [assignment], defaults, id_type))
            if self.referable and rng.random() < 0.5:
                targeting = self._base("fail_gate", None, rng.choice(self.referable))
                rules.append(self._fixed_rule("targetingGate", [targeting], defaults, id_type))
            step = 1000 // len(groups)
            for index, (group_id, group_name) in enumerate(groups):
                threshold = 1000 if index == len(groups) - 1 else step * (index + 1)
                bucket = self._base(
                    "user_bucket", "lt", threshold, additionalValues={"salt": salt}, idType=id_type
                )
                rules.append(
                    self._fixed_rule(
                        group_id,
                        [bucket],
                        group_values[group_id],
                        id_type,
                        group_name=group_name,
                        experiment_group=True,
                    )
                )
        else:
            lifecycle = rng.choice(("prestart", "launchedGroup", "abandoned"))
            group_id, group_name = rng.choice(groups)
            launched = lifecycle == "launchedGroup"
            rules.append(
                self._fixed_rule(
                    lifecycle,
                    [self._base("public", None, None)],
                    group_values[group_id] if launched else defaults,
                    id_type,
                    group_name=group_name if launched else None,
                )
            )
        return {
            "name": name,
            "type": "dynamic_config",
            "entity": "experiment",
            "salt": salt,
            "enabled": rng.random() > 0.05,
            "defaultValue": defaults,
            "rules": rules,
            "isDeviceBased": False,
            "idType": id_type,
            "isActive": active,
            "hasSharedParams": layer_salt is not None,
            "explicitParameters": owned,
        }

    def _fixed_rule(
        self,
        rule_id: str,
        conditions: list[dict[str, Any]],
        return_value: Any,
        id_type: str,
        *,
        group_name: str | None = None,
        experiment_group: bool = False,
    ) -> dict[str, Any]:
        rule = {
            "name": rule_id,
            "id": rule_id,
            "salt": rule_id,
            "passPercentage": 100,
            "conditions": conditions,
            "returnValue": return_value,
            "idType": id_type,
            "isDeviceBased": False,
        }
        if group_name is not None:
            rule["groupName"] = group_name
        if experiment_group:
            rule["isExperimentGroup"] = True
        return rule

    def layer(
        self, name: str, experiment_count: int
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        rng = self.rng
        salt = _uid(rng)
        parameters = ["color", "size", "limit", "banner", "ratio", "speed"]
        defaults = self.values(parameters)
        shuffled = list(range(1000))
        rng.shuffle(shuffled)
        # Some buckets stay unallocated, so some users fall through to the layer defaults.
        share = rng.choice((100, 200, 250))
        experiments = []
        rules: list[dict[str, Any]] = []
        if self.holdouts and rng.random() < 0.4:
            rules.append(
                self._holdout_rule(
                    rng.choice(self.holdouts), return_value=defaults, id_type="userID"
                )
            )
        for index in range(experiment_count):
            experiment_name = f"{name}_exp_{index}"
            buckets = sorted(shuffled[index * share : (index + 1) * share])
            owned = rng.sample(parameters, 2)
            experiment = self.experiment(
                experiment_name, layer_salt=salt, buckets=buckets, defaults=defaults, owned=owned
            )
            experiments.append(experiment)
            if rng.random() < 0.3:
                override = self._fixed_rule(
                    f"{experiment_name} {_uid(rng)}:id_override",
                    [self._base("unit_id", "any", rng.sample(ID_POOL, 20), idType="userID")],
                    defaults,
                    "userID",
                )
                override["configDelegate"] = experiment_name
                rules.insert(0, override)
            assignment = self._fixed_rule(
                "experimentAssignment",
                [
                    self._base(
                        "user_bucket",
                        "any",
                        buckets,
                        additionalValues={"salt": salt},
                        idType="userID",
                    )
                ],
                defaults,
                "userID",
            )
            assignment["configDelegate"] = experiment_name
            rules.append(assignment)
        if rng.random() < 0.2:
            # A delegate to a config that does not exist: the rule then decides by itself.
            dangling = self._fixed_rule("dangling", [self.condition("email")], defaults, "userID")
            dangling["configDelegate"] = "no_such_experiment"
            rules.append(dangling)
        spec = {
            "name": name,
            "type": "dynamic_config",
            "entity": "layer",
            "salt": salt,
            "enabled": True,
            "defaultValue": defaults,
            "rules": rules,
            "isDeviceBased": False,
            "idType": "userID",
        }
        return spec, experiments


def generate_ruleset(
    seed: int,
    *,
    gates: int = 40,
    segments: int = 4,
    holdouts: int = 2,
    configs: int = 10,
    layers: int = 2,
    experiments_per_layer: int = 3,
    standalone_experiments: int = 2,
    id_lists: bool = True,
    catalogue: bool = True,
    now_ms: int | None = None,
) -> GeneratedRuleset:
    """``catalogue`` adds one gate per (condition kind, operator) pair of ``OPERATORS``."""
    rng = random.Random(seed)
    builder = _Builder(
        rng, int(time.time() * 1000) if now_ms is None else now_ms, id_lists=id_lists
    )
    feature_gates: list[dict[str, Any]] = []
    dynamic_configs: list[dict[str, Any]] = []

    for index in range(holdouts):
        name = f"holdout_{index}"
        feature_gates.append(builder.holdout(name))
        builder.holdouts.append(name)
    for table in ("feature_gates", "dynamic_configs"):
        name = f"unsupported_{table}"
        spec = builder.unsupported_spec(name, table)
        (feature_gates if table == "feature_gates" else dynamic_configs).append(spec)
        builder.unsupported.append(name)
    for index in range(segments):
        name = f"segment:seg_{index}"
        feature_gates.append(builder.segment(name))
        builder.referable.append(name)
    for index in range(gates):
        name = f"gate_{index}"
        feature_gates.append(builder.gate(name))
        builder.referable.append(name)
    if catalogue:
        for kind, ops in OPERATORS.items():
            if kind == "segment_list" and not id_lists:
                continue
            for op in ops:
                feature_gates.append(builder.catalogue_gate(f"catalogue_{kind}_{op}", kind, op))
        feature_gates.extend(builder.error_paths())
        dynamic_configs.append(builder.error_path_config())
    for index in range(configs):
        dynamic_configs.append(builder.config(f"config_{index}"))

    layer_configs = []
    layer_map: dict[str, list[str]] = {}
    for index in range(layers):
        layer, experiments = builder.layer(f"layer_{index}", experiments_per_layer)
        layer_configs.append(layer)
        dynamic_configs.extend(experiments)
        layer_map[layer["name"]] = [experiment["name"] for experiment in experiments]
    for index in range(standalone_experiments):
        defaults = builder.values(["color", "size", "limit"])
        dynamic_configs.append(
            builder.experiment(
                f"experiment_{index}",
                layer_salt=None,
                buckets=None,
                defaults=defaults,
                owned=["color"],
            )
        )

    specs: dict[str, Any] = {
        "has_updates": True,
        "time": builder.now_ms,
        "feature_gates": feature_gates,
        "dynamic_configs": dynamic_configs,
        "layer_configs": layer_configs,
        "layers": layer_map,
        "app_id": rng.choice(APP_IDS),
        "id_lists": dict.fromkeys(ID_LIST_NAMES, True),
    }
    if rng.random() < 0.7:
        specs["default_environment"] = rng.choice(TIERS)
    members = {
        "beta_testers": rng.sample(ID_POOL, 80),
        "blocked_companies": rng.sample(COMPANY_POOL, 10),
        "vip": [*rng.sample(ID_POOL, 20), "None"],
    }
    return GeneratedRuleset(specs=specs, id_list_members=members if id_lists else {})


def generate_users(seed: int, count: int, *, now_ms: int | None = None) -> list[dict[str, Any]]:
    """Users in the wire shape (``userID``, ``customIDs``, ``custom`` ...), with the odd malformed
    value (a non-numeric age, an ISO date, a bad IP) at a low rate."""
    rng = random.Random(seed)
    now = int(time.time() * 1000) if now_ms is None else now_ms
    return [_user(rng, now) for _ in range(count)]


def _maybe(rng: random.Random, probability: float, value: Any) -> Any:
    return value if rng.random() < probability else None


def _user(rng: random.Random, now_ms: int) -> dict[str, Any]:
    user: dict[str, Any] = {}
    has_user_id = rng.random() < 0.9
    if has_user_id:
        user["userID"] = rng.choice(ID_POOL) if rng.random() < 0.95 else rng.randint(1, 50)
    custom_ids: dict[str, Any] = {}
    if rng.random() < 0.6 or not has_user_id:
        custom_ids[rng.choice(("companyID", "companyid"))] = (
            rng.choice(COMPANY_POOL) if rng.random() < 0.9 else 7
        )
    if rng.random() < 0.3:
        custom_ids["stableID"] = _uid(rng)
    if custom_ids:
        user["customIDs"] = custom_ids
    optional = {
        "email": _maybe(
            rng,
            0.7,
            rng.choice(
                (
                    "alice@example.com",
                    "Bob@Example.com",
                    "admin@corp.io",
                    f"{_uid(rng)}@example.org",
                    "carol@test.io",
                    "",
                )
            ),
        ),
        "ip": _maybe(
            rng,
            0.7,
            rng.choice(BAD_IPS)
            if rng.random() < 0.06
            else ".".join(str(rng.randint(1, 223)) for _ in range(4)),
        ),
        "userAgent": _maybe(rng, 0.7, rng.choice(USER_AGENTS)),
        "country": _maybe(rng, 0.3, rng.choice((*COUNTRIES, "us", ""))),
        "locale": _maybe(rng, 0.5, rng.choice(LOCALES)),
        "appVersion": _maybe(rng, 0.6, rng.choice(VERSIONS)),
    }
    user.update({key: value for key, value in optional.items() if value is not None})
    custom = _custom(rng, now_ms)
    if custom is not None:
        user["custom"] = custom
    if rng.random() < 0.3:
        user["privateAttributes"] = {
            "secret_tier": rng.choice(PLANS),
            "email": "private@example.com",
        }
    if rng.random() < 0.5:
        user["statsigEnvironment"] = {"tier": rng.choice(TIERS)}
    return user


def _custom(rng: random.Random, now_ms: int) -> dict[str, Any] | None:
    if rng.random() < 0.15:
        return None
    bad = rng.random() < 0.05
    candidates: dict[str, Any] = {
        "plan": rng.choice(PLANS),
        "Plan": rng.choice(PLANS),
        "region": rng.choice(("eu-west", "us-east", "EU-WEST")),
        "age": rng.choice(("abc", "", "12abc"))
        if bad
        else rng.choice((17, 18, 25.5, "30", "18", 0, -3)),
        "score": rng.choice((0.5, 99, "12.5", None)),
        "level": rng.choice((1, 2, 3, True, "3")),
        "signup": (
            "2024-01-01T00:00:00Z"
            if bad
            else rng.choice(
                (
                    now_ms,
                    now_ms - 40 * DAY_MS,
                    (now_ms + 500 * DAY_MS) // 1000,
                    str(now_ms),
                    now_ms - DAY_MS,
                )
            )
        ),
        "tags": rng.choice((["red", "blue"], [1, 2, 3], ["0", 0], [], "red", ["green", 3], [True])),
        "beta": rng.choice((True, False, "true")),
        "appVersion": rng.choice(VERSIONS),
        "email": "custom@example.com",
    }
    keys = rng.sample(sorted(candidates), rng.randint(1, len(candidates)))
    return {key: candidates[key] for key in keys}
