"""The operators' forms: which two engine versions to compare."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from recognition.version_compare import VersionRead


class CompareForm(forms.Form):
    """Two versions that read photos; without a choice, the latest to read against the one
    before it (a nightly re-read against the model it replaced)."""

    base = forms.ChoiceField(label=_("Base version"))
    candidate = forms.ChoiceField(label=_("Candidate version"))

    def __init__(self, *args: Any, versions: list[VersionRead], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(v.version, f"{v.version} ({v.photos})") for v in versions]
        for name in ("base", "candidate"):
            self.fields[name].choices = choices
        if len(versions) >= 2:
            self.fields["candidate"].initial = versions[0].version
            self.fields["base"].initial = versions[1].version

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("base") and data.get("base") == data.get("candidate"):
            raise forms.ValidationError(_("Pick two different versions."))
        return data
