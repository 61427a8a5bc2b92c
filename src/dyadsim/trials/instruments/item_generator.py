"""``python -m dyadsim.trials.instruments.item_generator``: derive the item parameters of
every item scale in the catalogue (:func:`.items.derive_pattern`) and write them to the
generated ``item_parameters.py`` (kept apart from :mod:`.items`, which the catalogue imports,
so that no import runs in a circle)."""

from __future__ import annotations

from ..._io import atomic_text
from .catalogue import INSTRUMENTS
from .items import (
    ITEM_PARAMETERS_PATH,
    ItemScale,
    derive_pattern,
    patterned,
    population_moments,
    render_item_parameters,
)


def main() -> int:
    """Derive and write the item parameters of every item scale in the catalogue."""
    derived = {}
    for inst in INSTRUMENTS.values():
        if isinstance(inst, ItemScale):
            norm = inst.norm
            if norm is None or norm.mean is None or norm.sd is None:
                raise ValueError(f"{inst.name}: an item scale needs a norm mean and SD")
            target = (float(norm.mean), float(norm.sd), float(norm.reliability))
            derived[inst.name] = (target, derive_pattern(inst.design, *target))
            got = population_moments(inst.design, patterned(inst.design, *derived[inst.name][1],
                                                            source="check"))
            print(f"{inst.name}: a, location, spacing = {derived[inst.name][1]}; N(0,1) "
                  f"mean {got['mean']:.2f}, SD {got['sd']:.2f}, alpha {got['alpha']:.3f}")
    atomic_text(ITEM_PARAMETERS_PATH, render_item_parameters(derived))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
