"""Files and batches through the public API, against MockServer (which keeps them in
memory): what went over the wire, the objects that came back (FileObject, FileDeleted,
Batch, list pages, HttpxBinaryResponseContent), for OpenAI and Azure, sync and async,
callbacks, mapped errors and each bad input."""

from __future__ import annotations

import hashlib
import time

import pytest

import rustllm as litellm
from rustllm import Batch, FileDeleted, FileObject, HttpxBinaryResponseContent

JSONL = b'{"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o"}}\n'


@pytest.fixture
def conn(server):
    return {"api_base": server.base_url, "api_key": "sk-files", "max_retries": 0}


def test_the_file_lifecycle(server, conn, tmp_path):
    path = tmp_path / "input.jsonl"
    path.write_bytes(JSONL)
    with open(path, "rb") as f:
        created = litellm.create_file(file=f, purpose="batch", **conn)
    req = server.last_request
    assert (req.method, req.path) == ("POST", "/v1/files")
    assert req.headers["authorization"] == "Bearer sk-files"
    assert req.headers["content-type"].startswith("multipart/form-data")
    assert req.body["purpose"] == "batch"
    assert req.body["file"]["filename"] == "input.jsonl"
    assert req.body["file"]["sha256"] == hashlib.sha256(JSONL).hexdigest()
    assert isinstance(created, FileObject)
    assert (created.object, created.purpose, created.bytes, created.filename) == (
        "file",
        "batch",
        len(JSONL),
        "input.jsonl",
    )
    assert created.id.startswith("file-") and created["status"] == "processed"

    got = litellm.file_retrieve(file_id=created.id, **conn)
    assert server.last_request.path == f"/v1/files/{created.id}" and server.last_request.method == "GET"
    assert got == created

    content = litellm.file_content(file_id=created.id, **conn)
    assert server.last_request.path == f"/v1/files/{created.id}/content"
    assert isinstance(content, HttpxBinaryResponseContent) and content.content == JSONL

    listed = litellm.file_list(purpose="batch", **conn)
    assert server.last_request.query == "purpose=batch"
    assert created.id in [f.id for f in listed] and all(isinstance(f, FileObject) for f in listed.data)

    deleted = litellm.file_delete(file_id=created.id, **conn)
    assert server.last_request.method == "DELETE"
    assert isinstance(deleted, FileDeleted) and deleted.deleted is True and deleted.id == created.id
    with pytest.raises(litellm.NotFoundError):
        litellm.file_retrieve(file_id=created.id, **conn)


def test_the_batch_lifecycle(server, conn):
    file = litellm.create_file(file=("in.jsonl", JSONL), purpose="batch", **conn)
    batch = litellm.create_batch(
        completion_window="24h",
        endpoint="/v1/chat/completions",
        input_file_id=file.id,
        metadata={"job": "nightly"},
        **conn,
    )
    req = server.last_request
    assert (req.method, req.path) == ("POST", "/v1/batches")
    assert req.body == {
        "input_file_id": file.id,
        "endpoint": "/v1/chat/completions",
        "completion_window": "24h",
        "metadata": {"job": "nightly"},
    }
    assert isinstance(batch, Batch) and batch.status == "validating" and batch.input_file_id == file.id
    assert litellm.retrieve_batch(batch_id=batch.id, **conn).id == batch.id
    page = litellm.list_batches(limit=10, **conn)
    assert server.last_request.query == "limit=10"
    assert batch.id in [b.id for b in page] and page.has_more is False
    cancelled = litellm.cancel_batch(batch_id=batch.id, **conn)
    assert server.last_request.path == f"/v1/batches/{batch.id}/cancel" and server.last_request.method == "POST"
    assert cancelled.status == "cancelling"
    with pytest.raises(litellm.BadRequestError):
        litellm.create_batch(completion_window="24h", endpoint="/v1/embeddings", input_file_id="file-nope", **conn)


async def test_async_forms_and_azure(server):
    azure = {
        "custom_llm_provider": "azure",
        "api_base": server.url,
        "api_key": "az-key",
        "api_version": "2025-03-01-preview",
        "max_retries": 0,
    }
    file = await litellm.acreate_file(file=("a.jsonl", JSONL), purpose="batch", **azure)
    req = server.last_request
    assert req.path == "/openai/files" and req.query == "api-version=2025-03-01-preview"
    assert req.headers["api-key"] == "az-key" and "authorization" not in req.headers
    assert (await litellm.afile_retrieve(file_id=file.id, **azure)).id == file.id
    assert (await litellm.afile_content(file_id=file.id, **azure)).content == JSONL
    assert file.id in [f.id for f in await litellm.afile_list(**azure)]
    batch = await litellm.acreate_batch(
        completion_window="24h", endpoint="/v1/embeddings", input_file_id=file.id, **azure
    )
    assert server.last_request.path == "/openai/batches"
    assert (await litellm.aretrieve_batch(batch_id=batch.id, **azure)).status == "validating"
    assert batch.id in [b.id for b in await litellm.alist_batches(**azure)]
    assert (await litellm.acancel_batch(batch_id=batch.id, **azure)).status == "cancelling"
    assert (await litellm.afile_delete(file_id=file.id, **azure)).deleted is True


