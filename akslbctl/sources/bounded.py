"""Bounded reads of API answers: the one place an answer of the Kubernetes API or ARM becomes a document.

Both sources' transports (the kubernetes client's urllib3 response, azure-core's requests response —
the SDK's typed calls and ``send_request`` alike) hand the raw, undecoded body stream to
:func:`read_body`, and the bytes to :func:`loads`. Nothing else reads an answer's body.

Bounds (docs/robustness.md, docs/contract-extensions.md):

- :data:`MAX_BODY_BYTES` per answer, counted *after* decompression. akslbctl asks for ``gzip``
  itself (``Accept-Encoding``) and inflates with a bounded decompressor, so a small gzip answer
  that inflates to gigabytes (a gzip bomb) stops at the bound without taking the memory; an encoding
  it did not ask for and cannot bound (``br``, ``zstd``, ``compress``…) is refused.
- :data:`MAX_JSON_DEPTH` levels of nesting and :data:`MAX_JSON_TOKENS` values per answer, checked
  on the bytes before parsing: what a parsed document costs in memory is bounded too.
- A body cut short (fewer bytes than its ``Content-Length``, a chunked body that ends early) is
  said to be cut short, not "not JSON" nor "could not be reached".
- Lists: :class:`ListBudget` cuts a list that keeps handing out new continue tokens / nextLinks at
  :data:`MAX_LIST_PAGES` pages, :data:`MAX_LIST_ITEMS` items or :data:`MAX_LIST_BYTES` bytes.

The reading loop checks the command's deadline between chunks, so an answer that drips forever ends
at the deadline even though no single read times out.
"""

from __future__ import annotations

import contextlib
import json
import threading
import zlib
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

from akslbctl.errors import MalformedAnswer

MiB = 1024 * 1024
MAX_BODY_BYTES = 64 * MiB  # one answer, decompressed: a 500-node page at ≤ 30 KB a Node (estimate) is 15 MB
MAX_JSON_DEPTH = 100  # Kubernetes and ARM documents nest ~15 deep (managedFields included)
MAX_JSON_TOKENS = 2_000_000  # values (",", ":", "{", "[") of one answer: 500 Nodes at ≤ 2,000 each (estimate)
MAX_LIST_PAGES = 500  # pages of one list (continue tokens / nextLinks followed)
MAX_LIST_ITEMS = 50_000  # items of one list (AKS: at most 5,000 nodes; 10,000 Services a cluster)
MAX_LIST_BYTES = 256 * MiB  # bytes of one list's pages together, decompressed

ACCEPT_ENCODING = "gzip"  # what akslbctl asks for: the one encoding it inflates (with a bound)
CHUNK = 64 * 1024  # read from the socket at a time
PIECE = 1024 * 1024  # inflated at a time


class AnswerTooLarge(MalformedAnswer):
    """An answer (or a list) past one of the bounds of this module."""


class AnswerCutShort(MalformedAnswer):
    """An answer whose body ended before it said it would."""


def _mib(n: int) -> str:
    return f"{n / MiB:.3g} MiB" if n >= MiB else f"{n / 1024:.3g} KiB"


class _Inflater:
    """Incremental, bounded decoding of a ``Content-Encoding``: gzip (multi-member too), deflate
    (zlib-wrapped or raw, as servers send it) or none. :meth:`feed` never returns more than asked."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._d = zlib.decompressobj(self._wbits) if encoding else None
        self._first = True

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decoded pieces of ``data``, each at most :data:`PIECE` bytes: the caller stops taking them
        at its bound, so a bomb never inflates further than one piece past it."""
        if self._d is None:
            yield data
            return
        if data and self._d.eof:  # more after a member that ended: the next member
            self._d = zlib.decompressobj(self._wbits)
        while data:
            try:
                piece = self._d.decompress(data, PIECE)
            except zlib.error:
                if self._first and self.encoding == "deflate" and self._wbits > 0:
                    # "deflate" without the zlib wrapper (some servers): raw deflate from the start
                    self._wbits = -zlib.MAX_WBITS
                    self._d = zlib.decompressobj(self._wbits)
                    continue
                raise
            self._first = False
            if self._d.eof:
                data = self._d.unused_data  # the next gzip member (concatenated members are one body)
                if data:
                    self._d = zlib.decompressobj(self._wbits)
            else:
                data = self._d.unconsumed_tail
            if piece:
                yield piece

    @property
    def ended(self) -> bool:
        """Whether the compressed stream came to its end (a cut-short one does not)."""
        return self._d is None or self._d.eof


