"""The strings of the *Suite health* page, in English and Chinese; part of `i18n.STRINGS`."""

from __future__ import annotations

HEALTH_STRINGS: dict[str, tuple[str, str]] = {
    "nav.health": ("Suite health", "评测集健康"),
    "status.retired": ("retired", "已停用"),
    "health.title": ("Suite health: {name}", "评测集健康：{name}"),
    "health.caption": (
        "What the scored runs in {folder} say about {ref}: {models} models from {runs} runs. "
        "Suspicions for you to check, most valuable fix first; nothing changes until you act "
        "and publish.",
        "{folder} 中已评分的运行对 {ref} 的分析：来自 {runs} 次运行的 {models} 个模型。"
        "以下仅为供您核查的疑点，按修正价值从高到低排列；在您处理并发布之前不会有任何改动。",
    ),
    "health.no_version": (
        "This suite has no published version yet: publish one and run models on it.",
        "该评测集尚未发布版本：请先发布并在其上运行模型。",
    ),
    "health.nothing": ("No item is flagged.", "没有被标记的题目。"),
    "health.flagged": ("{n} flagged items", "{n} 道被标记的题目"),
    "health.item": (
        "{id} · share right {p} · status {status}",
        "{id} · 正确率 {p} · 状态 {status}",
    ),
    "health.not_in_app": (
        "This item is not in the app (it was published from files).",
        "该题目不在平台中（由文件发布）。",
    ),
    "health.answers": ("The models' answers", "各模型的回答"),
    "health.revise": ("Revise (back to review)", "修改（退回审核）"),
    "health.retire": ("Retire from the next version", "从下一版本中停用"),
    "health.open": ("Open in the editor", "在编辑器中打开"),
    "health.revised": (
        "{id} is back in review with the evidence; fix it in the editor.",
        "{id} 已连同证据退回审核；请在编辑器中修改。",
    ),
    "health.retired": (
        "{id} will not be in the next version; the published ones keep it.",
        "{id} 不会出现在下一版本中；已发布的版本仍保留它。",
    ),
    "health.pending": (
        "Decisions the next version's changelog will carry",
        "下一版本的更新日志将记录的处理决定",
    ),
}
