"""Subscriptions to the event feed and the batches that could not be delivered (issue 10, part 3).

The events themselves are not stored here: the ledger is the outbox. An event is an integrated
``LedgerEntry``; its place in the global order is its ``MerkleLeaf.index``, assigned gapless and in
order by the integrator. A subscription is therefore only a cursor (the last leaf index delivered)
plus where and how to deliver."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SubscriptionKind(models.TextChoices):
    WEBHOOK = "webhook", "网络回调（Webhook）"
    BROKER = "broker", "消息代理（RabbitMQ）"


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", "启用"
    PAUSED = "paused", "暂停"


class Subscription(models.Model):
    """One subscriber's cursor over the feed. The owner is the user (a person or an agency system
    acting as a user of its unit) whose visibility decides which events it receives."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="feed_subscriptions"
    )
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("方式", max_length=10, choices=SubscriptionKind.choices)
    # webhook: the receiver's https/http URL; broker: amqp://user:pass@host:port/vhost
    url = models.CharField("地址", max_length=500)
    # broker: the exchange the events are published to (topic exchange, routing key event.<action>)
    topic = models.CharField("交换机", max_length=200, blank=True, default="")
    secret = models.CharField("签名密钥", max_length=128, blank=True, default="")
    actions = models.JSONField("只订阅这些操作", default=list, blank=True)
    case_ids = models.JSONField("只订阅这些案件", default=list, blank=True)
    cursor = models.BigIntegerField("已送达至（默克尔叶序号）", default=-1)
    status = models.CharField(
        "状态", max_length=10, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE
    )
    failures = models.PositiveIntegerField("连续失败次数", default=0)
    first_failed_at = models.DateTimeField("本轮首次失败时间", null=True, blank=True)
    next_attempt_at = models.DateTimeField("下次投递时间", db_index=True)
    # A worker that took the subscription holds it until then (see services: the lease).
    leased_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True, default="")
    last_attempt_at = models.DateTimeField("最近投递时间", null=True, blank=True)
    last_status = models.CharField("最近结果", max_length=200, blank=True, default="")
    last_error = models.TextField("最近错误", blank=True, default="")
    delivered_count = models.BigIntegerField("已送达事件数", default=0)
    created_at = models.DateTimeField("创建时间")

    class Meta:
        verbose_name = "事件订阅"
        verbose_name_plural = "事件订阅"
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_kind_display()}）"


class DeadLetter(models.Model):
    """A batch given up on after the retries: the events exactly as they were to be sent, so a
    replay sends the same thing even if visibility changed since."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="dead_letters")
    first_index = models.BigIntegerField("起始叶序号")
    last_index = models.BigIntegerField("截止叶序号")
    events = models.JSONField("事件")
    last_error = models.TextField("最后错误", blank=True, default="")
    attempts = models.PositiveIntegerField("已尝试次数", default=0)
    created_at = models.DateTimeField("进入死信时间")
    replayed_at = models.DateTimeField("重放成功时间", null=True, blank=True)
    replay_error = models.TextField("重放错误", blank=True, default="")

    class Meta:
        verbose_name = "死信"
        verbose_name_plural = "死信"
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"死信 {self.subscription_id}:{self.first_index}-{self.last_index}"
