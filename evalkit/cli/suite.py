"""`evalkit suite ...`: list, show, validate, import, publish, diff and export suites."""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from typing import Any

import click

from evalkit.errors import ImmutableError, NotFoundError, ProblemsFound
from evalkit.outputs import atomic_output, check_creatable, check_output
from evalkit.suite.checks import NEAR_DUPLICATE_THRESHOLD, check_items
from evalkit.suite.diff import FieldChange, SuiteDiff, diff_versions
from evalkit.suite.draft import (
    ITEMS_FILE,
    SPEC_FILE,
    read_draft,
    read_items_jsonl,
    write_items_jsonl,
)
from evalkit.suite.exporting import EXPORT_FORMATS, export_version, output_kind
from evalkit.suite.importing import ColumnMapping, import_items
from evalkit.suite.manifest import MANIFEST_FILE, item_counts
from evalkit.suite.records import LocatedItem
from evalkit.suite.store import DEFAULT_SUITES_DIR, SuiteStore, SuiteVersion, load_version_dir

SUITES_DIR_ENV = "EVALKIT_SUITES_DIR"


def _store(ctx: click.Context) -> SuiteStore:
    return ctx.find_object(SuiteStore) or SuiteStore()


def _counts_line(items: list[Any]) -> str:
    counts = item_counts(items)
    per_task = ", ".join(f"{task} {sum(c.values())}" for task, c in counts.items())
    return f"{len(items)} items ({per_task})"


@click.group()
@click.option(
    "--suites-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: os.environ.get(SUITES_DIR_ENV, str(DEFAULT_SUITES_DIR)),
    show_default=f"${SUITES_DIR_ENV} or ./suites",
    help="Folder of published suites.",
)
@click.pass_context
def suite(ctx: click.Context, suites_dir: Path) -> None:
    """Work with evaluation suites: drafts and published versions."""
    ctx.obj = SuiteStore(suites_dir)


@suite.command("list")
@click.pass_context
def list_suites(ctx: click.Context) -> None:
    """List published suites with their latest version."""
    store = _store(ctx)
    names = store.names()
    if not names:
        click.echo(f"no published suites in {store.root}")
        return
    for name in names:
        latest = store.load(name)
        versions = ", ".join(store.versions(name))
        langs = ", ".join(f"{k} {v}" for k, v in latest.manifest.languages.items())
        click.echo(
            f"{name:<16} {latest.version:<5} [{versions}]  "
            f"{_counts_line(list(latest.items))}; {langs}"
        )


@suite.command()
@click.argument("ref")
@click.pass_context
def show(ctx: click.Context, ref: str) -> None:
    """Show a published version: REF is NAME (latest) or NAME@VERSION, with the smallest
    difference between two models that its size can resolve."""
    from evalkit.analysis.coverage import suite_coverage, thinnest_lines
    from evalkit.scoring.power import power_lines, suite_power

    store = _store(ctx)
    version = store.load(ref)
    m = version.manifest
    click.echo(f"{m.ref}  {m.content_hash}")
    click.echo(f"published {m.created_at.isoformat()} by {m.author}; parent {m.parent or '-'}")
    click.echo(f"versions: {', '.join(store.versions(m.name))}")
    click.echo(f"\n{m.suite.description.strip()}\n")
    click.echo("goals:")
    for goal in m.suite.goals:
        click.echo(f"  {goal.capability}: {goal.description}")
    click.echo("items:")
    for task, counts in m.item_counts.items():
        metrics = ", ".join(m.suite.tasks[task].metrics) if task in m.suite.tasks else "-"
        split = ", ".join(f"{s} {n}" for s, n in counts.items())
        click.echo(f"  {task:<15} {split:<20} metrics: {metrics}")
    click.echo("languages: " + ", ".join(f"{k} {v}" for k, v in m.languages.items()))
    click.echo(f"changelog: {m.changelog.strip()}")
    click.echo("power:")
    for line in power_lines(suite_power(version)):
        click.echo(f"  {line}")
    click.echo("coverage, thinnest slices (evalkit suite analyze: with the runs' disagreement):")
    for line in thinnest_lines(suite_coverage(version)):
        click.echo(f"  {line}")


