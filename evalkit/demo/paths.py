"""Where the demo's shipped data lives, and the names of its suites."""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"
CORPUS_FILES = (DATA_DIR / "norvale_code_en.txt", DATA_DIR / "norvale_code_zh.txt")
CHAT_FILE = DATA_DIR / "chat.jsonl"  # general dialogues, {"messages": [...]} per line
LAW_SFT_FILE = DATA_DIR / "law_sft.jsonl"  # domain instructions, as evalkit items
DOMAIN_SUITE = "demo-law"
GENERAL_SUITE = "demo-general"
WRITING_SUITE = "demo-writing"  # open-ended answers, rated by the judge and the demo ratings
DEMO_RATINGS_FILE = DATA_DIR / "demo_ratings.jsonl"  # ratings written for the demo outputs
