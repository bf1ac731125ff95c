"""`evalkit suite verify`, interrupted publishes, and what a run's recorded hashes protect."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from chain_cases import CASES, Edit, read, write
from click.testing import CliRunner

from drafts import ITEMS, write_draft
from evalkit.cli import cli
from evalkit.errors import IntegrityError, NotFoundError
from evalkit.scoring import load_run
from evalkit.suite.draft import SuiteDraft, read_draft, write_items_jsonl
from evalkit.suite.manifest import content_hash, file_digest, item_counts, language_counts
from evalkit.suite.store import SuiteStore
from evalkit.suite.verify import LEFTOVER, publish_lock

LOCATED = re.compile(r"^[^:\s]+(:\d+)?: [\w.\[\]-]+: \S.*$")


def run_cli(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def verify(store: SuiteStore, *args: str) -> tuple[int, str, str]:
    return run_cli("suite", "--suites-dir", store.root, "verify", *args)


def draft(tmp_path: Path, tag: str) -> SuiteDraft:
    items = [{**ITEMS[0], "tags": [tag]}, *ITEMS[1:]]
    result, problems = read_draft(write_draft(tmp_path / f"draft-{tag}", items=items))
    assert result is not None and not problems
    return result


def test_an_untouched_chain_verifies_one_line_per_version(chain: SuiteStore) -> None:
    for args in (("mini",), ()):
        code, out, err = verify(chain, *args)
        assert code == 0 and err == ""
        lines = out.splitlines()
        assert [line.split(": ok, ")[0] for line in lines] == [
            str(chain.root / "mini" / v) for v in ("v1", "v2", "v3")
        ]
        assert all(re.search(r": ok, mini@v\d, 3 items, version sha256:", x) for x in lines)


@pytest.mark.parametrize(("case", "edit"), CASES, ids=[case for case, _ in CASES])
def test_verify_reports_every_edit(case: str, edit: Edit, chain: SuiteStore) -> None:
    edit(chain.root / "mini")
    code, _, err = verify(chain, "mini")
    assert code == 1 and "Traceback" not in err
    *problems, summary = err.strip().splitlines()
    assert problems and all(LOCATED.match(line) for line in problems), err
    assert summary == f"error: {len(problems)} problem(s) found"


def test_verify_lists_all_problems_and_names(chain: SuiteStore) -> None:
    (chain.root / "mini" / ".v4-staging-a1").mkdir()
    (chain.root / "mini" / ".v5-staging-b2").mkdir()
    path = chain.root / "mini" / "v1" / "manifest.json"
    path.chmod(0o644)
    path.write_text(path.read_text(encoding="utf-8").replace("li.na", "someone"), "utf-8")
    code, out, err = verify(chain)
    assert code == 1
    assert f"{chain.root / 'mini' / '.v4-staging-a1'}: -: {LEFTOVER}" in err
    assert f"{chain.root / 'mini' / '.v5-staging-b2'}: -: {LEFTOVER}" in err
    assert f"{path}: version_hash: does not match" in err
    assert "mini@v2" in out and "mini@v1" not in out  # the good ones still get their ok line


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("mini@v2",), 2, "error: bad suite name 'mini@v2': verify checks whole suites"),
        (("nosuch",), 1, "error: no suite 'nosuch' in"),
    ],
)
def test_verify_bad_names(
    chain: SuiteStore, args: tuple[str, ...], code: int, message: str
) -> None:
    got, _, err = verify(chain, *args)
    assert got == code and err.startswith(message)


def test_verify_requires_every_parent(chain: SuiteStore) -> None:
    """A store may hold only later versions (a load accepts it); verify wants the whole chain."""
    shutil.rmtree(chain.root / "mini" / "v1")
    assert chain.load("mini@v2").version == "v2"
    code, _, err = verify(chain, "mini")
    manifest = chain.root / "mini" / "v2" / "manifest.json"
    assert code == 1 and f"{manifest}: parent: v1 is not in the store" in err


# --- publishing: leftovers of interrupted publishes ---------------------------------------


def test_publish_removes_leftovers_of_interrupted_publishes(
    chain: SuiteStore, tmp_path: Path
) -> None:
    for name in (".v4-staging-x1", ".v4-9q2"):
        (chain.root / "mini" / name).mkdir()
        (chain.root / "mini" / name / "items.jsonl").write_text("{", encoding="utf-8")
        (chain.root / "mini" / name / "items.jsonl").chmod(0o444)
    assert chain.load("mini@v3").version == "v3"  # nothing was published: loads go on
    assert verify(chain, "mini")[0] == 1  # but verify reports the leftovers
    published = chain.publish(draft(tmp_path, "next"), author="a", changelog="v4")
    assert published.manifest.parent_hash == chain.load("mini@v3").manifest.version_hash
    assert sorted(p.name for p in (chain.root / "mini").iterdir()) == ["v1", "v2", "v3", "v4"]
    assert verify(chain, "mini")[0] == 0


def test_a_publish_in_progress_is_not_a_leftover(chain: SuiteStore) -> None:
    staging = chain.root / "mini" / ".v4-staging-live"
    with publish_lock(chain.root / "mini"):
        staging.mkdir()
        assert chain.load("mini").version == "v3"  # the publisher still holds the lock
        assert verify(chain, "mini")[0] == 0
    assert chain.load("mini").version == "v3"
    code, _, err = verify(chain, "mini")
    assert code == 1 and LEFTOVER in err


def test_a_killed_publish_leaves_no_version_and_the_next_publish_cleans_up(
    chain: SuiteStore, tmp_path: Path
) -> None:
    folder = write_draft(tmp_path / "killed", items=[{**ITEMS[0], "tags": ["x"]}, *ITEMS[1:]])
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "import evalkit.suite.store as s\n"
        "from evalkit.suite.draft import read_draft\n"
        "real = s.write_items_jsonl\n"
        "def slow(path, items):\n"
        "    real(path, items)\n"
        "    print('staged', flush=True)\n"
        "    time.sleep(120)\n"
        "s.write_items_jsonl = slow\n"
        "draft, _ = read_draft(Path(sys.argv[2]))\n"
        "s.SuiteStore(sys.argv[1]).publish(draft, author='a', changelog='killed')\n"
    )
    args = [sys.executable, "-c", script, str(chain.root), str(folder)]
    with subprocess.Popen(args, stdout=subprocess.PIPE, text=True) as child:
        try:
            assert child.stdout is not None and child.stdout.readline() == "staged\n"
            assert chain.load("mini").version == "v3"  # in progress: readers are not disturbed
        finally:
            child.kill()
    (leftover,) = [p for p in (chain.root / "mini").iterdir() if p.name.startswith(".v4-")]
    assert chain.versions("mini") == ["v1", "v2", "v3"]
    assert chain.load("mini@v1").version == "v1"  # nothing was published: loads go on
    code, _, err = verify(chain, "mini")
    assert code == 1 and f"{leftover}: -: {LEFTOVER}" in err
    chain.publish(draft(tmp_path, "again"), author="a", changelog="v4")
    assert not leftover.exists() and verify(chain, "mini")[0] == 0


def test_publish_refuses_to_build_on_a_tampered_chain(chain: SuiteStore, tmp_path: Path) -> None:
    data = read(chain.root / "mini" / "v2")
    write(chain.root / "mini" / "v2", {**data, "author": "someone"}, reseal=True)
    with pytest.raises(IntegrityError, match=r"v3/manifest.json: parent_hash: is sha256:"):
        chain.publish(draft(tmp_path, "next"), author="a", changelog="v4")
    assert chain.versions("mini") == ["v1", "v2", "v3"]
    assert [p.name for p in (chain.root / "mini").iterdir() if p.name.startswith(".")] == []


# --- runs: the recorded hashes --------------------------------------------------------------


def _reseal_latest(store: SuiteStore, *, new_items: bool) -> None:
    """Rewrite mini@v3 consistently (content, files, counts, hashes): what someone who knows
    the format, or a restore from another copy of the store, would leave. The store cannot
    tell; the run's recorded version hash can."""
    folder = store.root / "mini" / "v3"
    data = read(folder)
    if new_items:
        version = store.load("mini@v3")
        changed = [version.items[0].model_copy(update={"tags": ["changed"]}), *version.items[1:]]
        items = folder / "items.jsonl"
        items.chmod(0o644)
        write_items_jsonl(items, changed)
        data.update(
            content_hash=content_hash(version.spec, changed),
            item_counts=item_counts(changed),
            languages=language_counts(changed),
            files={"items.jsonl": file_digest(items)},
        )
    else:
        data["author"] = "someone.else"
    write(folder, data, reseal=True)