def _validate_path(path: Path, threshold: float) -> str:
    """Validate one path of any kind; return a one-line success or raise ProblemsFound."""
    if path.is_dir() and (path / MANIFEST_FILE).is_file():
        version = load_version_dir(path)
        located = [
            LocatedItem(it, f"{path / ITEMS_FILE}:{i}") for i, it in enumerate(version.items, 1)
        ]
        problems = check_items(located, version.spec, threshold, str(path / MANIFEST_FILE))
        if problems:
            raise ProblemsFound(problems, f"{path}: {len(problems)} problem(s)")
        digest = version.manifest.content_hash[:19]
        return f"{path}: ok, {version.ref}, {_counts_line(list(version.items))}, {digest}..."
    if path.is_dir() and (path / SPEC_FILE).exists():
        draft, problems = read_draft(path, threshold)
        if problems or draft is None:
            raise ProblemsFound(problems, f"{path}: {len(problems)} problem(s)")
        return f"{path}: ok, draft of {draft.spec.name!r}, {_counts_line(draft.plain_items)}"
    if path.is_dir():
        versions = SuiteStore(path.parent).versions(path.name)
        if versions:  # a suite folder: every version
            return "\n".join(_validate_path(path / v, threshold) for v in versions)
        names = SuiteStore(path).names()
        if names:  # a store root: every suite
            return "\n".join(_validate_path(path / name, threshold) for name in names)
        raise NotFoundError(
            f"{path}: not a draft (no {SPEC_FILE}), a version, a suite or a suites folder"
        )
    if path.is_file():
        located, problems = read_items_jsonl(path)
        problems += check_items(located, None, threshold)
        if problems:
            raise ProblemsFound(problems, f"{path}: {len(problems)} problem(s)")
        return f"{path}: ok, {_counts_line([li.item for li in located])}"
    raise NotFoundError(f"{path}: no such file or folder")


@suite.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--near-duplicate-threshold",
    type=click.FloatRange(0.0, 1.01),
    default=NEAR_DUPLICATE_THRESHOLD,
    show_default=True,
    help="Similarity (char n-gram cosine) at which two items count as near-duplicates; "
    "above 1 turns the check off.",
)
def validate(paths: tuple[Path, ...], near_duplicate_threshold: float) -> None:
    """Check suites and report every problem as FILE:LINE: FIELD: REASON.

    PATHS may be a suite folder (every version), a version folder, a draft folder
    (suite.yaml + items.jsonl) or an items .jsonl file. Nothing is written.
    """
    problems = []
    for path in paths:
        try:
            click.echo(_validate_path(path, near_duplicate_threshold))
        except ProblemsFound as e:
            problems += e.problems
    if problems:
        raise ProblemsFound(problems, f"{len(problems)} problem(s) found; nothing was written")


