from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from recognition import selectors, services
from recognition.engine_loader import engine_factory
from recognition.pipeline.types import EngineUnavailable

SHADOW_PHOTOS = 1000  # about 3 minutes on 2 CPU cores (4-5 photos/s), a few seconds on a GPU


class Command(BaseCommand):
    help = (
        "Read the latest photos with a candidate engine (weights in another models folder), in "
        "this process, without installing it: its readings are kept for the versions' "
        "comparison (/ops/models/compare/, manage.py compare_versions) and change nothing else "
        "(no photo's status or version, no cross-check, no webhook). Photos it read before are "
        "skipped, so a stopped run goes on where it stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--models", type=Path, required=True, help="The candidate's models folder."
        )
        parser.add_argument(
            "--photos", type=int, default=SHADOW_PHOTOS, help="The latest photos to read."
        )
        parser.add_argument(
            "--batch-size", type=int, default=settings.RECOGNITION_BATCH, help="Photos per call."
        )
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["photos"] < 1 or options["batch_size"] < 1:
            raise CommandError("--photos and --batch-size must be at least 1")
        try:
            engine = engine_factory(settings.PLATECHECK_ENGINE)(
                models_dir=options["models"], regions=settings.PLATECHECK_REGIONS
            )
        except EngineUnavailable as exc:
            raise CommandError(
                f"cannot load the candidate from {options['models']}: {exc}"
            ) from exc
        ids = selectors.photo_ids_shadow(engine_version=engine.version, limit=options["photos"])
        started, stored, unreadable = time.perf_counter(), 0, 0
        size = options["batch_size"]
        with tqdm(total=len(ids), unit="photo", disable=options["no_progress"]) as bar:
            for start in range(0, len(ids), size):
                loaded = []
                for photo_id in ids[start : start + size]:
                    try:
                        loaded.append((photo_id, services.photo_image_load(photo_id=photo_id)))
                    except Exception as exc:  # one bad file skips that photo, not the run
                        unreadable += 1
                        self.stderr.write(f"photo {photo_id} skipped: {exc}")
                results = engine.recognize_batch([image for _, image in loaded]) if loaded else []
                stored += services.photos_shadow_store(
                    engine_version=engine.version,
                    results=[
                        (photo_id, r) for (photo_id, _), r in zip(loaded, results, strict=True)
                    ],
                )
                bar.update(len(ids[start : start + size]))
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"{engine.version}: {stored} photos read in the shadow in {seconds:.1f} s "
            f"({stored / max(seconds, 1e-9):.1f} photos/s), {unreadable} unreadable; compare: "
            f"/ops/models/compare/?candidate={engine.version}"
        )
