"""Hostile reports: a scored run whose every free string carries markup, report data with a
payload in every string, and what a page must show when none of it ran."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from run_folders import write_run_folder

from drafts import ITEMS, SPEC, write_draft
from evalkit.scoring import score_run
from evalkit.suite.draft import read_draft
from evalkit.suite.store import SuiteStore

# Each payload, if it ran, leaves a mark: window.__pwned, the page title, or a #pwned element.
# Numbers 1-99 are these payloads', 100+ the hostile run's names'.
PAYLOADS = (
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 2">',
    "<svg onload=window.__pwned=3>",
    '"><img src=x onerror=window.__pwned=4>',
    "'><svg/onload=window.__pwned=5>",
    "</script><script>window.__pwned = 6</script>",
    "</title><script>document.title = 'pwned'</script>",
    '<iframe srcdoc="<script>parent.__pwned = 8</script>"></iframe>',
    "<details open ontoggle=window.__pwned=9>",
    "<input autofocus onfocus=window.__pwned=10>",
    "<img src=x onerror=document.body.append(Object.assign("
    "document.createElement('b'),{id:'pwned'}))>",
    '<a id=pwned-link href="javascript:window.__pwned=12">link</a>',
    '<base href="http://example.invalid/">',
    "<style>body { display: none }</style>",
    "<b>bold</b> &amp; &lt; {{ 7*7 }} %{x} ${7*7} <!-- ]]> \u2028 `x`",
)
HOSTILE = " ".join(PAYLOADS)
SCRIPT_PAYLOAD = "<script>window.__pwned = 1</script>"  # shown verbatim, as text

# Names an engineer cannot stop a checkpoint folder or a run folder from having ("/" is the
# only character a folder name cannot hold).
BASE = "base<img src=x onerror=window.__pwned=101>"
CHAT = "chat\"'><svg onload=window.__pwned=102> &amp; %{y} {{ 7*7 }}"
RUN_ID = "run<img src=x onerror=window.__pwned=103>"
TAG = "<b>tag</b><img src=x onerror=window.__pwned=104>"

HOSTILE_ITEM = {
    "id": "x1",
    "task": "mcq",
    "language": "en",
    "tags": [TAG, HOSTILE],
    "provenance": {"author": "mallory"},
    "question": HOSTILE + " \x00\x07 end",
    "choices": ["</table><script>window.__pwned = 105</script>", "合同成立"],
    "answer": "B",
}
MODELS = [
    {
        "name": BASE,
        "kind": "base",
        "stage": "base",
        "starting_point": None,
        "baseline": None,
        "path": "/models/<svg onload=window.__pwned=106>",
        "fingerprint": "sha256:<img src=x onerror=window.__pwned=107>",
    },
    {"name": CHAT, "kind": "chat", "stage": "chat", "starting_point": None, "baseline": None},
]
OUTPUTS = {
    BASE: {"m1": "B", "e1": '{"party_a": "北京某公司"}', "x1": HOSTILE + " \x00\x07 end"},
    CHAT: {"m1": "A", "e1": "甲方是北京某公司", "x1": "B"},
}
ENVIRONMENT = {"platform": "<script>window.__pwned = 108</script>", "python": HOSTILE}


def hostile_run(root: Path) -> Path:
    """Publish a suite with a hostile item, write two hostile models' outputs into a run folder
    with a hostile name and environment, and score them."""
    suites = SuiteStore(root / "suites")
    draft, problems = read_draft(write_draft(root / "draft", SPEC, [*ITEMS, HOSTILE_ITEM]))
    assert draft is not None and not problems, problems
    version = suites.publish(draft, author="t", changelog="hostile")
    run = write_run_folder(
        root / RUN_ID,
        suites.root,
        [version],
        MODELS,
        lambda model, _version, item, _k: OUTPUTS[model][item.id],
        environment=ENVIRONMENT,
    )
    score_run(run, resamples=200)
    return run


def fill_every_section(data: dict[str, Any]) -> dict[str, Any]:
    """`build_report_data`'s output with the sections a small run leaves empty filled in (notes,
    corpus signatures, a starting-point comparison, run times), so their strings are on the
    page too."""
    summary, manifest = data["summary"], data["manifest"]
    base, chat = (m["name"] for m in summary["models"][:2])
    suite = summary["by_suite"][0]["suite"]
    manifest.update(started_at="2026-01-05T10:00:00", ended_at="2026-01-05T10:05:00")
    summary["notes"] = [f"{chat}: a note naming a model"]
    summary["corpus"] = [
        {
            "model": chat,
            "suite": suite,
            "task": "extraction",
            "metric": "chrf",
            "value": 0.5,
            "low": 0.4,
            "high": 0.6,
            "n": 1,
            "signature": "nrefs:1|case:mixed|eff:yes|nc:6|nw:0",
        }
    ]
    summary["starting_points"] = [
        {
            "model": chat,
            "stage": "sft",
            "starting_model": base,
            "suite": suite,
            "role": role,
            "difference": 0.1,
            "low": -0.1,
            "high": 0.3,
            "p_value": 0.4,
            "p_adjusted": 0.8,
            "mde": 0.3,
            "significant": False,
            "verdict": "inconclusive",
        }
        for role in ("domain", "general")
    ]
    health = data["item_health"][0]
    health["suspects"] = [
        {"item_id": "i1", "gold": "A", "suspected": "B", "evidence": f"3 models answer B ({chat})"}
    ]
    health["flagged"] = [
        {"item_id": "i2", "task": "mcq", "difficulty": 1.0, "flags": ["no_information: all right"]}
    ]
    health["notes"] = [f"a note on {suite}"]
    return data


# Strings the template or the charts branch on, not show: a poisoned one would change what is
# drawn rather than test escaping.
_FIXED_VALUES = {"headline", "correction", "role", "cluster_by"}
_NAME_KEYED = {"metrics", "delta", "reasons", "clustering", "unreadable"}
_FIXED_NAMES = {"score"}


def poison(data: dict[str, Any]) -> dict[str, Any]:
    """`build_report_data`'s output with every payload appended to every string it holds
    (suite, model, metric, task, tag names, ids, verdicts, notes, environment, item text...):
    the same string always gets the same suffix, so every lookup between them still holds."""
    counter = itertools.count()
    seen: dict[str, str] = {}

    def mark(text: str) -> str:
        if text in _FIXED_NAMES:
            return text
        if text not in seen:
            seen[text] = f"{text} {HOSTILE} #{next(counter)}"
        return seen[text]

    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {
                (mark(k) if key in _NAME_KEYED else k): walk(v, "!" if k in _FIXED_VALUES else k)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        if isinstance(value, str) and key != "!":
            return mark(value)
        return value

    return walk(data)


def assert_nothing_ran(page: Any, title: str) -> None:
    """No payload left its mark, and no markup from the run became an element."""
    assert page.evaluate("window.__pwned") is None
    assert page.title() == title
    marks = page.evaluate(
        """() => ({
          pwned: document.querySelectorAll('#pwned, #pwned-link').length,
          handlers: document.querySelectorAll(
            '[onerror], [onload], [ontoggle], [onfocus], iframe, base, img').length,
          scripts: document.querySelectorAll('script:not([type])').length,
          hidden: getComputedStyle(document.body).display === 'none',
        })"""
    )
    assert marks == {"pwned": 0, "handlers": 0, "scripts": 2, "hidden": False}, marks