def encoding_of(headers: Any) -> str:
    """The ``Content-Encoding`` of an answer, lower-cased ("" for none or identity)."""
    value = ""
    if headers is not None:
        value = str(headers.get("Content-Encoding") or headers.get("content-encoding") or "")
    value = value.strip().lower()
    return "" if value in ("", "identity") else value


def read_body(
    raw: Any, what: str, *, headers: Any = None, deadline: Any = None, limit: int = MAX_BODY_BYTES
) -> bytearray:
    """The decoded body of an answer, read from ``raw`` — a urllib3 ``HTTPResponse`` opened without
    preloading — never decoding more than ``limit`` bytes, and never past ``deadline``.

    ``what`` starts the error line: "Kubernetes API answered GET /api/v1/nodes". Raises
    :class:`AnswerTooLarge`, :class:`AnswerCutShort` or :class:`MalformedAnswer` (an encoding not
    asked for, a body that does not decode); the deadline's own error when it passes mid-answer.
    """
    from urllib3.exceptions import HTTPError as Urllib3Error
    from urllib3.exceptions import IncompleteRead, ProtocolError

    headers = raw.headers if headers is None else headers
    encoding = encoding_of(headers)
    if encoding not in ("", "gzip", "x-gzip", "deflate"):
        _close(raw)
        raise MalformedAnswer(
            f"{what} with Content-Encoding {encoding[:40]!r}, which akslbctl did not ask for (it asks for gzip)"
        )
    inflater = _Inflater(encoding)
    out = bytearray()
    received = 0
    try:
        while True:
            if deadline is not None:
                deadline.check(what.replace(" answered ", " answering ", 1))
            try:
                chunk = raw.read(CHUNK, decode_content=False)
            except (IncompleteRead, ProtocolError):
                expected = _content_length(headers)
                got = f" ({received} of {expected} bytes)" if expected is not None and received < expected else ""
                raise AnswerCutShort(f"{what} with a body cut short{got}: the connection closed mid-answer") from None
            except Urllib3Error as exc:
                if "timed out" in str(exc).lower():
                    from akslbctl.errors import Unreachable

                    raise Unreachable(f"{what} too slowly: no byte came within the request timeout") from None
                raise AnswerCutShort(f"{what} with a body cut short ({type(exc).__name__})") from None
            except OSError as exc:  # a reset or timeout below urllib3
                raise AnswerCutShort(f"{what} with a body cut short ({exc.strerror or type(exc).__name__})") from None
            if not chunk:
                break
            received += len(chunk)
            try:
                for piece in inflater.feed(chunk):
                    if len(out) + len(piece) > limit:
                        raise AnswerTooLarge(
                            f"{what} with more than {_mib(limit)}"
                            + (f" once decompressed ({_mib(received)} received)" if encoding else "")
                            + f": not read further (akslbctl reads at most {_mib(limit)} per answer)"
                        )
                    out += piece
            except zlib.error:
                raise MalformedAnswer(f"{what} with a body that does not decode as {encoding}") from None
    except BaseException:
        _close(raw)  # the rest of the answer is not wanted: the connection is not reused
        raise
    finally:
        _release(raw)
    if encoding and not inflater.ended and out:
        raise AnswerCutShort(f"{what} with a {encoding} body cut short (its compressed stream does not end)")
    return out  # a bytearray: no second copy of up to MAX_BODY_BYTES


def _content_length(headers: Any) -> int | None:
    try:
        value = headers.get("Content-Length") if headers is not None else None
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _close(raw: Any) -> None:
    with contextlib.suppress(Exception):  # closing a broken connection: nothing more to say
        raw.close()


def _release(raw: Any) -> None:
    release = getattr(raw, "release_conn", None)
    if release is not None:
        with contextlib.suppress(Exception):
            release()


# -- JSON --------------------------------------------------------------------------------------

_KEEP = b"{}[],:"
_DROP = bytes(b for b in range(256) if b not in _KEEP)
_DROP_BUT_QUOTES = bytes(b for b in range(256) if b not in _KEEP + b'"')
# Structure, quotes, and every character a JSON escape may start with or be: "\" and what follows it.
_DROP_BUT_ESCAPES = bytes(b for b in range(256) if b not in _KEEP + b'"\\/bfnrtu')
_STEP = bytes.maketrans(b"{[}]", b"\x01\x01\xff\xff")
_PARENS = bytes.maketrans(b"{[}]", b"(())")
_QUICK_PASSES = 32  # real answers nest far less deep; a deeper one takes the exact walk
_SMALL = 8 * 1024  # bytes: below this an answer may hold too few brackets to nest too deep (counted first)


