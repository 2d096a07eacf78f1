"""Getting a dataset onto disk: resumable, checksum-verified downloads and archive unpacking that cannot escape.

A download goes to `<file>.part` and resumes from there with an HTTP Range request; only a file whose
sha256 matches is renamed into place, and a mismatch deletes it. A part that is already complete (a run
stopped between the last byte and the rename) is verified and finished without asking the server again.
Every failure names the dataset, the URL and the partial file.

Archives are unpacked into a staging folder beside the target and renamed into place only when every member
was safe: no absolute paths, no `..`, no links pointing outside, nothing but files and folders, and no more
members or bytes than `UnpackLimits` allow (a zip bomb is refused before anything is written). A staging
folder left by a killed unpack is removed by the next one.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from synthfer.settings import UnpackLimits  # noqa: F401 - re-exported: the dataclass lives with the other settings

GB = 1024**3


class ChecksumError(ValueError):
    """The downloaded file is not the one the config names."""


class IncompleteDownloadError(OSError):
    """The connection ended early; the partial file is kept so the next attempt resumes."""


class DownloadError(OSError):
    """The server or the network refused the download; the message names dataset, URL and partial file."""


class UnsafeArchiveError(ValueError):
    """An archive member would land outside the target folder, or is a link or device."""


class ArchiveTooLargeError(UnsafeArchiveError):
    """An archive would unpack to more members or bytes than `unpack_limits` allow."""


DEFAULT_LIMITS = UnpackLimits()


def sha256_of(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _finish(part: Path, dest: Path, url: str, sha256: str, what: str) -> Path:
    got = sha256_of(part)
    if got != sha256.lower():
        part.unlink()
        raise ChecksumError(
            f"{what}{url}: sha256 {got} does not match the configured {sha256.lower()}; the download was deleted"
        )
    os.replace(part, dest)
    return dest


def download(
    url: str,
    dest: str | os.PathLike,
    sha256: str,
    timeout: float = 60.0,
    chunk: int = 1 << 20,
    dataset: str | None = None,
) -> Path:
    """Fetch `url` to `dest`, resuming a previous partial download; verify sha256 before it counts."""
    dest = Path(dest)
    what = f"dataset {dataset!r}: " if dataset else ""
    if dest.exists() and sha256_of(dest) == sha256.lower():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    if have and sha256_of(part) == sha256.lower():  # complete, stopped before the rename: nothing left to fetch
        os.replace(part, dest)
        return dest
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            resumed = have > 0 and response.status == 206
            length = response.headers.get("Content-Length")
            expected = (have if resumed else 0) + int(length) if length is not None else None
            with open(part, "ab" if resumed else "wb") as fh:
                while block := response.read(chunk):
                    fh.write(block)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing after byte `have`, yet the part is not the file: it is stale, start over
            part.unlink()
            return download(url, dest, sha256, timeout, chunk, dataset)
        raise DownloadError(
            f"{what}downloading {url} failed: HTTP {exc.code} {exc.reason}; check datasets.{dataset or '<name>'}.url"
        ) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        kept = f"; {part.stat().st_size} bytes kept in {part}, run again to resume" if part.exists() else ""
        raise DownloadError(f"{what}downloading {url} failed: {type(exc).__name__}: {reason}{kept}") from None
    if expected is not None and part.stat().st_size < expected:
        raise IncompleteDownloadError(
            f"{what}{url}: connection ended after {part.stat().st_size} of {expected} bytes "
            f"(kept in {part}); run again to resume"
        )
    return _finish(part, dest, url, sha256, what)


def _check_member_name(name: str) -> None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchiveError(f"archive member {name!r} has an absolute path")
    if ".." in path.parts:
        raise UnsafeArchiveError(f"archive member {name!r} points outside the target ('..')")


def _check_sizes(archive: Path, sizes: list[tuple[str, int]], limits: UnpackLimits) -> None:
    """Refuse by the sizes the archive declares; they bind: zipfile and tarfile never write more than that."""
    if len(sizes) > limits.max_members:
        raise ArchiveTooLargeError(
            f"{archive} has {len(sizes)} members, more than unpack_limits.max_members = {limits.max_members}"
        )
    for name, size in sizes:
        if size > limits.max_member_gb * GB:
            raise ArchiveTooLargeError(
                f"{archive}: member {name!r} unpacks to {size / GB:.2f} GB, more than "
                f"unpack_limits.max_member_gb = {limits.max_member_gb:g}"
            )
    total = sum(size for _, size in sizes)
    if total > limits.max_total_gb * GB:
        raise ArchiveTooLargeError(
            f"{archive} unpacks to {total / GB:.2f} GB, more than unpack_limits.max_total_gb = {limits.max_total_gb:g}"
        )


def _check_zip(archive: zipfile.ZipFile) -> list[tuple[str, int]]:
    for info in archive.infolist():
        _check_member_name(info.filename)
        mode = info.external_attr >> 16
        if mode and (mode & 0o170000) not in (0, 0o100000, 0o040000):  # only regular files and folders
            raise UnsafeArchiveError(f"archive member {info.filename!r} is a link or special file")
    return [(info.filename, info.file_size) for info in archive.infolist()]


def _check_tar(archive: tarfile.TarFile) -> list[tuple[str, int]]:
    for member in archive.getmembers():
        _check_member_name(member.name)
        if not (member.isfile() or member.isdir()):
            raise UnsafeArchiveError(f"archive member {member.name!r} is a link or special file")
    return [(member.name, member.size) for member in archive.getmembers()]


STAGING = ".unpacking-"
"""Infix of the staging folders (`.<target>.unpacking-XXXX`), so that a leftover one is recognised."""


def remove_stale_staging(target: Path) -> list[Path]:
    """Staging folders of `target` left by an unpack that was killed (SIGKILL, power loss): removed."""
    stale = [p for p in target.parent.glob(f".{target.name}{STAGING}*") if p.is_dir()]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale


def safe_extract(
    archive_path: str | os.PathLike,
    target: str | os.PathLike,
    strip_single_folder: bool = True,
    limits: UnpackLimits = DEFAULT_LIMITS,
) -> Path:
    """Unpack a zip or tar.* into `target`, all or nothing; a single top-level folder is stripped."""
    archive_path, target = Path(archive_path), Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(target)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}{STAGING}"))
    try:
        if zipfile.is_zipfile(archive_path):
            with zipfile.ZipFile(archive_path) as archive:
                _check_sizes(archive_path, _check_zip(archive), limits)
                archive.extractall(staging)
        elif tarfile.is_tarfile(archive_path):
            with tarfile.open(archive_path) as archive:
                _check_sizes(archive_path, _check_tar(archive), limits)
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


def acquire(
    name: str,
    target: str | os.PathLike,
    url: str | None = None,
    sha256: str | None = None,
    archive: str | None = None,
    limits: UnpackLimits = DEFAULT_LIMITS,
) -> Path:
    """Bring a dataset to `target`: download `url` (verified by `sha256`) or take a local `archive`, then unpack."""
    target = Path(target)
    if url:
        if not sha256:
            raise ValueError(f"dataset {name!r}: a url needs its sha256 (datasets.{name}.sha256)")
        archive_file = download(url, target.parent / f".{name}.download", sha256, dataset=name)
    elif archive:
        archive_file = Path(archive)
        if not archive_file.exists():
            raise FileNotFoundError(
                f"dataset {name!r}: archive {archive} not found; put it there or change datasets.{name}.archive"
            )
        if sha256 and sha256_of(archive_file) != sha256.lower():
            raise ChecksumError(f"dataset {name!r}: {archive} does not match the configured sha256")
    else:
        raise ValueError(f"dataset {name!r}: nothing to acquire (give url + sha256, or archive)")
    try:
        return safe_extract(archive_file, target, limits=limits)
    except UnsafeArchiveError as exc:
        raise type(exc)(f"dataset {name!r}: {exc}") from None
