"""`evalkit demo` end to end: build the models, check contamination, run, score, summarise.

Each step is evalkit's own public machinery (the contamination check, `execute_run`,
`score_run`, `write_report`, `print_summary`); the demo adds only the tiny models and their
data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from evalkit.demo.build import ENGINE, MODEL_NAMES, SWEEP_NAME, DemoModels, build_demo_models
from evalkit.demo.judge import JUDGE_NAME, prepare_judge
from evalkit.demo.paths import (
    CHAT_FILE,
    DOMAIN_SUITE,
    GENERAL_SUITE,
    LAW_SFT_FILE,
    WRITING_SUITE,
)
from evalkit.demo.ratings import stamp_ratings
from evalkit.demo.train import SCHEDULES
from evalkit.errors import UsageError

PROMPT_VARIANTS = 2  # the suites' own prompts and one rewording with MCQ options rotated
MAX_NEW_TOKENS = 48  # the longest gold answer (a JSON object) is about 20 tokens
JUDGE_TOKENS = 256  # a judge's JSON for three criteria, reasons capped to fit (judging.schemas)
DEMO_SUITES = (DOMAIN_SUITE, GENERAL_SUITE, WRITING_SUITE)


@dataclass(frozen=True)
class DemoOptions:
    """What `evalkit demo` was asked to do."""

    schedule: str = "full"
    out: Path = Path("reports")
    models_root: Path = Path(".evalkit/demo/models")
    cache: Path = Path(".evalkit/cache.sqlite")
    suites_dir: Path = Path("suites")
    run_id: str | None = None
    rebuild: bool = False


@dataclass
class DemoResult:
    run_dir: Path
    report: Path
    models: DemoModels
    summary: dict[str, Any]
    contaminated: int
    seconds: dict[str, float]


def check_training_data(suites_dir: Path, echo: Callable[[str], Any]) -> int:
    """The contamination check of the fine-tuning data against the demo suites; prints it."""
    from evalkit.contamination import ContaminationConfig, check_contamination

    config = ContaminationConfig(
        suite=list(DEMO_SUITES),
        data=[str(LAW_SFT_FILE), str(CHAT_FILE)],
        suites_dir=str(suites_dir),
    )
    report = check_contamination(config)
    for line in report.lines():
        echo(line)
    if report.contaminated:
        echo("warning: scores on the items above measure memorisation, not skill")
    return len(report.contaminated)


def run_models(
    models_dir: Path, options: DemoOptions, judged: bool, echo: Callable[[str], Any]
) -> Path:
    """`evalkit run` of the four models on the demo suites, with vLLM on the CPU, then (when
    the judge is installed) the judge's rubric ratings of the open-ended answers."""
    from evalkit.judging.config import JudgeConfig
    from evalkit.judging.run import judge_run
    from evalkit.runner.config import RunConfig
    from evalkit.runner.run import execute_run
    from evalkit.sensitivity.config import PromptVariantsConfig

    run_id = options.run_id or "demo-" + datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    config = RunConfig(
        suite=list(DEMO_SUITES),
        model=[*MODEL_NAMES, SWEEP_NAME],
        models_dir=str(models_dir),
        suites_dir=str(options.suites_dir),
        max_new_tokens=MAX_NEW_TOKENS,
        out=str(options.out),
        cache=str(options.cache),
        run_id=run_id,
        prompts=PromptVariantsConfig(variants=PROMPT_VARIANTS),
        judge=JudgeConfig(
            model=JUDGE_NAME if judged else None, mode="both", max_new_tokens=JUDGE_TOKENS
        ),
    )
    run_dir = execute_run(config, echo=echo).run_dir
    if judged:
        judge_run(run_dir, config, echo=echo)
    return run_dir


def format_table(summary: dict[str, Any]) -> list[str]:
    """Format adherence per model and suite: the share of answers in the required format."""
    lines = ["format adherence (strict answer format):"]
    for row in summary["by_suite"]:
        value = row["metrics"].get("format_adherence", {}).get("value")
        if value is not None:
            lines.append(f"  {row['model']:<16} {row['suite']:<18} {value:.3f}")
    return lines


def starting_point_table(summary: dict[str, Any]) -> list[str]:
    """Each SFT checkpoint against its starting model: gain on domain, change on general."""
    lines = ["SFT vs starting point (score difference, 95% CI, adjusted p, MDE):"]
    for s in summary["starting_points"]:
        lines.append(
            f"  {s['model']:<9} vs {s['starting_model']:<5} {s['role']:<7} {s['suite']:<18} "
            f"{s['difference']:+.3f} [{s['low']:+.3f}, {s['high']:+.3f}] "
            f"p_adj={s['p_adjusted']:.3g} MDE {s['mde']:.3f}: {s['verdict']}"
        )
    return lines


def finish_demo(
    run_dir: Path, report: Path, summary: dict[str, Any], echo: Callable[[str], Any]
) -> None:
    """The end of the demo: what its results say and where they are."""
    from evalkit.scoring import summary_lines

    echo("")
    for line in summary_lines(summary):
        echo(line)
    echo("")
    for line in format_table(summary) + starting_point_table(summary):
        echo(line)
    echo("")
    echo(f"run folder: {run_dir}")
    echo(f"report: {report}")
    echo(f"open in a browser: {report.resolve().as_uri()}")


def run_demo(options: DemoOptions, echo: Callable[[str], Any] = print) -> DemoResult:
    """Build (or reuse) the models, check contamination, run, score, report and summarise."""
    from evalkit.history.index import register_run
    from evalkit.report import write_report
    from evalkit.scoring import score_run
    from evalkit.scoring.config import ScoringConfig

    if options.schedule not in SCHEDULES:
        raise UsageError(f"unknown schedule {options.schedule!r} ({', '.join(SCHEDULES)})")
    for suite in DEMO_SUITES:
        if not (options.suites_dir / suite).is_dir():
            raise UsageError(
                f"{options.suites_dir / suite}: the demo suite is missing; run evalkit demo in "
                "the evalkit checkout (its suites/ folder has the demo suites) or pass "
                "--suites-dir"
            )
    seconds: dict[str, float] = {}
    began = time.perf_counter()
    models = build_demo_models(
        options.models_root,
        SCHEDULES[options.schedule],
        options.suites_dir,
        rebuild=options.rebuild,
        echo=echo,
    )
    seconds["models"] = time.perf_counter() - began
    for name, s in models.train_seconds.items():
        echo(f"trained {name} in {s:.0f} s")
    contaminated = check_training_data(options.suites_dir, echo)
    judged = prepare_judge(options.models_root.parent / "judge", models.models_dir, ENGINE, echo)
    began = time.perf_counter()
    run_dir = run_models(models.models_dir, options, judged, echo)
    seconds["run"] = time.perf_counter() - began
    began = time.perf_counter()
    rated = stamp_ratings(run_dir)
    echo(
        f"expert ratings: the demo's ratings apply to {rated.applied} of {rated.answers} "
        f"{WRITING_SUITE} answers (those that are the answers rated; docs/demo.md)"
    )
    ratings = ScoringConfig(ratings=[str(rated.path)] if rated.applied else [])
    summary = score_run(run_dir, options.suites_dir, config=ratings)
    registered = register_run(run_dir)
    if registered is not None:
        echo(registered)
    seconds["score"] = time.perf_counter() - began
    began = time.perf_counter()
    report = write_report(run_dir, options.suites_dir)
    seconds["report"] = time.perf_counter() - began
    finish_demo(run_dir, report, summary, echo)
    return DemoResult(run_dir, report, models, summary, contaminated, seconds)
