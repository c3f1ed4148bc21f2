"""The one masking of the run's credentials in anything akslbctl writes (errors, notes, --debug
lines, case files): a secret is replaced by ``***`` wherever it stands — whole, or any long fragment
of it. A message cut short (``…[:200]``) may hold the first half of a token; a JWT's signature
segment alone is a secret; both are masked, whatever was cut before the mask was applied.

Pure and dependency-free (completion and error paths import it).
"""

from __future__ import annotations

from collections.abc import Iterable

MIN_SECRET = 6  # shorter values are not masked (they would mask ordinary words)
GRAM = 8  # a fragment is found by a GRAM-long piece of it; any fragment of 2*GRAM-1 chars is always found
MIN_FRAGMENTED = 16  # secrets at least this long are masked by fragment too


def mask(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret, and every fragment of ``2*GRAM-1`` or more characters of one, as ``***``."""
    values = sorted({s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET}, key=len, reverse=True)
    if not values or not text:
        return text
    for s in values:
        if s in text:
            text = text.replace(s, "***")
    long = [s for s in values if len(s) >= MIN_FRAGMENTED]
    if not long or len(text) < GRAM:
        return text
    grams: dict[str, list[str]] = {}
    for s in long:
        for i in range(len(s) - GRAM + 1):
            grams.setdefault(s[i : i + GRAM], []).append(s)
    cuts: list[tuple[int, int]] = []
    p = 0
    n = len(text)
    while p + GRAM <= n:
        owners = grams.get(text[p : p + GRAM])
        if owners is None:
            p += GRAM
            continue
        best = (p, p)
        for s in owners:
            a, b = p, p + GRAM
            while b < n and text[a : b + 1] in s:
                b += 1
            while a > 0 and text[a - 1 : b] in s:
                a -= 1
            if b - a > best[1] - best[0]:
                best = (a, b)
        a, b = best
        if cuts and a <= cuts[-1][1]:
            cuts[-1] = (cuts[-1][0], max(b, cuts[-1][1]))
        else:
            cuts.append((a, b))
        p = max(b, p + 1)
    if not cuts:
        return text
    out, last = [], 0
    for a, b in cuts:
        out.append(text[last:a])
        out.append("***")
        last = b
    out.append(text[last:])
    return "".join(out)