@pytest.mark.parametrize("new_items", [False, True], ids=["manifest", "manifest+items"])
def test_a_run_refuses_a_resealed_version(
    chain: SuiteStore, run_dir: Path, new_items: bool
) -> None:
    _reseal_latest(chain, new_items=new_items)
    assert chain.load("mini@v3").version == "v3"  # consistent: the store alone cannot tell
    with pytest.raises(IntegrityError, match=r"suites\[0\]\.version_hash: mini@v3 in .* is not"):
        load_run(run_dir, chain.root)
    code, _, err = run_cli("score", run_dir, "--suites-dir", chain.root)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: {run_dir / 'manifest.json'}: suites[0].version_hash: ")


def test_runs_recorded_before_version_hashes_are_checked_by_content(
    chain: SuiteStore, run_dir: Path
) -> None:
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    for record in manifest["suites"]:
        del record["version_hash"]
    (run_dir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    assert list(load_run(run_dir, chain.root)[1]) == ["mini@v3"]
    _reseal_latest(chain, new_items=False)
    assert list(load_run(run_dir, chain.root)[1]) == ["mini@v3"]  # same content: accepted
    _reseal_latest(chain, new_items=True)
    with pytest.raises(IntegrityError, match=r"suites\[0\]\.content_hash: mini@v3 in"):
        load_run(run_dir, chain.root)


def test_a_run_on_a_rolled_back_store_is_refused(chain: SuiteStore, run_dir: Path) -> None:
    shutil.rmtree(chain.root / "mini" / "v3")
    with pytest.raises(NotFoundError, match="suite 'mini' has no version 'v3'"):
        load_run(run_dir, chain.root)
    code, _, err = run_cli("score", run_dir, "--suites-dir", chain.root)
    assert code == 1 and "Traceback" not in err
