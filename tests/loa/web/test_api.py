"""The JSON API: the same workflow and rules as the command line, for other systems with a token."""

from __future__ import annotations


def test_a_piece_goes_from_draft_to_the_schedule_through_the_api(web):
    api = web.client()
    lan, hung = web.token("lan"), web.token("hung")
    created = api.post("/api/pieces", headers=lan, json={
        "title": "Phòng chống bão số 9", "body": "Bà con chằng chống nhà cửa trước 17 giờ.",
        "campaign": "guong-dien-hinh", "channels": ["loudspeaker"], "valid_until": "2026-12-31T23:00:00+07:00"})
    assert created.status_code == 201, created.text
    piece = created.json()
    assert piece["state"] == "draft" and piece["revision"] == 1 and len(piece["sha256"]) == 64
    assert api.post(f"/api/pieces/{piece['id']}/submit", headers=lan).json()["state"] == "submitted"
    assert [p["id"] for p in api.get("/api/review", headers=hung).json()] == [piece["id"]]
    approved = api.post(f"/api/review/{piece['id']}/approve", headers=hung,
                        json={"note": "được", "revision_id": piece["revision_id"], "sha256": piece["sha256"]})
    assert approved.status_code == 200 and approved.json()["approved_revision"] == 1
    plan = api.post("/api/plan", headers=hung, json={"days": 2})
    assert plan.status_code == 200 and plan.json()["airings_added"] > 0
    schedule = api.get("/api/schedule?days=2&outlet=loudspeaker", headers=lan).json()
    assert any(item["title"] == "Phòng chống bão số 9" for p in schedule for item in p["items"])
    assert {p["outlet"] for p in schedule} == {"loudspeaker"}


def test_editing_an_approved_piece_through_the_api_needs_a_new_approval(web):
    piece = web.piece(approved=True)
    api = web.client()
    edited = api.patch(f"/api/pieces/{piece}", headers=web.token("lan"), json={"title": "Tiêu đề mới"})
    assert edited.status_code == 200
    assert edited.json()["state"] == "draft" and edited.json()["revision"] == 2
    assert edited.json()["approved_revision"] == 1


def test_a_slogan_is_marked_through_the_api_and_the_web_form(web):
    api, lan = web.client(), web.token("lan")
    created = api.post("/api/pieces", headers=lan, json={"title": "Khẩu hiệu", "body": "Học, học nữa, học mãi!",
                                                         "channels": ["print"], "slogan": True})
    assert created.status_code == 201 and created.json()["slogan"] is True
    unmarked = api.patch(f"/api/pieces/{created.json()['id']}", headers=lan, json={"slogan": False})
    assert unmarked.json()["slogan"] is False and unmarked.json()["revision"] == 2
    too_long = api.post("/api/pieces", headers=lan, json={"title": "Dài", "body": "Chữ " * 200, "slogan": True})
    assert too_long.status_code == 400 and "400" in too_long.json()["detail"]
    from servers.web import csrf_of

    page = web.client("lan")
    form = page.get("/pieces/new").text
    assert 'name="slogan"' in form
    sent = page.post("/pieces/new", data={"csrf": csrf_of(form), "title": "Khẩu hiệu 2", "body": "Đọc sách mỗi ngày!",
                                          "channels": "print", "slogan": "on"})
    assert sent.status_code == 303
    shown = page.get(sent.headers["location"]).text
    assert "Khẩu hiệu</dd>" in shown or "· Khẩu hiệu" in shown
    refused = page.post("/pieces/new", data={"csrf": csrf_of(form), "title": "Dài", "body": "Chữ " * 200,
                                             "channels": "print", "slogan": "on"})
    assert refused.status_code == 400 and "Khẩu hiệu tối đa 400 ký tự" in refused.text
    assert 'name="slogan" checked' in refused.text  # what was typed stays


def test_bad_input_is_a_clear_4xx(web):
    api = web.client()
    lan = web.token("lan")
    naive = api.post("/api/pieces", headers=lan, json={"title": "T", "body": "B", "valid_from": "2026-12-01T08:00"})
    assert naive.status_code == 422
    empty = api.post("/api/pieces", headers=lan, json={"title": "  ", "body": "B"})
    assert empty.status_code == 400 and "title" in empty.json()["detail"]
    missing = api.get("/api/pieces/999", headers=lan)
    assert missing.status_code == 404 and "999" in missing.json()["detail"]
    submitted = api.get(f"/api/pieces/{web.piece(submitted=True)}", headers=lan).json()
    seen = {"revision_id": submitted["revision_id"], "sha256": submitted["sha256"]}
    reject = api.post(f"/api/review/{submitted['id']}/reject", headers=web.token("hung"), json=seen)
    assert reject.status_code == 400 and "note" in reject.json()["detail"]
    unnamed = api.post(f"/api/review/{submitted['id']}/approve", headers=web.token("hung"), json={"note": "ok"})
    assert unnamed.status_code == 422  # a decision names the revision it is about


def test_the_openapi_schema_documents_the_bearer_token_and_every_group(web):
    schema = web.client().get("/openapi.json").json()
    paths = set(schema["paths"])
    assert {"/api/pieces", "/api/review", "/api/plan", "/api/schedule", "/api/deliveries"} <= paths
    assert any(s.get("scheme") == "bearer" for s in schema["components"]["securitySchemes"].values())
    assert not any(p.startswith(("/pieces", "/calendar", "/login")) for p in paths)  # pages stay out of the API
