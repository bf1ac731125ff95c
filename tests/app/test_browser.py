"""End to end in a real browser: `evalkit app` serves the app (streamlit run) on localhost and
Debian's chromium, driven by Playwright, goes from a Chinese item to a published version; and
started the documented other way (`streamlit run annotation_app/app.py` from the checkout),
every page an admin can open is served by the app alone: no request leaves localhost (no icon
font, favicon or usage statistics from elsewhere) and the icons still render."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from analysis.planted import PlantedSuite, planted_suite
from analysis.planted import scored_run as planted_run
from app_helpers import PASSWORD
from browser import ARTIFACTS, BROWSER_ARGS, CHROMIUM, require_browser
from click.testing import CliRunner
from rating_helpers import MODELS, scored_run, setup
from sqlalchemy import select

from annotation_app.db import open_database, transaction
from annotation_app.models import RatingAssignment, User
from annotation_app.services import rating_setup, suites, users
from evalkit.analysis.responses import find_runs
from evalkit.analysis.suite_analysis import analyze_suite
from evalkit.cli import cli
from evalkit.suite.store import SuiteStore

ROOT = Path(__file__).parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(tmp_path: Path) -> tuple[str, Path]:
    """A fresh database with users of each role and a suite; the suites folder."""
    db_url = f"sqlite:///{tmp_path / 'app.db'}"
    suites_dir = tmp_path / "suites"
    factory = open_database(db_url)
    with transaction(factory) as db:
        admin = users.bootstrap_user(db, "admin", PASSWORD, "admin")
        users.bootstrap_user(db, "li.na", PASSWORD, "annotator", "李娜", "zh")
        users.bootstrap_user(db, "wang.fang", PASSWORD, "reviewer", "王芳")
        suites.create_suite(
            db,
            admin,
            SuiteStore(suites_dir),
            name="contracts",
            description="合同法评测集",
            guidelines="# 标注指南\n- 每题只有一个正确答案。",
            goals=[{"capability": "domain_knowledge", "description": "合同法基础知识"}],
            tasks={"mcq": suites.DEFAULT_TASKS["mcq"]},
        )
    factory.kw["bind"].dispose()
    return db_url, suites_dir


@contextmanager
def _server(
    command: list[str], port: int, cwd: Path, env: dict[str, str], log_path: Path
) -> Iterator[None]:
    """Run the app server on `port` until the block ends; wait for its health check first."""
    log = log_path.open("w")
    server = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/_stcore/health", timeout=2
                ) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the app did not start:\n" + log_path.read_text())
            time.sleep(0.3)
        yield
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`evalkit app` on a free port with a fresh database and suites folder."""
    require_browser(os.environ)
    db_url, suites_dir = _seed(tmp_path)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    command = [
        sys.executable,
        "-m",
        "evalkit",
        "app",
        "--db",
        db_url,
        "--suites-dir",
        str(suites_dir),
        "--port",
        str(port),
        "--address",
        "127.0.0.1",
    ]
    with _server(command, port, tmp_path, env, tmp_path / "server.log"):
        yield f"http://127.0.0.1:{port}", suites_dir


@pytest.fixture
def served_by_streamlit_run(tmp_path: Path) -> Iterator[str]:
    """`streamlit run annotation_app/app.py` from the checkout root, as docs/app.md shows it:
    its options (usage statistics off) come from the checkout's .streamlit/config.toml."""
    require_browser(os.environ)
    db_url, suites_dir = _seed(tmp_path)
    port = _free_port()
    env = {**os.environ, "EVALKIT_APP_DB": db_url, "EVALKIT_SUITES_DIR": str(suites_dir)}
    env.pop("STREAMLIT_BROWSER_GATHER_USAGE_STATS", None)
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "annotation_app/app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
    ]
    with _server(command, port, ROOT, env, tmp_path / "server.log"):
        yield f"http://127.0.0.1:{port}"


def _watch_requests(context: Any) -> list[str]:
    """Every URL the context's pages request, from now on."""
    requests: list[str] = []
    context.on("request", lambda r: requests.append(r.url))
    return requests


