"""Shared set-up for the LangChain standard suites: one MockServer per test session and
the model parameters that point ChatRustLLM, ChatRustLLMRouter and RustLLMEmbeddings
at it (loopback only; no keys, no network)."""

from __future__ import annotations

import atexit

import rustllm
from rustllm.testing import MockServer

#: The mock's ``tool`` directive makes it decide as a model would: call the tool the
#: prompt names (else the first) with arguments read from the prompt, and answer a tool
#: result in text.
MODEL = "mock-tool-model"
#: A per-call ``model=`` override; the standard tests check it reaches response_metadata.
OVERRIDE = "mock-model-2"

_server: MockServer | None = None


def server() -> MockServer:
    """The session's MockServer, started on first use and stopped at exit."""
    global _server
    if _server is None:
        _server = MockServer().start()
        atexit.register(_server.stop)
    return _server


def chat_params() -> dict:
    """ChatRustLLM's constructor arguments for the mock."""
    return {"model": MODEL, "custom_llm_provider": "openai", "api_base": server().base_url, "api_key": "sk-mock"}


def anthropic_call() -> dict:
    """Per-call arguments that send one ChatRustLLM request to the mock's Anthropic
    endpoint, which reports prompt-cache reads and writes."""
    return {"model": "anthropic/claude-mock", "custom_llm_provider": "anthropic", "api_base": server().url}


def router() -> rustllm.Router:
    """A Router over the mock: two deployments in the main group, one for the override
    group and one Anthropic group (prompt-cache usage details)."""
    base = server().base_url
    openai = {"api_base": base, "api_key": "sk-mock"}
    return rustllm.Router(
        model_list=[
            {"model_name": MODEL, "litellm_params": {"model": f"openai/{MODEL}", **openai}},
            {"model_name": MODEL, "litellm_params": {"model": f"openai/{MODEL}-b", **openai}},
            {"model_name": OVERRIDE, "litellm_params": {"model": f"openai/{OVERRIDE}", **openai}},
            {
                "model_name": "claude-group",
                "litellm_params": {"model": "anthropic/claude-mock", "api_base": server().url, "api_key": "sk-mock"},
            },
        ],
        routing_strategy="least-busy",
    )


# ---------------------------------------------------------------------------------------
# Multimodal inputs
# ---------------------------------------------------------------------------------------
# langchain-tests' multimodal tests download an image (raw.githubusercontent.com), a PDF
# (w3.org) and a WAV (upload.wikimedia.org) with httpx. Here ``LoopbackDownloads`` stands
# in for that httpx: each download goes to ``files()``' loopback server instead, which
# serves small files built in place, so nothing reaches the internet. The files' names
# are the downloaded URLs' last segment.
IMAGE_NAME = "agentic-rag-output.png"
PDF_NAME = "dummy.pdf"
AUDIO_NAME = "Northern_Flicker_202280456.wav"
#: The URL test_image_inputs also sends as an image URL (never fetched: the mock reads it).
IMAGE_URL = (
    "https://raw.githubusercontent.com/langchain-ai/docs/4d11d08b6b0e210bd456943f7a22febbd168b543/"
    f"src/images/{IMAGE_NAME}"
)


