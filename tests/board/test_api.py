"""``/api/v1/board/…``: listing, opening, posting (idempotent), closing; error bodies; the
authorisation matrix of the endpoints; constant query counts on the list."""

from __future__ import annotations

import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.api.test_api import client_for
from tests.board.factories import BoardCase, ThreadFactory, add_volume, board_case, open_thread, pdf_bytes
from xietong.board.models import Attachment, Message, Thread, ThreadStatus
from xietong.ledger.models import LedgerEntry


def test_open_post_and_close_through_the_api(bc: BoardCase) -> None:
    volume, _ = add_volume(bc.case_id, bc.city.u("gusu.police"))
    police = client_for(bc.city, "gusu.police")
    response = police.post(
        "/api/v1/board/threads",
        {
            "case_id": bc.case_id,
            "to_unit_id": bc.procuratorate.pk,
            "kind": "objection",
            "subject": "作案时间有误",
            "text": "请核实第1卷第2页的监控记录时间。",
            "citations": [{"volume_id": volume.pk, "page": 2}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "waiting" and body["state_label"] == "待答复"
    assert body["to_unit"] == {"id": bc.procuratorate.pk, "name": bc.procuratorate.name}
    thread_id = body["id"]

    procu = client_for(bc.city, "gusu.procu")
    listed = procu.get("/api/v1/board/threads?box=in").json()
    assert [t["id"] for t in listed["results"]] == [thread_id]
    assert police.get("/api/v1/board/threads?box=in").json()["results"] == []
    assert [t["id"] for t in police.get("/api/v1/board/threads?box=out").json()["results"]] == [thread_id]
    assert procu.get("/api/v1/board/threads?box=in&state=answered").json()["results"] == []

    upload = {
        "text": "已核实，以监控为准。",
        "citations": json.dumps([{"page_id": volume.pages.get(number=1).pk}]),
        "attachments": io.BytesIO(pdf_bytes()),
    }
    upload["attachments"].name = "核实说明.pdf"  # type: ignore[attr-defined]
    answer = procu.post(f"/api/v1/board/threads/{thread_id}/messages", upload, format="multipart")
    assert answer.status_code == 201, answer.content
    assert answer.json()["is_answer"] is True
    assert answer.json()["attachments"][0]["name"] == "核实说明.pdf"
    assert answer.json()["citations"] == [{"page_id": volume.pages.get(number=1).pk, "volume": 1, "page": 1}]

    detail = police.get(f"/api/v1/board/threads/{thread_id}").json()
    assert detail["state"] == "answered" and [m["seq"] for m in detail["messages"]] == [1, 2]
    closed = police.post(f"/api/v1/board/threads/{thread_id}/close", {"note": "采纳"}, format="json")
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    again = procu.post(f"/api/v1/board/threads/{thread_id}/messages", {"text": "再说一句"}, format="json")
    assert again.status_code == 409
    assert again.json() == {
        "code": "board_closed",
        "message": "留言已关闭，不能再回复；如有新问题请另行发起留言",
    }


def test_posting_is_idempotent_with_the_key(bc: BoardCase) -> None:
    thread = open_thread(bc)
    procu = client_for(bc.city, "gusu.procu")
    url = f"/api/v1/board/threads/{thread.pk}/messages"
    first = procu.post(url, {"text": "答复"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = procu.post(url, {"text": "答复"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert second["Idempotent-Replayed"] == "true" and second.json() == first.json()
    assert Message.objects.filter(thread=thread).count() == 2
    assert LedgerEntry.objects.filter(action="board_answer").count() == 1
    reused = procu.post(url, {"text": "另一条"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"
    opened = {
        "case_id": bc.case_id,
        "to_unit_id": bc.procuratorate.pk,
        "kind": "question",
        "text": "询问",
    }
    police = client_for(bc.city, "gusu.police")
    a = police.post("/api/v1/board/threads", opened, format="json", HTTP_IDEMPOTENCY_KEY="open-1")
    b = police.post("/api/v1/board/threads", opened, format="json", HTTP_IDEMPOTENCY_KEY="open-1")
    assert a.json()["id"] == b.json()["id"] and Thread.objects.count() == 2


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"text": ""}, 400, "empty_text"),
        ({"text": "x", "citations": [{"page_id": 10**7}]}, 400, "citation_other_case"),
        ({"text": "x", "citations": [{}]}, 400, "citation_invalid"),
        ({"text": "x", "citations": "not a list"}, 400, "citation_invalid"),
        ({}, 400, "invalid"),
    ],
)
def test_bad_messages_are_4xx_with_a_chinese_message(
    bc: BoardCase, payload: dict[str, object], status: int, code: str
) -> None:
    thread = open_thread(bc)
    response = client_for(bc.city, "gusu.procu").post(
        f"/api/v1/board/threads/{thread.pk}/messages", payload, format="json"
    )
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code and body["message"]
    assert Message.objects.filter(thread=thread).count() == 1


def test_a_forbidden_attachment_is_refused_through_the_api(bc: BoardCase) -> None:
    thread = open_thread(bc)
    exe = io.BytesIO(b"MZ\x90\x00 program")
    exe.name = "tool.exe"
    response = client_for(bc.city, "gusu.procu").post(
        f"/api/v1/board/threads/{thread.pk}/messages",
        {"text": "见附件", "attachments": exe},
        format="multipart",
    )
    assert response.status_code == 400 and response.json()["code"] == "attachment_type"
    assert Attachment.objects.count() == 0


@pytest.mark.parametrize(
    ("who", "read", "post"),
    [
        ("gusu.police", 200, 201),  # opener
        ("gusu.police_leader", 200, 201),  # opener's unit
        ("gusu.procu", 200, 201),  # addressed unit
        ("gusu.procu_leader", 200, 201),
        ("city_police_leader", 200, 403),  # leader over the opener's unit: reads, does not post
        ("committee", 200, 403),  # 政法委 reads every thread; writes its own
        ("admin", 200, 403),
        ("gusu.judge", 404, 404),  # the court has no role in this case yet
        ("wuzhong.police", 404, 404),  # another county
        ("wuzhong.procu", 404, 404),
        ("gusu.station", 404, 404),  # another unit of the same agency with no role
    ],
)
def test_authorisation_matrix(bc: BoardCase, who: str, read: int, post: int) -> None:
    thread = open_thread(bc)
    client = client_for(bc.city, who)
    assert client.get(f"/api/v1/board/threads/{thread.pk}").status_code == read
    before = LedgerEntry.objects.count(), Message.objects.count()
    response = client.post(f"/api/v1/board/threads/{thread.pk}/messages", {"text": "意见"}, format="json")
    assert response.status_code == post, response.content
    if post != 201:
        assert (LedgerEntry.objects.count(), Message.objects.count()) == before
        assert set(response.json()) == {"code", "message"}
    listed = client.get(f"/api/v1/board/threads?case_id={bc.case_id}").json()["results"]
    assert [t["id"] for t in listed] == ([thread.pk] if read == 200 else [])
    close = client.post(f"/api/v1/board/threads/{thread.pk}/close", {"note": "关"}, format="json")
    expected = {"gusu.police": 200, "gusu.police_leader": 200}.get(who, 403 if read == 200 else 404)
    assert close.status_code == expected


def test_opening_to_a_unit_without_a_role_and_on_an_unknown_case(bc: BoardCase) -> None:
    police = client_for(bc.city, "gusu.police")
    base = {"case_id": bc.case_id, "kind": "opinion", "text": "意见"}
    no_role = police.post(
        "/api/v1/board/threads", {**base, "to_unit_id": bc.city.counties["gusu"].court.pk}, format="json"
    )
    assert no_role.status_code == 400 and no_role.json()["code"] == "unit_no_role"
    assert "未参与本案办理" in no_role.json()["message"]
    unknown = police.post(
        "/api/v1/board/threads",
        {**base, "case_id": 999_999, "to_unit_id": bc.procuratorate.pk},
        format="json",
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "case_not_found"
    assert police.get("/api/v1/board/threads?box=sideways").status_code == 400
    assert police.get("/api/v1/board/threads?case_id=abc").status_code == 400
    assert APIClient().get("/api/v1/board/threads").status_code == 401
    assert Thread.objects.count() == 0


def test_the_list_costs_the_same_queries_for_3_or_30_threads(bc: BoardCase) -> None:
    procu = client_for(bc.city, "gusu.procu")

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = procu.get("/api/v1/board/threads?box=in")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    def make(n: int) -> None:
        for _ in range(n):
            ThreadFactory(
                case=bc.case,
                from_unit=bc.police,
                to_unit=bc.procuratorate,
                opened_by=bc.city.u("gusu.police"),
            )

    make(3)
    small = queries()
    make(27)
    assert queries() == small
    assert Thread.objects.filter(status=ThreadStatus.WAITING).count() == 30


def test_another_case_of_the_same_units_is_listed_separately(bc: BoardCase) -> None:
    other = board_case(bc.city)
    open_thread(bc)
    open_thread(other)
    police = client_for(bc.city, "gusu.police")
    listed = police.get(f"/api/v1/board/threads?case_id={other.case_id}").json()["results"]
    assert [t["case_id"] for t in listed] == [other.case_id]
