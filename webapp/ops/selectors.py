"""Reads for the model-versions page: the manifests and cards in ``models/`` and what each
engine version has read."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Max, Min

from recognition.models import Reading
from webapp.ops.health import installed_engine_version

logger = logging.getLogger(__name__)

CARD_MAX_CHARS = 20_000


@dataclass(frozen=True)
class Component:
    name: str  # the folder under models/
    version: str
    sha256: str
    file: str
    installed_at: dt.datetime | None
    metrics: list[tuple[str, str]]  # the manifest's validation figures
    card: str  # MODEL_CARD.md as written
    error: str = ""


@dataclass(frozen=True)
class VersionRow:
    version: str
    photos: int
    readings: int
    first_read: dt.datetime | None
    last_read: dt.datetime | None
    deployed: bool


@dataclass
class ModelVersionsPage:
    deployed: str
    components: list[Component] = field(default_factory=list)
    versions: list[VersionRow] = field(default_factory=list)


def _figure(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _metrics(manifest: dict) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for section in ("val", "metrics", "eval"):
        block = manifest.get(section)
        if isinstance(block, dict):
            for key, value in block.items():
                if isinstance(value, int | float | str) and not isinstance(value, bool):
                    out.append((f"{section}.{key}" if section != "val" else key, _figure(value)))
    return out


def _component(folder: Path) -> Component:
    manifest_path = folder / "manifest.json"
    card_path = folder / "MODEL_CARD.md"
    card = card_path.read_text(errors="replace")[:CARD_MAX_CHARS] if card_path.exists() else ""
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        return Component(folder.name, "", "", "", None, [], card, error=str(exc))
    weights = folder / str(manifest.get("file", ""))
    stamp = (weights if weights.is_file() else manifest_path).stat().st_mtime
    return Component(
        name=folder.name,
        version=str(manifest.get("version", "")),
        sha256=str(manifest.get("sha256", ""))[:16],
        file=str(manifest.get("file", "")),
        installed_at=dt.datetime.fromtimestamp(stamp, tz=dt.UTC),
        metrics=_metrics(manifest),
        card=card,
    )


def model_versions() -> ModelVersionsPage:
    folder = Path(settings.PLATECHECK_MODELS_DIR)
    try:
        deployed = installed_engine_version()
    except (OSError, ValueError, KeyError) as exc:
        deployed = f"unknown ({exc})"
    page = ModelVersionsPage(deployed=deployed)
    if folder.is_dir():
        page.components = [
            _component(p) for p in sorted(folder.iterdir()) if (p / "manifest.json").exists()
        ]
    rows = (
        Reading.objects.filter(source=Reading.Source.ENGINE)
        .values("model_version")
        .annotate(
            photos=Count("photo_id", distinct=True),
            readings=Count("*"),
            first=Min("created_at"),
            last=Max("created_at"),
        )
        .order_by("-last")
    )
    page.versions = [
        VersionRow(
            version=r["model_version"],
            photos=r["photos"],
            readings=r["readings"],
            first_read=r["first"],
            last_read=r["last"],
            # the engine's version is the detector's + the reader's, maybe with a peer suffix
            deployed=r["model_version"].startswith(deployed),
        )
        for r in rows
    ]
    return page
