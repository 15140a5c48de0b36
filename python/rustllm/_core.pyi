"""Type stubs for the compiled core, ``rustllm._core`` (kept true by ``make lint``: stubtest)."""

from collections.abc import Awaitable
from typing import Any, final

__version__: str
__all__ = [
    "ChatStream",
    "MockServer",
    "RustLLMError",
    "__version__",
    "acompletion",
    "acompletion_stream",
    "active_streams",
    "aembedding",
    "catalogue_loaded",
    "completion",
    "completion_stream",
    "cost_per_token",
    "decode",
    "embedding",
    "encode",
    "encoding_name",
    "get_llm_provider",
    "max_tokens",
    "model_cost",
    "model_info",
    "model_names",
    "openai_compatible_providers",
    "provider_list",
    "register_model",
    "supported_openai_params",
    "supports",
    "token_counter",
]

class RustLLMError(Exception):
    """A failure inside the Rust core; rustllm re-raises it as the LiteLLM exception class
    named by ``kind``."""

    kind: str
    message: str
    status_code: int
    llm_provider: str
    model: str
    body: Any
    headers: dict[str, str]
    num_retries: int | None
    max_retries: int | None
    retry_after: float | None

# Calls take LiteLLM's keyword arguments as one dict.
def completion(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], float]: ...
def acompletion(kwargs: dict[str, Any]) -> Awaitable[tuple[dict[str, Any], dict[str, Any], float]]: ...
def completion_stream(kwargs: dict[str, Any]) -> tuple[ChatStream, dict[str, Any]]: ...
def acompletion_stream(kwargs: dict[str, Any]) -> Awaitable[tuple[ChatStream, dict[str, Any]]]: ...
def embedding(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], float]: ...
def aembedding(kwargs: dict[str, Any]) -> Awaitable[tuple[dict[str, Any], dict[str, Any], float]]: ...
def get_llm_provider(
    model: str,
    custom_llm_provider: str | None = None,
    api_base: str | None = None,
    api_key: str | None = None,
) -> tuple[str, str, str | None, str | None]: ...
def openai_compatible_providers() -> list[str]: ...
def provider_list() -> list[str]: ...
def active_streams() -> int: ...
def token_counter(model: str, text: str | None = None, messages: Any | None = None) -> int: ...
def encode(model: str, text: str) -> list[int]: ...
def decode(model: str, tokens: list[int]) -> str: ...
def encoding_name(model: str) -> str: ...

# The model catalogue (parsed on first use). Unknown models raise a plain Exception.
def catalogue_loaded() -> bool: ...
def model_info(model: str, custom_llm_provider: str | None = None) -> dict[str, Any]: ...
def model_cost() -> dict[str, dict[str, Any]]: ...
def model_names() -> list[str]: ...
def register_model(name: str, fields: Any) -> tuple[str, dict[str, Any]]: ...
def supports(model: str, custom_llm_provider: str | None, key: str) -> bool: ...
def max_tokens(model: str) -> int | None: ...
def supported_openai_params(model: str, custom_llm_provider: str | None = None) -> list[str] | None: ...
def cost_per_token(
    model: str,
    usage: Any,
    custom_llm_provider: str | None = None,
    response_time_ms: float | None = None,
    input_cost_per_token: float | None = None,
    output_cost_per_token: float | None = None,
    input_cost_per_second: float | None = None,
    output_cost_per_second: float | None = None,
) -> tuple[float, float]: ...

@final
class ChatStream:
    """A handle on a running stream's chunks (wrapped by ``rustllm.CustomStreamWrapper``)."""

    @property
    def closed(self) -> bool: ...
    def next_batch(self) -> list[dict[str, Any]] | None: ...
    def try_batch(self) -> list[dict[str, Any]] | None: ...
    def next_batch_async(self) -> Awaitable[list[dict[str, Any]] | None]: ...
    def close(self) -> None: ...

@final
class MockServer:
    """The in-process OpenAI-format mock behind ``rustllm.testing.MockServer``."""

    def __new__(cls, text: str | None = None, latency: float = 0.0, record: bool = True) -> MockServer: ...
    def start(self) -> int: ...
    def stop(self) -> None: ...
    @property
    def running(self) -> bool: ...
    @property
    def port(self) -> int: ...
    @property
    def url(self) -> str: ...
    @property
    def base_url(self) -> str: ...
    default_text: str
    latency: float
    recording: bool
    def push(
        self,
        *,
        status: int = 200,
        body: Any = None,
        text: str | None = None,
        headers: list[tuple[str, str]] | None = None,
        delay: float = 0.0,
        error: str | None = None,
        disconnect: bool = False,
        times: int = 1,
        stream_chunks: int | None = None,
        chunk_delay: float = 0.0,
        break_after: int | None = None,
    ) -> None: ...
    def requests(self) -> list[dict[str, Any]]: ...
    def last_request(self) -> dict[str, Any] | None: ...
    def request_count(self) -> int: ...
    def pending_scripts(self) -> int: ...
    def clear(self) -> None: ...
