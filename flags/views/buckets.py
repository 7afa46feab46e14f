"""A picture of a layer's 1000 buckets: which experiment holds which share. Drawn as inline SVG
(50 × 20 squares), one ``<path>`` per experiment so the page stays small."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flags.models import EXPERIMENT_STATUSES_HOLDING_BUCKETS, Experiment, Layer
from flags.services.allocation import LAYER_BUCKETS

COLUMNS = 50
ROWS = LAYER_BUCKETS // COLUMNS
PALETTE = 8


@dataclass(slots=True)
class Holder:
    slug: str
    name: str
    status: str
    share: float
    path: str
    series: int
    is_current: bool


def _path(buckets: list[int]) -> str:
    return "".join(f"M{b % COLUMNS} {b // COLUMNS}h1v1h-1z" for b in sorted(buckets))


def bucket_map(
    *, layer: Layer | None = None, experiment: Experiment | None = None
) -> dict[str, Any]:
    """The buckets of ``layer`` (its experiments), or of an experiment outside a layer (its own
    allocation). ``experiment`` is outlined."""
    if layer is not None:
        holders = list(
            Experiment.objects.filter(layer=layer, status__in=EXPERIMENT_STATUSES_HOLDING_BUCKETS)
            .order_by("created_at", "id")
            .values_list("pk", "slug", "name", "status", "buckets")
        )
    elif experiment is not None:
        holders = [
            (
                experiment.pk,
                experiment.slug,
                experiment.name,
                experiment.status,
                list(experiment.buckets),
            )
        ]
    else:
        holders = []
    taken: set[int] = set()
    shown: list[Holder] = []
    for index, (pk, slug, name, status, buckets) in enumerate(holders):
        taken.update(buckets)
        shown.append(
            Holder(
                slug=slug,
                name=name,
                status=status,
                share=len(buckets) / 10,
                path=_path(buckets),
                series=(index + 2) % PALETTE,
                is_current=experiment is not None and pk == experiment.pk,
            )
        )
    free = [b for b in range(LAYER_BUCKETS) if b not in taken]
    return {
        "columns": COLUMNS,
        "rows": ROWS,
        "holders": shown,
        "free_path": _path(free),
        "free_share": len(free) / 10,
        "layer": layer,
    }
