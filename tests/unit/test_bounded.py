"""akslbctl.sources.bounded: the one reader of API answers — bounded inflating, the JSON shape check,
Retry-After, ports, TLS problems and list budgets — on real urllib3 responses over a byte stream."""

from __future__ import annotations

import gzip
import io
import json
import zlib

import pytest
from urllib3.response import HTTPResponse

from akslbctl.errors import MalformedAnswer
from akslbctl.sources import bounded as bd


def _raw(body: bytes, **headers: str) -> HTTPResponse:
    """A urllib3 response over ``body``, not preloaded: what both sources' transports hand over."""
    hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
    return HTTPResponse(body=io.BytesIO(body), headers=hdrs, status=200, preload_content=False, decode_content=False)


def test_plain_gzip_multi_member_and_deflate_bodies_read_whole():
    doc = json.dumps({"a": [1, 2, {"b": "x[[{"}]}).encode()
    assert bytes(bd.read_body(_raw(doc), "X")) == doc
    assert bytes(bd.read_body(_raw(gzip.compress(doc), Content_Encoding="gzip"), "X")) == doc
    assert bytes(bd.read_body(_raw(gzip.compress(doc) * 2, Content_Encoding="gzip"), "X")) == doc * 2
    assert bytes(bd.read_body(_raw(zlib.compress(doc), Content_Encoding="deflate"), "X")) == doc
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    assert bytes(bd.read_body(_raw(raw.compress(doc) + raw.flush(), Content_Encoding="deflate"), "X")) == doc
    assert bytes(bd.read_body(_raw(doc, Content_Encoding="identity"), "X")) == doc


def test_a_bomb_stops_at_the_bound_without_inflating_further():
    bomb = gzip.compress(b"\0" * (8 << 20))  # 8 MiB in ~8 KB
    with pytest.raises(bd.AnswerTooLarge, match=r"X with more than 1 MiB once decompressed"):
        bd.read_body(_raw(bomb, Content_Encoding="gzip"), "X", limit=1 << 20)
    with pytest.raises(bd.AnswerTooLarge, match=r"more than 1 MiB: not read further"):
        bd.read_body(_raw(b" " * (2 << 20)), "X", limit=1 << 20)


@pytest.mark.parametrize("encoding", ["br", "zstd", "compress", "gzip, br"])
def test_an_encoding_not_asked_for_is_refused(encoding):
    with pytest.raises(MalformedAnswer, match="which akslbctl did not ask for"):
        bd.read_body(_raw(b"\x1b\x00", Content_Encoding=encoding), "X")


def test_garbage_and_cut_short_compressed_bodies_say_so():
    with pytest.raises(MalformedAnswer, match="does not decode as gzip"):
        bd.read_body(_raw(b"not gzip at all", Content_Encoding="gzip"), "X")
    with pytest.raises(bd.AnswerCutShort, match="gzip body cut short"):
        bd.read_body(_raw(gzip.compress(b"{" * 1000)[:-12], Content_Encoding="gzip"), "X")


def test_a_body_shorter_than_its_content_length_is_cut_short():
    raw = HTTPResponse(
        body=io.BytesIO(b'{"kind":'),
        headers={"Content-Length": "100"},
        status=200,
        preload_content=False,
        decode_content=False,
        enforce_content_length=True,
    )
    with pytest.raises(bd.AnswerCutShort, match=r"cut short \(8 of 100 bytes\)"):
        bd.read_body(raw, "X")


PAD = b"[" * 200  # enough brackets that the exact count is taken (a small text's raw count is its bound)


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        (b'{"a":[1,{"b":[]}],"pad":"' + PAD + b'"}', 4),
        (b'{"s":"' + PAD + b'{{{{"}', 1),  # brackets inside strings are no nesting
        (b'{"s":"\\"' + PAD + b'\\\\"}', 1),  # escaped quotes and backslashes
        (b"[" * 150 + b"]" * 150, 150),
        (b'["' + PAD + b'"]', 1),
    ],
)
def test_shape_counts_nesting_outside_strings(text, depth):
    json.loads(text)  # (each is valid JSON)
    assert bd.shape(text)[0] == depth