@suite.command("import")
@click.argument("source", type=click.Path(path_type=Path))
@click.option(
    "--out",
    "-o",
    type=click.Path(path_type=Path),
    required=True,
    help="Items file to write (JSONL).",
)
@click.option(
    "--mapping",
    "mapping_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="YAML column mapping (columns, defaults, mcq_answer, id_prefix).",
)
@click.option(
    "--column",
    "columns",
    type=(str, str),
    multiple=True,
    metavar="FIELD COLUMN",
    help="Read item FIELD from source COLUMN (repeatable).",
)
@click.option(
    "--task",
    type=click.Choice(["mcq", "classification", "extraction", "qa", "generation", "dialogue"]),
    help="Task type of every row without a task column.",
)
@click.option("--language", help="Language of every row without a language column (en, zh, ...).")
@click.option("--split", type=click.Choice(["test", "dev"]), help="Split of rows without one.")
@click.option("--author", help="provenance.author of rows without one.")
@click.option("--source-name", "source_name", help="provenance.source of rows without one.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "tsv", "excel", "json", "jsonl", "parquet", "hf"]),
    help="Source format (default: from the file suffix; a folder is a saved HF dataset).",
)
@click.option("--hf-split", help="Split of a saved DatasetDict to read.")
@click.option("--skip-invalid", is_flag=True, help="Write the good rows even if some rows are bad.")
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
def import_(
    source: Path,
    out: Path,
    mapping_file: Path | None,
    columns: tuple[tuple[str, str], ...],
    task: str | None,
    language: str | None,
    split: str | None,
    author: str | None,
    source_name: str | None,
    fmt: Any,
    hf_split: str | None,
    skip_invalid: bool,
    force: bool,
) -> None:
    """Import items from CSV/TSV/Excel/JSON/JSONL/parquet or a saved Hugging Face dataset.

    Every bad row is reported with its line or row; by default nothing is written unless all
    rows are good.
    """
    hint = "use --force to overwrite or choose another --out"
    check_output(out, "file", overwrite=force, overwrite_hint=hint)
    mapping = ColumnMapping.from_file(mapping_file) if mapping_file else ColumnMapping()
    cli_defaults: dict[str, Any] = {
        k: v for k, v in {"task": task, "language": language, "split": split}.items() if v
    }
    provenance = {k: v for k, v in {"author": author, "source": source_name}.items() if v}
    if provenance:
        cli_defaults["provenance"] = {**mapping.defaults.get("provenance", {}), **provenance}
    mapping = mapping.model_copy(
        update={
            "columns": {**mapping.columns, **dict(columns)},
            "defaults": {**mapping.defaults, **cli_defaults},
        }
    )
    items, problems = import_items(source, mapping, fmt, hf_split)
    if problems and (not skip_invalid or not items):
        raise ProblemsFound(problems, f"{len(problems)} problem(s); nothing was written")
    for problem in problems:
        click.echo(f"skipped: {problem}", err=True)
    with atomic_output(out) as staging:
        write_items_jsonl(staging, [li.item for li in items])
    skipped = f", {len(problems)} problem(s) skipped" if problems else ""
    click.echo(f"wrote {out}: {_counts_line([li.item for li in items])}{skipped}")


@suite.command()
@click.argument("draft_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--author", required=True, help="Who publishes this version.")
@click.option("--changelog", "-m", required=True, help="What changed and why.")
@click.option("--version", "version", help="Version to create (default: next after the latest).")
@click.option(
    "--near-duplicate-threshold",
    type=click.FloatRange(0.0, 1.01),
    default=NEAR_DUPLICATE_THRESHOLD,
    show_default=True,
)
@click.pass_context
def publish(
    ctx: click.Context,
    draft_dir: Path,
    author: str,
    changelog: str,
    version: str | None,
    near_duplicate_threshold: float,
) -> None:
    """Publish a draft folder (suite.yaml + items.jsonl) as a new immutable version."""
    check_creatable(_store(ctx).root)
    draft, problems = read_draft(draft_dir, near_duplicate_threshold)
    if problems or draft is None:
        raise ProblemsFound(
            problems, f"{len(problems)} problem(s) in {draft_dir}; nothing was published"
        )
    published = _store(ctx).publish(draft, author=author, changelog=changelog, version=version)
    click.echo(
        f"published {published.ref}: {_counts_line(list(published.items))}, "
        f"{published.manifest.content_hash} -> {published.path}"
    )


def _short(value: Any, width: int = 70) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def _common_prefix_length(a: str, b: str) -> int:
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )


def _changed_span(old: str, new: str, context: int = 24) -> tuple[str, str]:
    """The differing middle of two long strings with a little context, for a readable diff."""
    prefix = _common_prefix_length(old, new)
    suffix = _common_prefix_length(old[prefix:][::-1], new[prefix:][::-1])
    start = max(0, prefix - context)

    def cut(s: str) -> str:
        end = min(len(s), len(s) - suffix + context)
        return ("…" if start else "") + s[start:end] + ("…" if end < len(s) else "")

    return cut(old), cut(new)


