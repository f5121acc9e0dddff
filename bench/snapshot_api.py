"""Latency of POST /api/v1/recognize/ with the real engine, for 1-megapixel photos on the CPU.

    python bench/snapshot_api.py [--requests 20] [--repeats 3] [--threads 2] [--megapixels 1.0]

Photos are the fixed synthetic angle set (a Ukrainian plate pasted into real val scenes, as
bench/recognition_throughput.py uses), resized to the given megapixels and sent as JPEG through
the endpoint's view (multipart parsing, validation, decoding, the engine, the answer; not the
web server). Prints p50/p95 per run and the median p95 of --repeats runs.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
# The demo's settings (no production key needed) with the product's real engine, no throttle.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
os.environ.setdefault("DEBUG", "1")
os.environ["PLATECHECK_ENGINE"] = "recognition.pipeline.engine:load_engine"
os.environ["API_RATE_RECOGNIZE"] = os.environ["API_RATE_TOKEN"] = "1000000/min"


def jpeg_photos(data: Path, count: int, megapixels: float) -> list[bytes]:
    from recognition.synth.angle_set import angle_set

    photos = []
    for sample in angle_set(data, per_bucket=max(1, count // 5 + 1), seed=11):
        image = Image.fromarray(sample.image)
        scale = (megapixels * 1e6 / (image.width * image.height)) ** 0.5
        image = image.resize((round(image.width * scale), round(image.height * scale)))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=90)
        photos.append(buffer.getvalue())
        if len(photos) == count:
            break
    return photos


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "datasets")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--megapixels", type=float, default=1.0)
    args = parser.parse_args()

    import django
    import torch

    torch.set_num_threads(args.threads)
    django.setup()
    from django.contrib.auth.models import User
    from django.core.files.uploadedfile import SimpleUploadedFile
    from rest_framework.test import APIRequestFactory, force_authenticate

    from recognition.engine_loader import get_engine
    from webapp.api.snapshot import Recognize

    view = Recognize.as_view()
    factory = APIRequestFactory()
    # An unsaved staff user: the endpoint reads no rows, so the bench needs no database.
    user = User(username="bench", is_staff=True)
    photos = jpeg_photos(args.data, args.requests, args.megapixels)
    size = Image.open(io.BytesIO(photos[0])).size
    engine = get_engine()

    def call(data: bytes) -> tuple[float, dict]:
        upload = SimpleUploadedFile("photo.jpg", data, content_type="image/jpeg")
        request = factory.post("/api/v1/recognize/", {"upload": upload}, format="multipart")
        force_authenticate(request, user=user)
        started = time.perf_counter()
        response = view(request)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.data
        return elapsed, response.data

    call(photos[0])  # warm-up: the first call allocates
    print(  # noqa: T201
        f"engine {engine.version}; {len(photos)} photos of {size[0]}x{size[1]} "
        f"({size[0] * size[1] / 1e6:.2f} MP); {args.threads} threads"
    )
    p95s = []
    for run in range(1, args.repeats + 1):
        times, found = [], 0
        for data in tqdm(photos, desc=f"run {run}", leave=False):
            elapsed, body = call(data)
            times.append(elapsed)
            found += bool(body["results"])
        p50, p95 = np.percentile(times, 50), np.percentile(times, 95)
        p95s.append(float(p95))
        print(  # noqa: T201
            f"run {run}: p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {max(times):.0f} ms; "
            f"plates found on {found}/{len(photos)} photos"
        )
    print(f"snapshot p95 (median of {args.repeats} runs): {statistics.median(p95s):.0f} ms")  # noqa: T201


if __name__ == "__main__":
    main()
