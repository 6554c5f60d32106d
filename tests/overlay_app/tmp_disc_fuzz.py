from hypothesis import HealthCheck, given, settings, strategies as st

ALPH = st.sampled_from(list("@[]()<>`*_#!:/\\\"' \n&;=abcXYZ019.-") + ["javascript:", "<script>", "@[A](", "data:", "onerror=", "#EXT#", "\x00", "\u202e", "\ud7ff"])


def test_fuzz_bodies(make_app, people, document, api):
    app = make_app(writes_per_minute=0)
    author = api(people["author"], app)
    path = "/api/v1/documents/{}/{}/comments".format(*document)
    first = author.post(path, json={"body": "seed"}).get_json()

    @given(st.lists(ALPH, max_size=40).map("".join), st.sampled_from([None, first["id"], "x", 5, ""]))
    @settings(max_examples=300, suppress_health_check=list(HealthCheck), deadline=None, database=None)
    def run(body, parent):
        r = author.post(path, json={"body": body, "parent_id": parent})
        assert r.status_code in (201, 400, 409), (body, r.status_code, r.get_data(as_text=True))
        if r.status_code == 201:
            html = r.get_json()["bodyHtml"]
            assert "<script" not in html and "javascript:" not in html.split("href=")[-1][:12] and "onerror=\"" not in html
            r2 = author.patch(f"/api/v1/comments/{r.get_json()['id']}", json={"body": body + "!"})
            assert r2.status_code == 200
    run()
    listing = author.get(path)
    assert listing.status_code == 200
    r = author.get("/api/v1/notifications"); assert r.status_code == 200
