"""Segment writes. Every change runs in one transaction with its audit entry, schedules the
ruleset rebuild (``ruleset.changes.schedule_rebuild``) and, for ID lists, tells every process
that the project's lists changed (``segments.idlists.notify_changed`` on commit).

Changes that may need review are registered with ``console.services.reviews.register_change``
and go through ``submit_or_apply``: the registered function is the only code path that applies
them, directly or when an approved review is committed.

By sub-domain: ``definitions`` (create, metadata, archive, delete), ``rules`` (the rules of
rule-based segments), ``id_lists`` (members and the SDK id-list file), on ``common``. The names
callers use are gathered here.
"""

from segments.services.common import ENTITY_TYPE, ChangeType, require_type
from segments.services.definitions import (
    segment_archive,
    segment_create,
    segment_delete,
    segment_update,
)
from segments.services.id_lists import (
    IdListChange,
    segment_ids_add,
    segment_ids_remove,
    segment_ids_reset,
    segment_list_file_rewrite,
)
from segments.services.rules import segment_update_rules

__all__ = [
    "ENTITY_TYPE",
    "ChangeType",
    "IdListChange",
    "require_type",
    "segment_archive",
    "segment_create",
    "segment_delete",
    "segment_ids_add",
    "segment_ids_remove",
    "segment_ids_reset",
    "segment_list_file_rewrite",
    "segment_update",
    "segment_update_rules",
]
