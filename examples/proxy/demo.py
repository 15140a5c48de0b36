"""rustllm's Proxy Server in a few seconds: start it on examples/proxy/config.yaml (mock
deployments, so no provider key is needed), call it the tutorial's ways (the openai SDK,
a stream, curl), and stop it.

    python examples/proxy/demo.py

By hand: ``rustllm proxy --config examples/proxy/config.yaml`` listens on port 4000.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

CONFIG = Path(__file__).with_name("config.yaml")
KEY = "sk-1234"  # general_settings.master_key in config.yaml


def start() -> tuple[subprocess.Popen[str], str]:
    """Start the proxy on a free loopback port; returns the process and its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "rustllm.cli", "proxy", "--config", str(CONFIG), "--host", "127.0.0.1", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
    )
    started = time.perf_counter()
    assert proc.stderr is not None
    for line in proc.stderr:
        print("  proxy:", line.rstrip())
        if "listening on" in line:
            url = line.split("listening on ")[1].split()[0]
            print(f"  ready in {time.perf_counter() - started:.2f} s (interpreter start included)")
            return proc, url
    raise SystemExit(f"the proxy did not start (exit code {proc.wait()})")


def main() -> None:
    proc, url = start()
    try:
        import openai

        client = openai.OpenAI(api_key=KEY, base_url=url)
        messages = [{"role": "user", "content": "this is a test request, write a short poem"}]
        response = client.chat.completions.create(model="gpt-3.5-turbo", messages=messages)
        print("openai SDK:", response.choices[0].message.content)
        stream = client.chat.completions.create(
            model="gpt-4o", messages=messages, stream=True, stream_options={"include_usage": True}
        )
        text, usage = "", None
        for chunk in stream:
            text += "".join(c.delta.content or "" for c in chunk.choices)
            usage = chunk.usage or usage
        print("stream:", text, "| usage:", usage.total_tokens if usage else None)
        if shutil.which("curl"):
            out = subprocess.run(
                [
                    "curl", "-s", "-X", "POST", f"{url}/chat/completions",
                    "-H", "Content-Type: application/json",
                    "-H", f"Authorization: Bearer {KEY}",
                    "-d", json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "what is your name?"}]}),
                ],
                capture_output=True, text=True, check=True, timeout=30,
            )  # fmt: skip
            print("curl:", json.loads(out.stdout)["choices"][0]["message"]["content"])
        models = [m.id for m in client.models.list()]
        print("models:", ", ".join(models))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        print("proxy stopped, exit code", proc.returncode)


if __name__ == "__main__":
    main()
