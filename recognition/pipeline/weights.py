"""Weights files and their manifests: sha256, version and input size, checked at load."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from recognition.pipeline.types import EngineUnavailable, WeightsRejected

MANIFEST = "manifest.json"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(
    weights: Path, *, version: str, input_size: list[int], extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    manifest = {
        "file": weights.name,
        "sha256": sha256_file(weights),
        "version": version,
        "input_size": input_size,
        **(extra or {}),
    }
    (weights.parent / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def read_verified(folder: Path) -> tuple[Path, dict[str, Any]]:
    """The weights file named by `folder/manifest.json`, after checking its sha256."""
    manifest_path = folder / MANIFEST
    if not manifest_path.exists():
        raise EngineUnavailable(
            f"engine unavailable: no trained weights in {folder} (missing {MANIFEST})"
        )
    try:
        manifest = json.loads(manifest_path.read_text())
        weights = folder / manifest["file"]
        expected = manifest["sha256"]
    except (ValueError, KeyError) as exc:
        raise WeightsRejected(f"weights manifest {manifest_path} is unreadable: {exc}") from exc
    if not weights.exists():
        raise EngineUnavailable(
            f"engine unavailable: {weights} named by {manifest_path} is missing"
        )
    actual = sha256_file(weights)
    if actual != expected:
        raise WeightsRejected(
            f"weights {weights} rejected: sha256 {actual[:12]}… does not match the manifest's "
            f"{expected[:12]}… (file corrupt or replaced; re-export it with its manifest)"
        )
    return weights, manifest
