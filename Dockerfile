# syntax=docker/dockerfile:1
# Multi-stage build: a static, cgo-free abch binary on a minimal base, run as
# a non-root user with its data (embedded database, NATS storage, secrets) on
# a volume.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/abch ./cmd/abch && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/abch /usr/local/bin/abch
# The volume mount point must belong to the non-root user.
COPY --from=build --chown=65532:65532 /out/data /data
ENV ABCH_DATA_DIR=/data \
    ABCH_HTTP_ADDR=0.0.0.0:8080 \
    ABCH_NS_ADDR=0.0.0.0:8090 \
    ABCH_NATS_LISTEN=0.0.0.0:4222 \
    ABCH_MSNP_ADDR=0.0.0.0:1863
VOLUME ["/data"]
EXPOSE 8080 8443 8090 4222 1863
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/abch"]
CMD ["serve"]
