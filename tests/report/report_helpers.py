"""A scored run whose item text and model output are hostile, and a browser check of a report."""

from __future__ import annotations

from pathlib import Path

from run_folders import write_run_folder

from drafts import ITEMS, SPEC, write_draft
from evalkit.scoring import score_run
from evalkit.suite.draft import read_draft
from evalkit.suite.store import SuiteStore

HOSTILE = (
    "<script>window.__pwned = 1</script></table></td>\"quoted\" 'single' "
    '<img src=x onerror="window.__pwned = 2"> {{ 7*7 }} \x00\x07 end'
)
HOSTILE_ITEM = {
    "id": "x1",
    "task": "mcq",
    "language": "en",
    "tags": ["<b>tag</b>"],
    "provenance": {"author": "mallory"},
    "question": HOSTILE,
    "choices": ["</table><script>window.__pwned = 3</script>", "合同成立"],
    "answer": "B",
}
MODELS = [
    {"name": "base", "kind": "base", "stage": "base", "starting_point": None, "baseline": None},
    {"name": "chat", "kind": "chat", "stage": "chat", "starting_point": None, "baseline": None},
]
OUTPUTS = {
    "base": {"m1": "B", "e1": '{"party_a": "北京某公司"}', "x1": HOSTILE},
    "chat": {"m1": "A", "e1": "甲方是北京某公司", "x1": "B"},
}


def hostile_run(root: Path) -> Path:
    """Publish a suite with a hostile item, write two models' outputs, and score them."""
    suites = SuiteStore(root / "suites")
    draft, problems = read_draft(write_draft(root / "draft", SPEC, [*ITEMS, HOSTILE_ITEM]))
    assert draft is not None and not problems, problems
    version = suites.publish(draft, author="t", changelog="hostile")
    run = write_run_folder(
        root / "run",
        suites.root,
        [version],
        MODELS,
        lambda model, _version, item, _k: OUTPUTS[model][item.id],
        environment={"platform": "<script>window.__pwned = 4</script>", "python": "3"},
    )
    score_run(run, resamples=200)
    return run
