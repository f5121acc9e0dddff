from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from recognition import dispatch, selectors
from recognition.engine_loader import get_engine
from recognition.models import BacklogRun
from recognition.pipeline.types import EngineUnavailable

POLL_S = 2.0


class Command(BaseCommand):
    help = (
        "Queue every photo the engine version has not read (the nightly backlog), in "
        "RECOGNITION_BATCH messages on the backlog queue. Safe to re-run: queued, leased and "
        "read photos are not queued again, so a killed run resumes where it stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, help="Queue at most this many photos.")
        parser.add_argument(
            "--model-version",
            help="Engine version to read with (default: load the installed engine and ask it).",
        )
        parser.add_argument(
            "--follow",
            action="store_true",
            help="Then show count, rate and ETA until the workers have read every queued photo.",
        )
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bars.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["limit"] is not None and options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        version = options["model_version"] or self._installed_version()
        progress = not options["no_progress"]
        run = dispatch.backlog_enqueue(
            engine_version=version, limit=options["limit"], progress=progress
        )
        self.stdout.write(f"backlog run {run.pk}: {run.enqueued} of {run.total} photos queued")
        if options["follow"] and run.total:
            self._follow(run, progress=progress)

    @staticmethod
    def _installed_version() -> str:
        try:
            return get_engine().version
        except EngineUnavailable as exc:
            raise CommandError(f"no engine to read with ({exc}); pass --model-version") from exc

    def _follow(self, run: BacklogRun, *, progress: bool) -> None:
        with tqdm(total=run.total, unit="photo", desc="read", disable=not progress) as bar:
            while True:
                state = selectors.backlog_progress(run=run)
                bar.update(state.finished - bar.n)
                bar.set_postfix(failed=state.failed)
                if state.remaining == 0:
                    break
                time.sleep(POLL_S)
        BacklogRun.objects.filter(pk=run.pk).update(status=BacklogRun.Status.DONE)
        self.stdout.write(f"backlog run {run.pk}: {state.done} read, {state.failed} failed")
