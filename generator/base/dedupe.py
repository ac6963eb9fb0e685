"""Never twice: the same story, by its address or by its words.

Two texts are near duplicates when the sets of their five-word runs (shingles) overlap by at
least `threshold` (Jaccard similarity), estimated with MinHash signatures and found among many
with locality-sensitive hashing (datasketch). Wire copy that two outlets ran with a new first
sentence, or a headline changed, stays above 0.8 for an article of a few hundred words; two
different reports on the same event share few five-word runs and stay below 0.2.

Addresses are compared after `same_url` drops what does not change the page: the fragment,
tracking parameters (utm_*, fbclid ...), `www.`, a default port and a trailing slash.
"""

from __future__ import annotations

import functools
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SHINGLE = 5  # words in a shingle
PERMUTATIONS = 128  # of a MinHash signature: the estimate is within about 0.04 of the truth
SCHEME = "affine32"  # datasketch's hashing of 32-bit values
MIN_WORDS = 30  # shorter texts (a title, a teaser) are never called duplicates
_WORD = re.compile(r"\w+")
_MARKUP = re.compile(r"<[^>]*>|\]\([^)]*\)|&\w+;")  # tags, Markdown link targets, entities
_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|yclid|mc_cid|mc_eid|ref|ref_src|at_medium|at_campaign)$")


@dataclass(frozen=True, slots=True)
class Match:
    key: str  # the article that matches (its path below content/)
    similarity: float  # 1.0 for the same address
    how: str  # "same address" or "near duplicate"

    def describe(self) -> str:
        if self.how == "same address":
            return f"its address is already the source of {self.key}"
        return f"it is a near duplicate of {self.key} ({self.similarity:.0%} of its text in common)"


def words(text: str) -> list[str]:
    """The words of Markdown or HTML text, in lowercase, without link targets or tags."""
    return _WORD.findall(_MARKUP.sub(" ", text).casefold())


def signature(text: str) -> Any | None:
    """The MinHash signature of a text's shingles; None for a text too short to compare.

    Each word is hashed once (CRC-32, the same in every run, so that a pair is a near duplicate in
    every run or in none), and a shingle's hash is made from its words' hashes with NumPy.
    """
    import numpy as np
    from datasketch import MinHash

    found = words(text)
    if len(found) < MIN_WORDS:
        return None
    codes = np.fromiter((_code(word) for word in found), dtype=np.uint64, count=len(found))
    runs = len(found) - SHINGLE + 1
    hashes = np.zeros(runs, dtype=np.uint64)
    for offset in range(SHINGLE):  # wraps around at 2**64, as intended
        hashes = hashes * np.uint64(1_000_003) + codes[offset : offset + runs]
    minhash = MinHash(num_perm=PERMUTATIONS, hashfunc=int, permutations=_permutations(), scheme=SCHEME)
    minhash.update_batch(np.unique(hashes >> np.uint64(32)))
    return minhash


_CODES: dict[str, int] = {}


def _code(word: str) -> int:
    code = _CODES.get(word)
    if code is None:
        code = _CODES[word] = zlib.crc32(word.encode())
    return code


@functools.cache
def _permutations() -> Any:
    """The random permutations every signature shares (made once: they cost 0.1 ms each)."""
    from datasketch import MinHash

    return MinHash(num_perm=PERMUTATIONS, hashfunc=int, scheme=SCHEME).permutations


def same_url(url: str) -> str:
    """The form of an address that two links to the same page share."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().removeprefix("www.")
    port = f":{parts.port}" if parts.port and parts.port not in (80, 443) else ""
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query) if not _TRACKING.match(k)))
    return urlunsplit(("", host + port, parts.path.rstrip("/") or "/", query, ""))


class StoryIndex:
    """Articles by their source addresses and their text, to find what an import would repeat."""

    def __init__(self, threshold: float) -> None:
        from datasketch import MinHashLSH

        self.threshold = threshold
        self.urls: dict[str, str] = {}
        self.signatures: dict[str, Any] = {}
        # Candidates from a lower threshold, then each one's estimate checked: banding alone misses
        # some pairs just above the threshold (about 7% of pairs at 0.9 for a threshold of 0.8).
        self.lsh = MinHashLSH(threshold=max(0.3, threshold - 0.3), num_perm=PERMUTATIONS)

    def add(self, key: str, text: str, urls: Iterable[str] = ()) -> None:
        for url in urls:
            self.urls.setdefault(same_url(url), key)
        found = signature(text)
        if found is not None and key not in self.signatures:
            self.signatures[key] = found
            self.lsh.insert(key, found)

    def find(self, text: str, urls: Iterable[str] = ()) -> Match | None:
        """The article with one of these source addresses, else the closest near duplicate."""
        for url in urls:
            if url and same_url(url) in self.urls:
                return Match(self.urls[same_url(url)], 1.0, "same address")
        found = signature(text)
        if found is None:
            return None
        near = [(found.jaccard(self.signatures[k]), k) for k in self.lsh.query(found)]
        near = [(s, k) for s, k in near if s >= self.threshold]
        if not near:
            return None
        similarity, key = max(near)
        return Match(key, similarity, "near duplicate")


def near_pairs(texts: Iterable[tuple[str, str]], threshold: float) -> list[tuple[str, str, float]]:
    """Every pair of near-duplicate texts among `(key, text)`, each once, most similar first."""
    index = StoryIndex(threshold)
    pairs = []
    for key, text in texts:
        found = signature(text)
        if found is None:
            continue
        for other in index.lsh.query(found):
            similarity = found.jaccard(index.signatures[other])
            if similarity >= threshold:
                pairs.append((*sorted((other, key)), similarity))
        index.signatures[key] = found
        index.lsh.insert(key, found)
    return sorted(pairs, key=lambda p: (-p[2], p[0], p[1]))


def source_urls(meta: Any) -> Iterator[str]:
    """The addresses in an article's `source:`/`sources:` front matter, whatever its form."""
    stack = (
        [meta.get(k) for k in ("source", "sources", "canonical_url", "canonical")]
        if isinstance(meta, dict)
        else []
    )
    while stack:
        value = stack.pop()
        if isinstance(value, str) and value.strip().startswith(("http://", "https://")):
            yield value.strip()
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.append(value.get("url"))
