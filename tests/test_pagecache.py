"""Anonymous directory pages are cached, and a change to the directory shows at once."""

from shared_fixtures import csrf, log_in, page_text

from qzt.core.pagecache import cached_for_anonymous
from qzt.extensions import db
from qzt.models import ListingState, Role


def test_a_change_shows_at_once_to_anonymous_visitors(client, make_institution):
    inst = make_institution("佛山市缓存检测所", introduction="旧的简介内容")
    assert "旧的简介内容" in client.get(f"/institutions/{inst.id}").get_data(as_text=True)
    assert "佛山市缓存检测所" in page_text(client.get("/directory?q=缓存"))
    inst.introduction = "新的简介内容"
    db.session.commit()
    assert "新的简介内容" in client.get(f"/institutions/{inst.id}").get_data(as_text=True)
    inst.listing_state = ListingState.EXPELLED
    db.session.commit()
    # Gone at once: an expelled institution's page answers 410 since issue 10 (it was 404).
    assert client.get(f"/institutions/{inst.id}").status_code == 410
    assert "佛山市缓存检测所" not in page_text(client.get("/directory?q=缓存"))


def test_service_item_changes_bump_the_directory_too(client, make_institution):
    inst = make_institution("佛山市缓存计量所")
    client.get("/")
    before = client.get("/").get_data(as_text=True)
    inst.services[0].category = "metrology"
    db.session.commit()
    after = client.get("/").get_data(as_text=True)
    assert before != after  # the category counts moved


def test_cached_pages_carry_no_session_and_no_token(client, make_institution):
    make_institution()
    for _ in range(2):
        response = client.get("/directory")
        assert "Set-Cookie" not in response.headers
        assert 'name="csrf-token"' not in response.get_data(as_text=True)
        assert "Cookie" in response.headers["Vary"]


