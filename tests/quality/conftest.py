"""A gusu case with a scanned volume, drawn into a police campaign and assigned to a reviewer of
吴中区 (cross-district), for the service and view tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.factories import City, register_case
from tests.quality import factories
from xietong.dossier.models import Page
from xietong.orgs.models import User
from xietong.quality import services
from xietong.quality.models import Campaign, CampaignCase


@dataclass
class Setup:
    city: City
    case_id: int
    other_case_id: int
    pages: list[Page]
    campaign: Campaign
    review: CampaignCase
    reviewer: User
    organiser: User


@pytest.fixture
def setup(city: City) -> Setup:
    case_id = register_case(city, "gusu")
    other_case_id = register_case(city, "gusu")
    pages = factories.add_volume(case_id, city.u("gusu.police"), factories.TEXTS, quality={3: ["blank"]})
    campaign = factories.campaign(city, counties=("gusu",))
    services.campaign_draw(user=city.u("city_police_leader"), campaign_id=campaign.pk)
    review = CampaignCase.objects.get(campaign=campaign, case_id=case_id)
    reviewer = city.u("wuzhong.police")
    services.review_assign(user=city.u("city_police_leader"), review_id=review.pk, reviewer_id=reviewer.pk)
    review.refresh_from_db()
    return Setup(
        city, case_id, other_case_id, pages, campaign, review, reviewer, city.u("city_police_leader")
    )
