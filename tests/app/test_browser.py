"""End to end in a real browser: `evalkit app` serves the app (streamlit run) on localhost and
Debian's chromium, driven by Playwright, goes from a Chinese item to a published version."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_helpers import PASSWORD
from browser import ARTIFACTS, BROWSER_ARGS, CHROMIUM, require_browser
from click.testing import CliRunner

from annotation_app.db import open_database, transaction
from annotation_app.services import suites, users
from evalkit.cli import cli
from evalkit.suite.store import SuiteStore

ROOT = Path(__file__).parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The app on a free port with a fresh database and suites folder; users and a suite."""
    require_browser(os.environ)
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
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "the app did not start:\n" + (tmp_path / "server.log").read_text()
                )
            time.sleep(0.3)
        yield url, suites_dir
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


def _settle(page) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_timeout(400)
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=30_000
    )


def _log_in(page, url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url)
    _settle(page)
    page.get_by_role("textbox", name="User name", exact=True).fill(username)
    page.get_by_role("textbox", name="Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    _settle(page)


def _go(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id("stSidebarNav").get_by_text(name, exact=True).click()
    _settle(page)


@pytest.mark.slow
def test_chinese_item_from_writing_to_published_version(served: tuple[str, Path]) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, suites_dir = served
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
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

    version = suites_dir / "contracts" / "v1"
    assert (version / "manifest.json").is_file()
    items = (version / "items.jsonl").read_text(encoding="utf-8")
    assert "根据《民法典》，承诺生效时合同成立吗？" in items
    assert '"reviewer": "wang.fang"' in items and '"author": "li.na"' in items
    result = CliRunner().invoke(cli, ["suite", "validate", str(version)])
    assert result.exit_code == 0, result.output


def test_missing_browser_fails_in_ci_and_skips_elsewhere() -> None:
    with pytest.raises(pytest.fail.Exception, match="cannot run in CI: /nonexistent/chromium"):
        require_browser({"CI": "true"}, chromium="/nonexistent/chromium")
    with pytest.raises(pytest.skip.Exception):
        require_browser({}, chromium="/nonexistent/chromium")
