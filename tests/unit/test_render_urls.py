"""itms-services URLs and base-URL joining."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ipadrop.render.urls import (
    ITMS_SERVICES_PREFIX,
    InvalidBaseUrl,
    itms_services_url,
    join_base_url,
    normalize_base_url,
)

AWKWARD_MANIFEST_URLS = [
    "https://apps.example.com/m/abc/manifest.plist",
    "https://apps.example.com/my apps/manifest.plist",
    "https://apps.example.com/m/a&b=c/manifest.plist?x=1&y=2",
    "https://apps.example.com/m/100%25/manifest.plist",
    "https://apps.example.com/m/a+b/manifest.plist",
    "https://apps.example.com/m/x/manifest.plist#frag",
    "https://apps.example.com/ñandú/清单/manifest.plist",
    "https://d111.cloudfront.net/builds/x/manifest.plist?Expires=1&Signature=a~b_c-&Key-Pair-Id=K2",
]


def _url_value(itms: str) -> str:
    """What iOS does: take the query, split at '&', unescape the url value once."""
    assert itms.startswith(ITMS_SERVICES_PREFIX)
    query = urlsplit(itms).query
    pairs = dict(pair.split("=", 1) for pair in query.split("&"))
    assert set(pairs) == {"action", "url"}
    assert pairs["action"] == "download-manifest"
    return unquote(pairs["url"])


@pytest.mark.parametrize("manifest_url", AWKWARD_MANIFEST_URLS)
def test_itms_url_decodes_back_exactly(manifest_url: str) -> None:
    itms = itms_services_url(manifest_url)
    assert _url_value(itms) == manifest_url
    # Form-style decoding ('+' means space) agrees because '+' is escaped too.
    assert parse_qs(urlsplit(itms).query)["url"] == [manifest_url]
    value = itms[len(ITMS_SERVICES_PREFIX) :]
    for raw in (" ", "&", "#", "+", "?", "=", "/"):
        assert raw not in value


def test_itms_url_encodes_exactly_once() -> None:
    itms = itms_services_url("https://h.example/my%20apps/manifest.plist")
    assert itms.endswith("https%3A%2F%2Fh.example%2Fmy%2520apps%2Fmanifest.plist")


@given(st.text())
def test_itms_url_round_trips_any_text(manifest_url: str) -> None:
    assert _url_value(itms_services_url(manifest_url)) == manifest_url


@pytest.mark.parametrize(
    ("given_url", "expected"),
    [
        ("https://h.example/apps/x/", "https://h.example/apps/x/"),
        ("https://h.example/apps/x", "https://h.example/apps/x/"),
        ("https://h.example", "https://h.example/"),
        ("  https://h.example/my%20apps/  ", "https://h.example/my%20apps/"),
        ("HTTPS://H.example:8443/a/", "HTTPS://H.example:8443/a/"),
    ],
)
def test_normalize_base_url_keeps_the_url_as_given(given_url: str, expected: str) -> None:
    assert normalize_base_url(given_url) == expected


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("http://h.example/x/", "https://"),
        ("ftp://h.example/x/", "https://"),
        ("h.example/x/", "https://"),
        ("https:///x/", "no host"),
        ("https://h.example/x/?v=1", "query"),
        ("https://h.example/x/#top", "fragment"),
        ("https://h.example/my apps/", "spaces"),
        ("https://h.example/a\nb/", "control"),
        ("https://[::1/x/", "not a valid URL"),
        ("https://h.example:99999/x/", "not a valid URL"),
        ("https://h.example:port/x/", "not a valid URL"),
        ("https://ci:s3cret@h.example/x/", "user name or password"),
    ],
)
def test_normalize_base_url_refuses(bad: str, says: str) -> None:
    with pytest.raises(InvalidBaseUrl, match=says):
        normalize_base_url(bad)


def test_plain_http_allowed_only_when_asked() -> None:
    assert normalize_base_url("http://127.0.0.1:8080", require_https=False) == (
        "http://127.0.0.1:8080/"
    )


def test_join_keeps_the_last_segment_and_encodes_the_name() -> None:
    base = "https://h.example/apps/x/"
    assert join_base_url(base, "app.ipa") == "https://h.example/apps/x/app.ipa"
    assert join_base_url(base, "my app#1.ipa") == "https://h.example/apps/x/my%20app%231.ipa"


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "../x", "a\\b"])
def test_join_refuses_names_that_leave_the_folder(name: str) -> None:
    with pytest.raises(ValueError, match="file name"):
        join_base_url("https://h.example/x/", name)


def test_join_needs_a_folder_url() -> None:
    with pytest.raises(InvalidBaseUrl):
        join_base_url("https://h.example/x", "app.ipa")
