"""Acquisition against a local HTTP server on 127.0.0.1: checksums, resume, and archives that try to escape."""

from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
import zipfile

import pytest

from synthfer.data.acquire import (
    ArchiveTooLargeError,
    ChecksumError,
    DownloadError,
    IncompleteDownloadError,
    UnpackLimits,
    UnsafeArchiveError,
    acquire,
    download,
    safe_extract,
)


class _Handler(http.server.BaseHTTPRequestHandler):
    payload = b""
    cut_after: int | None = None  # bytes sent before the connection drops (once)
    requests: list[str | None] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        rng = self.headers.get("Range")
        type(self).requests.append(rng)
        if self.path != "/data.zip":
            self.send_error(404)
            return
        start = int(rng.removeprefix("bytes=").rstrip("-")) if rng else 0
        if start >= len(self.payload):  # what real servers answer to a range past the end
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{len(self.payload)}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = self.payload[start:]
        self.send_response(206 if rng else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if type(self).cut_after is not None:
            self.wfile.write(body[: type(self).cut_after])
            type(self).cut_after = None
            self.wfile.flush()
            self.connection.close()
            return
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    _Handler.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}/data.zip"
    httpd.shutdown()
    httpd.server_close()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_download_verifies_the_checksum(server, tmp_path):
    _, url = server
    _Handler.payload, _Handler.cut_after = _zip({"RaFD/a.txt": b"x" * 1000}), None
    good = hashlib.sha256(_Handler.payload).hexdigest()
    out = download(url, tmp_path / "data.zip", good)
    assert out.read_bytes() == _Handler.payload
    with pytest.raises(ChecksumError, match="does not match"):
        download(url, tmp_path / "other.zip", "0" * 64)
    assert not list(tmp_path.glob("other.zip*"))  # nothing kept


def test_interrupted_download_resumes(server, tmp_path):
    _, url = server
    _Handler.payload = bytes(range(256)) * 400
    _Handler.cut_after = 30_000
    digest = hashlib.sha256(_Handler.payload).hexdigest()
    with pytest.raises(IncompleteDownloadError, match="resume"):
        download(url, tmp_path / "big.bin", digest)
    part = tmp_path / "big.bin.part"
    assert part.exists() and 0 < part.stat().st_size < len(_Handler.payload)
    out = download(url, tmp_path / "big.bin", digest)
    assert out.read_bytes() == _Handler.payload
    assert _Handler.requests[-1] == f"bytes={30_000}-"  # the second request asked only for the rest


def test_acquire_unpacks_and_strips_the_top_folder(server, tmp_path):
    _, url = server
    _Handler.payload, _Handler.cut_after = _zip({"RaFD/Rafd090_01_Caucasian_female_angry_frontal.jpg": b"img"}), None
    target = acquire("rafd", tmp_path / "raw" / "rafd", url=url, sha256=hashlib.sha256(_Handler.payload).hexdigest())
    assert (target / "Rafd090_01_Caucasian_female_angry_frontal.jpg").read_bytes() == b"img"


@pytest.mark.parametrize("name", ["../evil.txt", "/tmp/evil.txt", "ok/../../evil.txt"])
def test_zip_members_that_escape_are_refused(tmp_path, name):
    archive = tmp_path / "bad.zip"
    archive.write_bytes(_zip({"fine.txt": b"a", name: b"evil"}))
    with pytest.raises(UnsafeArchiveError):
        safe_extract(archive, tmp_path / "out" / "target")
    assert not (tmp_path / "out" / "target").exists()
    assert list((tmp_path / "out").iterdir()) == []  # not even the harmless member was left behind
    assert not (tmp_path / "evil.txt").exists()


def test_tar_with_an_outside_symlink_is_refused(tmp_path):
    archive = tmp_path / "bad.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"hello"
        info = tarfile.TarInfo("data/file.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("data/link")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    with pytest.raises(UnsafeArchiveError, match="link"):
        safe_extract(archive, tmp_path / "out" / "target")
    assert list((tmp_path / "out").iterdir()) == []


def test_good_tar_unpacks(tmp_path):
    archive = tmp_path / "good.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in ("CK+/Emotion/S005/001/x.txt", "CK+/cohn-kanade-images/S005/001/y.png"):
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"1"))
    target = safe_extract(archive, tmp_path / "ck")
    assert (target / "Emotion/S005/001/x.txt").exists() and (target / "cohn-kanade-images").is_dir()


