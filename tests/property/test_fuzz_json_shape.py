"""``bounded.shape`` against a walk of the parsed document, on random JSON texts.

``shape`` never parses: it takes the strings out of the bytes (escapes first) and counts what is left.
On any valid JSON text, whatever its strings contain — quotes, backslashes, brackets, commas, colons,
the letters escapes are made of, control characters, non-ASCII — its tokens are the values and
members the text holds, and its depth is the nesting depth or a bound above it that is past
``MAX_JSON_DEPTH`` exactly when the depth is: the refusal of a deep answer is never early, never late.
"""

from __future__ import annotations

import json

from fuzzing import FUZZ
from hypothesis import given
from hypothesis import strategies as st

from akslbctl.sources import bounded

# Strings rich in what the skeleton must see through.
TRICKY = st.text(alphabet=st.sampled_from('\\"/bfnrtu{}[],: \n\t\x00\x1fé€😀a0'), max_size=12)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.floats(allow_nan=False), TRICKY)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TRICKY, inner, max_size=4)),
    max_leaves=40,
)


def _depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _tokens(value) -> int:
    """Every ``,``, ``:``, ``{`` and ``[`` of the compact text, outside strings."""
    if isinstance(value, dict):
        return 1 + len(value) + max(len(value) - 1, 0) + sum(_tokens(v) for v in value.values())
    if isinstance(value, list):
        return 1 + max(len(value) - 1, 0) + sum(_tokens(v) for v in value)
    return 0


PAD = "[" * (bounded.MAX_JSON_DEPTH + 1)  # inside a string: forces the exact path, counts for nothing


@FUZZ
@given(VALUES, st.booleans(), st.booleans())
def test_shape_is_the_documents_depth_and_tokens(value, ascii_only, spaced):
    doc = {"pad": PAD, "v": value}
    separators = (", ", ": ") if spaced else (",", ":")
    text = json.dumps(doc, ensure_ascii=ascii_only, separators=separators).encode("utf-8")
    assert json.loads(text) == json.loads(text)  # valid JSON
    depth, tokens = bounded.shape(text)
    assert tokens == _tokens(doc)
    assert depth >= _depth(doc)
    assert (depth > bounded.MAX_JSON_DEPTH) == (_depth(doc) > bounded.MAX_JSON_DEPTH)


@FUZZ
@given(st.integers(1, 150), TRICKY)
def test_deep_documents_are_measured_exactly(levels, inside):
    # One chain of lists around a string: its depth is exact either way (there is no bound to take).
    text = ("[" * levels + json.dumps(inside) + "]" * levels).encode()
    padded = b'{"pad":' + json.dumps(PAD).encode() + b',"v":' + text + b"}"
    assert bounded.shape(padded)[0] == levels + 1
