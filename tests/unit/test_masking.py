"""The one masking (issue 13 §5): whole secrets, cut secrets, JWT segments — and nothing else."""

from __future__ import annotations

from akslbctl.masking import mask

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNlZ21lbnQtb2YtdGhlLXRva2VuLTEyMzQ1"


def test_a_whole_secret():
    assert mask(f"Bearer {TOKEN} rejected", [TOKEN]) == "Bearer *** rejected"


def test_a_secret_cut_by_a_truncation():
    assert TOKEN[:40] not in mask(("x" * 50 + TOKEN)[:90], [TOKEN])
    assert mask("…" + TOKEN[-30:], [TOKEN]) == "…***"


def test_the_signature_segment_alone():
    sig = TOKEN.rsplit(".", 1)[1]
    assert mask(f"bad signature {sig}.", [TOKEN]) == "bad signature ***."


def test_short_and_unrelated_text_is_kept():
    assert mask("nodes is forbidden: User cannot list", [TOKEN, "abc"]) == "nodes is forbidden: User cannot list"
    assert mask("value abcdef here", ["abcdef"]) == "value *** here"
    assert mask("abcde", ["abcde"]) == "abcde"  # below the minimum length: would mask words
