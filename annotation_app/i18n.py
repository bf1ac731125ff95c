"""Every string the interface shows, in English and Chinese. `t(key, lang, **params)` looks a
string up and fills its `{placeholders}`; a missing key is a KeyError (tests check that every
key used by the app exists in both languages)."""

from __future__ import annotations

from typing import Any

from annotation_app.i18n_health import HEALTH_STRINGS
from annotation_app.i18n_rating import RATING_STRINGS

LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}

STRINGS: dict[str, tuple[str, str]] = {
    # navigation and sidebar
    "nav.login": ("Log in", "登录"),
    "nav.section.curate": ("Curate", "编写"),
    "nav.section.review": ("Review and publish", "审核与发布"),
    "nav.section.admin": ("Administration", "管理"),
    "nav.suites": ("Suites", "评测集"),
    "nav.suite": ("Suite overview", "评测集概览"),
    "nav.items": ("Items", "题目"),
    "nav.editor": ("Item editor", "题目编辑"),
    "nav.import": ("Import", "批量导入"),
    "nav.annotate": ("My labels", "我的标注"),
    "nav.review": ("Review", "审核"),
    "nav.agreement": ("Agreement", "一致性"),
    "nav.publish": ("Publish and versions", "发布与版本"),
    "nav.users": ("Users", "用户"),
    "nav.audit": ("Audit log", "审计日志"),
    "sidebar.user": ("{user} ({role})", "{user}（{role}）"),
    "sidebar.suite": ("Suite", "评测集"),
    "sidebar.language": ("Language", "界面语言"),
    "sidebar.logout": ("Log out", "退出登录"),
    # roles, statuses, formats
    "role.annotator": ("annotator", "标注员"),
    "role.reviewer": ("reviewer", "审核员"),
    "role.admin": ("admin", "管理员"),
    "role_turn.user": ("user", "用户"),
    "role_turn.assistant": ("assistant", "助手"),
    "role_turn.system": ("system", "系统"),
    "status.draft": ("draft", "草稿"),
    "status.in_review": ("in review", "审核中"),
    "status.approved": ("approved", "已通过"),
    "status.rejected": ("rejected", "已退回"),
    "status.revised": ("revised", "已修改"),
    "format.none": ("no format check", "不检查格式"),
    "format.choice": ("one of fixed answers", "固定选项之一"),
    "format.regex": ("regular expression", "正则表达式"),
    "format.json_schema": ("JSON schema", "JSON Schema"),
    # login
    "login.title": ("evalkit annotation", "evalkit 标注平台"),
    "login.username": ("User name", "用户名"),
    "login.password": ("Password", "密码"),
    "login.submit": ("Log in", "登录"),
    "login.sso": ("Log in with single sign-on", "单点登录"),
    "login.first_admin": (
        "No account yet? The first admin is created on the server: "
        "evalkit app create-user NAME --role admin",
        "还没有账号？首个管理员在服务器上创建：evalkit app create-user 用户名 --role admin",
    ),
    # suites
    "suites.title": ("Suites", "评测集"),
    "suites.none": ("No suites yet.", "还没有评测集。"),
    "suites.col.name": ("Name", "名称"),
    "suites.col.description": ("Description", "说明"),
    "suites.col.items": ("Items", "题目数"),
    "suites.col.approved": ("Approved", "已通过"),
    "suites.col.published": ("Published versions", "已发布版本"),
    "suites.new": ("New suite", "新建评测集"),
    "suites.new.source": ("Start from", "起点"),
    "suites.new.source.empty": ("an empty suite", "空评测集"),
    "suites.new.source.published": ("a published version", "已发布的版本"),
    "suites.new.version": ("Published version", "已发布版本"),
    "suites.new.name": ("Name (lower-case, e.g. legal)", "名称（小写字母，如 legal）"),
    "suites.new.description": ("Description", "说明"),
    "suites.new.guidelines": ("Annotation guidelines (Markdown)", "标注指南（Markdown）"),
    "suites.new.goal_capability": ("Goal: capability measured", "目标：考察的能力"),
    "suites.new.goal_description": ("Goal: what good looks like", "目标：合格的标准"),
    "suites.new.tasks": ("Task types", "任务类型"),
    "suites.new.create": ("Create suite", "创建评测集"),
    "suites.created": ("Suite {name} created.", "已创建评测集 {name}。"),
    "suite.choose_first": (
        "Choose or create a suite first (Suites page).",
        "请先选择或创建评测集（评测集页面）。",
    ),
    "suite.goals": ("Evaluation goals", "评测目标"),
    "suite.counts": ("Items", "题目统计"),
    "suite.total": ("Items in total", "题目总数"),
    "suite.by_task": ("By task", "按任务"),
    "suite.by_status": ("By status", "按状态"),
    "suite.by_tag": ("By tag", "按标签"),
    "suite.guidelines": ("Guidelines", "标注指南"),
    "suite.edit": ("Edit suite settings", "编辑评测集设置"),
    "suite.edit.goals": ("Goals (YAML)", "目标（YAML）"),
    "suite.edit.tasks": ("Task prompts and metrics (YAML)", "任务提示词与指标（YAML）"),
    "suite.edit.bad_yaml": ("Not valid YAML: {error}", "YAML 格式错误：{error}"),
    # items list
    "items.title": ("Items", "题目"),
    "items.search": ("Search text or id", "搜索文本或编号"),
    "items.task": ("Task", "任务"),
    "items.tag": ("Tag", "标签"),
    "items.status": ("Status", "状态"),
    "items.author": ("Author", "作者"),
    "items.col.id": ("Id", "编号"),
    "items.col.language": ("Language", "语言"),
    "items.col.text": ("Text", "内容"),
    "items.count": ("{n} item(s)", "共 {n} 题"),
    "items.open": ("Item", "题目"),
    "items.edit": ("Open in editor", "在编辑器中打开"),
    "items.new": ("New item", "新建题目"),
    # editor
    "editor.title.new": ("New item", "新建题目"),
    "editor.title.edit": ("Item {id}", "题目 {id}"),
    "editor.save": ("Save", "保存"),
    "editor.saved": ("Saved.", "已保存。"),
    "editor.saved_as": ("Saved {id}.", "已保存 {id}。"),
    "editor.near_duplicates": (
        "Very similar to: {items}. Check that it is not a duplicate.",
        "与以下题目高度相似：{items}。请确认不是重复题目。",
    ),
    "editor.fix_fields": (
        "Not saved: {n} problem(s); see the fields below.",
        "未保存：有 {n} 个问题，见下方各字段。",
    ),
    "editor.submit": ("Submit for review", "提交审核"),
    "editor.submitted": ("{id} is waiting for review.", "{id} 已提交审核。"),
    "editor.review_comment": ("Reviewer's comment: {comment}", "审核意见：{comment}"),
    "editor.history": ("History", "修改历史"),
    "editor.conflict.theirs": (
        "Saved version {version} (in the database now)",
        "已保存的第 {version} 版（数据库中的当前内容）",
    ),
    "editor.conflict.yours": ("Your changes (not saved)", "您的修改（未保存）"),
    "editor.conflict.reload": (
        "Discard my changes and load the saved version",
        "放弃我的修改并载入已保存版本",
    ),
    "field.id": ("Id", "编号"),
    "field.id.help": ("Leave blank to generate one.", "留空将自动生成。"),
    "field.task": ("Task", "任务"),
    "field.question": ("Question", "题干"),
    "field.choices": ("Choices (one per line: A, B, C, ...)", "选项（每行一个：A、B、C……）"),
    "field.answer": ("Correct letter", "正确选项字母"),
    "field.answer.help": (
        "A for the first choice, B for the second, ...",
        "第一个选项为 A，第二个为 B……",
    ),
    "field.text": ("Text", "文本"),
    "field.labels": ("Label set (one per line)", "标签集合（每行一个）"),
    "field.label": ("Correct label", "正确标签"),
    "field.label.help": (
        "One of the labels above, spelled the same.",
        "须与上方某个标签完全一致。",
    ),
    "field.fields": ("Gold fields (JSON object)", "标准答案字段（JSON 对象）"),
    "field.context": ("Context passage (optional)", "参考段落（可选）"),
    "field.answers": ("Acceptable answers (one per line)", "可接受的答案（每行一个）"),
    "field.prompt": ("Prompt", "任务指令"),
    "field.references": ("Reference answers (one per line)", "参考答案（每行一个）"),
    "field.messages": ("Conversation", "对话"),
    "field.turns": ("Number of turns", "轮数"),
    "field.turn": ("Turn {n}", "第 {n} 轮"),
    "field.role": ("Speaker", "说话人"),
    "field.language": ("Language", "语言"),
    "field.language.help": ("A language code: zh, en, zh-Hant, ...", "语言代码：zh、en、zh-Hant……"),
    "field.answer_language": ("Answer language (if different)", "答案语言（如不同）"),
    "field.split": ("Split", "数据划分"),
    "field.tags": ("Tags", "标签"),
    "field.tags.help": ("Separated by commas.", "用逗号分隔。"),
    "field.source": ("Source", "来源"),
    "field.group": ("Group", "分组"),
    "field.group.help": (
        "Items from one source (a case file, a passage) share a group: scores treat them as "
        "one piece of evidence.",
        "同一来源（同一案卷、同一段落）的题目使用同一分组：统计时视为一份证据。",
    ),
    "field.format": ("Answer format", "答案格式"),
    "field.format_value": ("Format details", "格式细节"),
    "field.format_value.help": (
        "Allowed answers one per line, a regular expression, or a JSON schema.",
        "每行一个允许的答案、一个正则表达式或一个 JSON Schema。",
    ),
    "field.format_case_sensitive": ("Case-sensitive", "区分大小写"),
    "field.lines.help": ("One entry per line.", "每行一项。"),
    "field.json.help": (
        'A JSON object, e.g. {"party_a": "甲公司"}',
        '一个 JSON 对象，例如 {"party_a": "甲公司"}',
    ),
    # import
    "import.title": ("Import items", "批量导入题目"),
    "import.help": (
        "CSV, TSV, Excel (.xlsx), JSON or JSONL. Every bad row is listed with its line; "
        "the good rows can be imported as drafts.",
        "支持 CSV、TSV、Excel（.xlsx）、JSON、JSONL。每个有问题的行都会列出行号；"
        "没有问题的行可以作为草稿导入。",
    ),
    "import.file": ("File", "文件"),
    "import.default_task": ("Task of rows without one", "未指定任务的行的任务"),
    "import.default_language": ("Language of rows without one", "未指定语言的行的语言"),
    "import.default_split": ("Split of rows without one", "未指定划分的行的划分"),
    "import.mapping": ("Column mapping (YAML, optional)", "列映射（YAML，可选）"),
    "import.mapping.help": (
        "As in `evalkit suite import --mapping`, e.g. columns: {question: Q, answer: A}",
        "与 `evalkit suite import --mapping` 相同，例如 columns: {question: Q, answer: A}",
    ),
    "import.bad_mapping": ("The column mapping is invalid: {error}", "列映射无效：{error}"),
    "import.preview": ("Preview", "预览"),
    "import.good": ("{n} good row(s)", "{n} 行可以导入"),
    "import.bad": ("{n} problem(s)", "{n} 个问题"),
    "import.commit": ("Import {n} good row(s) as drafts", "将 {n} 行导入为草稿"),
    "import.done": ("Imported {n} item(s) as drafts.", "已导入 {n} 道题目（草稿）。"),
    # review
    "review.title": ("Review", "审核"),
    "review.empty": ("Nothing waits for your review.", "没有待您审核的题目。"),
    "review.comment": ("Comment (required to reject)", "审核意见（退回时必填）"),
    "review.approve": ("Approve", "通过"),
    "review.reject": ("Reject", "退回"),
    "review.approved": ("{id} approved.", "{id} 已通过。"),
    "review.rejected": ("{id} sent back to its author.", "{id} 已退回给作者。"),
    # double annotation
    "annotate.title": ("My labels", "我的标注"),
    "annotate.none": ("No items are assigned to you.", "没有分配给您的题目。"),
    "annotate.label": ("Your label", "您的标注"),
    "annotate.answer": ("Your answer", "您的答案"),
    "annotate.save": ("Save label", "保存标注"),
    "agreement.title": ("Double annotation and agreement", "双人标注与一致性"),
    "agreement.assign": ("Assign items for blind labelling", "分配题目进行盲标"),
    "agreement.items": ("Items", "题目"),
    "agreement.annotators": ("Annotators (two or more)", "标注员（至少两人）"),
    "agreement.assign.submit": ("Assign", "分配"),
    "agreement.assigned": ("{n} assignment(s) created.", "已创建 {n} 个分配。"),
    "agreement.scores": ("Agreement per task", "各任务的一致性"),
    "agreement.no_labels": (
        "No item has two labels yet.",
        "还没有同时被两人标注的题目。",
    ),
    "agreement.col.items": ("Items", "题目数"),
    "agreement.col.annotators": ("Annotators", "标注员数"),
    "agreement.col.percent": ("Full agreement", "完全一致比例"),
    "agreement.disagreements": ("Disagreements ({n})", "分歧（{n}）"),
    "agreement.decided": ("Adjudicated: {label}", "已裁定：{label}"),
    "agreement.final": ("Final label", "最终标注"),
    "agreement.note": ("Note", "备注"),
    "agreement.adjudicate": ("Adjudicate", "裁定"),
    # publishing
    "publish.title": ("Publish {name}", "发布 {name}"),
    "publish.approved": (
        "{n} approved item(s) will be published into {folder}.",
        "将把 {n} 道已通过的题目发布到 {folder}。",
    ),
    "publish.changelog": ("Changelog: what changed and why", "更新说明：改了什么、为什么"),
    "publish.submit": ("Publish a new version", "发布新版本"),
    "publish.done": (
        "Published {ref}: {n} item(s) in {path}.",
        "已发布 {ref}：{n} 道题目，位于 {path}。",
    ),
    "publish.history": ("Version history", "版本历史"),
    "publish.none": ("Not published yet.", "尚未发布。"),
    "publish.col.version": ("Version", "版本"),
    "publish.col.when": ("Published", "发布时间"),
    "publish.col.author": ("By", "发布人"),
    "publish.col.items": ("Items", "题目数"),
    "publish.col.changelog": ("Changelog", "更新说明"),
    "publish.diff": ("Differences between versions", "版本差异"),
    "publish.diff.old": ("From", "从"),
    "publish.diff.new": ("To", "到"),
    "publish.diff.summary": (
        "{added} added, {removed} removed, {changed} changed",
        "新增 {added}，删除 {removed}，修改 {changed}",
    ),
    "publish.diff.added": ("Added", "新增"),
    "publish.diff.removed": ("Removed", "删除"),
    # users and audit
    "users.title": ("Users", "用户"),
    "users.display_name": ("Display name", "显示名称"),
    "users.role": ("Role", "角色"),
    "users.active": ("Active", "启用"),
    "users.new": ("New user", "新建用户"),
    "users.sso_only": (
        "Leave blank for a single-sign-on account (user name = e-mail).",
        "留空则为单点登录账号（用户名须为邮箱）。",
    ),
    "users.create": ("Create user", "创建用户"),
    "users.created": ("User {user} created.", "已创建用户 {user}。"),
    "users.change": ("Change a user", "修改用户"),
    "users.new_password": ("New password (optional)", "新密码（可选）"),
    "users.apply": ("Apply", "应用"),
    "users.updated": ("User {user} updated.", "已更新用户 {user}。"),
    "audit.title": ("Audit log", "审计日志"),
    "audit.filter": ("Filter by what changed", "按对象筛选"),
    "audit.filter.help": ("e.g. item:legal/ or user:", "例如 item:legal/ 或 user:"),
    "audit.before": ("Before", "修改前"),
    "audit.after": ("After", "修改后"),
    # errors
    "error.not_logged_in": ("Please log in.", "请先登录。"),
    "error.login_failed": ("Wrong user name or password.", "用户名或密码错误。"),
    "error.login_locked": (
        "Too many failed logins for this user name; try again in {minutes} minute(s).",
        "该用户名登录失败次数过多，请在 {minutes} 分钟后重试。",
    ),
    "error.sso_unknown": (
        "No active account for {email}; ask an admin to create one.",
        "{email} 没有可用账号，请联系管理员创建。",
    ),
    "error.permission": (
        "{user} may not {action}: it needs the {role} role.",
        "{user} 无权执行 {action}：需要 {role} 角色。",
    ),
    "error.not_your_item": (
        "{user} may not edit {item}: annotators edit only their own items.",
        "{user} 不能编辑 {item}：标注员只能编辑自己的题目。",
    ),
    "error.own_review": (
        "You wrote {item}; another reviewer must review it.",
        "{item} 是您编写的，须由其他审核员审核。",
    ),
    "error.own_change": (
        "You changed {item} since it was last approved; another reviewer must review it.",
        "{item} 在上次通过后由您修改过，须由其他审核员审核。",
    ),
    "error.own_label": (
        "You labelled {item}; another reviewer must settle its disagreement.",
        "您标注过 {item}，须由其他审核员裁决分歧。",
    ),
    "error.no_disagreement": (
        "{item} is not in disagreement ({labels} label(s)); only items whose annotators' "
        "labels differ are adjudicated.",
        "{item} 没有分歧（{labels} 个标注）；只有标注员标注不一致的题目才能裁决。",
    ),
    "error.not_your_assignment": (
        "This label belongs to another annotator.",
        "这是其他标注员的标注任务。",
    ),
    "error.self_demote": (
        "You cannot change your own role or deactivate yourself.",
        "不能修改自己的角色或停用自己。",
    ),
    "error.no_user": ("No user {user}.", "用户 {user} 不存在。"),
    "error.no_suite": ("No suite {suite}.", "评测集 {suite} 不存在。"),
    "error.no_item": ("No item {item}.", "题目 {item} 不存在。"),
    "error.no_assignment": ("No assignment {assignment}.", "标注任务 {assignment} 不存在。"),
    "error.invalid": (
        "{count} problem(s); nothing was saved.",
        "有 {count} 个问题，未保存任何内容。",
    ),
    "error.publish_problems": (
        "{count} problem(s); nothing was published.",
        "有 {count} 个问题，未发布。",
    ),
    "error.transition": (
        "{item} is {status}; it cannot be sent to '{step}' from there.",
        "{item} 当前状态为 {status}，不能执行“{step}”。",
    ),
    "error.save_conflict": (
        "Not saved: someone else saved the same thing at the same moment. Reload and try "
        "again; nothing was overwritten.",
        "未保存：有人在同一时刻保存了相同的内容。请刷新后重试，没有任何内容被覆盖。",
    ),
    "error.conflict": (
        "Not saved: {by} saved {what} at {at} (version {version}) after you opened it. "
        "Their version and your changes are shown below; nothing was overwritten.",
        "未保存：在您打开之后，{by} 于 {at} 保存了 {what}（第 {version} 版）。"
        "下方显示对方的版本和您的修改，没有任何内容被覆盖。",
    ),
}
for _part in (RATING_STRINGS, HEALTH_STRINGS):
    if STRINGS.keys() & _part.keys():  # one table: a key is never defined twice
        raise RuntimeError(f"i18n keys defined twice: {sorted(STRINGS.keys() & _part.keys())}")
    STRINGS.update(_part)


def t(key: str, lang: str = "en", **params: Any) -> str:
    """The string `key` in `lang` (English when `lang` is unknown), placeholders filled."""
    en, zh = STRINGS[key]
    text = zh if lang == "zh" else en
    return text.format(**params) if params else text
