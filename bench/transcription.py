"""Transcription upload bench: the peak memory a 20 MB upload adds to the calling
process, and how long it takes, for a path (streamed from disk), an open file (the same)
and bytes (already in memory; spooled once to a temporary file), against a MockServer in
another process (so its copy of the body is not counted).

    python bench/transcription.py [--mb 20] [--out bench/RESULTS-transcription.md]

The issue's line: "a transcription upload of 20 MB streams from the file without holding
two copies in memory". Peak RSS is the process's high-water mark (`ru_maxrss`), read
before and after each upload in a fresh process, so each row is independent.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap

CLIENT = textwrap.dedent(
    """
    import resource, sys, time
    import rustllm as litellm

    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    path, base, kind = sys.argv[1], sys.argv[2], sys.argv[3]
    litellm.transcription(model="whisper-1", file=b"warm", api_key="k", api_base=base, max_retries=0)
    if kind == "bytes":
        with open(path, "rb") as f:
            data = f.read()
    before = peak()
    started = time.perf_counter()
    if kind == "path":
        r = litellm.transcription(model="whisper-1", file=path, api_key="k", api_base=base, max_retries=0)
    elif kind == "open file":
        with open(path, "rb") as f:
            r = litellm.transcription(model="whisper-1", file=f, api_key="k", api_base=base, max_retries=0)
    else:
        r = litellm.transcription(model="whisper-1", file=data, api_key="k", api_base=base, max_retries=0)
    took = time.perf_counter() - started
    print(peak() - before, took, r.text)
    """
)

MOCK = "from rustllm.testing import MockServer\nimport sys\ns = MockServer(); s.__enter__(); print(s.base_url, flush=True); sys.stdin.read()"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=20)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    size = args.mb * 1024 * 1024
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "audio.wav")
        with open(path, "wb") as f:
            for i in range(args.mb):
                f.write(bytes([i % 256]) * (1024 * 1024))
        mock = subprocess.Popen([sys.executable, "-c", MOCK], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert mock.stdout is not None
            base = mock.stdout.readline().strip()
            rows = []
            for kind in ("path", "open file", "bytes"):
                out = subprocess.run(
                    [sys.executable, "-c", CLIENT, path, base, kind], capture_output=True, text=True, check=True
                ).stdout.split()
                growth, took = int(out[0]), float(out[1])
                rows.append((kind, growth, took))
        finally:
            mock.communicate("", timeout=30)
    lines = [
        f"# Transcription upload ({args.mb} MB)",
        "",
        "Peak RSS the upload adds to the calling process (`ru_maxrss`, fresh process per row),",
        "against a MockServer in another process. `bytes` is already in memory before the call",
        "(not counted); the call spools it once to a temporary file and streams from there.",
        "",
        "| file given as | peak RSS added | share of the file | time |",
        "| --- | ---: | ---: | ---: |",
    ]
    for kind, growth, took in rows:
        lines.append(f"| {kind} | {growth / 1024 / 1024:.1f} MB | {growth / size:.0%} | {took * 1000:.0f} ms |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
