# rustllm developer entry points. `make help` lists them.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.deps-installed

.DEFAULT_GOAL := help
.PHONY: help dev build test test-rust test-python test-frameworks lint fmt bench bench-proxy bench-frameworks demo wheel wheel-check docker-check clean catalogue

help: ## Show this help
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet "maturin>=1.9,<2" "pytest>=8" "pytest-asyncio>=0.23" "ruff>=0.6" mypy "pyright[nodejs]" typing_extensions openai anthropic pydantic cryptography "langchain-core>=1.6,<2" "langchain-tests==1.1.9" langchain-openai nbclient nbformat ipykernel "selenium>=4.20"
	touch $(STAMP)

dev: $(STAMP) ## Create .venv with the dev tools and build the extension into it
	$(VENV)/bin/maturin develop --quiet --profile dev-release

build: dev ## Alias of dev

test-rust: ## cargo test of the plain-Rust core
	cargo test --quiet

test-python: dev ## pytest of the public Python API against rustllm.testing.MockServer
	$(PY) -m pytest -q --benchmark-disable

test: test-rust test-python test-frameworks ## Run every test (Rust, Python, the frameworks that import litellm)

FW_WHEEL := .venv-frameworks/wheel
test-frameworks: $(STAMP) ## Real frameworks on rustllm-as-litellm, one venv each (tests/frameworks; FRAMEWORKS="dspy crewai" picks)
	rm -rf $(FW_WHEEL)
	$(VENV)/bin/maturin build --quiet --profile dev-release -o $(FW_WHEEL)
	python3 tests/frameworks/run.py --wheel $(FW_WHEEL) $(FRAMEWORKS)

lint: dev ## cargo fmt --check, clippy -D warnings (with and without the binding), ruff, stubtest, mypy + pyright on tests/typing
	cargo fmt --check
	cargo clippy --quiet --all-targets -- -D warnings
	cargo clippy --quiet --features python -- -D warnings
	$(VENV)/bin/ruff check python tests bench examples
	$(VENV)/bin/ruff format --check python tests bench examples
	$(PY) -m mypy.stubtest rustllm._core rustllm.exceptions
	$(PY) tests/typing/check.py

fmt: $(STAMP) ## Format Rust and Python sources
	cargo fmt
	$(VENV)/bin/ruff format python tests bench examples

bench: $(STAMP) ## Benchmarks against litellm, the openai SDK and httpx (release build), the Responses API against chat, then bench-proxy
	$(VENV)/bin/maturin develop --quiet --release
	$(PIP) install --quiet -r bench/requirements.txt
	$(PY) bench/run.py
	$(PY) bench/responses.py --out bench/RESULTS-responses.md
	$(PY) bench/transcription.py --out bench/RESULTS-transcription.md
	$(PY) bench/guardrails.py --out bench/RESULTS-guardrails.md
	$(PY) bench/floor.py
	$(MAKE) bench-proxy

BENCH_PROXY_VENV := .venv-bench-proxy
bench-proxy: $(STAMP) ## The proxy vs LiteLLM's proxy under wrk (~25 min; BENCH_SOAK_SECONDS=60 shortens the 10-min soak)
	command -v wrk >/dev/null && command -v redis-server >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  (apt-get update && apt-get install -y wrk redis-server postgresql)
	test -x $(BENCH_PROXY_VENV)/bin/python || python3 -m venv $(BENCH_PROXY_VENV)
	cmp -s bench/requirements-proxy.txt $(BENCH_PROXY_VENV)/.locked || \
	  ($(BENCH_PROXY_VENV)/bin/pip install --quiet -r bench/requirements-proxy.txt && \
	   cp bench/requirements-proxy.txt $(BENCH_PROXY_VENV)/.locked)
	$(PY) bench/proxy/run.py
	$(PY) bench/proxy/guardrails.py --no-build

BENCH_FW_VENV := .venv-bench-frameworks
# These conflict with each other: one venv each, from the test lock plus the real litellm.
BENCH_FW_OWN := smolagents openai_agents google_adk crewai llama_index mem0
bench-frameworks: $(STAMP) ## Calls/s through the nine frameworks of tests/frameworks: real litellm vs rustllm (release build)
	rm -rf $(BENCH_FW_VENV)/wheel
	$(VENV)/bin/maturin build --quiet --release -o $(BENCH_FW_VENV)/wheel
	test -x $(BENCH_FW_VENV)/bin/python || python3 -m venv $(BENCH_FW_VENV)
	$(BENCH_FW_VENV)/bin/pip install --quiet -r bench/requirements-frameworks.txt
	$(BENCH_FW_VENV)/bin/pip install --quiet --no-deps --force-reinstall $(BENCH_FW_VENV)/wheel/rustllm-*.whl
	for n in $(BENCH_FW_OWN); do \
	  v=$(BENCH_FW_VENV)-$$n; lock=tests/frameworks/requirements/$$n.txt; \
	  if ! cat $$lock bench/requirements-frameworks-litellm.txt | cmp -s - $$v/.locked; then \
	    rm -rf $$v && python3 -m venv $$v && \
	    $$v/bin/pip install --quiet --no-deps -r $$lock && \
	    $$v/bin/pip install --quiet -r bench/requirements-frameworks-litellm.txt && \
	    cat $$lock bench/requirements-frameworks-litellm.txt > $$v/.locked || exit 1; \
	  fi; \
	  $$v/bin/pip install --quiet --no-deps --force-reinstall $(BENCH_FW_VENV)/wheel/rustllm-*.whl || exit 1; \
	done
	$(BENCH_FW_VENV)/bin/python bench/frameworks.py

demo: dev ## Run examples/quickstart.py (real provider if its key is set, else MockServer), then the proxy demo
	$(PY) examples/quickstart.py
	$(PY) examples/proxy/demo.py

catalogue: ## Refresh src/catalogue/model_prices.json from the newest litellm wheel (VERSION=x.y.z to pin)
	python3 scripts/update_catalogue.py $(if $(VERSION),--version $(VERSION))

clean: ## Remove build outputs and the virtualenv
	cargo clean
	rm -rf $(VENV) dist .venv-frameworks .venv-bench-frameworks .venv-bench-frameworks-* .venv-bench-proxy

# Release-time targets, too slow for `make test` and CI (a fat-LTO build per target).
# zig (PyPI's ziglang) cross-links every wheel from one Linux machine; auditwheel checks tags.
RELEASE_TOOLS := $(VENV)/.release-tools-installed

$(RELEASE_TOOLS): $(STAMP)
	$(PIP) install --quiet ziglang auditwheel
	touch $(RELEASE_TOOLS)

wheel: $(RELEASE_TOOLS) ## Release wheels (manylinux2014: x86_64, aarch64; tags checked by auditwheel) and sdist into dist/
	$(PY) scripts/build_wheels.py

docker-check: $(STAMP) ## Run the Dockerfile's steps without a Docker engine (release build, libraries, ENTRYPOINT with the tutorial's arguments)
	$(PY) scripts/check_dockerfile.py

wheel-check: $(STAMP) ## Install dist/ into fresh venvs of each CPython 3.9-3.13 (and the sdist) and smoke-test
	$(PY) scripts/check_wheels.py
