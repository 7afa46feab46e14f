"""PostHog capture bodies → rows of the event store, person and group updates. Pure: no ORM.

Shapes (``rust/capture/src/v0_request.rs``): a single event ``{api_key|token|$token, event,
distinct_id, properties, timestamp, uuid, $set}``, a batch ``{api_key, batch: [...], sent_at}``
and an array ``[events]`` (each carrying its ``token``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from events.models import DropReason, EventSource, ExposureKind
from events.persons import GroupOp, PersonOp
from events.rows import (
    clean_json,
    clean_text,
    event_row,
    exposure_row,
    new_row_uuids,
    parse_time,
    parse_uuid,
    settle_time,
)
from events.services import IngestBatch

MAX_DISTINCT_ID_LENGTH = 200
TOKEN_KEYS = ("api_key", "token", "$token")
FEATURE_PREFIX = "$feature/"
FLAG_CALLED = "$feature_flag_called"


class CaptureError(Exception):
    def __init__(self, status: int, code: str, detail: str, attr: str | None = None):
        self.status = status
        self.code = code
        self.detail = detail
        self.attr = attr
        super().__init__(detail)


def token_of(item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    for key in TOKEN_KEYS:
        value = item.get(key)
        if isinstance(value, str) and value:
            return value
    properties = item.get("properties")
    if isinstance(properties, dict):
        for key in ("token", "$token"):
            value = properties.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def split_payload(payload: Any) -> tuple[str | None, list, Any, Any]:
    """``(token, events, sent_at, project_id)`` of a capture body."""
    if isinstance(payload, list):
        tokens = {token_of(item) for item in payload} - {None}
        if len(tokens) > 1:
            raise CaptureError(
                401,
                "invalid_api_key",
                "batch submitted with inconsistent api_key values",
            )
        return (next(iter(tokens), None), payload, None, None)
    if not isinstance(payload, dict):
        raise CaptureError(400, "invalid_payload", "Malformed request data: not a JSON object.")
    if "batch" in payload:
        events = payload["batch"]
        if not isinstance(events, list):
            raise CaptureError(
                400, "invalid_payload", "Malformed request data: batch is not a list."
            )
        token = token_of(payload) or next(
            (t for t in (token_of(item) for item in events) if t), None
        )
        return token, events, payload.get("sent_at"), payload.get("project_id")
    if isinstance(payload.get("data"), list | dict) and "event" not in payload:
        token, events, sent_at, _ = split_payload(payload["data"])
        return token or token_of(payload), events, sent_at, payload.get("project_id")
    return token_of(payload), [payload], payload.get("sent_at"), payload.get("project_id")


def distinct_id_of(event: dict, properties: dict) -> str:
    for value in (
        event.get("distinct_id"),
        event.get("$distinct_id"),
        properties.get("distinct_id"),
        properties.get("$distinct_id"),
    ):
        if value is None or isinstance(value, bool):
            continue
        text = clean_text(value, 10_000).strip()
        if text:
            return text[:MAX_DISTINCT_ID_LENGTH]
    return ""


def event_time(event: dict, *, batch_sent_at: datetime | None, received_at: datetime) -> datetime:
    """PostHog's clock correction: ``offset`` (ms before sending) wins; else ``timestamp``
    shifted by (received − ``sent_at``: the event's, else the batch's, read once per batch);
    else the receive time."""
    offset = event.get("offset")
    if isinstance(offset, int | float) and not isinstance(offset, bool):
        return settle_time(
            received_at - timedelta(milliseconds=offset), received_at=received_at, skew=timedelta(0)
        )
    timestamp = parse_time(event.get("timestamp"))
    event_sent_at = event.get("sent_at")
    sent_at = parse_time(event_sent_at) if event_sent_at else batch_sent_at
    skew = (
        received_at - sent_at if (timestamp is not None and sent_at is not None) else timedelta(0)
    )
    return settle_time(timestamp, received_at=received_at, skew=skew)


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def parse_capture(
    events: list,
    *,
    project_id: int,
    received_at: datetime,
    batch_sent_at: Any = None,
    entity_kind: Callable[[str], str | None] | None = None,
    clean: bool = True,
) -> IngestBatch:
    """``clean=False``: the body is known to be storable JSON already (read by orjson, no NUL
    escape in it), so properties and person updates are kept as sent, without a cleaning pass."""
    keep = clean_json if clean else _as_sent
    batch_sent = parse_time(batch_sent_at)
    batch = IngestBatch(project_id=project_id, source=EventSource.POSTHOG)
    row_uuids = new_row_uuids(len(events))
    for event in events:
        if not isinstance(event, dict):
            batch.drops[DropReason.INVALID_EVENT] += 1
            continue
        name = clean_text(event.get("event"))
        if not name:
            batch.drops[DropReason.MISSING_EVENT_NAME] += 1
            continue
        properties = _dict(event.get("properties"))
        distinct_id = distinct_id_of(event, properties)
        if not distinct_id:
            batch.drops[DropReason.MISSING_DISTINCT_ID] += 1
            continue
        time = event_time(event, batch_sent_at=batch_sent, received_at=received_at)
        groups = {
            clean_text(k, 100): clean_text(v)
            for k, v in _dict(properties.get("$groups")).items()
            if clean_text(v)
        }
        batch.accepted_events += 1
        _person_updates(batch, name, distinct_id, event, properties, keep)
        if name == FLAG_CALLED:
            exposure = _flag_called_exposure(distinct_id, groups, properties, time, entity_kind)
            if exposure is not None:
                batch.exposures.append(exposure_row(project_id, exposure, received_at=received_at))
                continue
        person_set = {
            key: keep(value)
            for key in ("$set", "$set_once")
            if (value := event.get(key) or properties.get(key))
        }
        stored_properties = keep(
            {
                k: v
                for k, v in properties.items()
                if k not in {"token", "$token", "api_key", "$set", "$set_once"}
            }
        )
        feature_flags = {
            key[len(FEATURE_PREFIX) :]: keep(value)
            for key, value in properties.items()
            if isinstance(key, str) and key.startswith(FEATURE_PREFIX) and len(key) > 9
        }
        batch.events.append(
            event_row(
                project_id=project_id,
                name=name,
                source=EventSource.POSTHOG,
                time=time,
                received_at=received_at,
                user_id=distinct_id,
                custom_ids=groups,
                properties=stored_properties,
                user=person_set,
                feature_flags=feature_flags,
                row_uuid=parse_uuid(event.get("uuid")) or row_uuids[len(batch.events)],
            )
        )
    return batch


def _as_sent(value: Any) -> Any:
    return value


def _person_updates(
    batch: IngestBatch,
    name: str,
    distinct_id: str,
    event: dict,
    properties: dict,
    keep: Callable[[Any], Any],
) -> None:
    set_props = keep(_dict(event.get("$set") or properties.get("$set")))
    set_once = keep(_dict(event.get("$set_once") or properties.get("$set_once")))
    unset = event.get("$unset") or properties.get("$unset")
    unset_keys = tuple(str(k) for k in unset) if isinstance(unset, list) else ()
    if name == "$identify":
        anon = clean_text(properties.get("$anon_distinct_id"), MAX_DISTINCT_ID_LENGTH)
        batch.person_ops.append(
            PersonOp(
                "identify",
                distinct_id,
                other_id=anon,
                set=set_props,
                set_once=set_once,
                unset=unset_keys,
            )
        )
        return
    if name in {"$create_alias", "$merge_dangerously"}:
        alias = clean_text(properties.get("alias"), MAX_DISTINCT_ID_LENGTH)
        if alias:
            batch.person_ops.append(PersonOp("merge", distinct_id, other_id=alias))
    if name == "$groupidentify":
        group_type = clean_text(properties.get("$group_type"))
        group_key = clean_text(properties.get("$group_key"))
        if group_type and group_key:
            batch.group_ops.append(
                GroupOp(
                    group_type,
                    group_key,
                    set=keep(_dict(properties.get("$group_set"))),
                    set_once=keep(_dict(properties.get("$group_set_once"))),
                )
            )
    if set_props or set_once or unset_keys:
        batch.person_ops.append(
            PersonOp("set", distinct_id, set=set_props, set_once=set_once, unset=unset_keys)
        )


def _flag_called_exposure(
    distinct_id: str,
    groups: dict[str, str],
    properties: dict,
    time: datetime,
    entity_kind: Callable[[str], str | None] | None,
) -> dict | None:
    """``$feature_flag_called`` → an exposure of our gate (boolean flag), experiment (variant =
    group) or config."""
    flag = clean_text(properties.get("$feature_flag"))
    if not flag:
        return None
    response = properties.get("$feature_flag_response")
    kind = entity_kind(flag) if entity_kind else None
    if kind is None:
        kind = "gate" if isinstance(response, bool) or response is None else "experiment"
    user = {"userID": distinct_id}
    if groups:
        user["customIDs"] = groups
    exposure: dict[str, Any] = {
        "user": user,
        "name": flag,
        "rule_id": "",
        "secondary_exposures": [],
        "time": int(time.timestamp() * 1000),
        "source": EventSource.POSTHOG,
    }
    if kind == "gate":
        exposure.update(kind=ExposureKind.GATE, value=response is True or response == "true")
    elif kind == "config":
        exposure.update(kind=ExposureKind.CONFIG, value=None, group_name="")
    else:  # an experiment: the variant is the group
        group = response if isinstance(response, str) else ""
        exposure.update(kind=ExposureKind.CONFIG, value=None, group_name=group)
    return exposure
