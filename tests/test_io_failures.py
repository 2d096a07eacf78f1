"""Writes and reads that fail say which file and why: a full disk, a damaged store."""

from __future__ import annotations

import errno

import pytest

from synthfer import io
from synthfer.data.store import read_one_store, write_face_set


def test_a_full_disk_names_the_file_and_says_the_disk_is_full(tmp_path, monkeypatch):
    target = tmp_path / "summary.md"

    def write(tmp: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match=rf"no space left on the disk holding {target} .*nothing was written"):
        io.atomic_write(target, write)
    assert list(tmp_path.iterdir()) == []  # no half-written file, no temporary left


def test_a_library_s_own_words_for_a_full_disk_are_put_down_to_it(tmp_path, monkeypatch):
    """torch.save's zip writer says 'unexpected pos ...' when the disk fills: with next to nothing free, that is
    reported as a full disk."""

    class Usage:
        free = 4096

    monkeypatch.setattr(io.shutil, "disk_usage", lambda path: Usage())

    def write(tmp: str) -> None:
        raise RuntimeError("[enforce fail at inline_container.cc:858] . unexpected pos 374720 vs 374608")

    with pytest.raises(OSError, match=r"no space left on the disk .*unexpected pos 374720"):
        io.atomic_write(tmp_path / "model.pt", write)


def test_an_ordinary_failure_is_not_called_a_full_disk(tmp_path):
    def write(tmp: str) -> None:
        raise ValueError("bad value")

    with pytest.raises(ValueError, match="bad value"):
        io.atomic_write(tmp_path / "x.csv", write)


def test_a_damaged_face_store_names_the_file_and_how_to_remake_it(tmp_path):
    from conftest import make_real_faces

    faces = make_real_faces(n_subjects=2)
    write_face_set(faces, tmp_path / "faces.npz", tmp_path / "faces.csv")
    data = (tmp_path / "faces.npz").read_bytes()
    (tmp_path / "faces.npz").write_bytes(data[: len(data) // 3])
    with pytest.raises(io.DamagedFileError, match=rf"{tmp_path / 'faces.npz'} is damaged or incomplete .*delete it"):
        read_one_store([str(tmp_path / "faces.npz"), str(tmp_path / "faces.csv")])
