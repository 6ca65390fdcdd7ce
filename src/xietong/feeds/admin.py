"""Operators' view of subscriptions and dead letters; a dead letter is replayed with one action."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from xietong.feeds.models import DeadLetter, Subscription
from xietong.feeds.services import dead_letter_replay


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "owner", "kind", "url", "status", "cursor", "failures", "last_status")
    list_filter = ("kind", "status")
    readonly_fields = ("leased_until", "lease_token", "delivered_count", "created_at")
    exclude = ("secret",)


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "subscription",
        "first_index",
        "last_index",
        "attempts",
        "created_at",
        "replayed_at",
    )
    list_filter = ("replayed_at",)
    readonly_fields = ("subscription", "first_index", "last_index", "events", "attempts", "created_at")
    actions = ["replay"]

    @admin.action(description="重放所选死信")
    def replay(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        done = failed = 0
        user: Any = request.user
        for letter in queryset.filter(replayed_at__isnull=True):
            if dead_letter_replay(user=user, dead_letter_id=letter.pk).replayed_at:
                done += 1
            else:
                failed += 1
        self.message_user(request, f"重放成功 {done} 条，失败 {failed} 条", messages.INFO)