def _elsewhere(requests: list[str], url: str) -> list[str]:
    """The requests that went anywhere but the app's own origin (data: and blob: URLs are
    the page's own bytes)."""
    origin = urlsplit(url)[:2]
    return sorted(
        {u for u in requests if urlsplit(u)[:2] != origin and not u.startswith(("data:", "blob:"))}
    )


def _settle(page: Any) -> None:
    page.wait_for_timeout(400)
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=30_000
    )


def _log_in(page: Any, url: str, username: str) -> None:
    page.goto(url)
    _settle(page)
    page.get_by_role("textbox", name="User name", exact=True).fill(username)
    page.get_by_role("textbox", name="Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    _settle(page)


def _choose_suite(page: Any, name: str) -> None:
    page.get_by_role("combobox", name="Suite").click()
    page.get_by_role("option", name=name).click()
    _settle(page)


def _go(page: Any, name: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(name, exact=True).click()
    _settle(page)


@pytest.mark.slow
def test_chinese_item_from_writing_to_published_version(served: tuple[str, Path]) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, suites_dir = served
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        requests = _watch_requests(context)
        page = context.new_page()
        page.set_default_timeout(30_000)

        # The annotator works in Chinese (her account's language).
        _log_in(page, url, "li.na")
        _go(page, "题目编辑")
        page.get_by_role("textbox", name="题干", exact=True).fill(
            "根据《民法典》，承诺生效时合同成立吗？"
        )
        page.get_by_role("textbox", name="选项（每行一个：A、B、C……）", exact=True).fill(
            "成立\n不成立"
        )
        page.get_by_role("textbox", name="正确选项字母", exact=True).fill("A")
        page.get_by_role("textbox", name="标签", exact=True).fill("合同成立, 民法典")
        page.get_by_role("button", name="保存").click()
        _settle(page)
        expect(page.get_by_text("已保存 contracts-mcq-")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "app-editor-zh.png"), full_page=True)
        page.get_by_role("button", name="提交审核").click()
        _settle(page)
        expect(page.get_by_text("已提交审核")).to_be_visible()
        page.get_by_role("button", name="退出登录").click()
        _settle(page)

        # The reviewer approves and publishes.
        _log_in(page, url, "wang.fang")
        _go(page, "Review")
        expect(page.get_by_text("承诺生效时合同成立吗").first).to_be_visible()
        page.get_by_role("button", name="Approve").click()
        _settle(page)
        expect(page.get_by_text("approved.")).to_be_visible()
        _go(page, "Publish and versions")
        page.get_by_role("textbox", name="Changelog: what changed and why", exact=True).fill(
            "第一版：合同成立。"
        )
        page.get_by_role("button", name="Publish a new version").click()
        _settle(page)
        expect(page.get_by_text("Published contracts@v1: 1 item(s)")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "app-published.png"), full_page=True)
        browser.close()
    assert requests and _elsewhere(requests, url) == []
    assert "usage statistics were on" not in (suites_dir.parent / "server.log").read_text()

    version = suites_dir / "contracts" / "v1"
    assert (version / "manifest.json").is_file()
    items = (version / "items.jsonl").read_text(encoding="utf-8")
    assert "根据《民法典》，承诺生效时合同成立吗？" in items
    assert '"reviewer": "wang.fang"' in items and '"author": "li.na"' in items
    result = CliRunner().invoke(cli, ["suite", "validate", str(version)])
    assert result.exit_code == 0, result.output


def _icons(page: Any) -> list[dict[str, Any]]:
    """Every visible Material icon: its ligature name, and whether it is drawn as one glyph
    (about as wide as the font is high) rather than as its name in letters."""
    return page.eval_on_selector_all(
        "[data-testid='stIconMaterial']",
        """icons => icons.filter(i => i.offsetParent !== null).map(i => {
             const box = i.getBoundingClientRect();
             const size = parseFloat(getComputedStyle(i).fontSize);
             return { name: i.textContent, glyph: box.width <= 1.5 * size };
           })""",
    )


