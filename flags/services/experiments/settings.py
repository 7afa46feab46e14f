"""Statsig's experiment settings that nothing here evaluates (analysis options, links, team,
warehouse-native scheduling): each is kept as sent, by its wire name, in ``Experiment.settings``
and returned by the console API. ``SETTINGS`` is the one list of them; the console API builds its
request fields from it, and the service checks every value against it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from console.errors import ValidationError
from console.validation import validate_bool

TEXT_MAX = 1000
LIST_MAX = 100


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: its value ``kind`` (text, flag, days, hour, choice, texts, links), whether
    ``null`` is a value, the ``choices`` of a choice, and what the API documents."""

    kind: str
    help: str
    nullable: bool = False
    choices: tuple[str, ...] = ()


DAYS = "A number of days (an integer of at least 1)."

SETTINGS: dict[str, Setting] = {
    "secondaryIDType": Setting("text", "The secondary ID type (warehouse native).", True),
    "links": Setting("links", "Links to documents about the experiment: {url, title}."),
    "primaryMetricTags": Setting("texts", "Tags of the primary metrics."),
    "secondaryMetricTags": Setting("texts", "Tags of the secondary metrics."),
    "targetApps": Setting("texts", "Target apps of the experiment."),
    "duration": Setting("days", "How long the experiment is expected to run, in days.", True),
    "targetExposures": Setting("count", "Target exposures.", True),
    "sequentialTesting": Setting("flag", "Apply sequential testing."),
    "bonferroniCorrectionPerMetric": Setting("flag", "Bonferroni correction per metric."),
    "benjaminiHochbergPerVariant": Setting("flag", "Benjamini-Hochberg per variant."),
    "benjaminiHochbergPerMetric": Setting("flag", "Benjamini-Hochberg per metric."),
    "benjaminiPrimaryMetricsOnly": Setting("flag", "Benjamini-Hochberg on primary metrics only."),
    "assignmentSourceName": Setting("text", "The assignment source (warehouse native)."),
    "assignmentSourceExperimentName": Setting("text", "The source experiment of assignments."),
    "isAnalysisOnly": Setting("flag", "An analysis-only experiment (warehouse native)."),
    "team": Setting("text", "The owning team.", True),
    "allocationDuration": Setting("days", "Allocation duration in days (warehouse).", True),
    "cohortedAnalysisDuration": Setting("days", "Cohorted analysis duration in days."),
    "cohortedMetricsMatureAfterEnd": Setting("flag", "Cohort metrics mature after the end."),
    "cohortWaitUntilEndToInclude": Setting("flag", "Include only completed cohorts."),
    "fixedAnalysisDuration": Setting("days", "Fixed analysis duration in days."),
    "scheduledReloadHour": Setting("hour", "UTC hour of scheduled result loads (0-23)."),
    "scheduledReloadType": Setting(
        "choice", "Reload type of scheduled loads.", choices=("full", "incremental")
    ),
    "analysisEndTime": Setting("text", "The end of the analysis window."),
    "analyticsType": Setting("text", "The analytics type.", True),
}


def _integer(value: Any, name: str, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValidationError.for_field(name, f"{name} is an integer of at least {low}.")
    if high is not None and value > high:
        raise ValidationError.for_field(name, f"{name} is an integer from {low} to {high}.")
    return value


def _texts(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or len(value) > LIST_MAX:
        raise ValidationError.for_field(name, f"{name} is a list of up to {LIST_MAX} strings.")
    for index, item in enumerate(value):
        if not isinstance(item, str) or len(item) > TEXT_MAX:
            raise ValidationError.for_field(f"{name}[{index}]", "A string is expected.")
    return list(value)


def _links(value: Any, name: str) -> list[dict[str, str]]:
    if not isinstance(value, list) or len(value) > LIST_MAX:
        raise ValidationError.for_field(name, f"{name} is a list of up to {LIST_MAX} links.")
    links = []
    for index, item in enumerate(value):
        path = f"{name}[{index}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("url"), str):
            raise ValidationError.for_field(f"{path}.url", "A link has a url.")
        unknown = set(item) - {"url", "title"}
        if unknown:
            raise ValidationError.for_field(
                f"{path}.{sorted(unknown)[0]}", "A link has a url and a title only."
            )
        links.append(
            {key: _text(item[key], f"{path}.{key}") for key in ("url", "title") if key in item}
        )
    return links


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or len(value) > TEXT_MAX:
        raise ValidationError.for_field(name, f"{name} is a string of up to {TEXT_MAX} characters.")
    return value


def validate_setting(name: str, value: Any) -> Any:
    setting = SETTINGS.get(name)
    if setting is None:
        raise ValidationError.for_field(name, f"{name} is not a field of an experiment.")
    if value is None:
        if not setting.nullable:
            raise ValidationError.for_field(name, f"{name} may not be null.")
        return None
    if setting.kind == "text":
        return _text(value, name)
    if setting.kind == "flag":
        return validate_bool(value, name)
    if setting.kind in ("days", "count"):
        return _integer(value, name, 1)
    if setting.kind == "hour":
        return _integer(value, name, 0, 23)
    if setting.kind == "choice":
        if value not in setting.choices:
            raise ValidationError.for_field(name, f"{name} is one of {', '.join(setting.choices)}.")
        return value
    if setting.kind == "texts":
        return _texts(value, name)
    return _links(value, name)


def validate_settings(current: Mapping[str, Any], given: Any) -> dict[str, Any]:
    """The experiment's settings with the ``given`` ones (a partial update) checked and set."""
    if not isinstance(given, Mapping):
        raise ValidationError.for_field("settings", "settings is an object.")
    return {**current, **{name: validate_setting(name, value) for name, value in given.items()}}


def settings_output(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting by its wire name: what was sent, or its empty value."""
    return {
        name: settings.get(name, _EMPTY.get(setting.kind)) for name, setting in SETTINGS.items()
    }


# What a setting that was never sent reads as (None for the kinds not named).
_EMPTY: dict[str, Any] = {"flag": False, "texts": [], "links": []}
