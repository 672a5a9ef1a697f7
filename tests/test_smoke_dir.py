def test_home(client, make_institution):
    make_institution("佛山市计量检测研究院", services=[("metrology", "长度计量校准", "", True)])
    r = client.get("/")
    assert r.status_code == 200
    assert "计量" in r.get_data(as_text=True)
    r = client.get("/directory?q=计量")
    assert "佛山市计量检测研究院" in r.get_data(as_text=True)