@pytest.mark.slow
def test_every_page_is_served_by_the_app_alone(
    served_by_streamlit_run: str, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    url = served_by_streamlit_run
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        requests = _watch_requests(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        _log_in(page, url, "admin")
        # Every page of the menu, as an admin sees it: all of them.
        menu = page.get_by_test_id("stSidebarNav").locator("a").all_inner_texts()
        pages = [t.split("\n")[-1] for t in menu]
        assert {"Suites", "Item editor", "Review", "Users", "Audit log"} <= set(pages)
        icons: list[dict[str, Any]] = []
        for name in pages:
            _go(page, name)
            icons += _icons(page)
            favicon = page.eval_on_selector_all(
                "link[rel~='icon']", "links => links.map(l => l.href)"
            )
            assert favicon and all(f.startswith(("data:", url)) for f in favicon), (name, favicon)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "app-audit-log.png"), full_page=True)
        font_loaded = page.evaluate(
            "Array.from(document.fonts).some(f => "
            "f.family.includes('Material Symbols') && f.status === 'loaded')"
        )
        browser.close()
    assert len(requests) > len(pages)
    assert _elsewhere(requests, url) == []
    # The icons are the app's own font, drawn as glyphs: no "keyboard_arrow_down" in letters.
    assert font_loaded
    assert {"folder", "history"} <= {i["name"] for i in icons}
    assert [i["name"] for i in icons if not i["glyph"]] == []
    # .streamlit/config.toml turned usage statistics off before the app had to.
    assert "usage statistics were on" not in (tmp_path / "server.log").read_text()


@contextmanager
def _app_with_runs(tmp_path: Path, db_url: str, suites_dir: Path, runs: Path) -> Iterator[str]:
    """`evalkit app --runs-dir RUNS` on a free port, until the block ends; its URL."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    options = ["--db", db_url, "--suites-dir", str(suites_dir), "--runs-dir", str(runs)]
    command = [sys.executable, "-m", "evalkit", "app", *options, "--port", str(port)]
    command += ["--address", "127.0.0.1"]
    with _server(command, port, tmp_path, env, tmp_path / "server.log"):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def served_for_rating(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`evalkit app --runs-dir ...` with a pairwise rating set of one item given to li.na."""
    require_browser(os.environ)
    db_url, _ = _seed(tmp_path)
    run = scored_run(tmp_path / "rated")
    factory = open_database(db_url)
    with transaction(factory) as db:
        admin, li_na = (
            db.scalars(select(User).where(User.username == name)).one()
            for name in ("admin", "li.na")
        )
        choice = setup(run, [li_na.id], mode="pair", models=list(MODELS[:2]), items=["g1"])
        rating_setup.create_set(db, admin, run.store, choice)
    factory.kw["bind"].dispose()
    with _app_with_runs(tmp_path, db_url, run.store.root, run.root) as url:
        yield url, db_url


@pytest.mark.slow
def test_an_annotator_rates_a_pair_blind(served_for_rating: tuple[str, str]) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, db_url = served_for_rating
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        requests = _watch_requests(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        _log_in(page, url, "li.na")  # her account's language is Chinese
        _go(page, "输出评分")
        expect(page.get_by_text("用一句话概括合同成立的条件。")).to_be_visible()
        expect(page.get_by_text("输出 A", exact=True)).to_be_visible()
        expect(page.get_by_text("输出 B", exact=True)).to_be_visible()
        shown = page.inner_text("body")
        assert not [m for m in MODELS if m in shown]  # blind: no model is named
        assert "<b>1</b>" in shown or "<b>2</b>" in shown  # model output is text, not markup
        page.get_by_text("B 更好", exact=True).click()
        page.get_by_role("textbox", name="备注（可选）").fill("B 更准确")
        page.get_by_role("button", name="保存评分").click()
        _settle(page)
        expect(page.get_by_text("评分已保存。")).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "app-rate-pair-zh.png"), full_page=True)
        browser.close()
    assert _elsewhere(requests, url) == []
    factory = open_database(db_url)
    with factory() as db:
        [rated] = db.scalars(select(RatingAssignment)).all()
        assert rated.comment == "B 更准确" and rated.rated_at is not None
        assert rated.winner == ("a" if rated.flipped else "b")  # B as she saw it
    factory.kw["bind"].dispose()


