"""The facts layer: one row per case and per suspect, derived from the operational rows and the ledger.

Statistics never read the operational tables directly: a report over a million cases would otherwise
join cases to ten million ledger entries to find when each was filed, indicted or judged. Facts are
rebuilt for a case whenever its ledger head or version moves (``services.facts_refresh``), so a
figure is at most one refresh behind the case itself. Nothing here is typed in by hand, except the
population per town (``Population``), which comes from the statistics bureau.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.db import models

from xietong.cases.models import Case, Party
from xietong.orgs.models import Region, Unit


class Outcome(models.TextChoices):
    PENDING = "pending", "在办"
    CONVICTED = "convicted", "有罪判决"
    ACQUITTED = "acquitted", "无罪判决"
    NOT_PROSECUTED = "not_prosecuted", "不起诉"
    WITHDRAWN = "withdrawn", "撤销案件"


class CaseFact(models.Model):
    """What statistics need of one case, with every date the procedure reached (None until reached)."""

    case = models.OneToOneField(Case, primary_key=True, on_delete=models.CASCADE, related_name="fact")
    county = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    town = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    charge = models.CharField("罪名", max_length=100)
    stage = models.CharField("阶段", max_length=30)
    outcome = models.CharField("结果", max_length=20, choices=Outcome.choices)
    # 案发 and 立案; ``month`` is the first day of the month of 立案 (the month a case counts in).
    occurred_on = models.DateField("案发日期")
    occurred_hour = models.PositiveSmallIntegerField("案发时段")
    registered_on = models.DateField("立案日期")
    month = models.DateField("统计月份")
    arrested_on = models.DateField("批准逮捕", null=True)
    transferred_on = models.DateField("移送审查起诉", null=True)
    indicted_on = models.DateField("提起公诉", null=True)
    judged_on = models.DateField("一审宣判", null=True)
    concluded_on = models.DateField("办结", null=True)
    # Days from one step to the next (None until both are reached).
    days_investigation = models.FloatField("侦查用时（天）", null=True)
    days_review = models.FloatField("审查起诉用时（天）", null=True)
    days_trial = models.FloatField("审判用时（天）", null=True)
    days_total = models.FloatField("立案至办结（天）", null=True)
    supplementary_count = models.PositiveSmallIntegerField("退回补充侦查", default=0)
    remand_count = models.PositiveSmallIntegerField("发回重审", default=0)
    extension_count = models.PositiveSmallIntegerField("延长期限", default=0)
    overdue_count = models.PositiveSmallIntegerField("超期", default=0)
    defendants = models.PositiveSmallIntegerField("犯罪嫌疑人数", default=1)
    in_custody = models.BooleanField("羁押", default=False)
    plea = models.BooleanField("认罪认罚", default=False)
    amount_yuan = models.BigIntegerField("涉案金额（元）", null=True)
    penalty_kind = models.CharField("刑种", max_length=30, blank=True)
    penalty_months = models.PositiveIntegerField("刑期（月）", null=True)
    police_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    procuratorate_unit = models.ForeignKey(Unit, null=True, on_delete=models.PROTECT, related_name="+")
    court_unit = models.ForeignKey(Unit, null=True, on_delete=models.PROTECT, related_name="+")
    # Who took the deciding act of each agency (立案、起诉或不起诉、宣判), for 考评 per handler.
    police_handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    prosecutor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    judge = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the fact was derived from: a case whose ledger head or version differs is refreshed.
    ledger_seq = models.PositiveIntegerField()
    version = models.PositiveIntegerField()
    refreshed_at = models.DateTimeField()

    class Meta:
        verbose_name = "案件事实"
        verbose_name_plural = "案件事实"
        indexes = [
            models.Index(fields=["month", "county", "charge"], name="fact_month_county_charge"),
            models.Index(fields=["town", "month"], name="fact_town_month"),
            models.Index(fields=["charge", "month"], name="fact_charge_month"),
            models.Index(fields=["police_unit", "month"], name="fact_police_month"),
            models.Index(fields=["procuratorate_unit", "month"], name="fact_procu_month"),
            models.Index(fields=["court_unit", "month"], name="fact_court_month"),
        ]

    def __str__(self) -> str:
        return f"fact:{self.case_id}"


class PersonFact(models.Model):
    """One suspect of one case. ``person_key`` is the same for the same person across cases (a hash of
    the ID number, else of name and birth date), so repeat offenders are found without names."""

    party = models.OneToOneField(Party, primary_key=True, on_delete=models.CASCADE, related_name="fact")
    case = models.ForeignKey(CaseFact, on_delete=models.CASCADE, related_name="persons")
    person_key = models.CharField(max_length=32, db_index=True)
    gender = models.CharField("性别", max_length=2)
    age = models.PositiveSmallIntegerField("案发时年龄", null=True)
    charge = models.CharField("罪名", max_length=100)
    town = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    registered_on = models.DateField("立案日期")
    # True when the person key has more than one case anywhere in the city. A repeater within any
    # filter is one city-wide, so 相关性分析 looks only at these rows (a tenth of them) and still counts
    # exactly; ``services`` keeps it for the keys of every refreshed batch.
    repeat = models.BooleanField("多次涉案", default=False)

    class Meta:
        verbose_name = "人员事实"
        verbose_name_plural = "人员事实"
        indexes = [
            models.Index(
                fields=["person_key", "case"], condition=models.Q(repeat=True), name="personfact_repeaters"
            ),
        ]

    def __str__(self) -> str:
        return f"person:{self.party_id}"


class Population(models.Model):
    """常住人口 of a town or county in a year, for rates per 10,000 residents."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="populations")
    year = models.PositiveSmallIntegerField("年份")
    residents = models.PositiveIntegerField("常住人口")
    source = models.CharField("来源", max_length=200, blank=True)

    class Meta:
        verbose_name = "常住人口"
        verbose_name_plural = "常住人口"
        constraints = [models.UniqueConstraint(fields=["region", "year"], name="uniq_population_region_year")]

    def __str__(self) -> str:
        return f"{self.region_id}:{self.year}"


class SavedQuery(models.Model):
    """A 智能查询 kept by its owner, optionally shared with his unit."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_queries"
    )
    name = models.CharField("名称", max_length=60)
    params = models.JSONField("条件")
    shared = models.BooleanField("本单位共享", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "保存的查询"
        verbose_name_plural = "保存的查询"
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="uniq_saved_query_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def query_string(self) -> str:
        return urlencode(self.params)


class WarningStatus(models.TextChoices):
    OPEN = "open", "待研判"
    ACKNOWLEDGED = "acknowledged", "已研判"


class TrendWarning(models.Model):
    """风险预警: a town's (or county's) count of one charge in one month far above its expectation.

    ``evidence`` keeps what the judgement rested on (the baseline months and their counts, expected,
    threshold, p-value), so a leader sees why, not just that."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    charge = models.CharField("罪名", max_length=100)
    month = models.DateField("月份")
    observed = models.PositiveIntegerField("本月")
    expected = models.FloatField("预期")
    threshold = models.FloatField("预警上限")
    p_value = models.FloatField()
    reason = models.CharField("说明", max_length=300)
    evidence = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=WarningStatus.choices, default=WarningStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "风险预警"
        verbose_name_plural = "风险预警"
        ordering = ["-month", "p_value"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "charge", "month"], name="uniq_warning_region_charge_month"
            )
        ]

    def __str__(self) -> str:
        return f"{self.region_id}:{self.charge}:{self.month:%Y-%m}"