def shape(body: bytes | bytearray) -> tuple[int, int]:
    """(depth, tokens) of a JSON text, from its bytes, in C-speed steps (about as long as parsing):
    strings are set aside — escaped backslashes and quotes first, then every other stretch between
    quotes — so that their brackets and commas count for nothing; then brackets and separators are
    counted. Tokens are the values and members: every ``,``, ``:``, ``{`` and ``[``."""
    if len(body) <= _SMALL:
        openers = body.count(b"{") + body.count(b"[")
        if openers <= MAX_JSON_DEPTH:  # a small answer: the raw counts (an upper bound) will do
            return openers, openers + body.count(b",") + body.count(b":")
    # Escaped backslashes and quotes go first (they are never structure); then all but quotes and
    # structure; then every string: in what is left an empty pair "" is a string without structure
    # inside (JSON never puts two strings side by side), gone in one pass — only strings that hold
    # brackets, commas or colons are left to split out.
    # The escapes are taken out of a first skeleton that keeps, besides structure and quotes, every
    # character an escape is made of (\ " / b f n r t u): in valid JSON each backslash is followed by
    # one of them, so the pairs stand in it as in the body, at a third of its size. (A backslash before
    # anything else is not JSON, which the parser then says.)
    skeleton = body.translate(None, _DROP_BUT_ESCAPES)
    if b"\\" in skeleton:
        skeleton = skeleton.replace(b"\\\\", b"").replace(b'\\"', b"")
    skeleton = skeleton.translate(None, _DROP_BUT_QUOTES)
    skeleton = skeleton.replace(b'""', b"")
    outside = b"".join(skeleton.split(b'"')[0::2]) if b'"' in skeleton else skeleton
    bare = outside.translate(None, _DROP)
    brackets = bare.translate(None, b",:")
    openers = brackets.count(b"{") + brackets.count(b"[")
    tokens = len(bare) - (len(brackets) - openers)
    if openers <= MAX_JSON_DEPTH:
        return openers, tokens  # cannot be deeper than that
    # Peel the innermost pairs, all of them at once per pass: a document of depth d is gone after d
    # passes, each at C speed over what is left (a page of AKS Nodes, depth ~10: a few ms). Only a deep
    # or unbalanced text takes the exact walk below, which makes a Python int of every bracket.
    nested = brackets.translate(_PARENS)
    passes = 0
    while nested and passes < _QUICK_PASSES:
        shorter = nested.replace(b"()", b"")
        if len(shorter) == len(nested):
            break  # unbalanced: the walk says how deep it went
        nested, passes = shorter, passes + 1
    if not nested:
        return passes, tokens
    steps = memoryview(brackets.translate(_STEP)).cast("b")  # +1 for an opener, -1 for a closer
    return max(accumulate(steps)), tokens


def check_shape(
    body: bytes | bytearray, what: str, *, max_depth: int = MAX_JSON_DEPTH, max_tokens: int = MAX_JSON_TOKENS
) -> None:
    """Raise :class:`AnswerTooLarge` when a JSON body nests deeper than ``max_depth`` or holds more
    than ``max_tokens`` values — before anything parses it."""
    depth, tokens = shape(body)
    if tokens > max_tokens:
        raise AnswerTooLarge(f"{what} with more than {max_tokens:,} JSON values: not parsed")
    if depth > max_depth:
        raise AnswerTooLarge(f"{what} with JSON nested more than {max_depth} levels deep: not parsed")


def loads(body: bytes, what: str, *, max_depth: int = MAX_JSON_DEPTH, max_tokens: int = MAX_JSON_TOKENS) -> Any:
    """The JSON document of an answer's body, or one line saying what it is instead.

    ``what`` as for :func:`read_body`. Raises :class:`AnswerTooLarge` (too deep, too many values) or
    :class:`MalformedAnswer` (empty, not JSON, not UTF-8).
    """
    if not body.strip():
        raise MalformedAnswer(f"{what} with an empty body where a JSON document belongs")
    check_shape(body, what, max_depth=max_depth, max_tokens=max_tokens)
    try:
        return json.loads(body)
    except RecursionError:
        raise AnswerTooLarge(f"{what} with JSON nested too deep to parse") from None
    except UnicodeDecodeError:
        raise MalformedAnswer(f"{what} with a body that is not UTF-8 JSON") from None
    except ValueError:
        raise MalformedAnswer(f"{what} with something that is not JSON") from None


