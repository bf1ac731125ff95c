"""Every edit of a published store is caught by every load: the store, the CLI, scoring."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from chain_cases import CASES, FIELD_EDITS, RESEALED_EDITS, STAGING_CASES, Edit
from click.testing import CliRunner

from evalkit.cli import cli
from evalkit.errors import IntegrityError
from evalkit.scoring import load_run
from evalkit.suite.manifest import Manifest
from evalkit.suite.store import SuiteStore, SuiteVersion

LOCATED = re.compile(r"^(?P<path>[^:\s]+(:\d+)?): (?P<field>[\w.\[\]-]+): \S.*$")


def run_cli(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback: a bug, not a user's error
    return result.exit_code, result.stdout, result.stderr


def assert_located(message: str, store: SuiteStore) -> None:
    assert "\n" not in message and "Traceback" not in message, message
    match = LOCATED.match(message)
    assert match, message
    assert Path(match["path"].split(":")[0]).is_relative_to(store.root), message


def test_the_cases_cover_every_manifest_field() -> None:
    assert set(FIELD_EDITS) == set(Manifest.model_fields)
    assert set(RESEALED_EDITS) <= set(Manifest.model_fields)


def test_an_untouched_chain_loads_everywhere(
    chain: SuiteStore, run_dir: Path, tmp_path: Path
) -> None:
    for ref in ("mini@v1", "mini@v2", "mini@v3", "mini"):
        assert chain.load(ref).ref == ref if "@" in ref else "mini@v3"
    assert chain.load("mini@v3").manifest.parent_hash == chain.load("mini@v2").manifest.version_hash
    for args in surfaces(chain, run_dir, tmp_path):
        code, _, err = run_cli(*args)
        assert code == 0, (args, err)


def surfaces(store: SuiteStore, run: Path, tmp_path: Path) -> list[list[str | Path]]:
    """Every command that loads a published version."""
    at = ["suite", "--suites-dir", store.root]
    return [
        [*at, "show", "mini@v2"],
        [*at, "show", "mini"],
        [*at, "validate", store.root / "mini" / "v2"],
        [*at, "validate", store.root / "mini"],
        [*at, "validate", store.root],
        [*at, "export", "mini@v1", "--out", tmp_path / "export.jsonl"],
        [*at, "list"],
        ["score", run, "--suites-dir", store.root, "--resamples", "100"],
    ]


@pytest.mark.parametrize(("case", "edit"), CASES, ids=[case for case, _ in CASES])
def test_every_load_detects_the_edit(
    case: str, edit: Edit, chain: SuiteStore, run_dir: Path, tmp_path: Path
) -> None:
    edit(chain.root / "mini")
    for ref in ("mini@v1", "mini@v2", "mini@v3", "mini"):
        with pytest.raises(IntegrityError) as caught:
            chain.load(ref)
        assert_located(str(caught.value), chain)
    with pytest.raises(IntegrityError):
        load_run(run_dir, chain.root)
    for args in surfaces(chain, run_dir, tmp_path):
        code, out, err = run_cli(*args)
        assert code == 1 and "Traceback" not in err, (args, out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {chain.root}"), (args, err)
    assert not (tmp_path / "export.jsonl").exists()


def test_the_loaded_version_comes_first_in_the_message(chain: SuiteStore) -> None:
    for name in ("items.jsonl", "manifest.json"):
        (chain.root / "mini" / "v2" / name).chmod(0o644)
    (chain.root / "mini" / "v2" / "notes.txt").write_text("x", encoding="utf-8")
    (chain.root / "mini" / "v1" / "extra.txt").write_text("x", encoding="utf-8")
    with pytest.raises(IntegrityError) as caught:
        chain.load("mini@v2")
    message = str(caught.value)
    assert message.startswith(f"{chain.root / 'mini' / 'v2' / 'notes.txt'}: -: unknown file")
    assert message.endswith(
        f"(and 1 more problem: `evalkit suite --suites-dir {chain.root} verify mini` lists them)"
    )


def test_a_first_version_copied_over_a_later_one_says_so(chain: SuiteStore) -> None:
    shutil.rmtree(chain.root / "mini" / "v2")
    shutil.copytree(chain.root / "mini" / "v1", chain.root / "mini" / "v2")
    with pytest.raises(IntegrityError, match=r"v2/manifest.json: version: is 'v1', but the folder"):
        chain.load("mini@v2")


def test_the_manifest_alone_checks_its_own_hash(chain: SuiteStore) -> None:
    path = chain.root / "mini" / "v2" / "manifest.json"
    path.chmod(0o644)
    path.write_text(path.read_text(encoding="utf-8").replace("li.na", "wang.fang"), "utf-8")
    with pytest.raises(IntegrityError, match=r"manifest.json: version_hash: does not match"):
        chain.manifest("mini@v2")
    assert chain.manifest("mini@v1").version == "v1"  # the chain is load()'s to check


def test_a_run_records_the_version_hash(chain: SuiteStore) -> None:
    version: SuiteVersion = chain.load("mini@v2")
    assert version.run_record() == {
        "name": "mini",
        "version": "v2",
        "content_hash": version.manifest.content_hash,
        "version_hash": version.manifest.version_hash,
    }


@pytest.mark.parametrize(("case", "edit"), STAGING_CASES, ids=[c for c, _ in STAGING_CASES])
def test_a_killed_publish_s_leftover_is_reported_by_verify_not_loads(
    case: str, edit: Edit, chain: SuiteStore, run_dir: Path
) -> None:
    edit(chain.root / "mini")
    for ref in ("mini@v1", "mini@v3", "mini"):
        assert chain.load(ref).manifest.name == "mini"
    load_run(run_dir, chain.root)
    code, _, err = run_cli("suite", "--suites-dir", chain.root, "verify", "mini")
    assert code == 1 and "leftover staging folder of an interrupted publish" in err
