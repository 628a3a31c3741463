def test_pages(web):
    pid = web.piece(approved=True)
    web.services.plan(days=7)
    c = web.client("lan")
    for path in ["/", "/pieces", f"/pieces/{pid}", "/pieces/new", f"/pieces/{pid}/edit", "/calendar", "/deliveries",
                 "/account", f"/previews/revision/{pid}", "/api/schedule", "/api/pieces", "/api/deliveries"]:
        r = c.get(path)
        assert r.status_code == 200, (path, r.text[:2000])
