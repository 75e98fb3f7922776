"""The licence a site publishes for a model (CivitAI's flags, a Hugging Face card's licence), as plain data and
as one line for the user to read before downloading."""

from __future__ import annotations

from typing import Any

from ..library import model_records as records


def licence_text(licence: dict[str, Any]) -> str:
    parts = []
    if licence.get("license"):
        parts.append(str(licence["license"]))
    if "commercial_use" in licence:
        uses = licence["commercial_use"]
        parts.append("commercial use: " + (", ".join(uses) if uses else "none"))
    if "derivatives" in licence:
        parts.append("derivatives " + ("allowed" if licence["derivatives"] else "not allowed"))
    if "credit_required" in licence:
        parts.append("credit " + ("required" if licence["credit_required"] else "not required"))
    return "; ".join(parts) or "not stated"


def civitai_licence(model: dict[str, Any] | None) -> dict[str, Any]:
    """CivitAI's licence flags, as plain data."""
    if not model:
        return {}
    out: dict[str, Any] = {}
    uses = model.get("allowCommercialUse")
    if isinstance(uses, str):
        uses = [uses]
    if isinstance(uses, list):
        out["commercial_use"] = [records.clean_text(u, 30) for u in uses if records.clean_text(u, 30)
                                 and str(u).lower() != "none"]
    if isinstance(model.get("allowDerivatives"), bool):
        out["derivatives"] = model["allowDerivatives"]
    if isinstance(model.get("allowNoCredit"), bool):
        out["credit_required"] = not model["allowNoCredit"]
    return out


def hf_licence(info: dict[str, Any]) -> dict[str, Any]:
    card = info.get("cardData") if isinstance(info.get("cardData"), dict) else {}
    value = card.get("license") if isinstance(card, dict) else None
    if not isinstance(value, str):
        tags: list[Any] = info["tags"] if isinstance(info.get("tags"), list) else []
        value = next((t[8:] for t in tags if isinstance(t, str) and t.startswith("license:")), None)
    text = records.clean_text(value, 60)
    return {"license": text} if text else {}
