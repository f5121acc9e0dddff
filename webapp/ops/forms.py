"""The operators' forms: which two engine versions to compare."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from recognition.version_compare import VersionRead, versions_pair


class CompareForm(forms.Form):
    """Two versions that read photos. A version left out is the latest to read (the candidate)
    and the latest other one (the base): by default a nightly re-read, or a shadow read, against
    the version it would replace."""

    base = forms.ChoiceField(label=_("Base version"), required=False)
    candidate = forms.ChoiceField(label=_("Candidate version"), required=False)

    def __init__(self, *args: Any, versions: list[VersionRead], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.versions = [v.version for v in versions]
        choices = [("", "—"), *((v.version, f"{v.version} ({v.photos})") for v in versions)]
        for name in ("base", "candidate"):
            self.fields[name].choices = choices

    def clean(self) -> dict[str, Any]:
        """Needs two versions that read photos (the view asks only then)."""
        data = super().clean() or {}
        base, candidate = versions_pair(
            self.versions, base=data.get("base"), candidate=data.get("candidate")
        )
        if base == candidate:
            raise forms.ValidationError(_("Pick two different versions."))
        data.update(base=base, candidate=candidate)
        return data
