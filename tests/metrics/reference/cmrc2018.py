"""Evaluation script for CMRC 2018 (v5 - special, SQuAD-style data): the scoring functions.

Source: ymcui/cmrc2018, `squad-style-data/cmrc2018_evaluate.py` (Python 2). Changed, and
nothing else:
- ported to Python 3: `str(x).decode('utf-8')` becomes `str(x)`, `ur'...'` becomes `r'...'`,
  `reload(sys)`/`setdefaultencoding` and the unused imports are dropped;
- `nltk.word_tokenize(s)` becomes `NLTKWordTokenizer().tokenize(s)`: `word_tokenize` first
  splits sentences with the punkt model, which must be downloaded (we cannot); on the short
  answer strings compared here there is one sentence, and `word_tokenize` then applies this
  same tokenizer to it (nltk's own definition of `word_tokenize`);
- `evaluate()` and the command line are left out; formatting (ruff) and type hints.
"""

from __future__ import annotations

import re

from nltk.tokenize import NLTKWordTokenizer

_TOKENIZER = NLTKWordTokenizer()

SP_CHAR = [
    "-", ":", "_", "*", "^", "/", "\\", "~", "`", "+", "=",
    "，", "。", "：", "？", "！", "“", "”", "；", "’", "《", "》", "……", "·", "、",
    "「", "」", "（", "）", "－", "～", "『", "』",
]  # fmt: skip


def word_tokenize(text: str) -> list[str]:
    return _TOKENIZER.tokenize(text)


# split Chinese with English
def mixed_segmentation(in_str: str, rm_punc: bool = False) -> list[str]:
    in_str = str(in_str).lower().strip()
    segs_out = []
    temp_str = ""
    sp_char = SP_CHAR
    for char in in_str:
        if rm_punc and char in sp_char:
            continue
        if re.search(r"[\u4e00-\u9fa5]", char) or char in sp_char:
            if temp_str != "":
                ss = word_tokenize(temp_str)
                segs_out.extend(ss)
                temp_str = ""
            segs_out.append(char)
        else:
            temp_str += char

    # handling last part
    if temp_str != "":
        ss = word_tokenize(temp_str)
        segs_out.extend(ss)

    return segs_out


# remove punctuation
def remove_punctuation(in_str: str) -> str:
    in_str = str(in_str).lower().strip()
    sp_char = SP_CHAR
    out_segs = []
    for char in in_str:
        if char in sp_char:
            continue
        else:
            out_segs.append(char)
    return "".join(out_segs)


# find longest common string
def find_lcs(s1: list[str], s2: list[str]) -> tuple[list[str], int]:
    m = [[0 for i in range(len(s2) + 1)] for j in range(len(s1) + 1)]
    mmax = 0
    p = 0
    for i in range(len(s1)):
        for j in range(len(s2)):
            if s1[i] == s2[j]:
                m[i + 1][j + 1] = m[i][j] + 1
                if m[i + 1][j + 1] > mmax:
                    mmax = m[i + 1][j + 1]
                    p = i + 1
    return s1[p - mmax : p], mmax


def calc_f1_score(answers: list[str], prediction: str) -> float:
    f1_scores = []
    for ans in answers:
        ans_segs = mixed_segmentation(ans, rm_punc=True)
        prediction_segs = mixed_segmentation(prediction, rm_punc=True)
        lcs, lcs_len = find_lcs(ans_segs, prediction_segs)  # noqa: RUF059
        if lcs_len == 0:
            f1_scores.append(0)
            continue
        precision = 1.0 * lcs_len / len(prediction_segs)
        recall = 1.0 * lcs_len / len(ans_segs)
        f1 = (2 * precision * recall) / (precision + recall)
        f1_scores.append(f1)
    return max(f1_scores)


def calc_em_score(answers: list[str], prediction: str) -> int:
    em = 0
    for ans in answers:
        ans_ = remove_punctuation(ans)
        prediction_ = remove_punctuation(prediction)
        if ans_ == prediction_:
            em = 1
            break
    return em