@pytest.fixture
def served_for_health(tmp_path: Path) -> Iterator[tuple[str, Path, PlantedSuite]]:
    """`evalkit app --runs-dir ...` on the planted suite, curated in the app from its v1, with
    two scored runs of v1 in the runs folder."""
    require_browser(os.environ)
    db_url, suites_dir = _seed(tmp_path)
    suite = planted_suite(suites_dir, 60, 6, seed=11)
    factory = open_database(db_url)
    with transaction(factory) as db:
        admin = db.scalars(select(User).where(User.username == "admin")).one()
        users.bootstrap_user(db, "zhao.lei", PASSWORD, "reviewer", "赵磊")
        suites.create_from_version(db, admin, SuiteStore(suites_dir), "planted@v1")
    factory.kw["bind"].dispose()
    runs = tmp_path / "reports"
    planted_run(runs / "run-a", suite, [f"a{k}" for k in range(4)], seed=1)
    planted_run(runs / "run-b", suite, [f"b{k}" for k in range(4)], seed=2)
    with _app_with_runs(tmp_path, db_url, suites_dir, runs) as url:
        yield url, suites_dir, suite


@pytest.mark.slow
def test_a_reviewer_fixes_a_suspected_gold_and_the_next_version_says_why(
    served_for_health: tuple[str, Path, PlantedSuite], tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, suites_dir, suite = served_for_health
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        requests = _watch_requests(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        _log_in(page, url, "wang.fang")
        _choose_suite(page, "planted")
        _go(page, "Suite health")
        expect(page.get_by_text("8 models from 2 runs", exact=False)).to_be_visible()
        first = page.get_by_text("suspected_wrong_gold:", exact=False).first
        expect(first).to_be_visible()
        item_id = page.locator("strong").filter(has_text="share right").first.inner_text()
        item_id = item_id.split(" ")[0]
        assert item_id in suite.planted
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "app-suite-health.png"), full_page=True)
        page.get_by_role("button", name="Revise (back to review)").first.click()
        _settle(page)
        expect(page.get_by_text(f"{item_id} is back in review")).to_be_visible()
        page.get_by_role("button", name="Open in the editor").first.click()
        _settle(page)
        answer = page.get_by_role("textbox", name="Correct letter", exact=True)
        answer.fill(suite.truth[item_id])
        page.get_by_role("button", name="Save", exact=True).click()
        _settle(page)
        page.get_by_role("button", name="Submit for review").click()
        _settle(page)
        page.get_by_role("button", name="Log out").click()
        _settle(page)
        _log_in(page, url, "zhao.lei")  # four eyes: not the reviewer who changed it
        _choose_suite(page, "planted")
        _go(page, "Review")
        page.get_by_role("button", name="Approve").first.click()
        _settle(page)
        _go(page, "Publish and versions")
        page.get_by_role("textbox", name="Changelog: what changed and why", exact=True).fill(
            "Gold answers fixed from suite health."
        )
        page.get_by_role("button", name="Publish a new version").click()
        _settle(page)
        expect(page.get_by_text("Published planted@v2", exact=False)).to_be_visible()
        browser.close()
    assert _elsewhere(requests, url) == []
    v2 = SuiteStore(suites_dir).load("planted@v2")
    assert v2.by_id[item_id].answer == suite.truth[item_id]  # type: ignore[attr-defined]
    assert f"- {item_id}: revise (flagged in planted@v1 by wang.fang:" in v2.manifest.changelog
    assert "gold is" in v2.manifest.changelog
    # the next runs are of v2: the fixed item is no longer suspected
    fixed = PlantedSuite(v2, suite.truth, suite.planted - {item_id})
    runs = tmp_path / "reports-v2"
    planted_run(runs / "run-a", fixed, [f"a{k}" for k in range(4)], seed=1)
    planted_run(runs / "run-b", fixed, [f"b{k}" for k in range(4)], seed=2)
    analysis = analyze_suite(v2, find_runs(runs, v2), irt_epochs=50)
    assert item_id not in {s.item_id for s in analysis.suspects if s.flagged}


def test_missing_browser_fails_in_ci_and_skips_elsewhere() -> None:
    with pytest.raises(pytest.fail.Exception, match="cannot run in CI: /nonexistent/chromium"):
        require_browser({"CI": "true"}, chromium="/nonexistent/chromium")
    with pytest.raises(pytest.skip.Exception):
        require_browser({}, chromium="/nonexistent/chromium")
