"""Text normalisation shared by duplicate detection and (later) answer matching.

NFKC folds full-width forms to half-width (`ＡＢＣ１２３` → `ABC123`, `，` → `,`) and
compatibility characters; case-folding and whitespace collapsing make "the same text"
mean what a reader would mean by it.
"""

from __future__ import annotations

import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """NFKC, case-folded, whitespace collapsed to single spaces and trimmed."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()
