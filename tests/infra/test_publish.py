"""Publish with the CLI to a real moto server over HTTP, then cold-start the handler from it in a fresh process."""

import shutil
import subprocess
import sys

import pytest

from infra.local_s3 import local_s3
from tests.cold import ROOT, clean_env, replies, run_cold
from tests.conftest import EXAMPLE_PIPELINES, EXAMPLES, FIXTURE_PIPELINES

BUCKET = "team-pipelines"


@pytest.fixture(scope="module")
def s3_server():
    with local_s3(BUCKET) as (env, client):
        yield env, client


def cli(*args, env):
    return subprocess.run(
        [sys.executable, "-m", "infra.publish", *args],
        cwd=ROOT,
        env=clean_env(PYTHONPATH=str(ROOT), **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help():
    proc = subprocess.run([sys.executable, "-m", "infra.publish", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0
    assert "usage: python -m infra.publish" in proc.stdout and "--bundle" in proc.stdout


@pytest.mark.parametrize("layout", ["prefix", "bundle"])
def test_publish_then_cold_start_from_s3(s3_server, tmp_path, layout):
    env, _ = s3_server
    flags = ["--bundle"] if layout == "bundle" else []
    proc = cli(str(EXAMPLES), f"s3://{BUCKET}/{layout}/", *flags, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "validated: bedrock_chat, chat_with_docs, file_stats, greeting, prompt_builder, search_docs" in proc.stderr
    line = proc.stdout.strip().splitlines()[-1]
    assert line.startswith(f"HAYHOOKS_PIPELINES_S3_URI=s3://{BUCKET}/{layout}/")
    uri = line.split("=", 1)[1]
    assert uri.endswith(".zip" if layout == "bundle" else "/")
    version = uri.rstrip("/").rsplit("/", 1)[1].removesuffix(".zip")

    empty = tmp_path / "baked-in"
    empty.mkdir()
    cold = run_cold(
        [("GET", "/status", None), ("POST", "/search_docs/run", {"query": "lambda", "top_k": 1})],
        env={**env, "HAYHOOKS_PIPELINES_S3_URI": uri, "HAYHOOKS_PIPELINES_DIR": str(empty)},
    )
    status, run = replies(cold)
    body = status["body"]
    assert body["pipelines"] == EXAMPLE_PIPELINES
    assert body["pipeline_sources"]["search_docs"] == {"source": "s3", "version": version}
    (s3,) = [s for s in body["sources"] if s["kind"] == "s3"]
    assert s3["ok"] and s3["pinned"] and s3["version"] == version
    assert run["status"] == 200 and "Lambda" in run["body"]["result"][0]["content"]
    assert "not pinned" not in cold.stderr


def test_an_existing_version_is_never_overwritten(s3_server):
    env, client = s3_server
    first = cli(str(EXAMPLES), f"s3://{BUCKET}/fixed/", "--version", "v1", "--skip-validate", env=env)
    assert first.returncode == 0, first.stderr
    before = client.get_object(Bucket=BUCKET, Key="fixed/v1/manifest.json")["ETag"]
    again = cli(str(EXAMPLES), f"s3://{BUCKET}/fixed/", "--version", "v1", "--skip-validate", env=env)
    assert again.returncode == 1
    assert f"publish failed: s3://{BUCKET}/fixed/v1/ already exists: published versions are never overwritten" in (
        again.stderr
    )
    assert client.get_object(Bucket=BUCKET, Key="fixed/v1/manifest.json")["ETag"] == before


def test_a_pipeline_that_fails_to_load_stops_the_publish(s3_server, tmp_path):
    env, client = s3_server
    folder = tmp_path / "pipelines"
    shutil.copytree(FIXTURE_PIPELINES / "echo", folder / "echo")
    shutil.copytree(FIXTURE_PIPELINES / "broken_setup", folder / "broken_setup")
    proc = cli(str(folder), f"s3://{BUCKET}/broken/", env=env)
    assert proc.returncode == 1
    assert "publish failed: 1 pipeline(s) fail to load, nothing was uploaded" in proc.stderr
    assert "broken_setup: PipelineWrapper.setup() raised RuntimeError: index file missing: index.bin" in proc.stderr
    assert client.list_objects_v2(Bucket=BUCKET, Prefix="broken/")["KeyCount"] == 0


def test_a_folder_the_package_also_bakes_in_is_refused(s3_server, tmp_path):
    """The cold start would refuse a pipeline in two sources: publish says so first, naming them."""
    env, client = s3_server
    baked = tmp_path / "baked"
    shutil.copytree(FIXTURE_PIPELINES / "echo", baked / "echo")
    published = tmp_path / "published"
    shutil.copytree(FIXTURE_PIPELINES / "echo", published / "echo")
    shutil.copytree(FIXTURE_PIPELINES / "echo_async", published / "echo_async")
    same = cli(str(baked), f"s3://{BUCKET}/twice/", "--baked-in", str(baked), env=env)
    overlapping = cli(str(published), f"s3://{BUCKET}/twice/", "--baked-in", str(baked), env=env)
    for proc in (same, overlapping):
        assert proc.returncode == 1
        assert f"also in the baked-in folder {baked}, nothing was uploaded" in proc.stderr
        assert "a pipeline in two sources" in proc.stderr
    assert "publish failed: echo also in" in overlapping.stderr  # echo_async is not in both
    assert client.list_objects_v2(Bucket=BUCKET, Prefix="twice/")["KeyCount"] == 0
    other = cli(str(published), f"s3://{BUCKET}/twice/", "--baked-in", str(EXAMPLES), env=env)
    assert other.returncode == 0, other.stderr


def test_an_import_the_deployed_package_lacks_is_refused_naming_the_module(s3_server, tmp_path):
    """A published folder cannot bring packages: pytest is in the test venv, not in the Lambda package."""
    env, client = s3_server
    folder = tmp_path / "pipelines"
    shutil.copytree(FIXTURE_PIPELINES / "echo", folder / "echo")
    wrapper = folder / "tests_helper" / "pipeline_wrapper.py"
    wrapper.parent.mkdir()
    wrapper.write_text(
        (FIXTURE_PIPELINES / "echo" / "pipeline_wrapper.py").read_text() + "\n\ndef later():\n    import pytest\n"
    )
    proc = cli(str(folder), f"s3://{BUCKET}/imports/", env=env)
    assert proc.returncode == 1
    assert "a published folder cannot bring packages, nothing was uploaded" in proc.stderr
    assert "pipelines/tests_helper/pipeline_wrapper.py:" in proc.stderr
    assert "imports pytest, which the deployed package lacks" in proc.stderr
    assert client.list_objects_v2(Bucket=BUCKET, Prefix="imports/")["KeyCount"] == 0
