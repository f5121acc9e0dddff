"""Step 1 of the plate-search benchmark: what the real engine reads on the benchmark's photos.

Reads the real val photos of ``openalpr_endtoend`` and the synthetic val photos (the angle set
of ``recognition.evaluation.endtoend``) with the shipped engine on the CPU and caches, per photo,
the true text and every plate the engine read (text, confidence, alternatives; each photo read
with its dataset's plate regions, as `evaluation e2e` reads it) in
``bench/out/plate_search_readings.json`` (git-ignored). Reading is slow on a CPU, so the cache is
written after every photo and a re-run only reads the photos still missing, or read by another
engine (its code, format rules and weights: `engine_fingerprint`).

    .venv/bin/python bench/plate_search_read.py [--limit N] [--per-bucket 10]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tqdm import tqdm  # noqa: E402

CACHE = Path(__file__).resolve().parent / "out" / "plate_search_readings.json"
ROOT = Path(__file__).resolve().parents[1]


def engine_fingerprint() -> str:
    """What the readings depend on: the pipeline's code (format rules included) and the
    models' manifests (which pin the weights by sha256). A cached reading made by another
    engine is read again."""
    digest = hashlib.sha256()
    files = sorted((ROOT / "recognition" / "pipeline").rglob("*.py"))
    files += sorted((ROOT / "models").glob("*/manifest.json"))
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _cases(data: Path, limit_real: int | None, per_bucket: int):
    """(key, case, texts of every labelled plate in the photo).

    A synthetic photo is a rendered plate pasted on a real val scene, whose own plates stay
    visible: they count as shown in that photo too, so a search for them may rightly find it.
    """
    from recognition import datasets
    from recognition.evaluation.endtoend import real_cases, synthetic_cases

    for i, case in enumerate(real_cases(data, limit_real)):
        yield f"real/{i}", case, [case.text]
    texts = {r.path: [t for t in r.texts if t] for r in datasets.load_records(data, "val")}
    scenes: list[Path] = []
    original = datasets.read_rgb

    def recording(path, *args, **kwargs):
        scenes.append(Path(path))
        return original(path, *args, **kwargs)

    datasets.read_rgb = recording
    try:
        for i, case in enumerate(synthetic_cases(data, per_bucket)):
            yield f"synthetic/{i}", case, [case.text, *texts.get(scenes[-1], [])]
    finally:
        datasets.read_rgb = original


def _plates(result) -> list[dict[str, object]]:
    return [
        {
            "text": p.text,
            "confidence": float(p.confidence),
            "alternatives": [{"text": a.text, "score": float(a.score)} for a in p.alternatives],
        }
        for p in result.plates
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--limit", type=int, default=None, help="first N real val photos only")
    parser.add_argument("--per-bucket", type=int, default=10)
    args = parser.parse_args()

    import torch

    from recognition.pipeline.engine import load_engine

    torch.set_num_threads(1)
    cache = json.loads(CACHE.read_text()) if CACHE.exists() else {}
    # Each photo is read with its own plate regions, as `recognition.evaluation e2e` reads them:
    # the openalpr US and Brazilian photos as a deployment in those countries would.
    engines: dict[str, object] = {}
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    fingerprint = engine_fingerprint()
    for key, case, shown in tqdm(list(_cases(args.data, args.limit, args.per_bucket))):
        entry = cache.get(key, {})
        if entry.get("engine") != fingerprint:
            entry = {}
        if (
            entry.get("truth") == case.text
            and entry.get("plates_shown") == shown
            and entry.get("regions") == case.regions
        ):
            continue
        if entry.get("truth") == case.text and entry.get("regions") == case.regions:
            entry["plates_shown"] = shown  # read before the scene's plates were recorded
            continue
        if case.regions not in engines:
            engines[case.regions] = load_engine(regions=case.regions)
        result = engines[case.regions].recognize_batch([case.image])[0]  # type: ignore[attr-defined]
        cache[key] = {
            "engine": fingerprint,
            "truth": case.text,
            "plates_shown": shown,
            "group": case.group,
            "regions": case.regions,
            "plates": _plates(result),
        }
        CACHE.write_text(json.dumps(cache, indent=1))
    CACHE.write_text(json.dumps(cache, indent=1))
    sys.stdout.write(f"{len(cache)} photos cached in {CACHE}\n")


if __name__ == "__main__":
    main()
