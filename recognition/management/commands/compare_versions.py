from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from recognition.version_compare import (
    COMPARE_PHOTOS,
    HumanScore,
    VersionComparison,
    versions_compare,
    versions_pair,
    versions_read,
)


class Command(BaseCommand):
    help = (
        "Compare two engine versions on the photos both read (a nightly re-read keeps the "
        "readings of the version it replaces): plates reported alike, read otherwise, lost and "
        "gained, and the plates moderators typed in that each read. Without versions: the "
        "latest to read against the one before it. The page: /ops/models/compare/."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("base", nargs="?", help="The version in use.")
        parser.add_argument("candidate", nargs="?", help="The version to compare with it.")
        parser.add_argument(
            "--photos", type=int, default=COMPARE_PHOTOS, help="The latest photos both read."
        )
        parser.add_argument("--show", type=int, default=20, help="Plates that differ listed.")
        parser.add_argument("--json", action="store_true", help="Print the comparison as JSON.")
        gate = parser.add_argument_group(
            "rollout gate", "exit with status 1 when the candidate does worse (for a deploy script)"
        )
        gate.add_argument(
            "--max-lost",
            type=float,
            help="Most plates only the base reported, a share of its plates.",
        )
        gate.add_argument(
            "--max-changed", type=float, help="Most plates read otherwise, a share of the base's."
        )
        gate.add_argument(
            "--no-worse-on-moderators",
            action="store_true",
            help="Fail when the candidate reads fewer of the plates moderators typed in.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        base, candidate = options["base"], options["candidate"]
        if (base is None) != (candidate is None):
            raise CommandError("give both versions, or neither")
        if options["photos"] < 1:
            raise CommandError("--photos must be at least 1")
        versions = [v.version for v in versions_read()]
        if base is None:
            if len(versions) < 2:
                raise CommandError("fewer than two engine versions have read photos")
            base, candidate = versions_pair(versions)
        unknown = [v for v in (base, candidate) if v not in versions]
        if unknown:
            raise CommandError(f"no photo read by {', '.join(unknown)}; versions: {versions}")
        comparison = versions_compare(
            base=base, candidate=candidate, photos=options["photos"], shown=options["show"]
        )
        if options["json"]:
            self.stdout.write(json.dumps(asdict(comparison), indent=2))
        else:
            self._print(comparison)
        failures = _regressions(comparison, options)
        if failures:
            raise CommandError("the candidate does worse: " + "; ".join(failures))

    def _print(self, c: VersionComparison) -> None:
        lines = [
            f"{c.base} -> {c.candidate}: {c.photos} photos compared (latest of {c.photos_both})",
            f"  photos with the same plates  {c.identical}",
            f"  plates reported alike        {c.same}",
            f"  read otherwise (same place)  {c.changed}",
            f"  only the base reported       {c.lost}",
            f"  only the candidate reported  {c.gained}",
            f"  moderators' plates read as typed: {_human(c.base_human)}, "
            f"{_human(c.candidate_human)}",
        ]
        for ch in c.changes:
            before = f"{ch.base.text} ({ch.base.confidence:.2f})" if ch.base else "-"
            after = f"{ch.candidate.text} ({ch.candidate.confidence:.2f})" if ch.candidate else "-"
            lines.append(f"  photo {ch.photo_id:>8}  {ch.kind:<8} {before:>22} -> {after}")
        self.stdout.write("\n".join(lines))


def _human(score: HumanScore) -> str:
    rate = f" = {score.rate:.3f}" if score.rate is not None else ""
    return f"{score.version} {score.read_right}/{score.plates}{rate}"


def _regressions(c: VersionComparison, options: dict[str, Any]) -> list[str]:
    """What the rollout gate's options refuse in `c`."""
    failures = []
    for option, count, what in (
        ("max_lost", c.lost, "reported only by the base"),
        ("max_changed", c.changed, "read otherwise"),
    ):
        limit = options.get(option)
        if limit is not None and c.share(count) > limit:
            failures.append(f"{c.share(count):.3f} of the base's plates {what} (at most {limit})")
    base, candidate = c.base_human, c.candidate_human
    if options.get("no_worse_on_moderators") and candidate.read_right < base.read_right:
        failures.append(
            f"{candidate.read_right} of the {base.plates} plates moderators typed in read as "
            f"typed, against the base's {base.read_right}"
        )
    return failures