def retry_after_seconds(value: Any, *, now: float | None = None) -> float | None:
    """The seconds a ``Retry-After`` header asks to wait: delta-seconds ("3", "1.5") or an HTTP-date
    ("Wed, 21 Oct 2026 07:28:00 GMT", counted from now). None when absent, unreadable or negative;
    a date in the past is 0."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        import time
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None or when.tzinfo is None:
            return None
        seconds = max(0.0, when.timestamp() - (time.time() if now is None else now))
    if seconds != seconds or seconds < 0 or seconds == float("inf"):
        return None
    return seconds


def url_port_problem(url: str) -> str | None:
    """What is wrong with the port of ``url`` (a digit that is not ASCII 0–9 — ``٨٠``, ``８０`` —, a
    sign, a port out of 1–65535), or None when it has none or a good one. Python's and urllib3's URL
    parsers disagree on such ports; akslbctl refuses them before either is asked."""
    from urllib.parse import urlsplit

    try:
        netloc = urlsplit(url).netloc
    except ValueError as exc:
        return str(exc)
    host_port = netloc.rpartition("@")[2]
    if host_port.startswith("["):
        _, _, rest = host_port.partition("]")
        port = rest[1:] if rest.startswith(":") else None
    else:
        port = host_port.rpartition(":")[2] if ":" in host_port else None
    if port is None or port == "":
        return None
    if not (port.isascii() and port.isdigit()):
        return f"has a port that is not a decimal number: {port[:20]!r}"
    if not 0 < int(port) <= 65535:
        return f"has a port out of 1–65535: {port[:20]}"
    return None


def tls_problem(text: str) -> str | None:
    """Which certificate or TLS problem an SSL error's text names, in words; None: not a TLS error."""
    t = text.lower()
    if "ssl" not in t and "certificate" not in t and "tls" not in t and "handshake" not in t:
        return None
    if "certificate has expired" in t or "certificate expired" in t:
        return "its certificate has expired"
    if "not yet valid" in t:
        return "its certificate is not yet valid (check this machine's clock)"
    if "hostname mismatch" in t or "ip address mismatch" in t or "doesn't match" in t or "not valid for" in t:
        return "its certificate is for another name (wrong name)"
    if (
        "unable to get local issuer" in t
        or "self-signed certificate" in t
        or "self signed certificate" in t
        or "unknown ca" in t
        or "unable to get issuer" in t
    ):
        return "its certificate is signed by a CA that is not trusted (unknown CA)"
    if "certificate required" in t or "alert handshake failure" in t and "certificate" in t:
        return "it asks for a client certificate that was not given"
    if "wrong version number" in t or "record layer failure" in t or "unknown protocol" in t or "http request" in t:
        return "it does not speak TLS on that port (plain http?)"
    if "certificate verify failed" in t:
        return "its certificate could not be verified"
    if "eof occurred in violation of protocol" in t or "unexpected eof" in t:
        return "it closed the connection during the TLS handshake"
    return "the TLS handshake failed"


_read = threading.local()


def count(size: int) -> None:
    """Add ``size`` bytes to this thread's tally of answer bodies read (ARM's pager reads its pages
    in the SDK, out of sight of the list: the tally tells the list what its pages took)."""
    _read.total = getattr(_read, "total", 0) + size


def tally() -> int:
    """This thread's bytes of answer bodies read so far."""
    return getattr(_read, "total", 0)


class ListBudget:
    """What one list (its pages followed by continue token or nextLink) may still take.

    :meth:`page` is called once per page read, with its item count and body size; the list is cut —
    :class:`AnswerTooLarge`, one line naming the bound — when it passes :data:`MAX_LIST_PAGES`,
    :data:`MAX_LIST_ITEMS` or :data:`MAX_LIST_BYTES`.
    """

    def __init__(
        self,
        what: str,
        *,
        pages: int = MAX_LIST_PAGES,
        items: int = MAX_LIST_ITEMS,
        size: int = MAX_LIST_BYTES,
    ) -> None:
        self.what = what
        self.max_pages, self.max_items, self.max_bytes = pages, items, size
        self.pages = self.items = self.bytes = 0

    def page(self, items: int, size: int = 0) -> None:
        self.pages += 1
        self.items += items
        self.bytes += size
        if self.pages > self.max_pages:
            why = f"more than {self.max_pages:,} pages"
        elif self.items > self.max_items:
            why = f"more than {self.max_items:,} items"
        elif self.bytes > self.max_bytes:
            why = f"more than {_mib(self.max_bytes)}"
        else:
            return
        raise AnswerTooLarge(
            f"{self.what} keeps going: cut at {why} (akslbctl reads at most {self.max_pages:,} pages, "
            f"{self.max_items:,} items, {_mib(self.max_bytes)} of one list)"
        )
