"""The examples cost a cold start nothing until used: no AWS or OpenAI SDK is imported while they load."""

import json
import subprocess
import sys

from tests.conftest import EXAMPLES, ROOT

COLD_START = f"""
import json, sys
from core.settings import Settings
from core.service import build_service
_, registry = build_service(Settings(pipelines_dir={str(EXAMPLES)!r}))
loaded = sorted(registry.loaded)
heavy = sorted(m for m in ("boto3", "botocore", "openai") if m in sys.modules)
print(json.dumps({{"loaded": loaded, "heavy": heavy}}))
"""


def test_examples_load_without_importing_aws_or_openai_sdks():
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "HAYSTACK_TELEMETRY_ENABLED": "False",
        # what the examples check for: a region (Lambda sets only AWS_REGION) and an OpenAI key
        "AWS_REGION": "eu-west-1",
        "OPENAI_API_KEY": "sk-test-not-a-real-key",
    }
    proc = subprocess.run([sys.executable, "-c", COLD_START], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {"bedrock_chat", "chat_with_docs"} <= set(result["loaded"])
    assert result["heavy"] == []
