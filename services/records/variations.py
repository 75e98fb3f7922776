"""Variations: one generation plan turned into several, and which variant a saved image is.

The Variations node emits lists; ComfyUI then runs every downstream node once per item, so
the sampler, the decoder and the saving node run once per variant, in list order. Variant 0
is always the plan as recommended; the others move one thing away from it:

- seed: consecutive seeds from the base seed (as A1111 numbers a batch);
- parameters: steps and cfg on a grid around the recommendation, nearest first, same seed;
- loras: every planned LoRA weight scaled by 1, 1 - s, 1 + s, 1 - 2s ... (never below 0), same seed.

`expand` is a pure function of the node's inputs. The saved image's record is made from the
executed graph (ComfyUI's API-format prompt), so `variant_of` finds the Variations node
upstream of the saving node, reads its inputs from the graph and calls `expand` again: the
node and the record agree by construction. Inputs that are linked to a node computing them at
run time (steps from Auto Model Select) are taken from the plan (the generation info's parameters).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

# _literal: what counts as a widget value (primitive nodes followed) must match the record's own reading.
from .generation import SAMPLER_CLASSES, _literal, upstream

NODE_CLASS = "IntelligentVariations"
STRATEGIES = ("seed", "parameters", "loras")
MAX_COUNT = 64
MAX_SEED = 0xFFFFFFFFFFFFFFFF  # KSampler's seed range
MAX_STEPS = 10000
MAX_CFG = 100.0
# The node's outputs, in order: what a sampler input linked to [node, index] receives.
OUTPUTS = ("seed", "steps", "cfg", "model", "positive", "negative")
SAMPLER_INPUTS = {"seed": "seed", "noise_seed": "seed", "steps": "steps", "cfg": "cfg", "model": "model",
                  "positive": "positive", "negative": "negative"}


@dataclass(frozen=True)
class VariationSettings:
    """The node's inputs. Base values may be None when only the record can tell them (see module doc)."""

    strategy: str = "seed"
    count: int = 4
    seed: int | None = 0
    steps: int | None = 20
    cfg: float | None = 7.0
    steps_spread: int = 4
    cfg_spread: float = 1.0
    weight_spread: float = 0.25

    def check(self) -> str | None:
        """What is wrong with these settings, in words; None when they can be used."""
        if self.strategy not in STRATEGIES:
            return f"strategy must be one of {', '.join(STRATEGIES)}, not {self.strategy!r}"
        if not 1 <= self.count <= MAX_COUNT:
            return f"count must be between 1 and {MAX_COUNT}"
        if self.steps_spread < 0 or self.cfg_spread < 0 or self.weight_spread < 0:
            return "spreads cannot be negative"
        return None


@dataclass(frozen=True)
class Variant:
    index: int
    count: int
    strategy: str
    seed: int | None
    steps: int | None
    cfg: float | None
    lora_scale: float = 1.0  # every planned LoRA weight times this

    def describe(self) -> str:
        changed = {
            "seed": f"seed {self.seed}",
            "parameters": f"steps {self.steps}, cfg {self.cfg:g}" if self.cfg is not None else f"steps {self.steps}",
            "loras": f"LoRA weights x{self.lora_scale:g}",
        }[self.strategy]
        return f"variant {self.index + 1}/{self.count}: {changed}" + (" (as recommended)" if self.index == 0 else "")

    def lora_weight(self, weight: float) -> float:
        return round(weight * self.lora_scale, 3)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _grid(rings: int) -> list[tuple[int, int]]:
    """(steps offset, cfg offset) pairs ring by ring around (0, 0); within a ring the axes come first."""
    cells = [(a, b) for a in range(-rings, rings + 1) for b in range(-rings, rings + 1)]
    return sorted(cells, key=lambda c: (max(abs(c[0]), abs(c[1])), abs(c[0]) + abs(c[1]), c[0], c[1]))


def _scales(spread: float, rings: int) -> list[float]:
    scales = [1.0]
    for r in range(1, rings + 1):
        scales += [max(0.0, round(1.0 - r * spread, 3)), round(1.0 + r * spread, 3)]
    return scales


