"""Refresh the bundled model catalogue (`make catalogue`).

Downloads the litellm wheel with pip (newest by default, or `--version X.Y.Z`), takes the
model price and context-window map LiteLLM ships inside it, and writes it unchanged to
src/catalogue/model_prices.json, which the extension compiles in. Nothing is fetched at
run time: this script is the only way the catalogue changes, and its output is committed.

Usage: python scripts/update_catalogue.py [--version 1.75.8] [--out src/catalogue/model_prices.json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

MAP_IN_WHEEL = "litellm/model_prices_and_context_window_backup.json"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "src" / "catalogue" / "model_prices.json"


def download_wheel(version: str | None, into: Path) -> Path:
    """The litellm wheel, fetched by pip from the configured index (no dependencies)."""
    spec = f"litellm=={version}" if version else "litellm"
    cmd = [sys.executable, "-m", "pip", "download", spec, "--no-deps", "--only-binary=:all:", "-d", str(into), "-q"]
    subprocess.run(cmd, check=True)
    wheels = sorted(into.glob("litellm-*.whl"))
    if not wheels:
        raise SystemExit(f"pip downloaded no litellm wheel into {into}")
    return wheels[-1]


def extract_map(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        try:
            data = zf.read(MAP_IN_WHEEL)
        except KeyError:
            raise SystemExit(f"{wheel.name} has no {MAP_IN_WHEEL}") from None
    json.loads(data)  # refuse to write something the extension cannot parse
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", help="litellm version to take the map from (default: newest)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the map")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = download_wheel(args.version, Path(tmp))
        data = extract_map(wheel)
    # Wheel names are `litellm-<version>-<tags>.whl`.
    version = wheel.name.split("-")[1]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    entries = len(json.loads(data))
    print(f"wrote {args.out}: {entries} entries from litellm {version}")


if __name__ == "__main__":
    main()
