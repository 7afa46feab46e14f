"""Allocation: the 1000 buckets of a layer (or of an experiment outside a layer) and which
experiment owns which.

Bucket assignment is deterministic and stable: an experiment keeps the buckets it has; when its
allocation grows it takes free buckets in an order fixed by its allocation salt; when it shrinks
it gives back the last ones in that order. Allocations in a layer can never overlap or exceed
100%: assignment runs under a row lock on the layer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from decimal import Decimal

from console.errors import ValidationError
from flags.models import EXPERIMENT_STATUSES_HOLDING_BUCKETS, Experiment, Layer

LAYER_BUCKETS = 1000


def _bucket_rank(seed: str, bucket: int) -> bytes:
    return hashlib.sha256(f"{seed}.{bucket}".encode()).digest()


def buckets_for(
    *, current: Iterable[int], wanted: int, taken: set[int], seed: str, layer_label: str
) -> list[int]:
    """``wanted`` buckets for an experiment that owns ``current`` and may not use ``taken``."""
    owned = sorted((b for b in set(current) if b not in taken), key=lambda b: _bucket_rank(seed, b))
    if wanted <= len(owned):
        return sorted(owned[:wanted])
    free = sorted(
        (b for b in range(LAYER_BUCKETS) if b not in taken and b not in set(owned)),
        key=lambda b: _bucket_rank(seed, b),
    )
    missing = wanted - len(owned)
    if missing > len(free):
        available = (len(owned) + len(free)) / 10
        raise ValidationError.for_field(
            "allocation",
            f"{layer_label} has only {available:g}% left for this experiment; "
            "allocations in a layer cannot overlap or exceed 100%.",
        )
    return sorted([*owned, *free[:missing]])


def layer_taken_buckets(layer: Layer, *, exclude_pk: int | None) -> set[int]:
    """Buckets owned by the layer's other experiments. Call with the layer row locked."""
    others = Experiment.objects.filter(layer=layer, status__in=EXPERIMENT_STATUSES_HOLDING_BUCKETS)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    taken: set[int] = set()
    for buckets in others.values_list("buckets", flat=True):
        taken.update(buckets)
    return taken


def place_keeping(experiment: Experiment) -> None:
    """Gives the experiment the buckets of its allocation, keeping those it owns (its layer is
    locked meanwhile, so two experiments never take the same bucket)."""
    wanted = int(Decimal(experiment.allocation) * 10)
    layer = experiment.layer
    if layer is not None:
        Layer.objects.select_for_update().filter(pk=layer.pk).first()
        taken = layer_taken_buckets(layer, exclude_pk=experiment.pk)
        label = f"Layer '{layer.slug}'"
    else:
        taken, label = set(), "The experiment"
    experiment.buckets = buckets_for(
        current=experiment.buckets,
        wanted=wanted,
        taken=taken,
        seed=experiment.allocation_salt,
        layer_label=label,
    )
