"""Getting a dataset onto disk: resumable, checksum-verified downloads and archive unpacking that cannot escape.

A download goes to `<file>.part` and resumes from there with an HTTP Range request; only a file whose
sha256 matches is renamed into place, and a mismatch deletes it. Archives are unpacked into a temporary
folder beside the target and renamed into place only when every member was safe: no absolute paths, no
`..`, no links pointing outside, nothing but files and folders.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath


class ChecksumError(ValueError):
    """The downloaded file is not the one the config names."""


class IncompleteDownloadError(OSError):
    """The connection ended early; the partial file is kept so the next attempt resumes."""


class UnsafeArchiveError(ValueError):
    """An archive member would land outside the target folder, or is a link or device."""


def sha256_of(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, dest: str | os.PathLike, sha256: str, timeout: float = 60.0, chunk: int = 1 << 20) -> Path:
    """Fetch `url` to `dest`, resuming a previous partial download; verify sha256 before it counts."""
    dest = Path(dest)
    if dest.exists() and sha256_of(dest) == sha256.lower():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        resumed = have > 0 and response.status == 206
        length = response.headers.get("Content-Length")
        expected = (have if resumed else 0) + int(length) if length is not None else None
        with open(part, "ab" if resumed else "wb") as fh:
            while block := response.read(chunk):
                fh.write(block)
    if expected is not None and part.stat().st_size < expected:
        raise IncompleteDownloadError(f"{url}: connection ended after {part.stat().st_size} of {expected} bytes; run again to resume")
    got = sha256_of(part)
    if got != sha256.lower():
        part.unlink()
        raise ChecksumError(f"{url}: sha256 {got} does not match the configured {sha256.lower()}; the download was deleted")
    os.replace(part, dest)
    return dest


def _check_member_name(name: str) -> None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchiveError(f"archive member {name!r} has an absolute path")
    if ".." in path.parts:
        raise UnsafeArchiveError(f"archive member {name!r} points outside the target ('..')")


def _check_zip(archive: zipfile.ZipFile) -> None:
    for info in archive.infolist():
        _check_member_name(info.filename)
        mode = info.external_attr >> 16
        if mode and (mode & 0o170000) not in (0, 0o100000, 0o040000):  # only regular files and folders
            raise UnsafeArchiveError(f"archive member {info.filename!r} is a link or special file")


def _check_tar(archive: tarfile.TarFile) -> None:
    for member in archive.getmembers():
        _check_member_name(member.name)
        if not (member.isfile() or member.isdir()):
            raise UnsafeArchiveError(f"archive member {member.name!r} is a link or special file")


def safe_extract(archive_path: str | os.PathLike, target: str | os.PathLike, strip_single_folder: bool = True) -> Path:
    """Unpack a zip or tar.* into `target`, all or nothing; a single top-level folder is stripped."""
    archive_path, target = Path(archive_path), Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        if zipfile.is_zipfile(archive_path):
            with zipfile.ZipFile(archive_path) as archive:
                _check_zip(archive)
                archive.extractall(staging)
        elif tarfile.is_tarfile(archive_path):
            with tarfile.open(archive_path) as archive:
                _check_tar(archive)
                archive.extractall(staging, filter="data")  # the standard library's own guard as a second line
        else:
            raise UnsafeArchiveError(f"{archive_path} is neither a zip nor a tar archive")
        root = staging
        entries = list(staging.iterdir())
        if strip_single_folder and len(entries) == 1 and entries[0].is_dir():
            root = entries[0]
        if target.exists():
            shutil.rmtree(target)
        os.replace(root, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def acquire(name: str, target: str | os.PathLike, url: str | None = None, sha256: str | None = None, archive: str | None = None) -> Path:
    """Bring a dataset to `target`: download `url` (verified by `sha256`) or take a local `archive`, then unpack."""
    target = Path(target)
    if url:
        if not sha256:
            raise ValueError(f"dataset {name!r}: a url needs its sha256 (datasets.{name}.sha256)")
        archive_file = download(url, target.parent / f".{name}.download", sha256)
    elif archive:
        archive_file = Path(archive)
        if not archive_file.exists():
            raise FileNotFoundError(f"dataset {name!r}: archive {archive} not found; put it there or change datasets.{name}.archive")
        if sha256 and sha256_of(archive_file) != sha256.lower():
            raise ChecksumError(f"dataset {name!r}: {archive} does not match the configured sha256")
    else:
        raise ValueError(f"dataset {name!r}: nothing to acquire (give url + sha256, or archive)")
    return safe_extract(archive_file, target)