def expand(settings: VariationSettings) -> list[Variant]:
    """The variants, recommendation first. Fewer than `count` only when the spreads leave nothing to vary
    (a spread of 0, or steps held at 1), since equal variants would only cost time."""
    problem = settings.check()
    if problem:
        raise ValueError(problem)
    s, n = settings, settings.count
    varied = {"seed": ("seed",), "parameters": ("steps", "cfg"), "loras": ()}[s.strategy]
    if any(getattr(s, name) is None for name in varied):
        raise ValueError(f"{s.strategy} variation needs the base {' and '.join(varied)}")
    base = Variant(0, n, s.strategy, s.seed, s.steps, s.cfg)
    if s.strategy == "seed":
        assert s.seed is not None
        return [replace(base, index=i, seed=(s.seed + i) % (MAX_SEED + 1)) for i in range(n)]
    found: list[Variant] = []
    # Each ring adds at least one new value while a spread is above 0, so `n` rings are enough.
    if s.strategy == "parameters":
        assert s.steps is not None and s.cfg is not None
        seen: set[tuple[int, float]] = set()
        for ds, dc in _grid(n):
            steps = min(MAX_STEPS, max(1, s.steps + ds * s.steps_spread))
            cfg = min(MAX_CFG, max(0.0, round(s.cfg + dc * s.cfg_spread, 2)))
            if (steps, cfg) not in seen:
                seen.add((steps, cfg))
                found.append(replace(base, index=len(found), steps=steps, cfg=cfg))
            if len(found) == n:
                break
    else:
        for scale in list(dict.fromkeys(_scales(s.weight_spread, n)))[:n]:
            found.append(replace(base, index=len(found), lora_scale=scale))
    return [replace(v, count=len(found)) for v in found]


def explain(variants: list[Variant], settings: VariationSettings) -> str:
    lines = [f"{len(variants)} variant(s) by {settings.strategy}; downstream nodes run once per variant."]
    if len(variants) < settings.count:
        lines.append(f"Asked for {settings.count}, but a spread of 0 leaves only {len(variants)} distinct.")
    lines += [f"- {v.describe()}" for v in variants]
    return "\n".join(lines)


# --- which variant a saved image is --------------------------------------------------------------

def _link(value: Any) -> tuple[str, int] | None:
    if isinstance(value, list) and len(value) == 2 and isinstance(value[1], int):
        return str(value[0]), value[1]
    return None


