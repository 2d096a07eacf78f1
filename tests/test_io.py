"""Outputs on shared storage: written atomically, with the permissions the user's umask asks for."""

from __future__ import annotations

import os
import stat

import numpy as np
import pandas as pd
import pytest

from synthfer.io import atomic_write_csv, atomic_write_json, atomic_write_text, save_images


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_outputs_follow_the_umask_like_a_plain_open(tmp_path, umask):
    old = os.umask(umask)
    try:
        atomic_write_csv(pd.DataFrame({"a": [1]}), tmp_path / "table.csv")
        atomic_write_json({"a": 1}, tmp_path / "data.json")
        atomic_write_text("text", tmp_path / "summary.md")
        save_images(np.zeros((1, 4, 4), np.uint8), tmp_path / "faces.npz")
        with open(tmp_path / "plain.txt", "w") as fh:  # what any other program writing there would get
            fh.write("x")
    finally:
        os.umask(old)
    expected = stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)
    assert expected == 0o666 & ~umask
    for name in ("table.csv", "data.json", "summary.md", "faces.npz"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == expected, name


def test_a_failed_write_leaves_neither_the_output_nor_a_temporary_file(tmp_path):
    def broken(path: str) -> None:
        with open(path, "w") as fh:
            fh.write("half")
        raise RuntimeError("disk full")

    from synthfer.io import atomic_write

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(tmp_path / "out.csv", broken)
    assert list(tmp_path.iterdir()) == []
