"""Ukrainian trailer plate: the car plate's `AA 1234 XB` layout, with the series issued from the
end of the alphabet (XX, XT, XP, ...; uamotors.com.ua/news/56311), so it starts with `X`.

Overlap: the text is also a valid car plate (`ua_2015`/`ua_2004`). The register key is the same
either way, so the resolver ranks the car formats first (trailer prior below theirs) and a
trailer is reported as the car format its band shows; this format exists so the renderer and
the rules agree on the trailer series.
"""

from __future__ import annotations

from collections.abc import Sequence

from recognition.pipeline.regions.rules import CharProbs, Fitted, PlateFormat
from recognition.pipeline.regions.ukraine import UA_LETTERS, UA_PATTERN, refine_prefix

TRAILER_SERIES_LETTER = "X"


def refine_trailer(fitted: Fitted, probs: Sequence[CharProbs]) -> Fitted | None:
    if fitted.text[6] != TRAILER_SERIES_LETTER:
        return None
    return refine_prefix(fitted, probs)


FORMAT = PlateFormat(
    code="ua_trailer",
    patterns=(UA_PATTERN,),
    letters=UA_LETTERS,
    refine=refine_trailer,
    region="ua",
)
