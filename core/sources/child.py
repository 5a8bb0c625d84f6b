"""`python -m core.sources.child`: fetch one S3 source in a child process and print its report as JSON.

Why a process: fetching costs ~180 ms of CPU (importing botocore, building the client, hashing), and the
parent spends the same time importing Haystack. With more than one vCPU (Lambda gives more than one above
1,769 MB) a child runs beside the parent where a thread would wait for the GIL, and a hung child can be
killed at the deadline.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

from core.sources import SourceError
from core.sources.s3 import S3Source
from core.sources.s3_uri import parse_s3_uri


def main() -> None:
    job = json.loads(sys.argv[1])
    source = S3Source(
        parse_s3_uri(job["uri"]),
        timeout_s=job["timeout_s"],
        max_bytes=job["max_bytes"],
        concurrency=job["concurrency"],
        root=Path(job["root"]),
    )
    try:
        report = source.fetch()
    except SourceError as exc:
        answer = {"error": str(exc)}
    except Exception as exc:  # one line for /status, never a traceback with local paths
        answer = {"error": f"{job['uri']}: the S3 fetch failed: {type(exc).__name__}"}
    else:
        answer = {"report": {**asdict(report), "directory": str(report.directory)}}
    print(json.dumps(answer), flush=True)
    # Exit now: a download thread stuck on a dead connection must not hold the cold start
    # (interpreter shutdown would join it).
    os._exit(0)


if __name__ == "__main__":
    main()
