# syntax=docker/dockerfile:1
#
# Images of breachflow. Two targets, one binary each:
#
#   docker build --target worker  -t breachflow-worker  .
#   docker build --target starter -t breachflow-starter .
#
# Runbooks are embedded in the binaries: nothing but the binary goes into an
# image. docker-compose.yml builds both targets. internal/deploy tests check
# that each target really ships the binary it is named after.

ARG GO_VERSION=1.26

# ---- build: module download and sources, shared by both binaries ----------
# Runs on the build machine's platform and cross-compiles (CGO is off), so
# multi-platform builds (docker buildx --platform) do not emulate the compiler.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
# /lists in the images: the content-addressed store of recipient lists. It is
# created here (distroless has no shell) and copied with the nonroot owner, so
# that an empty named volume mounted on it starts out writable by the service.
RUN mkdir -p /rootfs/lists

FROM build AS build-worker
ARG TARGETOS
ARG TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w" -o /out/worker ./worker

FROM build AS build-starter
ARG TARGETOS
ARG TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w" -o /out/starter ./starter

# ---- worker: hosts the workflows and activities ---------------------------
FROM gcr.io/distroless/static-debian12:nonroot AS worker
COPY --from=build --chown=65532:65532 /rootfs/ /
COPY --from=build-worker /out/worker /usr/local/bin/worker
ENV BREACHFLOW_LIST_DIR=/lists
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/worker"]

# ---- starter: CLI; `serve` is the HTTP front door, `sandbox` the simulators -
FROM gcr.io/distroless/static-debian12:nonroot AS starter
COPY --from=build --chown=65532:65532 /rootfs/ /
COPY --from=build-starter /out/starter /usr/local/bin/starter
# Inside a container, listen on every interface: 127.0.0.1 (the default
# outside containers) would be unreachable through a published port.
ENV BREACHFLOW_LIST_DIR=/lists \
    BREACHFLOW_LISTEN_ADDR=0.0.0.0:8080 \
    BREACHFLOW_SANDBOX_ADDR=0.0.0.0:8090
EXPOSE 8080 8090
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/starter"]
CMD ["serve"]
