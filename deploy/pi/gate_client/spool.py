"""A bounded on-disk queue of frames the server has not received yet, oldest first.

Each frame is two files, `<seq>.jpg` and `<seq>.json` (its id and capture time), written to a
temporary name and renamed, so a power cut leaves either a whole entry or none. Over the bound
the oldest frames go first: a gate that has been offline for hours keeps its latest traffic.

A frame the server keeps failing on while it answers everything else is parked: moved to
`parked/` beside the queue (kept for the operator, at most `PARKED_MAX` frames) so that the
frames behind it are sent.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

PARKED_MAX = 100


@dataclass(frozen=True)
class Queued:
    seq: int
    frame_id: str
    captured_at: float
    name: str
    path: Path

    def jpeg(self) -> bytes:
        return self.path.read_bytes()


class Spool:
    def __init__(self, folder: Path, *, max_frames: int, max_bytes: int) -> None:
        self.folder = folder
        self.max_frames = max_frames
        self.max_bytes = max_bytes
        folder.mkdir(parents=True, exist_ok=True)
        self.dropped = 0
        self._park_leftovers()

    def _park_leftovers(self) -> None:
        """What a power cut mid-write leaves: a half-written temporary file (dropped: its
        complete twin was never renamed into place), or an image whose metadata was never
        written. Such an image cannot be sent (the server needs its frame id), so it is parked
        for the operator instead of lying in the queue's folder outside its bound for ever."""
        for tmp in self.folder.glob("*.tmp"):
            tmp.unlink(missing_ok=True)
        for image in self.folder.glob("*.jpg"):
            if not image.with_suffix(".json").exists():
                self._park_files(image.with_suffix(".json"), image, reason="no metadata")

    def _entries(self) -> list[Queued]:
        entries = []
        for meta in self.folder.glob("*.json"):
            try:
                info = json.loads(meta.read_text())
                entries.append(
                    Queued(
                        seq=int(meta.stem),
                        frame_id=str(info["frame_id"]),
                        captured_at=float(info["captured_at"]),
                        name=str(info.get("name", "")),
                        path=meta.with_suffix(".jpg"),
                    )
                )
                if not entries[-1].path.is_file():
                    raise FileNotFoundError(f"{entries.pop().path.name} is missing")
            except (ValueError, KeyError, OSError) as exc:
                # Parked, not skipped: skipped, it would stay first in the folder for ever.
                self._park_files(meta, meta.with_suffix(".jpg"), reason=f"unreadable: {exc}")
        return sorted(entries, key=lambda e: e.seq)

    def __len__(self) -> int:
        return len(self._entries())

    def oldest(self) -> Queued | None:
        entries = self._entries()
        return entries[0] if entries else None

    def after(self, entry: Queued) -> Queued | None:
        """The entry queued right behind `entry`, if any."""
        return next((e for e in self._entries() if e.seq > entry.seq), None)

    def put(self, *, jpeg: bytes, frame_id: str, captured_at: float, name: str) -> None:
        entries = self._entries()
        seq = entries[-1].seq + 1 if entries else 1
        image = self.folder / f"{seq:012d}.jpg"
        meta = image.with_suffix(".json")
        _write_atomic(image, jpeg)
        # The metadata last: an entry exists only once its image is complete.
        _write_atomic(
            meta,
            json.dumps({"frame_id": frame_id, "captured_at": captured_at, "name": name}).encode(),
        )
        self._enforce_bound()

    def park(self, entry: Queued) -> Path:
        """Move `entry` out of the queue into `parked/`. Returns the parked image's path."""
        return self._park_files(entry.path.with_suffix(".json"), entry.path, reason="parked")

    def _park_files(self, meta: Path, image: Path, *, reason: str) -> Path:
        """Move an entry's files, whichever exist, into `parked/` under a name in parking order
        (queue numbers restart once the queue empties). The metadata goes first: once it has
        left, the queue no longer holds the entry."""
        parked = self.folder / "parked"
        parked.mkdir(exist_ok=True)
        target = parked / f"{time.time_ns():020d}.jpg"
        if meta.exists():
            meta.replace(target.with_suffix(".json"))
        if image.exists():
            image.replace(target)
        logger.warning("queue entry %s %s: moved to %s", image.stem, reason, target)
        stems = sorted({path.stem for path in parked.iterdir() if path.suffix in (".jpg", ".json")})
        for stem in stems[:-PARKED_MAX]:
            (parked / f"{stem}.json").unlink(missing_ok=True)
            (parked / f"{stem}.jpg").unlink(missing_ok=True)
            logger.warning("more than %d parked frames: dropped %s", PARKED_MAX, stem)
        return target

    def remove(self, entry: Queued) -> None:
        entry.path.with_suffix(".json").unlink(missing_ok=True)
        entry.path.unlink(missing_ok=True)

    def _enforce_bound(self) -> None:
        entries = self._entries()
        total = sum(e.path.stat().st_size for e in entries if e.path.exists())
        while entries and (len(entries) > self.max_frames or total > self.max_bytes):
            oldest = entries.pop(0)
            total -= oldest.path.stat().st_size if oldest.path.exists() else 0
            self.remove(oldest)
            self.dropped += 1
            logger.warning("offline queue full: dropped frame %s", oldest.frame_id)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
