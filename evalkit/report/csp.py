"""The report page's Content-Security-Policy: only the page's own scripts run.

Every executable inline script is allowed by the sha256 of its text, so markup that reached
the page through an escaping bug (an inline `<script>`, an `onerror=` handler, a
`javascript:` URL) is refused by the browser. Hashes, not a nonce: the page is a static file,
and the same run gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

# Where the script parser would leave the element early, or change its text before hashing.
_UNSAFE_IN_SCRIPT = re.compile(r"</script|<!--|\r|\x00", re.IGNORECASE)

# 'unsafe-inline' for styles only: plotly.js and DataTables set inline styles. No script can
# run from a style, and no style can fetch anything (default-src 'none', images and fonts only
# from data: URLs). blob: for scripts: the DataTables bundle is an ES module that the page's
# own script imports from a blob URL made of the page's bytes (and revokes at once).
_POLICY = (
    "default-src 'none'; script-src {scripts} blob:; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; connect-src 'none'; base-uri 'none'; "
    "form-action 'none'"
)


def script_hash(text: str) -> str:
    """The CSP source that allows an inline script with exactly this text."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def check_inline_script(name: str, text: str) -> str:
    """`text`, refused if the HTML parser would not hand it to the browser unchanged."""
    found = _UNSAFE_IN_SCRIPT.search(text)
    if found:
        raise ValueError(f"{name} cannot be inlined in a <script>: it contains {found.group()!r}")
    return text


def content_security_policy(scripts: Iterable[str]) -> str:
    """The policy that allows these inline scripts, and no other script."""
    return _POLICY.format(scripts=" ".join(script_hash(s) for s in scripts))
