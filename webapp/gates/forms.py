from __future__ import annotations

from django import forms

from webapp.gates.models import AccessEntry


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


class CsvImportForm(forms.Form):
    file = forms.FileField(help_text="plate,valid_from,valid_until,days,hour_from,hour_until,note")
