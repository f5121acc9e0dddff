from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from webapp.checks.models import Flag
from webapp.review.models import AuditEntry
from webapp.review.selectors import QueueFilters
from webapp.review.selectors.audit import AuditFilters, moderator_choices
from webapp.review.selectors.queue import SORTS
from webapp.review.services import BULK_MAX_FLAGS, PLATE_MAX_LENGTH, REASON_MAX_LENGTH

SORT_CHOICES = [("", _("Default"))] + [
    (f"{sign}{name}", name) for name in SORTS for sign in ("", "-")
]
STATUS_CHOICES = [("", _("Any status")), *Flag.Status.choices]
KIND_CHOICES = [("", _("Any kind")), *Flag.Kind.choices]
SEVERITY_CHOICES = [
    ("", _("Any severity")),
    *((str(v), label) for v, label in Flag.Severity.choices),
]


def _date_field(label: str) -> forms.DateField:
    """An optional date, picked with the browser's date input."""
    return forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label=label
    )


class QueueFilterForm(forms.Form):
    plate = forms.CharField(required=False, max_length=32, label=_("Plate"))
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES, label=_("Status"))
    kind = forms.ChoiceField(required=False, choices=KIND_CHOICES, label=_("Kind"))
    severity = forms.TypedChoiceField(
        required=False,
        choices=SEVERITY_CHOICES,
        coerce=int,
        empty_value=None,
        label=_("Severity"),
    )
    plate_format = forms.CharField(required=False, max_length=16, label=_("Format"))
    date_from = _date_field(_("From"))
    date_to = _date_field(_("To"))
    edited = forms.BooleanField(required=False, label=_("Edited after the flag"))
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES, widget=forms.HiddenInput)

    def __init__(self, data: object = None, **kwargs: object) -> None:
        # A fresh visit (no query string) shows the open flags.
        if data is not None and not data:
            data = {"status": Flag.Status.OPEN}
        super().__init__(data, **kwargs)

    def filters(self) -> QueueFilters:
        if not self.is_valid():
            return QueueFilters()
        d = self.cleaned_data
        return QueueFilters(
            status=d["status"] or "",
            kind=d["kind"] or "",
            severity=d["severity"],
            plate_format=d["plate_format"].strip(),
            date_from=d["date_from"],
            date_to=d["date_to"],
            plate=d["plate"].strip(),
            edited=d["edited"],
            sort=d["sort"] or "",
        )


class DecisionForm(forms.Form):
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    reason = forms.CharField(required=False, max_length=REASON_MAX_LENGTH)


class CorrectPlateForm(forms.Form):
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    photo_id = forms.IntegerField(min_value=1)
    base_reading_id = forms.IntegerField(required=False, min_value=1)
    plate_text = forms.CharField(max_length=PLATE_MAX_LENGTH + 8)


class BulkForm(forms.Form):
    decision = forms.ChoiceField(choices=[("confirm", _("Confirm")), ("dismiss", _("Dismiss"))])
    reason = forms.CharField(required=False, max_length=REASON_MAX_LENGTH)
    # "page": the ticked rows; "filter": every flag the queue's filters match (confirmed first).
    scope = forms.ChoiceField(
        required=False, choices=[("page", _("Ticked rows")), ("filter", _("Every matching flag"))]
    )
    # The count the moderator was shown and agreed to; the decision runs only if it still holds.
    confirm_total = forms.IntegerField(required=False, min_value=0)

    def pairs(self, data: object) -> list[tuple[int, int]]:
        """The checked ``flag`` ids with the ``version_<id>`` each row carried."""
        out: list[tuple[int, int]] = []
        for raw in data.getlist("flag")[: BULK_MAX_FLAGS + 1]:  # type: ignore[attr-defined]
            try:
                flag_id = int(raw)
                version = int(data.get(f"version_{flag_id}", ""))  # type: ignore[attr-defined]
            except ValueError:
                continue
            out.append((flag_id, version))
        return out


class AuditFilterForm(forms.Form):
    moderator = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label=_("Moderator")
    )
    action = forms.ChoiceField(
        required=False,
        choices=[("", _("Any action")), *AuditEntry.Action.choices],
        label=_("Action"),
    )
    date_from = _date_field(_("From"))
    date_to = _date_field(_("To"))

    def __init__(self, data: object = None, **kwargs: object) -> None:
        super().__init__(data, **kwargs)
        self.fields["moderator"].choices = [("", _("Any moderator")), *moderator_choices()]

    def filters(self) -> AuditFilters:
        if not self.is_valid():
            return AuditFilters()
        d = self.cleaned_data
        return AuditFilters(
            user_id=d["moderator"],
            action=d["action"] or "",
            date_from=d["date_from"],
            date_to=d["date_to"],
        )


class PlateSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=40, label=_("Plate"))
