"""A job's output goes to its log, which Snakemake keeps and shows on failure; the terminal stays Snakemake's."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_everything_a_job_prints_lands_in_its_log_and_nothing_on_the_terminal(tmp_path):
    log = tmp_path / "job.log"
    code = textwrap.dedent(f"""
        import logging, os, sys, warnings
        from synthfer.logs import setup_logging
        setup_logging({str(log)!r})
        logging.getLogger("synthfer").info("a progress line")
        warnings.warn("a library's warning", RuntimeWarning)  # e.g. scipy's LinAlgWarning
        print("a print")
        os.write(2, b"a C library writing to stderr\\n")  # mediapipe's notices, a crash report
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "" and run.stderr == ""
    text = log.read_text()
    for line in (
        "INFO a progress line",
        "RuntimeWarning: a library's warning",
        "a print",
        "a C library writing to stderr",
    ):
        assert line in text, line


def test_a_failing_step_writes_its_traceback_once_and_exits_non_zero(tmp_path):
    log = tmp_path / "job.log"
    code = textwrap.dedent(f"""
        from synthfer.logs import run_logged
        def step():
            raise ValueError("the design cannot work: lower split.test")
        run_logged({str(log)!r}, 1, step)
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    text = log.read_text()
    assert text.count("Traceback (most recent call last)") == 1
    assert "step failed: the design cannot work: lower split.test" in text
    # where the job was started (the terminal, SLURM's output file), the failure with the end of its log, once
    assert f"Job failed; its log ({log}) ends:" in run.stderr
    assert run.stderr.count("Traceback (most recent call last)") == 1 and "lower split.test" in run.stderr


def test_a_failure_whose_log_cannot_be_written_still_says_why_on_the_terminal(tmp_path):
    """A full disk: nothing more reaches the job's log (here its output is pointed at /dev/full, where every write
    fails, as on a full disk), yet the terminal gets the error in one line."""
    log = tmp_path / "job.log"
    code = textwrap.dedent(f"""
        import os
        from synthfer.logs import run_logged
        def step():
            os.dup2(os.open("/dev/full", os.O_WRONLY), 2)  # the log's writes fail from here on
            raise OSError(28, "no space left on the disk holding results/report/summary.md")
        run_logged({str(log)!r}, 1, step)
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "step failed" not in log.read_text()  # the log could not take the failure
    assert "error: OSError: [Errno 28] no space left on the disk holding results/report/summary.md" in run.stderr
