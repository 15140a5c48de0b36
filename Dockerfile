# rustllm's Proxy Server as a small image: the plain-Rust `rustllm-proxy` binary (no Python)
# on Debian slim. It takes LiteLLM's docker arguments, so the tutorial's line works with
# this image's name:
#
#   docker build -t rustllm-proxy .
#   docker run -v $(pwd)/litellm_config.yaml:/app/config.yaml \
#       -e AZURE_API_KEY=... -e AZURE_API_BASE=... -p 4000:4000 \
#       rustllm-proxy --config /app/config.yaml --detailed_debug
#
# The proxy listens on 0.0.0.0:4000 (HOST/PORT below). A config without
# `general_settings.master_key` (or -e LITELLM_MASTER_KEY=...) is refused on 0.0.0.0 unless
# `--allow-unauthenticated` is passed: an open gateway spends your provider keys.
# The default SQLite database is written beside the config, in /app (owned by the image's
# user); mount a directory there to keep it. examples/proxy/docker-compose.yml runs it with
# Postgres and Redis.
#
# `make docker-check` runs this file's build steps on a machine without a Docker engine
# (scripts/check_dockerfile.py): the builder's RUN, the runtime's library needs, and the
# ENTRYPOINT/CMD with the tutorial's arguments.

FROM rust:1.89-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
RUN cargo build --release --locked --bin rustllm-proxy

FROM debian:bookworm-slim
# ca-certificates: TLS to providers verifies against the system's roots.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app rustllm \
    && mkdir -p /app \
    && chown rustllm /app
COPY --from=build /src/target/release/rustllm-proxy /usr/local/bin/rustllm-proxy
USER rustllm
WORKDIR /app
ENV HOST=0.0.0.0 PORT=4000
EXPOSE 4000
ENTRYPOINT ["rustllm-proxy"]
CMD ["--config", "/app/config.yaml"]
