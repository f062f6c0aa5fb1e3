# No django_db mark: any database query in these views would fail the test.


def test_healthz_answers_without_touching_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"]


def test_favicon_redirects_to_the_static_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/articles/favicon.svg"
    from django.contrib.staticfiles import finders

    assert finders.find("articles/favicon.svg")


def test_healthz_names_the_node_that_answered(client, settings):
    settings.NODE_NAME = "web-b"
    assert client.get("/healthz")["X-Node"] == "web-b"
