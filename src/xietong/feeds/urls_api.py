from django.urls import path

from xietong.feeds import api

urlpatterns = [
    path("events", api.EventListApi.as_view(), name="events"),
    path("feeds/subscriptions", api.SubscriptionListApi.as_view(), name="subscription-list"),
    path("feeds/subscriptions/<int:subscription_id>", api.SubscriptionApi.as_view(), name="subscription"),
    path("feeds/dead-letters", api.DeadLetterListApi.as_view(), name="dead-letter-list"),
    path(
        "feeds/dead-letters/<int:dead_letter_id>/replay",
        api.DeadLetterReplayApi.as_view(),
        name="dead-letter-replay",
    ),
]
