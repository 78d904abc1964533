# syntax=docker/dockerfile:1

# The redress image: one binary, every service.
#
#   docker build -t redress .
#   docker run --read-only -v redress-data:/data -p 50051:50051 redress
#
# Runs as an unprivileged user with a read-only root filesystem in mind: the embedded mode
# (`redress up`) writes only to data_dir (/data, a volume); `redress serve` against
# PostgreSQL and Redis writes nothing. The process is PID 1 and handles SIGTERM itself:
# health turns NOT_SERVING, calls drain for grpc.shutdown_grace, telemetry flushes, exit 0.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-bookworm AS builder
WORKDIR /src

# The workspace (crates/, services/, proto/), then the release build. The registry and the
# target directory are cache mounts, so rebuilds reuse compiled dependencies; the binary is
# copied out of the target cache in the same step.
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release -p redress --locked \
    && install -D -m 0755 target/release/redress /out/redress \
    && mkdir -p /out/data

# glibc, libgcc and CA certificates, no shell; uid/gid 65532 ("nonroot").
FROM gcr.io/distroless/cc-debian12:nonroot

LABEL org.opencontainers.image.title="redress" \
      org.opencontainers.image.description="Complaint resolution for contact centres: five gRPC services in one binary" \
      org.opencontainers.image.source="https://github.com/redress-dev/redress" \
      org.opencontainers.image.licenses="Apache-2.0"

COPY --from=builder /out/redress /usr/local/bin/redress
COPY --from=builder --chown=65532:65532 /out/data /data

ENV REDRESS_DATA_DIR=/data
VOLUME ["/data"]
USER 65532:65532

# 50051: `redress up`; 50052-50056: `redress serve <service>`; 50057: Arrow Flight SQL;
# 9464: Prometheus /metrics.
EXPOSE 50051 50052 50053 50054 50055 50056 50057 9464

STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/redress"]
CMD ["up", "--listen", "0.0.0.0:50051"]
