"""Segment writes, on the entity core (``flags.services.kernel`` with the ``SEGMENTS`` kind of
``segments.services.kind``): every definition change is validated, applied or filed for review
(``console.services.reviews``), versioned (``flags.services.versions``: the snapshot a history
lists and a restore brings back), audited and followed by the ruleset rebuild in one
transaction; the kind's change types are registered in ``SegmentsConfig.ready()``.

By sub-domain: ``definitions`` (create, metadata, rules, archive, restore a version, delete),
``rules`` (validating the rules of rule-based segments), ``id_lists`` (members and the SDK
id-list file: changes that are no new version of the definition), on ``common``. The names
callers use are gathered here.
"""

from segments.models import ENTITY_TYPE
from segments.services.common import ChangeType, require_type
from segments.services.definitions import (
    segment_archive,
    segment_create,
    segment_delete,
    segment_update,
    segment_update_rules,
    segment_version_restore,
)
from segments.services.id_lists import (
    IdListChange,
    segment_ids_add,
    segment_ids_remove,
    segment_ids_reset,
    segment_list_file_rewrite,
)
from segments.services.kind import SEGMENTS

__all__ = [
    "ENTITY_TYPE",
    "SEGMENTS",
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
    "segment_version_restore",
]
