from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from recognition.corrections import corrections_summary
from recognition.corrections_export import VAL_SHARE, CorrectionsExportError, corrections_export


def _day(text: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--since takes a day as YYYY-MM-DD, not {text!r}") from exc
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class Command(BaseCommand):
    help = (
        "Write the plates moderators corrected as reader training crops: each cut from its photo "
        "as the engine cut it, labelled with what the moderator typed, in OUT/train and OUT/val "
        "(by listing) in the detected-crops format that recognition.training.reader.train takes "
        "(--detected-crops OUT/train --detected-val OUT/val). Prints how each engine version's "
        "readings were corrected (the page: /ops/models/corrections/)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, required=True, help="The folder to write.")
        parser.add_argument(
            "--since", type=_day, help="Only corrections typed on this day or later."
        )
        parser.add_argument(
            "--val-share",
            type=float,
            default=VAL_SHARE,
            help=f"The share of listings kept for measuring (default {VAL_SHARE}).",
        )
        parser.add_argument("--replace", action="store_true", help="Replace an earlier export.")
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(items: Any, total: int) -> Any:
            return tqdm(items, total=total, unit="plate", disable=options["no_progress"])

        try:
            report = corrections_export(
                out=options["out"],
                since=options["since"],
                val_share=options["val_share"],
                replace=options["replace"],
                progress=progress,
            )
        except CorrectionsExportError as exc:
            raise CommandError(str(exc)) from exc
        write = self.stdout.write
        write(
            f"{report.corrections} corrected plates: "
            f"train {report.plates['train']} plates ({report.crops['train']} crops), "
            f"val {report.plates['val']} plates ({report.crops['val']} crops) -> {report.out}"
        )
        for reason, count in sorted(report.skipped.items()):
            write(f"  left out, {reason}: {count}")
        for v in corrections_summary(shown=0).versions:
            subs = ", ".join(f"{a}->{b} {n}" for a, b, n in v.top_substitutions(5)) or "none"
            kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(v.kinds.items()))
            write(
                f"{v.version or '(no engine version)'}: {v.corrections} corrections ({kinds}); "
                f"characters read otherwise: {subs}; left out {v.missed}, added {v.added}; "
                f"plates typed where it reported none: {v.unreported}"
            )
        out = report.out
        write(
            "train a reader on them: python -m recognition.training.reader.train "
            f"--detected-crops runs/ocr_detcrops {out / 'train'} --detected-val {out / 'val'} ..."
        )
