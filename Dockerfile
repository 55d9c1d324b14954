# syntax=docker/dockerfile:1
# One image for all five orderflow services (order-service, payment-service,
# payment-gateway, notification-service, alerting-service): pick one with the command,
# e.g. `docker run orderflow order-service`. deploy/docker-compose.yml runs them all.
#
#   docker build -t orderflow .

# ---- build: the same toolchain and libraries as scripts/deps.sh, Debian 12 ----------
FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential g++ cmake ninja-build pkg-config git ca-certificates \
      libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev \
      librdkafka-dev libsqlite3-dev libjemalloc-dev libpq-dev libcurl4-openssl-dev libssl-dev \
      libgtest-dev libgmock-dev libbenchmark-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake --preset release \
 && cmake --build --preset release \
 && ctest --preset unit --output-on-failure \
 && mkdir -p /out \
 && cp build/release/bin/order-service build/release/bin/payment-service \
       build/release/bin/payment-gateway build/release/bin/notification-service \
       build/release/bin/alerting-service build/release/bin/console /out/ \
 && strip --strip-debug /out/*

# ---- runtime: shared libraries only, non-root --------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      librdkafka1 librdkafka++1 libboost-json1.81.0 libboost-url1.81.0 \
      libsqlite3-0 libjemalloc2 libpq5 libcurl4 libssl3 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 orderflow \
 && useradd --system --uid 10001 --gid orderflow --home-dir /var/lib/orderflow \
      --shell /usr/sbin/nologin orderflow \
 && mkdir -p /var/lib/orderflow/data /var/lib/orderflow/mail \
 && chown -R orderflow:orderflow /var/lib/orderflow
COPY --from=build /out/ /usr/local/bin/
USER orderflow
WORKDIR /var/lib/orderflow
ENV ORDERFLOW_HTTP_ADDRESS=0.0.0.0 \
    ORDERFLOW_DATA_DIR=/var/lib/orderflow/data \
    ORDERFLOW_MAIL_DIR=/var/lib/orderflow/mail
# Each service answers /actuator/health on ORDERFLOW_HTTP_PORT (compose sets it).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${ORDERFLOW_HTTP_PORT:-8080}/actuator/health/readiness" >/dev/null || exit 1
STOPSIGNAL SIGTERM
CMD ["order-service"]
