"""The GPU proof's run measures: jobs as time spans from their benchmark files, utilization means over a window."""

from __future__ import annotations

import os

from synthfer.utilization import UtilizationSampler, job_spans


def test_a_jobs_span_ends_at_its_benchmarks_mtime_and_lasts_its_seconds(tmp_path):
    (tmp_path / "train_classifier").mkdir()
    stacked = tmp_path / "train_classifier" / "stargan_k1_stacked.tsv"
    stacked.write_text("s\th:m:s\tmax_rss\n12.5\t0:00:12\t100\n")
    os.utime(stacked, (1000.0, 1000.0))
    gan = tmp_path / "train_stargan.tsv"
    gan.write_text("s\th:m:s\n40.0\t0:00:40\n")
    os.utime(gan, (900.0, 900.0))
    spans = {s["job"]: s for s in job_spans(tmp_path)}
    assert spans["train_classifier/stargan_k1_stacked.tsv"] == {
        "rule": "train_classifier",
        "job": "train_classifier/stargan_k1_stacked.tsv",
        "seconds": 12.5,
        "start": 987.5,
        "end": 1000.0,
    }
    assert spans["train_stargan.tsv"]["rule"] == "train_stargan" and spans["train_stargan.tsv"]["start"] == 860.0


def test_the_mean_utilization_covers_only_the_window_asked_for():
    sampler = UtilizationSampler(samples=[(1.0, 10), (2.0, 90), (3.0, 80), (4.0, 0)])
    assert sampler.mean() == 45.0
    assert sampler.mean(2.0, 3.0) == 85.0
    assert sampler.mean(10.0, 20.0) is None  # no sample there: no number made up


def test_the_seconds_before_each_jobs_step_are_read_from_the_job_logs(tmp_path):
    """A real job's log line, written by run_logged, and read back per rule."""
    import subprocess
    import sys
    import textwrap

    from synthfer.utilization import start_seconds

    for name in ("a", "b"):
        log = tmp_path / "train_cyclegan" / f"{name}.log"
        log.parent.mkdir(exist_ok=True)
        code = textwrap.dedent(f"""
            from synthfer.logs import run_logged
            run_logged({str(log)!r}, 1, lambda: None)
        """)
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    (tmp_path / "train_cyclegan" / "old.log").write_text("a log without the line\\n")
    found = start_seconds(tmp_path)
    assert list(found) == ["train_cyclegan"] and len(found["train_cyclegan"]) == 2
    assert all(0 <= s < 60 for s in found["train_cyclegan"])