def test_a_complete_part_is_verified_and_finished_without_the_server(server, tmp_path):
    """A run stopped between the last byte and the rename: the next one must not ask for bytes past the end."""
    _, url = server
    _Handler.payload, _Handler.cut_after = bytes(range(256)) * 40, None
    (tmp_path / "data.bin.part").write_bytes(_Handler.payload)
    out = download(url, tmp_path / "data.bin", hashlib.sha256(_Handler.payload).hexdigest())
    assert (
        out.read_bytes() == _Handler.payload and _Handler.requests == [] and not (tmp_path / "data.bin.part").exists()
    )


def test_a_stale_part_as_long_as_the_file_starts_over(server, tmp_path):
    _, url = server
    _Handler.payload, _Handler.cut_after = bytes(range(256)) * 40, None
    (tmp_path / "data.bin.part").write_bytes(b"\0" * len(_Handler.payload))  # the right length, other bytes (HTTP 416)
    out = download(url, tmp_path / "data.bin", hashlib.sha256(_Handler.payload).hexdigest())
    assert out.read_bytes() == _Handler.payload and _Handler.requests == [f"bytes={len(_Handler.payload)}-", None]


def test_download_errors_name_the_dataset_and_the_url(server, tmp_path):
    httpd, url = server
    missing = url.replace("data.zip", "gone.zip")
    with pytest.raises(DownloadError, match=f"dataset 'rafd': downloading {missing} failed: HTTP 404"):
        acquire("rafd", tmp_path / "raw" / "rafd", url=missing, sha256="0" * 64)
    closed = f"http://127.0.0.1:{_free_port()}/data.zip"
    with pytest.raises(DownloadError, match=f"dataset 'rafd': downloading {closed} failed: URLError"):
        acquire("rafd", tmp_path / "raw" / "rafd", url=closed, sha256="0" * 64)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_staging_folder_left_by_a_killed_unpack_is_removed_by_the_next(tmp_path):
    archive = tmp_path / "good.zip"
    archive.write_bytes(_zip({"db/a.txt": b"a"}))
    stale = tmp_path / "raw" / ".rafd.unpacking-x1y2z3"
    (stale / "db").mkdir(parents=True)
    (stale / "db" / "half.txt").write_bytes(b"half")
    target = safe_extract(archive, tmp_path / "raw" / "rafd")
    assert (target / "a.txt").read_bytes() == b"a"
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == ["rafd"]


@pytest.mark.parametrize(
    "limits, message",
    [
        (
            UnpackLimits(max_member_gb=1000 / 1024**3),
            "member 'db/big.bin' unpacks to 0.00 GB, more than unpack_limits.max_member_gb",
        ),
        (UnpackLimits(max_total_gb=1500 / 1024**3), "unpacks to 0.00 GB, more than unpack_limits.max_total_gb"),
        (UnpackLimits(max_members=2), "has 3 members, more than unpack_limits.max_members = 2"),
    ],
)
def test_an_archive_over_the_unpack_limits_is_refused_before_anything_is_written(tmp_path, limits, message):
    archive = tmp_path / "bomb.zip"
    archive.write_bytes(
        _zip({"db/big.bin": b"\0" * 1200, "db/b.bin": b"\0" * 900, "db/c.txt": b"c"})
    )  # compresses to ~100 bytes
    with pytest.raises(ArchiveTooLargeError, match=message):
        acquire("fer", tmp_path / "out" / "fer", archive=str(archive), limits=limits)
    assert list((tmp_path / "out").iterdir()) == []
    assert (
        safe_extract(archive, tmp_path / "ok" / "fer") / "big.bin"
    ).stat().st_size == 1200  # the default limits let it through
