"""Statsig ``log_event`` and ``log_custom_exposure`` bodies → rows of the event store. Pure: no
ORM, no request; the views read the body and the services write the rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from events.models import DropReason, ExposureKind
from events.rows import (
    clean_json,
    clean_text,
    event_row,
    exposure_row,
    new_row_uuids,
    parse_time,
    settle_time,
    split_statsig_user,
)
from events.services import IngestBatch

GATE_EXPOSURE = "statsig::gate_exposure"
CONFIG_EXPOSURE = "statsig::config_exposure"
LAYER_EXPOSURE = "statsig::layer_exposure"
DIAGNOSTICS = "statsig::diagnostics"
SDK_EXPOSURES = frozenset({GATE_EXPOSURE, CONFIG_EXPOSURE, LAYER_EXPOSURE})
MAX_EVENTS = 10_000
# Events parsed into one part of a log_event batch: a COPY slice (events.store.COPY_SLICE_ROWS).
PART_EVENTS = 200


class PayloadError(Exception):
    def __init__(self, status: int, message: str):
        self.status = status
        self.message = message
        super().__init__(message)


def client_skew(header: str | None, *, received_at: datetime) -> timedelta:
    """Server time − client time from ``STATSIG-CLIENT-TIME`` (ms); zero when absent or unreadable."""
    client_time = parse_time(header) if header else None
    if client_time is None:
        return timedelta(0)
    return received_at - client_time


def _has_unit(user_id: str, stable_id: str, custom_ids: dict) -> bool:
    return bool(user_id or stable_id or custom_ids)


def _as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _items(payload: Any, key: str) -> list:
    if not isinstance(payload, dict):
        raise PayloadError(400, "The request body must be a JSON object.")
    items = payload.get(key)
    if not isinstance(items, list):
        raise PayloadError(400, f"'{key}' must be a list.")
    if len(items) > MAX_EVENTS:
        raise PayloadError(
            413, f"Too many {key}: {len(items)} in one request, the limit is {MAX_EVENTS:,}."
        )
    return items


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    return None


def parse_log_event(
    payload: Any,
    *,
    project_id: int,
    source: str,
    received_at: datetime,
    skew: timedelta,
    group_name_for: Any = None,
    clean: bool = True,
) -> Iterator[IngestBatch]:
    """``{events: [{eventName, value, time, user, metadata, secondaryExposures}], user?}``, as
    batches of ``PART_EVENTS`` events each, made as they are asked for (``ingest_parts``
    stores one while the next is parsed). The body's shape is checked at once: a PayloadError
    is raised here, not by the iterator.

    The SDK's exposure events go to the exposure store; ``statsig::diagnostics`` is counted as
    dropped; an event without ``eventName`` or without any unit id is dropped and counted.
    ``group_name_for(kind, name, rule_id)`` names the experiment group of a config exposure.
    ``clean=False``: the body is known to be storable JSON already (read by orjson, no NUL
    escape in it), so the JSON columns of event rows are stored as sent, without a cleaning pass.
    """
    events = _items(payload, "events")
    default_user = payload.get("user")
    return (
        _parse_events(
            events[start : start + PART_EVENTS],
            default_user,
            project_id=project_id,
            source=source,
            received_at=received_at,
            skew=skew,
            group_name_for=group_name_for,
            clean=clean,
        )
        for start in range(0, len(events), PART_EVENTS)
    )


def _parse_events(
    events: list,
    default_user: Any,
    *,
    project_id: int,
    source: str,
    received_at: datetime,
    skew: timedelta,
    group_name_for: Any,
    clean: bool,
) -> IngestBatch:
    batch = IngestBatch(project_id=project_id, source=source)
    row_uuids = new_row_uuids(len(events))
    for event in events:
        if not isinstance(event, dict):
            batch.drops[DropReason.INVALID_EVENT] += 1
            continue
        name = clean_text(event.get("eventName"))
        if not name:
            batch.drops[DropReason.MISSING_EVENT_NAME] += 1
            continue
        if name == DIAGNOSTICS:
            batch.drops[DropReason.SDK_DIAGNOSTICS] += 1
            continue
        user = event.get("user")
        if not isinstance(user, dict):
            user = default_user
        user_id, stable_id, custom_ids, stored_user, environment = split_statsig_user(
            user, clean=clean
        )
        if not _has_unit(user_id, stable_id, custom_ids):
            batch.drops[DropReason.MISSING_UNIT_ID] += 1
            continue
        metadata = _as_dict(event.get("metadata"))
        secondary = _as_list(event.get("secondaryExposures"))
        if name in SDK_EXPOSURES:
            exposure = _sdk_exposure(name, metadata, group_name_for)
            if exposure is None:
                batch.drops[DropReason.MISSING_EXPOSURE_NAME] += 1
                continue
            exposure.update(
                user=user,
                environment=environment,
                secondary_exposures=secondary,
                time=event.get("time"),
                source=source,
            )
            batch.exposures.append(
                exposure_row(project_id, exposure, received_at=received_at, skew=skew)
            )
        else:
            batch.events.append(
                event_row(
                    project_id=project_id,
                    name=name,
                    source=source,
                    time=settle_time(
                        parse_time(event.get("time")), received_at=received_at, skew=skew
                    ),
                    received_at=received_at,
                    user_id=user_id,
                    stable_id=stable_id,
                    custom_ids=custom_ids,
                    value=event.get("value"),
                    properties=clean_json(metadata) if clean else metadata,
                    user=stored_user,
                    secondary_exposures=clean_json(secondary) if clean else secondary,
                    environment=environment,
                    row_uuid=row_uuids[len(batch.events)],
                )
            )
        batch.accepted_events += 1
    return batch


def _sdk_exposure(name: str, metadata: dict, group_name_for: Any) -> dict | None:
    rule_id = clean_text(metadata.get("ruleID"))
    if name == GATE_EXPOSURE:
        gate = clean_text(metadata.get("gate"))
        if not gate:
            return None
        return {
            "kind": ExposureKind.GATE,
            "name": gate,
            "rule_id": rule_id,
            "value": _flag(metadata.get("gateValue")),
            "group_name": "",
        }
    if name == CONFIG_EXPOSURE:
        config = clean_text(metadata.get("config"))
        if not config:
            return None
        group = group_name_for(ExposureKind.CONFIG, config, rule_id) if group_name_for else ""
        return {
            "kind": ExposureKind.CONFIG,
            "name": config,
            "rule_id": rule_id,
            "value": None,
            "group_name": group or "",
        }
    layer = clean_text(metadata.get("config"))
    if not layer:
        return None
    allocated = clean_text(metadata.get("allocatedExperiment"))
    # A parameter read from the experiment the unit is allocated to names that experiment's
    # group by its rule id, as the server's own layer exposures do.
    group = (
        group_name_for(ExposureKind.CONFIG, allocated, rule_id)
        if allocated and group_name_for
        else ""
    )
    return {
        "kind": ExposureKind.LAYER,
        "name": layer,
        "rule_id": rule_id,
        "value": None,
        "group_name": group or "",
        "parameter_name": metadata.get("parameterName"),
        "allocated_experiment": allocated,
    }


def parse_custom_exposures(
    payload: Any,
    *,
    project_id: int,
    received_at: datetime,
    skew: timedelta,
    group_name_for: Any = None,
) -> IngestBatch:
    """``{exposures: [{user, experimentName, group | ruleID} | {user, gateName, passes, group |
    ruleID, secondaryExposures}], user?}``."""
    from events.models import EventSource

    exposures = _items(payload, "exposures")
    default_user = payload.get("user")
    batch = IngestBatch(project_id=project_id, source=EventSource.CUSTOM)
    for item in exposures:
        if not isinstance(item, dict):
            batch.drops[DropReason.INVALID_EVENT] += 1
            continue
        user = item.get("user") if isinstance(item.get("user"), dict) else default_user
        user_id, stable_id, custom_ids, _stored, environment = split_statsig_user(user)
        rule_id = clean_text(item.get("ruleID") or item.get("rule_id"))
        group = clean_text(item.get("group"))
        if item.get("gateName"):
            exposure = {
                "kind": ExposureKind.GATE,
                "name": item.get("gateName"),
                "value": _flag(item.get("passes")),
            }
        elif item.get("experimentName"):
            exposure = {"kind": ExposureKind.CONFIG, "name": item.get("experimentName")}
            if not group and rule_id and group_name_for:
                group = group_name_for(ExposureKind.CONFIG, clean_text(exposure["name"]), rule_id)
        else:
            batch.drops[DropReason.MISSING_EXPOSURE_NAME] += 1
            continue
        if not clean_text(exposure["name"]):
            batch.drops[DropReason.MISSING_EXPOSURE_NAME] += 1
            continue
        if not _has_unit(user_id, stable_id, custom_ids):
            batch.drops[DropReason.MISSING_UNIT_ID] += 1
            continue
        exposure.update(
            rule_id=rule_id,
            group_name=group or "",
            user=user,
            environment=environment,
            secondary_exposures=_as_list(item.get("secondaryExposures")),
            time=item.get("time"),
            source=EventSource.CUSTOM,
        )
        batch.exposures.append(
            exposure_row(project_id, exposure, received_at=received_at, skew=skew)
        )
        batch.accepted_events += 1
    return batch
