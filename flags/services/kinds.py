"""The kinds of entity this app authors, in the order ``FlagsConfig.ready()`` registers them
with the entity core; the flags eraser scrubs exactly these (segments erase their own)."""

from __future__ import annotations

from flags.services.configs import DYNAMIC_CONFIGS
from flags.services.descriptor import EntityKind
from flags.services.experiments import EXPERIMENTS
from flags.services.gates import GATES
from flags.services.holdouts import HOLDOUTS
from flags.services.layers import LAYERS

FLAG_KINDS: tuple[EntityKind, ...] = (GATES, DYNAMIC_CONFIGS, EXPERIMENTS, LAYERS, HOLDOUTS)