def _number(value: Any, kind: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return kind(value)


def settings_in_graph(node: dict[str, Any], graph: dict[str, Any], base: dict[str, Any]) -> VariationSettings | None:
    """The Variations node's inputs as the graph gives them; run-time values (linked) from `base`."""
    inputs = node.get("inputs", {})
    defaults = VariationSettings()

    def value(key: str, kind: type, fallback: Any) -> Any:
        if key not in inputs:
            return fallback
        found = _number(_literal(graph, inputs[key]), kind)
        return found if found is not None else _number(base.get(key), kind)

    strategy = _literal(graph, inputs.get("strategy", defaults.strategy))
    count = value("count", int, defaults.count)
    if not isinstance(strategy, str) or count is None:
        return None
    settings = VariationSettings(
        strategy=strategy, count=count,
        seed=value("seed", int, None), steps=value("steps", int, None), cfg=value("cfg", float, None),
        steps_spread=value("steps_spread", int, defaults.steps_spread),
        cfg_spread=value("cfg_spread", float, defaults.cfg_spread),
        weight_spread=value("weight_spread", float, defaults.weight_spread),
    )
    if None in (settings.steps_spread, settings.cfg_spread, settings.weight_spread) or settings.check():
        return None
    return settings


@dataclass(frozen=True)
class FoundVariant:
    node: str  # the Variations node's id in the graph
    variant: Variant
    applied: tuple[str, ...]  # which of OUTPUTS the sampler takes from it

    def to_dict(self) -> dict[str, Any]:
        return {**self.variant.to_dict(), "node": self.node, "applied": list(self.applied)}


def variations_feeding(graph: dict[str, Any] | None, output_node: str | None) -> tuple[str, tuple[str, ...]] | None:
    """The Variations node upstream of the saving node (the nearest; without an id, the lowest-numbered) and
    which of its OUTPUTS the samplers on the way take; None when there is none."""
    if not isinstance(graph, dict):
        return None
    ids = upstream(graph, str(output_node)) if output_node is not None and str(output_node) in graph else \
        sorted(graph, key=lambda k: (len(k), k))
    variations = [i for i in ids if isinstance(graph[i], dict) and graph[i].get("class_type") == NODE_CLASS]
    if not variations:
        return None
    node_id = variations[0]
    applied: set[str] = set()
    for sampler_id in ids:
        sampler = graph[sampler_id]
        if not isinstance(sampler, dict) or sampler.get("class_type") not in SAMPLER_CLASSES:
            continue
        for key, name in SAMPLER_INPUTS.items():
            link = _link(sampler.get("inputs", {}).get(key))
            if link and link[0] == node_id and link[1] == OUTPUTS.index(name):
                applied.add(name)
    return node_id, tuple(o for o in OUTPUTS if o in applied)


def variant_of(graph: dict[str, Any] | None, output_node: str | None, list_index: int | None,
               base: dict[str, Any] | None = None) -> FoundVariant | None:
    """Which variant the saving node's `list_index`-th call received; None when no Variations node feeds it
    or the graph does not tell.

    `list_index`: ComfyUI's index of the current call (`comfy_execution.utils.get_executing_context()
    .list_index`; None counts as 0). `base`: seed, steps and cfg for Variations inputs linked to nodes that
    compute them at run time (Auto Model Select's planned parameters).
    """
    feeding = variations_feeding(graph, output_node)
    if graph is None or feeding is None:
        return None
    node_id, applied = feeding
    settings = settings_in_graph(graph[node_id], graph, base or {})
    if settings is None:
        return None
    try:
        variants = expand(settings)
    except ValueError:  # a base value the strategy varies is neither in the graph nor in `base`
        return None
    index = list_index or 0
    if not 0 <= index < len(variants):
        return None  # another list upstream decides the index: it does not say which variant this is
    return FoundVariant(node_id, variants[index], applied)


def with_variant(record: dict[str, Any], graph: dict[str, Any] | None, output_node: str | None,
                 list_index: int | None, planned: dict[str, Any] | None = None) -> dict[str, Any]:
    """The record (from generation_record.build_record) with what this variant really used.

    Settings the sampler takes from the Variations node (seed, steps, cfg) are replaced by the
    variant's, LoRA weights are scaled when the sampler's model comes from it (a LoRA at weight 0
    was not applied and is left out), and `variant` says which one it is:
    {index, count, strategy, seed, steps, cfg, lora_scale, node, applied}. Unchanged when no
    Variations node feeds the saving node; a record that already has its variant stays as it is.

    `planned`: the generation info's "parameters" (what Auto Model Select recommended), for Variations
    inputs linked to it. Without it, the record's own settings stand in for those the sampler takes from
    Variations (build_record filled them from the plan, since the graph cannot tell them).
    """
    if "variant" in record:
        return record
    feeding = variations_feeding(graph, output_node)
    if feeding is None:
        return record
    settings = dict(record.get("settings") or {})
    base = planned if planned is not None else {k: settings.get(k) for k in feeding[1]}
    found = variant_of(graph, output_node, list_index, base)
    if found is None:
        return record
    v = found.variant
    for name in ("seed", "steps", "cfg"):
        value = getattr(v, name)
        if name in found.applied and value is not None:
            settings[name] = value
    loras = list(record.get("loras") or [])
    if "model" in found.applied:
        loras = [{**lo, "weight": v.lora_weight(float(lo["weight"]))} if isinstance(lo.get("weight"), (int, float))
                 else lo for lo in loras]
        loras = [lo for lo in loras if lo.get("weight") != 0]
    return {**record, "settings": settings, "loras": loras, "variant": found.to_dict()}
