"""The S3 source against moto in-process: layouts, pinning, integrity, safety and every failure mode."""

import hashlib
import io
import json
import logging
import re
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
import zipfile
from contextlib import nullcontext

import boto3
import pytest
from fastapi.testclient import TestClient
from moto import mock_aws

from core.app import create_app
from core.loader import load_registry
from core.sources import SourceError
from core.sources.archive import UnsafeArchive, read_zip, write_atomic
from core.sources.manifest import ManifestError
from core.sources.s3 import S3Source
from core.sources.s3_uri import parse_s3_uri
from infra.publish import publish
from tests.conftest import FIXTURE_PIPELINES, fixture_settings
from tests.s3_faults import Fault

BUCKET = "pipelines-bucket"


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def folder(tmp_path):
    """A small pipelines folder to publish: a wrapper with relative imports and data, and a YAML pipeline."""
    root = tmp_path / "to-publish"
    shutil.copytree(FIXTURE_PIPELINES / "relative", root / "relative", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(FIXTURE_PIPELINES / "echo_async", root / "echo_async", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(FIXTURE_PIPELINES / "yaml_echo.yaml", root)
    return root


@pytest.fixture
def empty_package(tmp_path):
    path = tmp_path / "package"
    path.mkdir()
    return path


@pytest.fixture
def echo_package(tmp_path):
    """A baked-in folder with one healthy pipeline, to show what is still served when S3 fails."""
    path = tmp_path / "package"
    shutil.copytree(FIXTURE_PIPELINES / "echo", path / "echo", ignore=shutil.ignore_patterns("__pycache__"))
    return path


def assert_serving(registry, *, error=None, run=("echo", {"text": "still here"})):
    """The app built on this registry answers /status (with the S3 source's error) and runs a pipeline."""
    client = TestClient(create_app(fixture_settings(), registry, sync_inline=True))
    status = client.get("/status")
    assert status.status_code == 200 and status.json()["status"] == "Up!"
    (s3,) = [source for source in status.json()["sources"] if source["kind"] == "s3"]
    assert s3["ok"] is (error is None) and s3.get("error") == error
    name, body = run
    reply = client.post(f"/{name}/run", json=body)
    assert reply.status_code == 200, reply.text
    return client


def _key(uri):
    """The S3 key (a bundle) or key prefix (a version folder) of a `s3://BUCKET/...` URI."""
    return uri.removeprefix(f"s3://{BUCKET}/").split("?")[0]


def _unpinning_copy(aws, uri):
    """The published prefix copied under an old-style name (8 hex digits of a content hash, pinning nothing)."""
    target = "pipelines/2026-01-01T00-00-00Z-3f2a9c1e/"
    for obj in aws.list_objects_v2(Bucket=BUCKET, Prefix=_key(uri))["Contents"]:
        relative = obj["Key"].removeprefix(_key(uri))
        aws.copy_object(Bucket=BUCKET, Key=target + relative, CopySource={"Bucket": BUCKET, "Key": obj["Key"]})
    return f"s3://{BUCKET}/{target}"


def load(uri, client, package, **overrides):
    settings = fixture_settings(pipelines_dir=package, pipelines_s3_uri=uri, **overrides)
    return load_registry(settings, s3_client=client)


def test_prefix_with_manifest_loads_pinned(aws, folder, empty_package, caplog):
    uri = publish(folder, f"s3://{BUCKET}/pipelines/", bundle=False, label="v1", client=aws)
    assert re.fullmatch(rf"s3://{BUCKET}/pipelines/v1-[0-9a-f]{{24}}/", uri)
    version = _key(uri).split("/")[1]
    with caplog.at_level(logging.WARNING):
        registry = load(uri, aws, empty_package)
    assert sorted(registry.loaded) == ["echo_async", "relative", "yaml_echo"] and not registry.failed
    relative = registry.get("relative")
    assert (relative.source, relative.version) == ("s3", version)
    assert relative.wrapper.run_api("x")["data"] == "data next to the wrapper"
    (s3,) = [s for s in registry.sources if s.kind == "s3"]
    assert s3.ok and s3.pinned and s3.version == version and s3.files == 7
    assert "not pinned" not in caplog.text


def test_bundle_with_manifest_loads(aws, folder, empty_package):
    uri = publish(folder, f"s3://{BUCKET}/pipelines/", bundle=True, label="v2", client=aws)
    assert re.fullmatch(rf"s3://{BUCKET}/pipelines/v2-[0-9a-f]{{24}}\.zip", uri)
    registry = load(uri, aws, empty_package)
    assert sorted(registry.loaded) == ["echo_async", "relative", "yaml_echo"]
    assert registry.get("yaml_echo").version == _key(uri).removeprefix("pipelines/").removesuffix(".zip")


def test_bundle_pinned_by_version_id_survives_an_overwrite(aws, folder, empty_package):
    aws.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    uri = publish(folder, f"s3://{BUCKET}/pipelines/", bundle=True, label="v3", client=aws)
    assert "?versionId=" in uri
    aws.put_object(Bucket=BUCKET, Key=_key(uri), Body=b"overwritten, not a zip")
    registry = load(uri, aws, empty_package)
    assert sorted(registry.loaded) == ["echo_async", "relative", "yaml_echo"]
    (s3,) = [s for s in registry.sources if s.kind == "s3"]
    assert s3.pinned


def test_unpinned_prefix_loads_with_a_warning(aws, folder, empty_package, caplog):
    for file in folder.rglob("*"):
        if file.is_file():
            aws.put_object(Bucket=BUCKET, Key=f"loose/{file.relative_to(folder).as_posix()}", Body=file.read_bytes())
    with caplog.at_level(logging.WARNING):
        registry = load(f"s3://{BUCKET}/loose/", aws, empty_package)
    assert sorted(registry.loaded) == ["echo_async", "relative", "yaml_echo"]
    assert f"Pipelines source s3://{BUCKET}/loose/ is not pinned" in caplog.text
    assert registry.get("relative").version is None


def test_baked_in_and_s3_combine(aws, folder, tmp_path):
    package = tmp_path / "package"
    shutil.copytree(FIXTURE_PIPELINES / "echo", package / "echo")
    uri = publish(folder, f"s3://{BUCKET}/pipelines/", bundle=False, label="v1", client=aws)
    registry = load(uri, aws, package)
    assert sorted(registry.loaded) == ["echo", "echo_async", "relative", "yaml_echo"]
    assert registry.get("echo").source == "package" and registry.get("relative").source == "s3"


def test_name_in_both_sources_fails_the_cold_start(aws, folder, tmp_path):
    package = tmp_path / "package"
    shutil.copytree(FIXTURE_PIPELINES / "relative", package / "relative")
    uri = publish(folder, f"s3://{BUCKET}/pipelines/", bundle=False, label="v1", client=aws)
    with pytest.raises(SourceError) as err:
        load(uri, aws, package)
    assert str(err.value) == (
        f"pipeline 'relative' is in two sources, {package} and {uri}: "
        "remove it from one of them (neither is chosen silently)"
    )


# -- failure modes ---------------------------------------------------------------------------------------


def _failed_source(registry):
    (s3,) = [s for s in registry.sources if s.kind == "s3"]
    assert not s3.ok
    return s3.error


def test_bucket_missing_serves_baked_in_and_reports(aws, tmp_path):
    package = tmp_path / "package"
    shutil.copytree(FIXTURE_PIPELINES / "echo", package / "echo")
    registry = load("s3://no-such-bucket-here/pipelines/v1/", aws, package)
    assert registry.names() == ["echo"]
    error = "s3://no-such-bucket-here/pipelines/v1/: bucket 'no-such-bucket-here' does not exist"
    assert _failed_source(registry) == error
    assert_serving(registry, error=error)


def test_strict_turns_a_source_failure_into_a_failed_cold_start(aws, empty_package):
    with pytest.raises(SourceError, match=r"does not exist \(HAYHOOKS_PIPELINES_STRICT is on: the cold start fails\)"):
        load("s3://no-such-bucket-here/p/", aws, empty_package, pipelines_strict=True)


def test_access_denied(aws, folder, echo_package):
    uri = publish(folder, f"s3://{BUCKET}/pipelines/", bundle=False, label="v1", client=aws)
    Fault(aws, "GetObject", 403, "AccessDenied", "Access Denied")
    registry = load(uri, aws, echo_package)
    error = f"{uri}manifest.json: access denied; the function's role needs s3:GetObject for this prefix"
    assert _failed_source(registry) == error
    assert_serving(registry, error=error)


def test_access_denied_listing_an_unpinned_prefix(aws, empty_package):
    Fault(aws, "GetObject", 404, "NoSuchKey")
    Fault(aws, "ListObjectsV2", 403, "AccessDenied")
    assert _failed_source(load(f"s3://{BUCKET}/p/", aws, empty_package)) == (
        f"s3://{BUCKET}/p/: access denied; the function's role needs s3:ListBucket on the bucket for this prefix"
    )


def test_bundle_key_missing(aws, empty_package):
    assert _failed_source(load(f"s3://{BUCKET}/pipelines/v9.zip", aws, empty_package)) == (
        f"s3://{BUCKET}/pipelines/v9.zip: object not found"
    )


def test_throttling_is_retried_then_recovers(aws, folder, empty_package):
    uri = publish(folder, f"s3://{BUCKET}/pipelines/", bundle=True, label="v1", client=aws)
    fault = Fault(aws, "GetObject", 503, "SlowDown", "Please reduce your request rate.", times=2)
    registry = load(uri, aws, empty_package)
    assert fault.calls == 3  # two throttled attempts, then the one that got through
    assert sorted(registry.loaded) == ["echo_async", "relative", "yaml_echo"]
    assert_serving(registry, run=("relative", {"text": "hi"}))


def test_throttling_that_does_not_stop_is_reported(aws, folder, echo_package, monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    client = boto3.client("s3")  # picks up the retry configuration from the environment
    uri = publish(folder, f"s3://{BUCKET}/pipelines/", bundle=True, label="v1", client=client)
    fault = Fault(client, "GetObject", 503, "SlowDown", "Please reduce your request rate.")
    registry = load(uri, client, echo_package)
    error = f"{uri}: S3 throttled the requests (SlowDown) and the retries ran out"
    assert _failed_source(registry) == error
    assert fault.calls == 2
    assert_serving(registry, error=error)


def test_s3_slower_than_the_budget_is_reported_in_time(aws, folder, echo_package):
    """Every GET stalls (botocore's before-send hook, below the retries) past HAYHOOKS_PIPELINES_S3_TIMEOUT."""
    uri = publish(folder, f"s3://{BUCKET}/pipelines/", bundle=True, label="v1", client=aws)
    aws.meta.events.register_first("before-send.s3.GetObject", lambda **_: time.sleep(2.0))
    started = time.monotonic()
    registry = load(uri, aws, echo_package, pipelines_s3_timeout=1.0)
    assert time.monotonic() - started < 1.8
    error = f"{uri}: S3 did not answer within 1 s (HAYHOOKS_PIPELINES_S3_TIMEOUT); 0 of 1 objects fetched"
    assert _failed_source(registry) == error
    assert_serving(registry, error=error)


def test_corrupt_object_fails_only_its_pipeline(aws, folder, empty_package):
    uri = publish(folder, f"s3://{BUCKET}/pipelines/", bundle=False, label="v1", client=aws)
    aws.put_object(Bucket=BUCKET, Key=_key(uri) + "relative/data.txt", Body=b"data next to the wrapper!\n")
    registry = load(uri, aws, empty_package)
    assert sorted(registry.loaded) == ["echo_async", "yaml_echo"]
    failed = registry.failed["relative"]
    assert failed.stage == "source" and failed.source == "s3"
    assert failed.reason.startswith(f"{uri}relative/data.txt is 26 bytes, the manifest says 25")
    assert not (registry.sources[-1].directory / "relative").exists()
    client = assert_serving(registry, run=("echo_async", {"text": "fine"}))
    reply = client.post("/relative/run", json={"text": "x"})
    assert reply.status_code == 503
    assert reply.json() == {"detail": f"Pipeline 'relative' failed to load: {failed.reason}"}


def test_same_size_corruption_is_caught_by_sha256(aws, folder, empty_package):
    uri = publish(folder, f"s3://{BUCKET}/pipelines/", bundle=False, label="v1", client=aws)
    aws.put_object(Bucket=BUCKET, Key=_key(uri) + "relative/data.txt", Body=b"DATA next to the wrapper\n")
    reason = load(uri, aws, empty_package).failed["relative"].reason
    assert reason.startswith(f"{uri}relative/data.txt has sha256 ")
    assert reason.endswith("(corrupt or changed after publishing)")


def test_object_listed_in_manifest_but_deleted(aws, folder, empty_package):
    uri = publish(folder, f"s3://{BUCKET}/pipelines/", bundle=False, label="v1", client=aws)
    aws.delete_object(Bucket=BUCKET, Key=_key(uri) + "yaml_echo.yaml")
    registry = load(uri, aws, empty_package)
    assert registry.failed["yaml_echo"].reason == (f"{uri}yaml_echo.yaml is listed in the manifest but missing")
    assert "relative" in registry.loaded


def test_empty_prefix(aws, empty_package):
    assert _failed_source(load(f"s3://{BUCKET}/nothing-here/", aws, empty_package)) == (
        f"s3://{BUCKET}/nothing-here/: no objects under this prefix (is the URI right? publish first)"
    )


def test_network_timeout_fails_within_the_budget(monkeypatch, echo_package):
    """An endpoint that accepts connections and never answers: the cold start must not hang."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                pass

    threading.Thread(target=accept, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{listener.getsockname()[1]}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    started = time.monotonic()
    try:
        registry = load("s3://some-bucket/pipelines/v1/", None, echo_package, pipelines_s3_timeout=1.0)
    finally:
        stop.set()
        listener.close()
    elapsed = time.monotonic() - started
    error = (
        "s3://some-bucket/pipelines/v1/: S3 did not answer within 1 s (HAYHOOKS_PIPELINES_S3_TIMEOUT); "
        "0 of 1 objects fetched"
    )
    assert _failed_source(registry) == error
    assert elapsed < 2.5 and accepted
    assert_serving(registry, error=error)


def test_download_size_cap(aws, folder, empty_package):
    (folder / "relative" / "big.bin").write_bytes(b"x" * (2 * 1024 * 1024))
    uri = publish(folder, f"s3://{BUCKET}/pipelines/", bundle=False, label="v1", client=aws)
    error = _failed_source(load(uri, aws, empty_package, pipelines_s3_max_mb=1))
    assert re.fullmatch(
        re.escape(uri) + r": 2\d{6} bytes to download, over the 1048576-byte cap \(HAYHOOKS_PIPELINES_S3_MAX_MB\)",
        error,
    )


# -- safety --------------------------------------------------------------------------------------------


def _zip(entries):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return buffer.getvalue()


def test_traversal_key_under_a_prefix_is_refused(aws, echo_package):
    aws.put_object(Bucket=BUCKET, Key="p/other/pipeline_wrapper.py", Body=b"")
    aws.put_object(Bucket=BUCKET, Key="p/../escape.py", Body=b"print('owned')")
    registry = load(f"s3://{BUCKET}/p/", aws, echo_package)
    error = f"s3://{BUCKET}/p/../escape.py: refused, path '../escape.py' would escape the pipelines folder"
    assert _failed_source(registry) == error
    assert_serving(registry, error=error)


@pytest.mark.parametrize("name", ["../escape.py", "/etc/cron.d/x", "a/../../b.py"])
def test_zip_entries_that_escape_are_refused(name):
    with pytest.raises(UnsafeArchive, match="would escape the pipelines folder"):
        read_zip(_zip([(name, b"x")]), max_bytes=10_000)


def test_zip_symlink_is_refused():
    info = zipfile.ZipInfo("echo/link")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with pytest.raises(UnsafeArchive, match="'echo/link' is a symbolic link"):
        read_zip(_zip([(info, "/etc/passwd")]), max_bytes=10_000)


def test_zip_bomb_is_refused():
    bomb = _zip([("echo/zeros.bin", b"\0" * (50 * 1024 * 1024))])
    assert len(bomb) < 100_000
    with pytest.raises(UnsafeArchive, match=r"inflates to 52428800 bytes, over the 10485760-byte cap \(zip bomb\?\)"):
        read_zip(bomb, max_bytes=10 * 1024 * 1024)
    with pytest.raises(UnsafeArchive, match=r"'echo/zeros.bin' inflates \d+x \(zip bomb\?\)"):
        read_zip(bomb, max_bytes=100 * 1024 * 1024)


def test_zip_bomb_bundle_is_refused_at_cold_start(aws, echo_package):
    bomb = _zip([("other/pipeline_wrapper.py", b""), ("other/zeros.bin", b"\0" * (50 * 1024 * 1024))])
    aws.put_object(Bucket=BUCKET, Key="bomb.zip", Body=bomb)
    info = zipfile.ZipFile(io.BytesIO(bomb)).getinfo("other/zeros.bin")
    ratio = info.file_size // info.compress_size
    assert ratio > 200  # what makes it a bomb: the cap (200 MB) is not reached, the inflation ratio is
    registry = load(f"s3://{BUCKET}/bomb.zip", aws, echo_package)
    error = f"bundle s3://{BUCKET}/bomb.zip refused: entry 'other/zeros.bin' inflates {ratio}x (zip bomb?)"
    assert _failed_source(registry) == error
    assert_serving(registry, error=error)
    capped = load(f"s3://{BUCKET}/bomb.zip", aws, echo_package, pipelines_s3_max_mb=10)
    assert _failed_source(capped) == (
        f"bundle s3://{BUCKET}/bomb.zip refused: inflates to 52428800 bytes, over the 10485760-byte cap (zip bomb?)"
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"overwritten, not a zip", "refused: not a zip file: File is not a zip file"),
        (b"PK\x03\x04" + b"\0" * 40, "refused: not a zip file: File is not a zip file"),
    ],
)
def test_corrupt_bundle_is_refused_at_cold_start(aws, echo_package, body, problem):
    aws.put_object(Bucket=BUCKET, Key="corrupt.zip", Body=body)
    registry = load(f"s3://{BUCKET}/corrupt.zip", aws, echo_package)
    error = f"bundle s3://{BUCKET}/corrupt.zip {problem}"
    assert _failed_source(registry) == error
    assert_serving(registry, error=error)


def test_corrupt_manifest_fails_the_source(aws, folder, echo_package):
    uri = publish(folder, f"s3://{BUCKET}/pipelines/", bundle=False, label="v1", client=aws)
    aws.put_object(Bucket=BUCKET, Key=_key(uri) + "manifest.json", Body=b'{"format": 1, "files": [')
    registry = load(uri, aws, echo_package)
    error = _failed_source(registry)
    assert error.startswith(f"{uri}: manifest.json refused: manifest is not valid: Expecting value: line 1")
    assert_serving(registry, error=error)


def test_bundle_with_symlink_is_refused_at_cold_start(aws, empty_package):
    info = zipfile.ZipInfo("echo/pipeline_wrapper.py")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    aws.put_object(Bucket=BUCKET, Key="bad.zip", Body=_zip([(info, "/etc/passwd")]))
    assert _failed_source(load(f"s3://{BUCKET}/bad.zip", aws, empty_package)) == (
        f"bundle s3://{BUCKET}/bad.zip refused: entry 'echo/pipeline_wrapper.py' is a symbolic link"
    )


def test_writes_are_atomic_and_stay_inside_the_target(tmp_path):
    write_atomic(tmp_path, "a/b/c.txt", b"done")
    assert (tmp_path / "a/b/c.txt").read_bytes() == b"done"
    assert [p.name for p in tmp_path.rglob("*") if p.name.endswith(".part")] == []
    with pytest.raises(ManifestError):
        write_atomic(tmp_path, "../outside.txt", b"x")
    assert not (tmp_path.parent / "outside.txt").exists()


def test_fetch_writes_only_below_its_root(aws, folder, tmp_path):
    uri = publish(folder, f"s3://{BUCKET}/pipelines/", bundle=True, label="v1", client=aws)
    root = tmp_path / "fetch-root"
    report = S3Source(parse_s3_uri(uri), root=root, client=aws).fetch()
    assert report.directory.parent == root
    written = {p.relative_to(report.directory).as_posix() for p in report.directory.rglob("*") if p.is_file()}
    assert "relative/pipeline_wrapper.py" in written and "yaml_echo.yaml" in written
    assert {p for p in root.iterdir()} == {report.directory}


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("s3://b/p", "must end with '/' (a prefix) or '.zip' (a bundle)"),
        ("https://b/p/", "must look like s3://bucket/prefix/"),
        ("s3://b/p/?versionId=1", "?versionId pins a bundle object"),
        ("s3://b/p.zip?other=1", "only ?versionId=... may follow the key"),
    ],
)
def test_uri_is_validated_in_settings(uri, message):
    from core.settings import Settings, SettingsError

    with pytest.raises(SettingsError) as err:
        Settings.from_env({"HAYHOOKS_PIPELINES_S3_URI": uri})
    assert str(err.value).startswith(f"HAYHOOKS_PIPELINES_S3_URI {message}")


# -- a bundle is what was published (issue #20): oddities refused in one line, no traceback, no path -----


@pytest.mark.parametrize(
    ("entries", "problem"),
    [
        (
            [("echo", b"a file"), ("echo/pipeline_wrapper.py", b"")],
            "entry 'echo/pipeline_wrapper.py' is inside 'echo', which is a file",
        ),
        (
            [("echo/pipeline_wrapper.py", b""), ("echo", b"a file")],
            "entry 'echo/pipeline_wrapper.py' is inside 'echo', which is a file",
        ),
        (
            [("echo/pipeline_wrapper.py", b"good"), ("echo/pipeline_wrapper.py", b"evil")],
            "entry 'echo/pipeline_wrapper.py' appears twice",
        ),
        (
            [("echo/pipeline_wrapper.py", b"good"), ("echo/./pipeline_wrapper.py", b"evil")],
            "entry 'echo/pipeline_wrapper.py' appears twice",
        ),
    ],
)
def test_archive_oddities_are_refused_in_one_line(aws, echo_package, entries, problem):
    with pytest.warns(UserWarning, match="Duplicate name") if entries[0][0] == entries[1][0] else nullcontext():
        bundle = _zip(entries)
    aws.put_object(Bucket=BUCKET, Key="odd.zip", Body=bundle)
    with pytest.raises(UnsafeArchive) as err:
        read_zip(bundle, max_bytes=10_000)
    assert str(err.value) == problem
    registry = load(f"s3://{BUCKET}/odd.zip", aws, echo_package)
    error = f"bundle s3://{BUCKET}/odd.zip refused: {problem}"
    assert _failed_source(registry) == error
    assert_serving(registry, error=error)


def test_a_file_and_a_folder_of_one_name_under_a_prefix_are_refused(aws, echo_package):
    aws.put_object(Bucket=BUCKET, Key="p/other", Body=b"a file")
    aws.put_object(Bucket=BUCKET, Key="p/other/pipeline_wrapper.py", Body=b"")
    error = _failed_source(load(f"s3://{BUCKET}/p/", aws, echo_package))
    assert error == f"s3://{BUCKET}/p/other/pipeline_wrapper.py: refused, it is inside 'other', which is a file"


def test_an_unexpected_failure_while_writing_is_one_line_without_a_path(aws, folder, echo_package, monkeypatch):
    uri = publish(folder, f"s3://{BUCKET}/pipelines/", bundle=True, label="v1", client=aws)

    def disk_full(root, relative, data):
        raise OSError(28, "No space left on device", str(root / relative))

    monkeypatch.setattr("core.sources.s3.write_atomic", disk_full)
    registry = load(uri, aws, echo_package)
    error = f"{uri}: the S3 fetch failed: OSError: No space left on device"
    assert _failed_source(registry) == error
    assert_serving(registry, error=error)


def test_a_fetch_process_that_dies_reports_one_line_and_logs_the_rest(empty_package, caplog):
    from core.sources.collect import SourceCollection

    code = (
        "import sys; sys.stderr.write('Traceback (most recent call last):\\n  File \"/var/task/x.py\"\\nBoom\\n'); "
        "sys.exit(3)"
    )
    settings = fixture_settings(pipelines_dir=empty_package, pipelines_s3_uri=f"s3://{BUCKET}/p.zip")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with caplog.at_level(logging.ERROR):
        (report,) = SourceCollection(settings, [], child=child).result()
    assert report.error == f"s3://{BUCKET}/p.zip: the S3 fetch process failed (exit code 3)"
    assert "/var/task/x.py" in caplog.text  # the operator still finds the traceback in the log


def test_a_bundle_that_crashed_the_fetch_process_is_one_line_over_http(tmp_path, monkeypatch):
    """The child process, against a moto server over HTTP: what /status says is one line, with no path."""
    from core.sources.collect import begin
    from infra.local_s3 import local_s3

    with local_s3(BUCKET) as (env, client):
        client.put_object(Bucket=BUCKET, Key="odd.zip", Body=_zip([("x", b"1"), ("x/pipeline_wrapper.py", b"")]))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        package = tmp_path / "package"
        shutil.copytree(FIXTURE_PIPELINES / "echo", package / "echo")
        settings = fixture_settings(pipelines_dir=package, pipelines_s3_uri=f"s3://{BUCKET}/odd.zip")
        reports = begin(settings).result()
    error = f"bundle s3://{BUCKET}/odd.zip refused: entry 'x/pipeline_wrapper.py' is inside 'x', which is a file"
    assert reports[-1].error == error


# -- sizes are bounded by what the manifest says (issue #20) ---------------------------------------------


def _manifest(files):
    return json.dumps({"format": 1, "version": "v1", "files": files}).encode()


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"size": -5}, "'echo/pipeline_wrapper.py' has size -5: a size is a whole number of bytes, 0 or more"),
        ({"size": "12"}, "'echo/pipeline_wrapper.py' has size '12': a size is a whole number of bytes, 0 or more"),
        ({"size": 1.5}, "'echo/pipeline_wrapper.py' has size 1.5: a size is a whole number of bytes, 0 or more"),
        ({"size": True}, "'echo/pipeline_wrapper.py' has size True: a size is a whole number of bytes, 0 or more"),
        ({"sha256": "abc"}, "'echo/pipeline_wrapper.py' has sha256 'abc': 64 hexadecimal digits expected"),
    ],
)
def test_a_manifest_with_impossible_sizes_or_hashes_is_refused(aws, echo_package, entry, problem):
    good = {"path": "echo/pipeline_wrapper.py", "size": 3, "sha256": "0" * 64}
    aws.put_object(Bucket=BUCKET, Key="m/manifest.json", Body=_manifest([{**good, **entry}]))
    registry = load(f"s3://{BUCKET}/m/", aws, echo_package)
    error = f"s3://{BUCKET}/m/: manifest.json refused: {problem}"
    assert _failed_source(registry) == error
    assert_serving(registry, error=error)


def test_a_manifest_listing_a_path_twice_is_refused(aws, echo_package):
    entry = {"path": "echo/pipeline_wrapper.py", "size": 3, "sha256": "0" * 64}
    aws.put_object(Bucket=BUCKET, Key="m/manifest.json", Body=_manifest([entry, entry]))
    assert _failed_source(load(f"s3://{BUCKET}/m/", aws, echo_package)) == (
        f"s3://{BUCKET}/m/: manifest.json refused: 'echo/pipeline_wrapper.py' appears twice"
    )


def test_a_manifest_that_understates_sizes_downloads_no_more_than_it_says(aws, folder, empty_package, monkeypatch):
    """Three 600 KB objects listed as 10 bytes each, under a 1 MB cap: nothing past the stated size is read."""
    from botocore.response import StreamingBody

    for index in range(3):
        (folder / "relative" / f"big{index}.bin").write_bytes(b"x" * 600_000)
    uri = _unpinning_copy(aws, publish(folder, f"s3://{BUCKET}/pipelines/", bundle=False, client=aws))
    manifest = json.loads(aws.get_object(Bucket=BUCKET, Key=_key(uri) + "manifest.json")["Body"].read())
    for entry in manifest["files"]:
        if entry["path"].endswith(".bin"):
            entry["size"] = 10
    aws.put_object(Bucket=BUCKET, Key=_key(uri) + "manifest.json", Body=json.dumps(manifest).encode())
    read = []
    original = StreamingBody.read

    def counted(self, amt=None):
        data = original(self, amt)
        read.append(len(data))
        return data

    monkeypatch.setattr(StreamingBody, "read", counted)
    registry = load(uri, aws, empty_package, pipelines_s3_max_mb=1)
    reason = registry.failed["relative"].reason  # which of the three is first depends on the download order
    assert re.match(re.escape(f"{uri}relative/big") + r"\d\.bin is 600000 bytes, the manifest says 10 ", reason)
    assert sorted(registry.loaded) == ["echo_async", "yaml_echo"]
    assert sum(read) < 64 * 1024  # the manifest and the small files, not 1.8 MB


# -- the version name pins the content (issue #20) -------------------------------------------------------


def _tamper(aws, uri, path, content):
    """Overwrite one published file and rewrite the manifest to match: what someone with write access can do."""
    key = _key(uri)
    manifest = json.loads(aws.get_object(Bucket=BUCKET, Key=key + "manifest.json")["Body"].read())
    for entry in manifest["files"]:
        if entry["path"] == path:
            entry.update(size=len(content), sha256=hashlib.sha256(content).hexdigest())
    aws.put_object(Bucket=BUCKET, Key=key + path, Body=content)
    aws.put_object(Bucket=BUCKET, Key=key + "manifest.json", Body=json.dumps(manifest).encode())


EVIL = b"from core import BasePipelineWrapper\n\n\nclass PipelineWrapper(BasePipelineWrapper):\n    pass  # evil\n"


def test_a_file_and_its_manifest_overwritten_in_place_are_refused(aws, folder, echo_package):
    uri = publish(folder, f"s3://{BUCKET}/pipelines/", bundle=False, client=aws)
    _tamper(aws, uri, "relative/pipeline_wrapper.py", EVIL)
    registry = load(uri, aws, echo_package)
    error = _failed_source(registry)
    assert re.fullmatch(
        re.escape(f"{uri}: manifest.json does not match the version name (its digest starts ")
        + r"[0-9a-f]{24}, the name says [0-9a-f]{24}\): changed after publishing, refused",
        error,
    )
    assert "relative" not in registry.loaded
    assert_serving(registry, error=error)


def test_a_published_prefix_whose_manifest_was_deleted_is_refused(aws, folder, echo_package):
    uri = publish(folder, f"s3://{BUCKET}/pipelines/", bundle=False, client=aws)
    aws.put_object(Bucket=BUCKET, Key=_key(uri) + "relative/pipeline_wrapper.py", Body=EVIL)
    aws.delete_object(Bucket=BUCKET, Key=_key(uri) + "manifest.json")
    assert _failed_source(load(uri, aws, echo_package)) == (
        f"{uri}: manifest.json is missing, but the version name pins one: refused"
    )


def test_a_bundle_overwritten_in_place_is_refused(aws, folder, echo_package):
    uri = publish(folder, f"s3://{BUCKET}/pipelines/", bundle=True, client=aws)
    (folder / "relative" / "pipeline_wrapper.py").write_bytes(EVIL)
    forged = publish(folder, f"s3://{BUCKET}/forged/", bundle=True, client=aws)  # a consistent bundle, new content
    body = aws.get_object(Bucket=BUCKET, Key=_key(forged))["Body"].read()
    aws.put_object(Bucket=BUCKET, Key=_key(uri), Body=body)
    error = _failed_source(load(uri, aws, echo_package))
    assert error.startswith(f"{uri}: manifest.json does not match the version name")


def test_a_name_that_pins_nothing_loads_unpinned_with_a_warning(aws, folder, empty_package, caplog):
    """A version published before names carried the manifest's digest, or a prefix named by hand."""
    uri = _unpinning_copy(aws, publish(folder, f"s3://{BUCKET}/pipelines/", bundle=False, client=aws))
    with caplog.at_level(logging.WARNING):
        registry = load(uri, aws, empty_package)
    assert sorted(registry.loaded) == ["echo_async", "relative", "yaml_echo"]
    (s3,) = [s for s in registry.sources if s.kind == "s3"]
    assert s3.ok and not s3.pinned
    assert f"Pipelines source {uri} is not pinned" in caplog.text