@pytest.mark.parametrize(
    ("call", "kwargs", "match"),
    [
        (litellm.create_file, {"file": b"x", "purpose": "homework"}, "purpose must be one of"),
        (litellm.create_file, {"file": None, "purpose": "batch"}, "file is required"),
        (litellm.create_file, {"file": 3, "purpose": "batch"}, "must be a file"),
        (litellm.file_retrieve, {"file_id": "../../admin"}, "file_id must be an id"),
        (litellm.file_content, {"file_id": ""}, "file_id must be an id"),
        (litellm.file_retrieve, {"file_id": "file-1", "extra_body": {"x": 1}}, "extra_body cannot be sent"),
        (
            litellm.create_batch,
            {"completion_window": "24h", "endpoint": "/v1/images/generations", "input_file_id": "f"},
            "endpoint must be one of",
        ),
        (
            litellm.create_batch,
            {"completion_window": "1h", "endpoint": "/v1/embeddings", "input_file_id": "f"},
            "completion_window",
        ),
        (litellm.retrieve_batch, {"batch_id": "a/b"}, "batch_id must be an id"),
        (litellm.file_list, {"custom_llm_provider": "anthropic"}, "for OpenAI and Azure"),
        (litellm.list_batches, {"custom_llm_provider": "vertex_ai"}, "for OpenAI and Azure"),
    ],
)
def test_bad_inputs_fail_before_any_request(server, conn, call, kwargs, match):
    with pytest.raises(litellm.BadRequestError, match=match):
        call(**{**conn, **kwargs})
    assert server.requests == []


def test_errors_are_mapped_and_retried(server, conn):
    server.fail_next(1, status=429)
    with pytest.raises(litellm.RateLimitError):
        litellm.file_list(**conn)
    server.reset()
    server.fail_next(1, status=503)
    litellm.create_file(file=("a.jsonl", JSONL), purpose="batch", **{**conn, "max_retries": 1})
    assert server.request_count == 2
    assert [r.body["file"]["size"] for r in server.requests] == [len(JSONL)] * 2


def test_callbacks_see_the_call_type(server, conn, monkeypatch):
    seen = []
    monkeypatch.setattr(litellm, "success_callback", [lambda kwargs, resp, *_: seen.append(kwargs["call_type"])])
    litellm.create_file(file=("a.jsonl", JSONL), purpose="batch", **conn)
    litellm.file_list(**conn)
    deadline = time.monotonic() + 5
    while len(seen) < 2 and time.monotonic() < deadline:  # success callbacks run on a worker
        time.sleep(0.01)
    assert seen == ["create_file", "file_list"]


async def test_router_acreate_file_and_acreate_batch(server):
    router = litellm.Router(
        model_list=[
            {"model_name": "batcher", "litellm_params": {"model": "anthropic/claude-3-5-sonnet", "api_key": "x"}},
            {
                "model_name": "batcher",
                "litellm_params": {"model": "openai/gpt-4o", "api_base": server.base_url, "api_key": "sk-r", "rpm": 5},
            },
        ]
    )
    file = await router.acreate_file(model="batcher", file=("in.jsonl", JSONL), purpose="batch")
    assert server.last_request.path == "/v1/files"
    assert server.last_request.headers["authorization"] == "Bearer sk-r"
    batch = await router.acreate_batch(
        model="batcher", input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert isinstance(batch, Batch) and batch.input_file_id == file.id
    assert server.last_request.body["input_file_id"] == file.id
    with pytest.raises(litellm.BadRequestError, match="no OpenAI or Azure deployment"):
        await router.acreate_file(model="nope", file=b"x", purpose="batch")


async def test_router_aretrieve_batch_finds_the_deployment_that_holds_it(server):
    other = litellm.testing.MockServer().start()
    try:
        router = litellm.Router(
            model_list=[
                {
                    "model_name": "a",
                    "litellm_params": {"model": "openai/gpt-4o", "api_base": other.base_url, "api_key": "sk-a"},
                },
                {
                    "model_name": "b",
                    "litellm_params": {"model": "openai/gpt-4o", "api_base": server.base_url, "api_key": "sk-b"},
                },
            ]
        )
        file = await router.acreate_file(model="b", file=("in.jsonl", JSONL), purpose="batch")
        batch = await router.acreate_batch(
            model="b", input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        # Asked without a group, every OpenAI deployment is asked; the one that made it answers.
        found = await router.aretrieve_batch(batch_id=batch.id)
        assert isinstance(found, Batch) and found.id == batch.id
        assert any(r.path == f"/v1/batches/{batch.id}" for r in other.requests)
        # A batch no deployment knows raises the providers' error.
        with pytest.raises(litellm.NotFoundError):
            await router.aretrieve_batch(batch_id="batch_nope")
        # Listing a group merges its deployments' lists.
        assert (await router.alist_batches(model="a")).data == []
        file_a = await router.acreate_file(model="a", file=("in.jsonl", JSONL), purpose="batch")
        on_a = await router.acreate_batch(
            model="a", input_file_id=file_a.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        both = litellm.Router(model_list=[{**d, "model_name": "both"} for d in router.model_list])
        listed = [b.id for b in await both.alist_batches(model="both")]
        assert on_a.id in listed and batch.id in listed
        with pytest.raises(litellm.BadRequestError, match="no OpenAI or Azure deployment"):
            await router.alist_batches(model="nope")
    finally:
        other.stop()
