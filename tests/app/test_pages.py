"""The Streamlit pages through `streamlit.testing.v1.AppTest`: the real app script on a real
SQLite database, driven widget by widget."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import Run, mcq
from click.testing import CliRunner
from page_helpers import APP, TIMEOUT, login, start, texts
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from annotation_app.models import Item
from annotation_app.services import agreement, items, review
from evalkit.cli import cli

ACTIONS = {
    "users.py": "manage_users: it needs the admin",
    "audit.py": "view_audit: it needs the admin",
    "review.py": "review: it needs the reviewer",
}


@pytest.fixture
def app_env(
    monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path, people: dict[str, int]
) -> Path:
    suites_dir = tmp_path / "suites"
    monkeypatch.setenv("EVALKIT_APP_DB", db_url)
    monkeypatch.setenv("EVALKIT_SUITES_DIR", str(suites_dir))
    return suites_dir


def test_logged_out_visitor_sees_only_login(app_env: Path) -> None:
    at = start()
    assert not at.exception
    assert [t.value for t in at.title] == ["evalkit annotation"]
    assert len(at.sidebar.selectbox) == 0 and "Publish" not in texts(at)
    at.text_input(key="login_username").input("admin")
    at.text_input(key="login_password").input("wrong password")
    at.button[0].click().run()
    assert [e.value for e in at.error] == ["Wrong user name or password."]
    at.selectbox(key="login_lang").select("zh").run()
    assert [t.value for t in at.title] == ["evalkit 标注平台"]


def test_pages_follow_the_role(app_env: Path, suite_id: int) -> None:
    annotator = login("ann1")
    assert annotator.session_state["user_id"] is not None
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        annotator.switch_page("views/users.py")  # not in an annotator's menu at all
    admin = login("admin")
    admin.switch_page("views/users.py").run()
    assert not admin.exception and [t.value for t in admin.title] == ["Users"]


@pytest.mark.parametrize("page", ["users.py", "audit.py", "review.py", "publish.py"])
def test_a_direct_visit_is_checked_on_the_server(
    app_env: Path, suite_id: int, people: dict[str, int], page: str
) -> None:
    """A page script run without its menu entry still refuses: logged out, or the wrong role."""
    at = AppTest.from_file(str(APP.parent / "views" / page), default_timeout=TIMEOUT).run()
    assert [e.value for e in at.warning] == ["Please log in."] and not at.title
    at = AppTest.from_file(str(APP.parent / "views" / page), default_timeout=TIMEOUT)
    at.session_state["user_id"] = people["ann1"]
    at.session_state["suite_id"] = suite_id
    at.run()
    if page == "publish.py":  # everyone sees history; only the publish button is role-bound
        assert not at.error and all(b.label != "Publish a new version" for b in at.button)
    else:
        assert [e.value for e in at.error] == [f"ann1 may not {ACTIONS[page]} role."]


def open_editor(username: str) -> AppTest:
    at = login(username)
    at.switch_page("views/editor.py").run()
    assert not at.exception, at.exception
    return at


def test_form_shows_field_errors_and_saves_nothing(
    app_env: Path, suite_id: int, factory: sessionmaker[Session]
) -> None:
    at = open_editor("ann1")
    at.text_area(key="ed-question").input("   ")
    at.text_area(key="ed-choices").input("承诺生效时\n要约发出时")
    at.text_input(key="ed-answer").input("C")
    at.text_input(key="ed-language").input("中文")
    at.button(key="FormSubmitter:item_form-Save").click().run()
    errors = [e.value for e in at.error]
    assert "Not saved: 3 problem(s); see the fields below." in errors
    assert "Question: must not be blank" in errors
    assert "Correct letter: answer 'C' is not among the choices' letters A, B" in errors
    assert any(e.startswith("Language: must be a language code") for e in errors)
    with factory() as db:
        assert db.scalar(select(Item.id)) is None
    # The user's text is still in the form; fixing it saves.
    assert at.text_area(key="ed-choices").value == "承诺生效时\n要约发出时"
    at.text_area(key="ed-question").input("合同何时成立？")
    at.text_input(key="ed-answer").input("A")
    at.text_input(key="ed-language").input("zh")
    at.button(key="FormSubmitter:item_form-Save").click().run()
    assert not at.error and at.success[0].value.startswith("Saved contracts-mcq-")
    with factory() as db:
        assert db.scalar(select(Item.record))["question"] == "合同何时成立？"


def test_concurrent_save_shows_the_other_version(
    app_env: Path, suite_id: int, item_pk: int, act: Run, factory: sessionmaker[Session]
) -> None:
    at = login("ann1")
    at.switch_page("views/items.py").run()
    at.button(key="open_item").click().run()  # opens q1 in the editor at version 1
    at.switch_page("views/editor.py")  # AppTest keeps re-running the page it was told to
    assert not at.exception and at.text_area(key="ed-question").value == "合同何时成立？"
    act(
        "rev", items.update_item, item_pk, mcq(question="审核员改过的题干"), 1
    )  # someone else saves
    at.text_area(key="ed-question").input("作者改过的题干")
    at.button(key="FormSubmitter:item_form-Save").click().run()
    assert at.error, texts(at)
    assert at.error[0].value.startswith("Not saved: rev saved item:contracts/q1")
    shown = [c.value for c in at.code]
    assert any("审核员改过的题干" in c for c in shown) and any("作者改过的题干" in c for c in shown)
    assert at.text_area(key="ed-question").value == "作者改过的题干"  # nothing lost
    with factory() as db:
        assert db.get(Item, item_pk).record["question"] == "审核员改过的题干"  # nothing overwritten
    at.button(key="ed-reload").click().run()
    assert at.text_area(key="ed-question").value == "审核员改过的题干" and not at.error


def test_review_and_publish_pages(app_env: Path, suite_id: int, item_pk: int, act: Run) -> None:
    act("ann1", review.submit, item_pk, 1)
    at = login("rev")
    at.switch_page("views/review.py").run()
    at.button(key=f"approve-{item_pk}").click().run()
    assert at.success[0].value == "q1 approved."
    at.switch_page("views/publish.py").run()
    at.text_area(key="publish_changelog").input("第一版")
    at.button(key="publish").click().run()
    assert not at.exception and at.success[0].value.startswith("Published contracts@v1: 1 item(s)")
    result = CliRunner().invoke(cli, ["suite", "validate", str(app_env / "contracts")])
    assert result.exit_code == 0, result.output


def test_interface_language_is_per_user(app_env: Path, suite_id: int) -> None:
    at = login("ann1")
    at.sidebar.selectbox(key="language_choice").select("zh").run()
    assert not at.exception
    at.switch_page("views/editor.py").run()
    assert at.title[0].value == "新建题目"
    other = login("ann2")
    other.switch_page("views/editor.py").run()
    assert other.title[0].value == "New item"
    again = login("ann1")
    assert again.session_state["lang"] == "zh"


def test_an_assigned_annotator_sees_the_item_blind_on_every_page(
    app_env: Path, suite_id: int, act: Run, people: dict[str, int]
) -> None:
    gold = "十二年零三个月"
    record = {
        "task": "qa",
        "language": "zh",
        "question": "这份合同的期限是多长？",
        "answers": [gold],
    }
    pk = act("ann1", items.create_item, suite_id, {**record, "id": "qa1"}).item.id
    made = act("rev", agreement.assign, [pk], [people["ann2"], people["ann3"]])
    mine = next(a for a in made if a.annotator_id == people["ann2"])
    at = login("ann2")
    at.switch_page("views/annotate.py").run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "这份合同的期限是多长？" in shown and gold not in shown
    at.text_area(key=f"label-{mine.id}").input("一年")
    at.button(key=f"save-label-{mine.id}").click().run()
    assert not at.exception and "✓ 一年" in texts(at)
    at.switch_page("views/items.py").run()
    table = at.dataframe[0].value.to_string()
    assert "qa1" in table and gold not in table and "ann1" not in table
    at.button(key="open_item").click().run()
    at.switch_page("views/editor.py").run()
    assert not at.exception, at.exception
    assert gold not in texts(at) and at.text_area(key="ed-answers").value == ""
