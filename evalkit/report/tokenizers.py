"""The report's tokenizer table: how well the run's tokenizers cover each domain suite.

Models that share a tokenizer (a base, its checkpoints and adapters, as their tokenizer files
say) share a row. A model whose folder is gone since the run is left out, and said so.

Loading tokenizers (importing transformers) takes seconds, most of a report's time: each row
is kept in the run folder's `tokenizers.json`, keyed by the digest of the tokenizer's files
and the suite versions' content hashes, so a report written again (after judging, re-scoring,
or `evalkit report`) loads no tokenizer that has not changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from evalkit.scoring.starting_points import is_general_suite
from evalkit.suite.store import SuiteVersion

TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer.model",
    "vocab.json",
    "merges.txt",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
)
SHOWN_TERMS = 5
CACHE_FILE = "tokenizers.json"
CACHE_FORMAT = 1  # bump when a row's meaning changes: older rows are then computed again


def _tokenizer_identity(path: Path) -> str | None:
    """A digest of the folder's tokenizer files; None when it has none."""
    digest = hashlib.sha256()
    found = False
    for name in TOKENIZER_FILES:
        if (path / name).is_file():
            digest.update(name.encode() + b"\0" + (path / name).read_bytes())
            found = True
    return digest.hexdigest() if found else None


def _tokenizer_groups(
    models: list[dict[str, Any]],
) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """The models grouped by the digest of their tokenizer files, and notes."""
    groups: dict[str, list[dict[str, Any]]] = {}
    notes = []
    for model in models:
        path = Path(model.get("path") or "")
        identity = _tokenizer_identity(path) if model.get("path") and path.is_dir() else None
        if identity is None:
            notes.append(f"{model['name']}: no tokenizer files at {model.get('path')}")
            continue
        groups.setdefault(identity, []).append(model)
    return groups, notes


def _load(groups: dict[str, list[dict[str, Any]]], notes: list[str]) -> list[tuple[str, Any]]:
    """(digest, tokenizer) of each group's first model whose tokenizer loads."""
    try:
        from transformers import AutoTokenizer
    except ImportError:
        notes.append("tokenizers need transformers (installed with evalkit's engines)")
        return []
    loaded = []
    for identity, members in groups.items():
        first = members[0]
        try:
            tokenizer = AutoTokenizer.from_pretrained(
                first["path"], trust_remote_code=bool(first.get("trust_remote_code"))
            )
        except (OSError, ValueError) as e:
            notes.append(f"{first['name']}: its tokenizer does not load ({type(e).__name__})")
            continue
        loaded.append((identity, tokenizer))
    return loaded


def _read_cache(path: Path | None) -> dict[str, dict[str, Any]]:
    if path is None:
        return {}
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none yet, or unreadable: computed again
        return {}
    if not isinstance(cached, dict) or cached.get("format") != CACHE_FORMAT:
        return {}
    rows = cached.get("rows")
    return rows if isinstance(rows, dict) else {}


def _write_cache(path: Path | None, rows: dict[str, dict[str, Any]]) -> None:
    """Replace the cache file whole (a reader never sees half of it); a folder that cannot
    be written just keeps no cache."""
    if path is None:
        return
    try:
        fd, temporary = tempfile.mkstemp(prefix=".tokenizers-", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"format": CACHE_FORMAT, "rows": rows}, out, ensure_ascii=False)
        os.replace(temporary, path)
    except OSError:
        return


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _row(coverage: Any) -> dict[str, Any]:
    g = coverage.general
    mean = coverage.mean_term_pieces
    return {
        "vocabulary": coverage.vocabulary,
        "zh": _rate(coverage.domain.zh_per_char),
        "zh_general": _rate(g.zh_per_char if g else None),
        "en": _rate(coverage.domain.en_per_word),
        "en_general": _rate(g.en_per_word if g else None),
        "term_pieces": "" if mean is None else f"{mean:.1f}",
        "worst": [f"{t.term} ({len(t.pieces)})" for t in coverage.terms[:SHOWN_TERMS]],
    }


def tokenizer_tables(
    manifest: dict[str, Any], versions: dict[str, SuiteVersion], run_dir: Path | None = None
) -> dict[str, Any]:
    """Per domain suite of the run: each tokenizer's fertility there and on the run's general
    suite, and the domain terms it splits most (rows kept in run_dir's tokenizers.json)."""
    from evalkit.analysis.tokenizer_coverage import tokenizer_coverage

    domain = [v for v in versions.values() if not is_general_suite(v.name)]
    general = next((v for v in versions.values() if is_general_suite(v.name)), None)
    if not domain:
        return {"tables": [], "notes": []}
    groups, notes = _tokenizer_groups(manifest.get("models", []))
    cache_path = run_dir / CACHE_FILE if run_dir is not None else None
    cached = _read_cache(cache_path)
    general_hash = general.manifest.content_hash if general else "-"

    def key(identity: str, version: SuiteVersion) -> str:
        return f"{identity}:{version.manifest.content_hash}:{general_hash}"

    missing = {i: m for i, m in groups.items() if any(key(i, v) not in cached for v in domain)}
    if missing:
        tokenizers = _load(missing, notes)
        for version in domain:
            for coverage in tokenizer_coverage(tokenizers, version, general):
                cached[key(coverage.model, version)] = _row(coverage)
        # only this report's rows: tokenizers or suites since replaced are dropped
        shown = {key(i, v) for i in groups for v in domain}
        _write_cache(cache_path, {k: row for k, row in cached.items() if k in shown})
    tables = []
    for version in domain:
        rows = [
            {"models": ", ".join(m["name"] for m in members), **cached[key(identity, version)]}
            for identity, members in groups.items()
            if key(identity, version) in cached
        ]
        source = "glossary" if version.spec.glossary else "frequent n-grams"
        tables.append(
            {
                "suite": version.ref,
                "general": general.ref if general else None,
                "terms": source,
                "rows": rows,
            }
        )
    return {"tables": tables, "notes": notes}
