"""What Schemathesis found, pinned: numbers past 64 bits are a clear 4xx with a stable code, never a
500, and a rejected write leaves nothing behind."""

from __future__ import annotations

from tests.clients.conftest import api_as
from tests.factories import City, system_client
from xietong.cases.models import Case


def test_an_id_past_64_bits_in_the_path_is_a_json_404(city: City) -> None:
    api = api_as(*system_client(city.counties["gusu"].police))
    response = api.get("/api/v1/cases/592135936929219477504")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    acted = api.post("/api/v1/cases/592135936929219477504/actions/detain", {}, format="json")
    assert acted.status_code == 404


def test_a_tree_size_past_64_bits_is_a_400_with_a_code(city: City) -> None:
    response = api_as(*system_client(city.counties["gusu"].police)).get(
        "/api/v1/ledger/proofs/consistency?first=592135936929219477504&second=-5106079"
    )
    assert response.status_code == 400
    assert response.json()["code"] in {"value_out_of_range", "bad_tree_sizes"}


def test_a_malformed_write_is_refused_whole(city: City) -> None:
    api = api_as(*system_client(city.counties["gusu"].police))
    response = api.post("/api/v1/cases", {"charge": "盗窃罪", "parties": "nobody"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    garbled = api.generic("POST", "/api/v1/cases", b"{not json", content_type="application/json")
    assert garbled.status_code == 400 and garbled.json()["code"] == "parse_error"
    assert Case.objects.count() == 0
