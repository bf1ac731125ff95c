"""The report's tokenizer table: how well the run's tokenizers cover each domain suite.

Models that share a tokenizer (a base, its checkpoints and adapters, as their tokenizer files
say) share a row. A model whose folder is gone since the run is left out, and said so.
"""

from __future__ import annotations

import hashlib
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


def _tokenizer_identity(path: Path) -> str | None:
    """A digest of the folder's tokenizer files; None when it has none."""
    digest = hashlib.sha256()
    found = False
    for name in TOKENIZER_FILES:
        if (path / name).is_file():
            digest.update(name.encode() + b"\0" + (path / name).read_bytes())
            found = True
    return digest.hexdigest() if found else None


def _shared_tokenizers(models: list[dict[str, Any]]) -> tuple[list[tuple[str, Any]], list[str]]:
    """(names sharing a tokenizer, the tokenizer) per distinct tokenizer, and notes."""
    try:
        from transformers import AutoTokenizer
    except ImportError:
        return [], ["tokenizers need transformers (installed with evalkit's engines)"]
    groups: dict[str, list[dict[str, Any]]] = {}
    notes = []
    for model in models:
        path = Path(model.get("path") or "")
        identity = _tokenizer_identity(path) if model.get("path") and path.is_dir() else None
        if identity is None:
            notes.append(f"{model['name']}: no tokenizer files at {model.get('path')}")
            continue
        groups.setdefault(identity, []).append(model)
    loaded = []
    for members in groups.values():
        first = members[0]
        try:
            tokenizer = AutoTokenizer.from_pretrained(
                first["path"], trust_remote_code=bool(first.get("trust_remote_code"))
            )
        except (OSError, ValueError) as e:
            notes.append(f"{first['name']}: its tokenizer does not load ({type(e).__name__})")
            continue
        loaded.append((", ".join(m["name"] for m in members), tokenizer))
    return loaded, notes


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def tokenizer_tables(manifest: dict[str, Any], versions: dict[str, SuiteVersion]) -> dict[str, Any]:
    """Per domain suite of the run: each tokenizer's fertility there and on the run's general
    suite, and the domain terms it splits most."""
    from evalkit.analysis.tokenizer_coverage import tokenizer_coverage

    domain = [v for v in versions.values() if not is_general_suite(v.name)]
    general = next((v for v in versions.values() if is_general_suite(v.name)), None)
    if not domain:
        return {"tables": [], "notes": []}
    tokenizers, notes = _shared_tokenizers(manifest.get("models", []))
    tables = []
    for version in domain:
        rows = []
        for coverage in tokenizer_coverage(tokenizers, version, general):
            g = coverage.general
            mean = coverage.mean_term_pieces
            rows.append(
                {
                    "models": coverage.model,
                    "vocabulary": coverage.vocabulary,
                    "zh": _rate(coverage.domain.zh_per_char),
                    "zh_general": _rate(g.zh_per_char if g else None),
                    "en": _rate(coverage.domain.en_per_word),
                    "en_general": _rate(g.en_per_word if g else None),
                    "term_pieces": "" if mean is None else f"{mean:.1f}",
                    "worst": [f"{t.term} ({len(t.pieces)})" for t in coverage.terms[:SHOWN_TERMS]],
                }
            )
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