def _print_change(change: FieldChange) -> None:
    old, new = change.old, change.new
    if isinstance(old, str) and isinstance(new, str) and "\n" in old + new:
        click.echo(f"    {change.path}: (lines changed)")
        lines = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
        for line in lines:
            if line[:1] in "+-" and not line.startswith(("+++", "---")):
                click.echo(f"      {line}")
    elif isinstance(old, str) and isinstance(new, str) and max(len(old), len(new)) > 70:
        old, new = _changed_span(old, new)
        click.echo(f"    {change.path}: {json.dumps(old, ensure_ascii=False)}")
        click.echo(f"    {' ' * len(change.path)}  -> {json.dumps(new, ensure_ascii=False)}")
    else:
        click.echo(f"    {change.path}: {_short(old)} -> {_short(new)}")


def _print_diff(diff: SuiteDiff) -> None:
    click.echo(f"{diff.old_ref} -> {diff.new_ref}")
    click.echo(f"added ({len(diff.added)}): {', '.join(diff.added) or '-'}")
    click.echo(f"removed ({len(diff.removed)}): {', '.join(diff.removed) or '-'}")
    click.echo(f"changed ({len(diff.changed)}):")
    for change in diff.changed:
        click.echo(f"  {change.id}")
        for c in change.changes:
            _print_change(c)
    click.echo(f"suite spec changed ({len(diff.spec_changes)}):")
    for c in diff.spec_changes:
        _print_change(c)


@suite.command()
@click.argument("old_ref")
@click.argument("new_ref")
@click.option("--json", "as_json", is_flag=True, help="Print the diff as JSON.")
@click.pass_context
def diff(ctx: click.Context, old_ref: str, new_ref: str, as_json: bool) -> None:
    """List items added, removed and changed (field by field) from OLD_REF to NEW_REF."""
    store = _store(ctx)
    result = diff_versions(store.load(old_ref), store.load(new_ref))
    if as_json:
        import dataclasses

        click.echo(json.dumps(dataclasses.asdict(result), ensure_ascii=False, indent=2))
    else:
        _print_diff(result)


@suite.command()
@click.argument("ref")
@click.argument("target", required=False, type=click.Path(path_type=Path), metavar="[DIR]")
@click.option(
    "--to",
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default="jsonl",
    show_default=True,
    help="jsonl, parquet, hf (datasets.Dataset folder), draft (suite.yaml + items.jsonl), "
    "lm-eval (task folder for --include_path) or inspect (Inspect AI task file).",
)
@click.option("--out", "-o", type=click.Path(path_type=Path), help="Where to write (or DIR).")
@click.pass_context
def export(ctx: click.Context, ref: str, target: Path | None, fmt: Any, out: Path | None) -> None:
    """Export a published version (REF: NAME or NAME@VERSION) to DIR (or --out).

    lm-eval and inspect exports send evalkit's own prompts; a README.md beside them lists
    what the other harness does differently.
    """
    if (target is None) == (out is None):
        raise click.UsageError("give where to write: DIR or --out, once")
    out = target or out
    assert out is not None
    if Path(ref).is_dir():
        raise click.UsageError(
            f"{ref} is a folder (a draft?): only published versions are exported; "
            f"publish it first (evalkit suite publish {ref})"
        )
    check_output(out, output_kind(fmt), exists_error=ImmutableError)
    version: SuiteVersion = _store(ctx).load(ref)
    export_version(version, fmt, out)
    click.echo(f"exported {version.ref} ({len(version.items)} items) as {fmt} -> {out}")


@suite.command()
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option(
    "--upgrade",
    is_flag=True,
    help="First record files, parent_hash and version_hash in manifests published before "
    "them (format 1), after checking their content hash; nothing else changes.",
)
@click.pass_context
def verify(ctx: click.Context, names: tuple[str, ...], upgrade: bool) -> None:
    """Verify every version of each NAME (default: every suite) and the chain between them.

    Checks each version's content hash, version hash, files and folder name, each parent's
    version hash, and lists leftovers of interrupted publishes. Prints one ok line per good
    version and every problem as PATH: FIELD: REASON; exits 1 if there is any.
    """
    from evalkit.suite.verify import verify_store

    lines, problems = verify_store(_store(ctx).root, list(names), upgrade=upgrade)
    for line in lines:
        click.echo(line)
    if problems:
        raise ProblemsFound(problems, f"{len(problems)} problem(s) found")
