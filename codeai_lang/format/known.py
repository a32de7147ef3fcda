"""Texts known to be formatted: `codeai fmt`'s use of the result cache (`files/cache.py`).

`fmt --check` over a formatted tree should cost what reading and hashing it costs, as
`validate` over a cached tree does. So when a text formats to itself, a small mark is stored
under the text's key; a later run finding the mark skips the parse and the layout. The key is
the one `ResultCache` computes (the tool's fingerprint: its version and the stat of every
module and grammar file, so changed formatter code never trusts old marks) salted with what
else the layout depends on: the `--dsl-version` override (without one, the version comes from
the text itself, which is hashed) and a tag that keeps these entries apart from `validate`'s.
Everything else of the cache is `ResultCache`'s: atomic entries (safe under concurrent runs),
checked before use (a corrupt entry is a miss), failures costing only the cache.
"""

from __future__ import annotations

from codeai_lang.files.cache import ResultCache

# The stored value, and the tag in every key; bump the tag when the layout rules change in a
# way the tool fingerprint cannot see (it sees every module, so this is for safety only).
_TAG = "fmt-formatted-v1"
_MARK = ("codeai-fmt", "formatted")


class FormattedCache:
    """Marks of texts that `format_text` leaves unchanged under one `--dsl-version`."""

    def __init__(self, version: str | None, cache: ResultCache | None = None) -> None:
        self.version = version
        self.cache = cache if cache is not None else ResultCache()

    def key(self, text: str) -> str:
        return self.cache.key(text.encode("utf-8", "surrogatepass"), _TAG, self.version)

    def is_formatted(self, key: str) -> bool:
        return self.cache.load(key) == _MARK

    def mark(self, key: str) -> None:
        self.cache.store(key, _MARK)