def test_htmx_fragment_and_full_page_are_cached_apart(client, make_institution):
    make_institution()
    full = client.get("/directory").get_data(as_text=True)
    fragment = client.get("/directory", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" in full and "<html" not in fragment
    assert "<html" in client.get("/directory").get_data(as_text=True)


def test_logged_in_users_get_their_own_page(client, make_institution, make_user):
    make_institution()
    make_user(Role.OPERATOR, phone="13900005555", name="运维小周")
    client.get("/directory")  # cached for anonymous visitors
    log_in(client, "13900005555")
    html = client.get("/directory").get_data(as_text=True)
    assert "运维小周" in html and 'name="csrf-token"' in html


def test_flash_messages_are_not_lost_to_the_cache(client, make_user):
    make_user(Role.ENTERPRISE, phone="13900006666")
    client.get("/")
    log_in(client, "13900006666")
    client.post("/logout", data={"csrf_token": csrf(client, "/notices")})
    assert "已退出登录" in client.get("/").get_data(as_text=True)


def test_history_restore_gets_the_full_page_even_after_a_fragment(client, make_institution):
    make_institution()
    client.get("/directory?q=检测", headers={"HX-Request": "true"})  # the fragment is cached
    restore = client.get(
        "/directory?q=检测", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restore.get_data(as_text=True)


def test_result_cards_are_reused_for_logged_in_users_and_change_at_once(
    app, client, make_institution, make_user
):
    """The card fragments (qzt.core.fragments) serve users the page cache does not: a logged-in visit
    after an edit shows the edit, and a card is kept per set of search words (the highlights differ)."""
    inst = make_institution("佛山市片段计量所", services=[("metrology", "计量校准服务", "", True)])
    make_user(Role.ENTERPRISE, phone="13900007777")
    log_in(client, "13900007777")
    plain = client.get("/directory").get_data(as_text=True)
    assert "佛山市片段计量所" in plain and "<mark>" not in plain
    marked = client.get("/directory?q=计量").get_data(as_text=True)
    assert "<mark>计量</mark>" in marked
    assert "<mark>" not in client.get("/directory").get_data(as_text=True)
    inst.name = "佛山市片段计量研究院"
    db.session.commit()
    assert "佛山市片段计量研究院" in client.get("/directory").get_data(as_text=True)
    api = client.get("/api/v1/institutions?q=计量").get_json()
    assert api["items"][0]["name"] == "佛山市片段计量研究院"
    inst.services[0].title = "长度计量校准"
    db.session.commit()
    api = client.get("/api/v1/institutions?q=计量").get_json()
    assert api["items"][0]["services"][0]["title"] == "长度计量校准"


def test_fragment_cache_can_be_turned_off(app, client, make_institution):
    app.config["FRAGMENT_CACHE"] = False
    make_institution("佛山市无缓存检测所")
    assert "佛山市无缓存检测所" in page_text(client.get("/directory?q=检测"))
    assert client.get("/api/v1/institutions?q=检测").get_json()["items"][0]["name"] == "佛山市无缓存检测所"


def _another_process_changes(institution_id: int, introduction: str) -> None:
    """What another app server does: its own connection, its own transaction, the same bump."""
    import sqlalchemy as sa

    from qzt.core.pagecache import CHANNEL

    engine = sa.create_engine(db.engine.url, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE institutions SET introduction = :i WHERE id = :id"),
            {"i": introduction, "id": institution_id},
        )
        connection.execute(sa.text("UPDATE site_state SET version = version + 1 WHERE key = 'directory'"))
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_notify(:c, '')"), {"c": CHANNEL})
    engine.dispose()


def test_a_change_made_by_another_app_server_shows_too(client, make_institution):
    """Several app servers share one database: a change committed by another reaches this one's cache
    (PostgreSQL announces it; within a few milliseconds, waited for here up to 5 s)."""
    import time

    inst = make_institution("佛山市多机缓存所", introduction="旧的简介内容")
    db.session.commit()
    assert "旧的简介内容" in client.get(f"/institutions/{inst.id}").get_data(as_text=True)
    _another_process_changes(inst.id, "别处改的简介")
    deadline = time.monotonic() + 5
    while True:
        db.session.rollback()  # the test's session is the requests' too: start each as a new one would
        if "别处改的简介" in client.get(f"/institutions/{inst.id}").get_data(as_text=True):
            break
        assert time.monotonic() < deadline, "the other server's change never showed"
        time.sleep(0.05)


def test_a_cached_page_asks_the_database_nothing(client, make_institution):
    """The cache's freshness costs no statement through the app's connections: PostgreSQL announces
    the version; SQLite's is read on a connection of its own, and only when someone has committed
    since (PRAGMA data_version)."""
    import time

    from qzt.core import pagecache

    make_institution("佛山市无往返缓存所")
    db.session.commit()
    client.get("/directory")
    if db.engine.dialect.name == "postgresql":
        deadline = time.monotonic() + 5
        while pagecache._WATCHERS[str(db.engine.url)].value is None:  # the thread has not read it yet
            assert time.monotonic() < deadline
            time.sleep(0.05)
    pages: list[str] = []
    statements = _statements_during(lambda: pages.append(page_text(client.get("/directory"))))
    assert "佛山市无往返缓存所" in pages[0]
    assert statements == []


def test_without_listening_the_version_is_asked_per_request(app, client, make_institution):
    """QZT_DIRECTORY_LISTEN_URL=off (a pooler that cannot LISTEN): on PostgreSQL one read per cached
    page, still fresh (SQLite has nothing to listen to: its own reader is unaffected)."""
    app.config["QZT_DIRECTORY_LISTEN_URL"] = "off"
    inst = make_institution("佛山市不监听缓存所", introduction="旧的简介内容")
    db.session.commit()
    client.get(f"/institutions/{inst.id}")
    pages: list[str] = []
    statements = _statements_during(
        lambda: pages.append(client.get(f"/institutions/{inst.id}").get_data(as_text=True))
    )
    assert "旧的简介内容" in pages[0]
    if db.engine.dialect.name == "postgresql":
        assert len(statements) == 1 and "site_state" in statements[0]
    _another_process_changes(inst.id, "别处改的简介")
    db.session.rollback()
    assert "别处改的简介" in client.get(f"/institutions/{inst.id}").get_data(as_text=True)


def test_the_home_page_counts_follow_changes_without_the_page_cache(app, client, make_institution):
    """Logged-in visitors and API callers are not served whole pages; the counts they see are kept per
    directory version, so they move with the first change."""
    app.config["PAGE_CACHE"] = False
    inst = make_institution("佛山市计数缓存所")
    db.session.commit()

    def api_total() -> int:
        return sum(item["count"] for item in client.get("/api/v1/categories").get_json()["items"])

    assert "平台现有入驻机构 <strong>1</strong> 家" in client.get("/").get_data(as_text=True)
    assert api_total() == 1
    make_institution("佛山市计数缓存二所")
    db.session.commit()
    assert "平台现有入驻机构 <strong>2</strong> 家" in client.get("/").get_data(as_text=True)
    assert api_total() == 2
    inst.listing_state = ListingState.EXPELLED
    db.session.commit()
    assert "平台现有入驻机构 <strong>1</strong> 家" in client.get("/").get_data(as_text=True)
    assert api_total() == 1


def _statements_during(do) -> list[str]:
    import sqlalchemy as sa

    statements: list[str] = []
    record = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        do()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return statements


def test_a_repeated_search_runs_no_search_statement_and_follows_changes(app, client, make_institution):
    """The search's result is kept per directory version (QZT_SEARCH_CACHE) for those the page cache
    does not serve: asked again, the API runs no search statement; a new match shows at once."""
    app.config["PAGE_CACHE"] = False
    make_institution("佛山市结果缓存计量所", services=[("metrology", "计量校准服务", "", True)])
    db.session.commit()
    first = client.get("/api/v1/institutions?q=计量").get_json()
    assert [item["name"] for item in first["items"]] == ["佛山市结果缓存计量所"]
    again = _statements_during(lambda: client.get("/api/v1/institutions?q=计量").get_json())
    assert not [s for s in again if "search_" in s], again
    make_institution("佛山市结果缓存计量二所", services=[("metrology", "长度计量", "", True)])
    db.session.commit()
    names = [item["name"] for item in client.get("/api/v1/institutions?q=计量").get_json()["items"]]
    assert names == ["佛山市结果缓存计量所", "佛山市结果缓存计量二所"]
    assert "佛山市结果缓存计量二所" in page_text(client.get("/directory?q=计量"))


def test_the_search_cache_can_be_turned_off(app, client, make_institution):
    app.config["PAGE_CACHE"] = False
    app.config["SEARCH_CACHE"] = False
    make_institution("佛山市不缓存结果计量所", services=[("metrology", "计量校准服务", "", True)])
    db.session.commit()
    client.get("/api/v1/institutions?q=计量")
    again = _statements_during(lambda: client.get("/api/v1/institutions?q=计量").get_json())
    assert [s for s in again if "search_" in s]


def test_a_page_drawn_for_wechat_is_not_kept_for_other_browsers(app, client):
    """A cached view that asks whether the browser is WeChat's (its hints for files and PDFs) is not
    kept: the next visitor, in another browser, gets the page drawn for theirs."""
    from qzt.core.templating import in_wechat

    @app.get("/test-browser-page")
    @cached_for_anonymous
    def browser_page():
        return "微信内打开" if in_wechat() else "普通浏览器"

    wechat = {"User-Agent": "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 MicroMessenger/8.0.50"}
    assert client.get("/test-browser-page", headers=wechat).get_data(as_text=True) == "微信内打开"
    assert client.get("/test-browser-page").get_data(as_text=True) == "普通浏览器"
    assert client.get("/test-browser-page", headers=wechat).get_data(as_text=True) == "微信内打开"
