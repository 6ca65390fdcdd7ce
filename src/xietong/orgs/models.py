"""Units (市/区县/所 tree, agency type), regions, people and their duties (F1, F19)."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser
from django.db import models


class Agency(models.TextChoices):
    POLICE = "police", "公安"
    PROCURATORATE = "procuratorate", "检察院"
    COURT = "court", "法院"
    JUSTICE = "justice", "司法行政"
    COMMITTEE = "committee", "政法委"


class UnitKind(models.TextChoices):
    CITY_POLICE = "city_police", "市公安局"
    POLICE_BRANCH = "police_branch", "公安分局"
    POLICE_STATION = "police_station", "派出所"
    CITY_PROCURATORATE = "city_procuratorate", "市人民检察院"
    PROCURATORATE = "procuratorate", "区县人民检察院"
    INTERMEDIATE_COURT = "intermediate_court", "中级人民法院"
    BASIC_COURT = "basic_court", "基层人民法院"
    CITY_JUSTICE = "city_justice", "市司法局"
    JUSTICE_BUREAU = "justice_bureau", "区县司法局"
    JUSTICE_OFFICE = "justice_office", "司法所"
    CORRECTIONS = "corrections", "社区矫正机构"
    DETENTION_HOUSE = "detention_house", "看守所"
    PRISON = "prison", "监狱"
    COMMITTEE = "committee", "政法委"


AGENCY_OF_KIND: dict[str, str] = {
    UnitKind.CITY_POLICE: Agency.POLICE,
    UnitKind.POLICE_BRANCH: Agency.POLICE,
    UnitKind.POLICE_STATION: Agency.POLICE,
    UnitKind.CITY_PROCURATORATE: Agency.PROCURATORATE,
    UnitKind.PROCURATORATE: Agency.PROCURATORATE,
    UnitKind.INTERMEDIATE_COURT: Agency.COURT,
    UnitKind.BASIC_COURT: Agency.COURT,
    UnitKind.CITY_JUSTICE: Agency.JUSTICE,
    UnitKind.JUSTICE_BUREAU: Agency.JUSTICE,
    UnitKind.JUSTICE_OFFICE: Agency.JUSTICE,
    UnitKind.CORRECTIONS: Agency.JUSTICE,
    UnitKind.DETENTION_HOUSE: Agency.POLICE,  # 看守所条例第5条: 看守所 belong to the public security
    UnitKind.PRISON: Agency.JUSTICE,  # 监狱法第10条: prisons are run by the judicial administration
    UnitKind.COMMITTEE: Agency.COMMITTEE,
}


class Level(models.TextChoices):
    CITY = "city", "市级"
    COUNTY = "county", "县级"
    TOWN = "town", "所级"


class Region(models.Model):
    """An administrative division: the city, its county-level divisions and their towns/streets."""

    code = models.CharField("区划代码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=50)
    level = models.CharField("层级", max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    """A political-legal unit. ``path`` is a materialised path ("3.17.204.") so that a leader's
    subtree is one indexed prefix query rather than a recursive walk."""

    code = models.CharField("单位代码", max_length=30, unique=True)
    name = models.CharField("单位名称", max_length=100, unique=True)
    kind = models.CharField("类别", max_length=30, choices=UnitKind.choices)
    agency = models.CharField("系统", max_length=20, choices=Agency.choices, db_index=True)
    level = models.CharField("层级", max_length=10, choices=Level.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="units")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, db_index=True, editable=False)

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.agency = AGENCY_OF_KIND[self.kind]
        super().save(*args, **kwargs)  # type: ignore[arg-type]
        expected = f"{self.parent.path if self.parent else ''}{self.pk}."
        if self.path != expected:
            self.path = expected
            Unit.objects.filter(pk=self.pk).update(path=expected)

    def is_within(self, ancestor: Unit) -> bool:
        return self.path.startswith(ancestor.path)


class Duty(models.TextChoices):
    HANDLER = "handler", "承办人"
    DEPT_HEAD = "dept_head", "部门负责人"
    LEADER = "leader", "分管领导"
    CLERK = "clerk", "书记员"
    REVIEWER = "reviewer", "评查员"
    CORRECTIONS_OFFICER = "corrections_officer", "社区矫正工作人员"
    LIBRARIAN = "librarian", "案例库管理员"
    ADMIN = "admin", "系统管理员"


LEADER_DUTIES = frozenset({Duty.DEPT_HEAD, Duty.LEADER})


class User(AbstractUser):
    """A person working in one unit. Duties are separate rows so that one person can hold several
    (a 部门负责人 who also handles cases)."""

    full_name = models.CharField("姓名", max_length=50)
    unit = models.ForeignKey(Unit, null=True, blank=True, on_delete=models.PROTECT, related_name="members")
    title = models.CharField("职务", max_length=50, blank=True)

    class Meta:
        verbose_name = "人员"
        verbose_name_plural = "人员"

    def __str__(self) -> str:
        return self.full_name or self.username

    @property
    def duty_codes(self) -> frozenset[str]:
        cached: frozenset[str] | None = getattr(self, "_duty_codes", None)
        if cached is None:
            cached = frozenset(self.appointments.values_list("duty", flat=True))
            self._duty_codes = cached
        return cached

    def has_duty(self, *duties: str) -> bool:
        return bool(self.duty_codes.intersection(duties))

    @property
    def duty_labels(self) -> str:
        return "、".join(str(Duty(d).label) for d in sorted(self.duty_codes))


class Appointment(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="appointments")
    duty = models.CharField("职责", max_length=30, choices=Duty.choices)

    class Meta:
        verbose_name = "职责"
        verbose_name_plural = "职责"
        constraints = [models.UniqueConstraint(fields=["user", "duty"], name="uniq_user_duty")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_duty_display()}"


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored, so a database dump does not leak usable tokens."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"

    def __str__(self) -> str:
        return f"token:{self.user_id}:{self.key_hash[:8]}"

    @staticmethod
    def hash_key(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()
