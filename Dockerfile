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
    ABCH_MSNP_ADDR=0.0.0.0:1863 \
    ABCH_SB_ADDR=0.0.0.0:1864
# The switchboard listens on every interface, so abch needs ABCH_SB_PUBLIC_ADDR
# (the host:port clients are sent to in XFR/RNG) at `docker run`, or
# ABCH_MSNP_ADDR=off for no NS/SB; it refuses to start without either.
VOLUME ["/data"]
EXPOSE 8080 8443 8090 4222 1863 1864
USER nonroot:nonroot
# No shell or curl in distroless: the binary checks itself (/readyz on ABCH_HTTP_ADDR).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["/usr/local/bin/abch", "health"]
ENTRYPOINT ["/usr/local/bin/abch"]
CMD ["serve"]