def _png() -> bytes:
    """A 2x2 RGB PNG."""
    import struct
    import zlib

    def part(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes([255, 0, 0, 0, 0, 255]) for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + part(b"IHDR", header) + part(b"IDAT", zlib.compress(rows)) + part(b"IEND", b"")


def _pdf() -> bytes:
    """A one-page PDF titled "Dummy PDF file"."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R >>",
        b"<< /Length 44 >>\nstream\nBT /F1 12 Tf 10 50 Td (Dummy PDF file) Tj ET\nendstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def _wav() -> bytes:
    """0.05 s of a 440 Hz tone, 8 kHz mono 16-bit."""
    import io
    import math
    import struct
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(
            b"".join(struct.pack("<h", int(8000 * math.sin(i * 440 * 2 * math.pi / 8000))) for i in range(400))
        )
    return buffer.getvalue()


FILES = {IMAGE_NAME: _png(), PDF_NAME: _pdf(), AUDIO_NAME: _wav()}


def b64(name: str) -> str:
    """A served file, base64-encoded as the standard tests encode their downloads."""
    import base64

    return base64.b64encode(FILES[name]).decode()


_files_url: str | None = None


def files() -> str:
    """The base URL of the loopback server of ``FILES``, started on first use."""
    global _files_url
    if _files_url is None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = FILES.get(self.path.lstrip("/"))
                self.send_response(200 if body is not None else 404)
                self.send_header("content-length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: object) -> None:
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        atexit.register(httpd.shutdown)
        _files_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    return _files_url


class LoopbackDownloads:
    """Stands in for the ``httpx`` module of ``langchain_tests``' chat-model suite: a
    download of one of ``FILES`` is fetched from ``files()``; any other URL fails the test."""

    def get(self, url: str, **kwargs: object) -> object:
        import httpx

        name = url.rsplit("/", 1)[-1]
        if name not in FILES:
            raise AssertionError(f"a standard test downloads {url}, which no loopback file stands in for")
        return httpx.get(f"{files()}/{name}", **kwargs)


def _parts(body: dict, role: str) -> list:
    """The content parts of the last ``role`` message of a request body."""
    message = [m for m in body["messages"] if m["role"] == role][-1]
    return message["content"] if isinstance(message["content"], list) else [message["content"]]


def _data_url(mime: str, name: str) -> str:
    return f"data:{mime};base64,{b64(name)}"


def check_multimodal_wire(test: str, bodies: list[dict]) -> bool:
    """Assert what the multimodal standard test ``test`` sent the provider (``bodies``,
    the requests it made, in order): each image, PDF or audio part in OpenAI's format
    with the served file's bytes. False for a test that is not one of them."""
    png, pdf = _data_url("image/png", IMAGE_NAME), _data_url("application/pdf", PDF_NAME)
    if test == "test_image_inputs":
        prompt = {"type": "text", "text": "Give a concise description of this image."}
        assert [_parts(b, "user") for b in bodies] == [
            [prompt, {"type": "image_url", "image_url": {"url": png}}],  # OpenAI's own block
            [prompt, {"type": "image_url", "image_url": {"url": png}}],  # LangChain's base64 block
            [prompt, {"type": "image_url", "image_url": {"url": IMAGE_URL}}],  # LangChain's URL block
        ]
    elif test == "test_audio_inputs":
        part = {"type": "input_audio", "input_audio": {"data": b64(AUDIO_NAME), "format": "wav"}}
        assert [_parts(b, "user") for b in bodies] == [[{"type": "text", "text": "Describe this audio:"}, part]] * 2
    elif test == "test_pdf_inputs":
        prompt = {"type": "text", "text": "Summarize this document:"}
        assert [_parts(b, "user") for b in bodies] == [
            # LangChain's block names no file; core names it as it does for ChatOpenAI.
            [prompt, {"type": "file", "file": {"file_data": pdf, "filename": "LC_AUTOGENERATED"}}],
            [prompt, {"type": "file", "file": {"filename": "test_file.pdf", "file_data": pdf}}],
        ]
    elif test in ("test_image_tool_message", "test_pdf_tool_message"):
        tool = "random_image" if test == "test_image_tool_message" else "random_pdf"
        if tool == "random_image":
            expected = [[{"type": "image_url", "image_url": {"url": png}}]] * 2  # OpenAI's block, then LangChain's
        else:
            expected = [[{"type": "file", "file": {"file_data": pdf, "filename": "LC_AUTOGENERATED"}}]]
        assert [_parts(b, "tool") for b in bodies] == expected
        for body in bodies:
            call = body["messages"][-2]["tool_calls"][0]
            assert (call["id"], call["function"]["name"]) == ("1", tool)
            assert body["messages"][-1]["tool_call_id"] == "1"
            assert [t["function"]["name"] for t in body["tools"]] == [tool]
    elif test == "test_anthropic_inputs":
        # Anthropic's image block (``source``) goes out as OpenAI's image part.
        prompt = {
            "type": "text",
            "text": "what's your favorite color in this image",
            "cache_control": {"type": "ephemeral"},
        }
        assert _parts(bodies[0], "user") == [prompt, {"type": "image_url", "image_url": {"url": png}}]
    else:
        return False
    return True
