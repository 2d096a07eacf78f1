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


def test_a_long_jobs_progress_reaches_the_terminal_now_and_then(tmp_path):
    """Snakemake says nothing while a job runs: the job itself says where it is, at most once a minute (here at
    once), named by its log, while its log gets every line."""
    log = tmp_path / "results" / "logs" / "train_stargan.log"
    log.parent.mkdir(parents=True)
    code = textwrap.dedent(f"""
        import synthfer.logs as logs
        logs.TERMINAL_EVERY_S = 0.0
        def step():
            progress = logs.Progress("stargan iteration", 10, every_s=0)
            progress.update(3)
            progress.update(10)  # the end: in the log, not on the terminal
        logs.run_logged({str(log)!r}, 1, step)
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("train_stargan: stargan iteration") == 1
    assert "    train_stargan: stargan iteration 3/10, 0:00:00 so far, ETA" in run.stderr
    assert "stargan iteration 10/10" in log.read_text()


def test_seeds_trained_one_after_another_say_which_and_the_jobs_eta(caplog):
    import numpy as np
    import torch

    from synthfer.settings import ClassifierConfig
    from synthfer.train.stacked import train_seeds

    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, (24, 24, 24), dtype=np.uint8), np.arange(24) % 6
    cfg = ClassifierConfig(image_size=24, max_epochs=1, patience=1)
    with caplog.at_level("INFO", logger="synthfer"):
        train_seeds(x, y, x, y, cfg, [3, 5], torch.device("cpu"))
    assert "seed 1 of 2 (seed 3)" in caplog.text and "seed 2 of 2 (seed 5)" in caplog.text
    assert "seeds of this job (2) 1/2" in caplog.text and "ETA" in caplog.text
