"""Rate limits count per UTC minute (LiteLLM's windows, in memory and in Redis alike): a
test that counts requests against a limit starts well inside a minute, or a minute that
ends mid-test resets the count and the test sees one request too many admitted."""

from __future__ import annotations

import time


def clear_of_minute_end(margin: float = 8.0) -> None:
    """Wait for the next UTC minute when fewer than ``margin`` seconds of this one are left."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.2)
