from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from recognition.pipeline.regions import normalise_plate
from webapp.gates.models import AccessEntry, AuditAction, Decision, Gate
from webapp.gates.selectors import AuditFilters, PassageFilters, audit_actor_names


class AccessEntryForm(forms.ModelForm):
    class Meta:
        model = AccessEntry
        fields = ["plate", "valid_from", "valid_until", "days", "hour_from", "hour_until", "note"]
        widgets = {
            "valid_from": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "valid_until": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "hour_from": forms.TimeInput(attrs={"type": "time"}),
            "hour_until": forms.TimeInput(attrs={"type": "time"}),
        }
        labels = {
            "plate": _("Plate"),
            "valid_from": _("Valid from"),
            "valid_until": _("Valid until"),
            "days": _("Days"),
            "hour_from": _("Hour from"),
            "hour_until": _("Hour until"),
            "note": _("Note"),
        }
        help_texts = {
            "plate": _("Stored normalised (Latin, no spaces)."),
            "days": _("Weekdays as digits, Monday=0 (e.g. 01234); blank: all."),
            "hour_until": _("Exclusive; earlier than hour_from wraps past midnight."),
        }


class CsvImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"), help_text="plate,valid_from,valid_until,days,hour_from,hour_until,note"
    )


class VisitFilterForm(forms.Form):
    plate = forms.CharField(
        label=_("Plate"),
        required=False,
        max_length=32,
        help_text=_("Cyrillic or Latin, spaces allowed; B and 8, O and 0 match each other."),
    )
    since = forms.DateField(
        label=_("Since"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_plate(self) -> str:
        return normalise_plate(self.cleaned_data["plate"])[:16]


class AuditFilterForm(forms.Form):
    gate = forms.ModelChoiceField(
        queryset=Gate.objects.all(), required=False, label=_("Gate"), empty_label=_("Any gate")
    )
    action = forms.ChoiceField(
        required=False, choices=[("", _("Any action")), *AuditAction.choices], label=_("Action")
    )
    plate = forms.CharField(
        label=_("Plate"),
        required=False,
        max_length=32,
        help_text=_("Cyrillic or Latin, spaces allowed."),
    )
    who = forms.ChoiceField(required=False, label=_("Who"))
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data: object = None, **kwargs: object) -> None:
        super().__init__(data, **kwargs)
        names = [(name, name) for name in audit_actor_names()]
        self.fields["who"].choices = [("", _("Anyone")), *names]

    def clean_plate(self) -> str:
        return normalise_plate(self.cleaned_data["plate"])[:16]

    def filters(self) -> AuditFilters:
        if not self.is_valid():
            return AuditFilters()
        data = self.cleaned_data
        gate = data["gate"]
        return AuditFilters(
            gate_id=gate.pk if gate else None,
            action=data["action"] or "",
            plate=data["plate"],
            actor=data["who"] or "",
            date_from=data["since"],
            date_to=data["until"],
        )


class PassageFilterForm(forms.Form):
    plate = forms.CharField(
        label=_("Plate"),
        required=False,
        max_length=32,
        help_text=_("All of it or any part (the digits alone), Cyrillic or Latin."),
    )
    gate = forms.ModelChoiceField(
        queryset=Gate.objects.all(), required=False, label=_("Gate"), empty_label=_("Any gate")
    )
    decision = forms.ChoiceField(
        required=False, choices=[("", _("Any decision")), *Decision.choices], label=_("Decision")
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_plate(self) -> str:
        return normalise_plate(self.cleaned_data["plate"])[:16]

    def filters(self) -> PassageFilters:
        if not self.is_valid():
            return PassageFilters()
        data = self.cleaned_data
        gate = data["gate"]
        return PassageFilters(
            plate=data["plate"],
            gate_id=gate.pk if gate else None,
            decision=data["decision"] or "",
            date_from=data["since"],
            date_to=data["until"],
        )
