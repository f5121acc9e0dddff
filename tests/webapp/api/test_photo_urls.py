"""Photos given by URL (`photo_urls`, `upload_url`), fetched by the server from a real HTTP
server on loopback: redirects, failures, limits and the SSRF guard."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pytest_httpserver import HTTPServer
from werkzeug import Response as WerkzeugResponse

from tests.fixtures import images
from webapp.listings.models import Photo
from webapp.partners.models import UsageDay

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _loopback(settings):
    settings.PHOTO_URL_ALLOW_PRIVATE = True  # the photo server listens on 127.0.0.1
    settings.PHOTO_URL_TIMEOUT_S = 2


def _serve(server: HTTPServer, path: str, data: bytes, content_type: str = "image/jpeg") -> str:
    server.expect_request(path).respond_with_data(data, content_type=content_type)
    return server.url_for(path)


def _redirect(server: HTTPServer, path: str, to: str) -> str:
    server.expect_request(path).respond_with_response(
        WerkzeugResponse(status=302, headers={"Location": to})
    )
    return server.url_for(path)


def _create(client, marketplace_id: str, urls: list[str], files: tuple = ()):
    return client.post(
        "/api/v1/listings/",
        {"marketplace_id": marketplace_id, "photo_urls": urls, "photos": list(files)},
        format="multipart",
    )


def _error(response) -> dict:
    return response.json()["errors"][0]


def test_a_listing_s_photos_come_from_urls_and_files_alike(
    token_client, partner, httpserver: HTTPServer
):
    first = _serve(httpserver, "/cdn/front.jpg", images.jpeg(colour=(10, 20, 30)))
    moved = _redirect(httpserver, "/old/rear.jpg", "/cdn/rear.png")
    _serve(httpserver, "/cdn/rear.png", images.png(), "image/png")
    upload = SimpleUploadedFile("side.jpg", images.jpeg(colour=(90, 20, 30)), "image/jpeg")

    response = _create(token_client(partner), "URL-1", [first, moved], files=(upload,))

    assert response.status_code == 201, response.content
    photos = Photo.objects.filter(listing__marketplace_id="URL-1")
    assert sorted(p.image.name.rsplit(".", 1)[-1] for p in photos) == ["jpg", "jpg", "png"]
    assert UsageDay.objects.get(user=partner).count == 3


def test_photos_are_added_to_a_listing_by_url(token_client, partner, httpserver: HTTPServer):
    client = token_client(partner)
    listing_id = _create(client, "URL-2", [_serve(httpserver, "/a.jpg", images.jpeg())]).json()[
        "id"
    ]
    url = _serve(httpserver, "/b.webp", images.webp(), "image/webp")
    response = client.post(
        f"/api/v1/listings/{listing_id}/photos/", {"photo_urls": [url]}, format="multipart"
    )
    assert response.status_code == 201, response.content
    assert Photo.objects.filter(listing_id=listing_id).count() == 2
    nothing = client.post(f"/api/v1/listings/{listing_id}/photos/", {}, format="multipart")
    assert nothing.status_code == 400
    assert _error(nothing)["code"] == "required"


def test_recognize_and_redact_take_an_upload_url(
    token_client, partner, engine_control, httpserver: HTTPServer
):
    (engine_control / "plates").write_text("AA1234BB")
    client = token_client(partner, scopes=["recognize"])
    url = _serve(httpserver, "/car.jpg", images.jpeg(200, 100))

    read = client.post("/api/v1/recognize/", {"upload_url": url}, format="multipart")
    assert read.status_code == 200, read.content
    assert [r["plate"] for r in read.json()["results"]] == ["AA1234BB"]
    assert (read.json()["width"], read.json()["height"]) == (200, 100)
    hidden = client.post("/api/v1/redact/", {"upload_url": url}, format="multipart")
    assert hidden.status_code == 200, hidden.content
    assert hidden["Content-Type"] == "image/jpeg"

    upload = SimpleUploadedFile("car.jpg", images.jpeg(), "image/jpeg")
    both = client.post(
        "/api/v1/recognize/", {"upload": upload, "upload_url": url}, format="multipart"
    )
    assert both.status_code == 400
    assert _error(both)["attr"] == "upload"
    assert client.post("/api/v1/recognize/", {}, format="multipart").status_code == 400


def test_a_url_that_gives_no_photo_rejects_the_request_and_keeps_nothing(
    token_client, partner, engine_control, httpserver: HTTPServer
):
    client = token_client(partner)
    good = _serve(httpserver, "/good.jpg", images.jpeg())
    httpserver.expect_request("/gone.jpg").respond_with_data("no", status=404)
    gone = httpserver.url_for("/gone.jpg")

    response = _create(client, "URL-3", [good, gone])
    assert response.status_code == 400
    assert _error(response)["code"] == "fetch_failed"
    assert _error(response)["attr"] == "photo_urls.1"
    assert "answered 404" in _error(response)["detail"]
    assert not Photo.objects.exists()
    assert not UsageDay.objects.filter(count__gt=0).exists()  # the charge was given back

    text = _serve(httpserver, "/page.jpg", b"<html>not a photo</html>", "text/html")
    assert _create(client, "URL-4", [text]).status_code == 415
    assert _error(_create(client, "URL-5", ["not a url"]))["attr"] == "photo_urls.0"
    read = client.post("/api/v1/recognize/", {"upload_url": gone}, format="multipart")
    assert (read.status_code, _error(read)["attr"]) == (400, "upload_url")
    assert not (engine_control / "calls").exists()


def test_a_photo_over_the_size_limit_is_not_read_whole(
    token_client, partner, settings, httpserver: HTTPServer
):
    settings.PHOTO_MAX_BYTES = 2_000
    big = _serve(httpserver, "/big.png", images.png(400, 400) + b"\0" * 4_000, "image/png")
    response = _create(token_client(partner), "URL-6", [big])
    assert response.status_code == 400
    assert _error(response)["code"] == "too_large"


def test_a_slow_server_is_cut_off_at_the_deadline(token_client, partner, httpserver: HTTPServer):
    def drip(_request):
        def body():
            for _ in range(50):  # a byte every 0.2 s: each read is quick, the whole is not
                time.sleep(0.2)
                yield b"x"

        return WerkzeugResponse(body(), content_type="image/jpeg")

    httpserver.expect_request("/drip.jpg").respond_with_handler(drip)
    started = time.monotonic()
    response = _create(token_client(partner), "URL-7", [httpserver.url_for("/drip.jpg")])
    assert response.status_code == 400
    assert _error(response)["code"] == "fetch_timeout"
    assert time.monotonic() - started < 8  # the 2 s deadline, not the 10 s body


def test_redirects_are_followed_three_times_and_each_is_checked(
    token_client, partner, httpserver: HTTPServer
):
    client = token_client(partner)
    _serve(httpserver, "/end.jpg", images.jpeg())
    for hop in range(4):
        _redirect(httpserver, f"/hop{hop}", f"/hop{hop + 1}")
    _redirect(httpserver, "/hop4", "/end.jpg")
    assert _create(client, "URL-8", [httpserver.url_for("/hop2")]).status_code == 201
    looping = _create(client, "URL-9", [httpserver.url_for("/hop0")])  # five redirects
    assert _error(looping)["code"] == "too_many_redirects"
    away = _redirect(httpserver, "/away", "ftp://files.example/car.jpg")
    assert _error(_create(client, "URL-10", [away]))["code"] == "invalid_url"


def test_production_fetches_only_https_from_public_addresses(
    token_client, partner, settings, httpserver: HTTPServer
):
    settings.PHOTO_URL_ALLOW_PRIVATE = False
    client = token_client(partner)
    plain = _serve(httpserver, "/car.jpg", images.jpeg())
    codes = {
        plain: "https_required",
        f"https://127.0.0.1:{httpserver.port}/car.jpg": "private_address",
        "https://localhost/car.jpg": "private_address",
        "https://10.0.0.7/car.jpg": "private_address",
        "https://[::ffff:127.0.0.1]/car.jpg": "private_address",
        "https://169.254.169.254/latest/meta-data": "private_address",
    }
    for number, (url, code) in enumerate(codes.items()):
        response = _create(client, f"SSRF-{number}", [url])
        assert response.status_code == 400, url
        assert _error(response)["code"] == code, url
    assert not httpserver.log  # nothing reached the server
    assert not Photo.objects.exists()


def test_a_partner_fetches_only_so_many_requests_of_urls_at_once(
    token_client, partner, settings, httpserver: HTTPServer
):
    from webapp.api.photo_urls import fetch_slot

    settings.PHOTO_URL_REQUESTS_AT_ONCE = 1
    client = token_client(partner)
    url = _serve(httpserver, "/car.jpg", images.jpeg())
    httpserver.expect_request("/gone.jpg").respond_with_data("no", status=404)

    with fetch_slot(partner.pk):  # another of its requests is fetching now
        refused = _create(client, "SLOT-1", [url])
        assert refused.status_code == 429
        assert _error(refused)["code"] == "too_many_fetches"
        assert refused["Retry-After"] == "2"
        files_only = SimpleUploadedFile("a.jpg", images.jpeg(), "image/jpeg")
        assert _create(client, "SLOT-2", [], files=(files_only,)).status_code == 201
    # each request gives its slot back, answered or refused
    assert _create(client, "SLOT-3", [httpserver.url_for("/gone.jpg")]).status_code == 400
    assert _create(client, "SLOT-4", [url]).status_code == 201
    assert UsageDay.objects.get(user=partner).count == 2  # the refused and failed: none