def test_loads_refuses_deep_and_huge_documents_before_parsing():
    with pytest.raises(bd.AnswerTooLarge, match="nested more than 100 levels deep"):
        bd.loads(b"[" * 101 + b"]" * 101, "X")
    assert bd.loads(b"[" * 100 + b"]" * 100, "X") is not None
    with pytest.raises(bd.AnswerTooLarge, match="more than 1,000 JSON values"):
        bd.loads(b"[" + b"1," * 1000 + b"1]", "X", max_tokens=1000)
    with pytest.raises(MalformedAnswer, match="empty body"):
        bd.loads(b"  ", "X")
    with pytest.raises(MalformedAnswer, match="not JSON"):
        bd.loads(b"<html>", "X")
    # a realistic page: strings with commas and brackets do not count as values
    page = json.dumps({"items": [{"metadata": {"name": f"n{i}", "note": "a, b [c]"}} for i in range(500)]})
    depth, tokens = bd.shape(page.encode())
    # {, {, 3 colons and 2 commas an item (one comma fewer for the last), 3 for {"items":[ — none from the note
    assert depth == 4 and tokens == 500 * 7 - 1 + 3


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("3", 3.0), ("1.5", 1.5), (" 0 ", 0.0), ("soon", None), ("", None), (None, None), ("-4", None), ("nan", None)],
)
def test_retry_after_seconds(value, seconds):
    assert bd.retry_after_seconds(value) == seconds


def test_retry_after_http_date():
    from email.utils import formatdate

    now = 1_800_000_000.0
    assert bd.retry_after_seconds(formatdate(now + 120, usegmt=True), now=now) == pytest.approx(120, abs=1)
    assert bd.retry_after_seconds(formatdate(now - 120, usegmt=True), now=now) == 0.0


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://a.example", None),
        ("https://a.example:443", None),
        ("https://u:p@a.example:8443/x", None),
        ("https://[::1]:6443", None),
        ("http://127.0.0.1:\u0668\u0660", "not a decimal number"),
        ("https://[::1]:\uff18\uff10", "not a decimal number"),
        ("https://a:+80", "not a decimal number"),
        ("https://a:0", "out of 1–65535"),
        ("https://a:65536", "out of 1–65535"),
    ],
)
def test_url_port_problem(url, problem):
    got = bd.url_port_problem(url)
    assert (got is None) if problem is None else (problem in got)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate",
            "unknown CA",
        ),
        ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in chain", "unknown CA"),
        ("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired", "expired"),
        ("certificate verify failed: Hostname mismatch, certificate is not valid for 'x'", "wrong name"),
        ("certificate verify failed: IP address mismatch, certificate is not valid for '1.2.3.4'", "wrong name"),
        ("[SSL: WRONG_VERSION_NUMBER] wrong version number", "plain http"),
        ("Connection refused", None),
    ],
)
def test_tls_problem_names_the_certificate_problem(text, says):
    got = bd.tls_problem(text)
    assert (got is None) if says is None else (says in got)


def test_list_budget_cuts_at_pages_items_and_bytes():
    b = bd.ListBudget("L", pages=3, items=10, size=100)
    b.page(2, 10)
    b.page(2, 10)
    b.page(2, 10)
    with pytest.raises(bd.AnswerTooLarge, match="L keeps going: cut at more than 3 pages"):
        b.page(0, 0)
    with pytest.raises(bd.AnswerTooLarge, match="more than 10 items"):
        bd.ListBudget("L", items=10).page(11)
    with pytest.raises(bd.AnswerTooLarge, match="more than 100 B|more than 0.0977 KiB"):
        bd.ListBudget("L", size=100).page(1, 101)
