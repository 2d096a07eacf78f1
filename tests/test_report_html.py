"""The pieces report.html shows inline: the summary as HTML, the answer for the workflow description, tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthfer.report_html import answer_rst, markdown_page, table_page

CONFIG = {"roles": {"cross_test": ["cross_a", "cross_b"]}}


def _gains() -> pd.DataFrame:
    rows = []
    for test_set, gains in (("cross_a", (0.02, 0.08)), ("cross_b", (-0.01, 0.01)), ("real_test", (0.0, 0.03))):
        for k, gain in zip(("1", "2"), gains):
            rows.append(
                {
                    "arm": "stargan",
                    "test_set": test_set,
                    "k": k,
                    "gain": gain,
                    "ci_low": gain - 0.04,
                    "ci_high": gain + 0.04,
                    "p_value": 0.01,
                    "p_holm": 0.02 if gain > 0.05 else 0.4,
                    "mde": 0.06,
                    "n_seeds": 3,
                    "family": f"ratios: stargan on {test_set}",
                    "verdict": "gain" if gain > 0.05 else "inconclusive",
                }
            )
    rows.append(
        {
            "arm": "vgg16",
            "test_set": "cross_a",
            "k": "0",
            "gain": 0.2,
            "ci_low": 0.1,
            "ci_high": 0.3,
            "p_value": 0.001,
            "p_holm": 0.002,
            "mde": 0.05,
            "n_seeds": 3,
            "family": "architecture: vgg16 vs the paper CNN",
            "verdict": "gain",
        }
    )
    return pd.DataFrame(rows)


def test_the_answer_names_the_best_k_per_test_set_and_counts_the_verdicts():
    text = answer_rst(CONFIG, _gains(), 0.05)
    lines = text.splitlines()
    assert (
        lines[0].startswith("- ``stargan`` on ``cross_a``: best k = 2 (chosen on this test set): +8.0 points")
        and "**gain**" in lines[0]
    )
    assert lines[1].startswith("- ``stargan`` on ``cross_b``: best k = 2") and lines[2].startswith(
        "- ``stargan`` on ``real_test``"
    )
    assert "vgg16" not in text.split("Over all")[0]  # a baseline architecture has no k to choose
    assert "Over all 7 comparisons with real only (4 families, Holm within each): 2 gain, 5 inconclusive" in text


def test_a_real_only_study_says_there_is_nothing_to_judge():
    assert "real-only study" in answer_rst(CONFIG, pd.DataFrame(), 0.05)


def test_markdown_tables_and_code_become_html():
    page = markdown_page("# title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\nx: 1\n```\n", "t")
    assert "<table>" in page and "<td>1</td>" in page and "<code>x: 1" in page and page.startswith("<!DOCTYPE html>")


def test_table_pages_round_for_reading():
    page = table_page(pd.DataFrame({"a": [0.123456789], "b": [np.nan]}), "T", "note")
    assert "0.1235" in page and "<h1>T</h1>" in page and "<p>note</p>" in page
