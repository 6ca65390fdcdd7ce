"""Forms for the web pages. They only parse; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import QuerySet

from xietong.cases.models import Case
from xietong.cases.procedure import PENALTY_LABELS, Action, Custody
from xietong.cases.services import PartyInput, RegisterInput
from xietong.orgs.models import Region


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码错误。连续多次错误后账号将被暂时锁定。",
        "inactive": "该账号已停用。",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "用户名"
        self.fields["password"].label = "密码"


class RegisterForm(forms.Form):
    charge = forms.CharField(label="涉嫌罪名", max_length=100)
    town = forms.ModelChoiceField(label="案发镇（街道）", queryset=Region.objects.none())
    place = forms.CharField(label="案发地点", max_length=200, required=False)
    occurred_at = forms.DateTimeField(
        label="案发时间",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    facts = forms.CharField(label="简要案情", widget=forms.Textarea(attrs={"rows": 5}))
    suspect_name = forms.CharField(label="犯罪嫌疑人姓名", max_length=50)
    suspect_gender = forms.ChoiceField(label="性别", choices=[("男", "男"), ("女", "女")])
    suspect_id_number = forms.CharField(label="身份证号", max_length=18, required=False)
    suspect_address = forms.CharField(
        label="住址（居住地）",
        max_length=200,
        required=False,
        help_text="判处管制、缓刑的，据此确定执行地社区矫正机构（社区矫正法第17条）",
        widget=forms.TextInput(attrs={"placeholder": "江苏省苏州市姑苏区平江街道……"}),
    )
    more_suspects = forms.CharField(
        label="其他犯罪嫌疑人（每行一人：姓名,性别）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    plea = forms.BooleanField(label="认罪认罚", required=False)
    claimed_date = forms.DateField(
        label="文书落款日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, towns: QuerySet[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        town_field = self.fields["town"]
        if not isinstance(town_field, forms.ModelChoiceField):
            raise TypeError("town must be a ModelChoiceField")
        town_field.queryset = towns
        town_field.label_from_instance = _town_label  # type: ignore[method-assign,assignment]

    def clean_more_suspects(self) -> list[PartyInput]:
        out = []
        for number, line in enumerate(self.cleaned_data.get("more_suspects", "").splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.replace("，", ",").split(",")]
            if len(parts) < 2 or parts[1] not in {"男", "女"}:
                raise forms.ValidationError(f"第{number}行格式应为「姓名,性别」，性别填男或女")
            out.append(PartyInput(name=parts[0], gender=parts[1]))
        return out

    def to_input(self) -> RegisterInput:
        data = self.cleaned_data
        first = PartyInput(
            name=data["suspect_name"],
            gender=data["suspect_gender"],
            id_number=data["suspect_id_number"],
            address=data["suspect_address"].strip(),
        )
        return RegisterInput(
            charge=data["charge"],
            facts=data["facts"],
            occurred_at=data["occurred_at"],
            town_id=data["town"].pk,
            place=data["place"],
            plea=data["plea"],
            parties=[first, *data["more_suspects"]],
        )


def _town_label(region: Region) -> str:
    return f"{region.parent.name if region.parent else ''} {region.name}"


class ActForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    claimed_date = forms.DateField(
        label="文书落款日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, spec: Action, case: Case, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"version": case.version})
        super().__init__(*args, **kwargs)
        self.spec = spec
        if spec.per_party:
            allowed = [
                p
                for p in case.parties.all()
                if not spec.custody_from or Custody(p.custody) in spec.custody_from
            ]
            self.fields["parties"] = forms.MultipleChoiceField(
                label="犯罪嫌疑人",
                choices=[(str(p.pk), f"{p.name}（{p.get_custody_display()}）") for p in allowed],
                widget=forms.CheckboxSelectMultiple,
                initial=[str(p.pk) for p in allowed],
            )
        if spec.needs_reason:
            self.fields["reason"] = forms.CharField(label="理由", widget=forms.Textarea(attrs={"rows": 3}))
        if not spec.instrument:
            del self.fields["claimed_date"]
        if "verdict" in spec.options:
            self.fields["guilty"] = forms.TypedChoiceField(
                label="裁判结果",
                choices=[("1", "有罪"), ("0", "无罪")],
                coerce=lambda v: v == "1",
                initial="1",
            )
            self.fields["penalty"] = forms.ChoiceField(
                label="主刑", choices=list(PENALTY_LABELS.items()), initial="fixed_term"
            )
            self.fields["months"] = forms.IntegerField(
                label="刑期（月）", min_value=0, max_value=300, initial=12
            )
            self.fields["probation_months"] = forms.IntegerField(
                label="缓刑考验期（月，0为不适用缓刑）", min_value=0, max_value=60, initial=0
            )
            self.fields["prohibitions"] = forms.CharField(
                label="禁止令（管制、缓刑适用，可空）",
                required=False,
                max_length=500,
                widget=forms.TextInput(attrs={"placeholder": "如：禁止进入夜总会、酒吧、网吧等娱乐场所"}),
            )

    def party_ids(self) -> list[int] | None:
        if "parties" not in self.cleaned_data:
            return None
        return [int(p) for p in self.cleaned_data["parties"]]

    def options(self) -> dict[str, Any]:
        if "verdict" not in self.spec.options:
            return {}
        data = self.cleaned_data
        return {
            "verdict": {
                "guilty": data["guilty"],
                "penalty": data["penalty"],
                "months": data["months"],
                "probation_months": data["probation_months"],
                "prohibitions": data.get("prohibitions", ""),
            }
        }
