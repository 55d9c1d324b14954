#!/usr/bin/env bash
# Installs what building, running and testing orderflow needs on Debian 12:
#   - Debian packages (toolchain, libraries, kcat, Java + Maven for the Kafka broker);
#   - the Python test and benchmark tooling (requirements-test.txt, bench/requirements.txt)
#     in a virtualenv at .venv/.
# Idempotent and quick when everything is present: apt is only asked (and its lists only
# updated) when a package is missing, pip only when a requirements file changed.
# The Kafka broker itself is fetched by scripts/kafka.sh on its first start.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

APT_PACKAGES=(
  build-essential g++ cmake ninja-build pkg-config ccache  # toolchain
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev  # Asio/Beast, JSON, URL
  librdkafka-dev       # Kafka client
  libsqlite3-dev       # service state, outbox (the default backend)
  libjemalloc-dev      # the services' allocator (libs/runtime/allocator.cpp)
  libpq-dev            # the PostgreSQL backend (client library)
  postgresql-15        # a PostgreSQL server for the tests and scripts/postgres.sh
  libcurl4-openssl-dev # SMTP and webhook client
  libssl-dev
  libgtest-dev libgmock-dev  # unit + integration tests
  libbenchmark-dev     # micro-benchmarks (bench/store)
  linux-perf           # profiling for bench/README.md
  kcat curl jq         # scripts and demo
  openssl              # the local broker's TLS certificates (scripts/kafka.sh)
  openjdk-17-jre-headless maven  # the local Kafka broker (from Maven Central)
  python3 python3-venv # e2e tests
  prometheus           # scripts/prometheus.sh, promtool (metrics and alert rule checks)
  prometheus-alertmanager  # scripts/alertmanager.sh, amtool: mails the Prometheus alerts, opens incidents
  docker-compose       # validates deploy/docker-compose.yml (tests/deploy); no engine needed
  clang libclang-rt-14-dev  # scripts/fuzz.sh: libFuzzer, ASan and UBSan runtimes for clang 14
  chromium chromium-driver  # tests/e2e/test_console.py: the console in a real (headless) browser
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  info "installing Debian packages: ${missing[*]}"
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "not root and no sudo: install ${missing[*]} by hand"
    SUDO=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -q
  "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  ok "Debian packages present"
fi

# Python test tooling. Debian's interpreter on purpose: python3-venv above guarantees its
# venv module, whatever else (pyenv, conda) is first on PATH.
VENV="$ORDERFLOW_ROOT/.venv"
REQS=("$ORDERFLOW_ROOT/requirements-test.txt" "$ORDERFLOW_ROOT/bench/requirements.txt")
PY="${ORDERFLOW_PYTHON:-/usr/bin/python3}"
STAMP="$VENV/.requirements.sha1"
want="$(cat "${REQS[@]}" | sha1sum | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'pass' 2>/dev/null; then
  info "creating the Python virtualenv .venv"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
fi
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  info "installing Python tooling (requirements-test.txt, bench/requirements.txt)"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --only-binary=:all: \
    -r "${REQS[0]}" -r "${REQS[1]}"
  echo "$want" >"$STAMP"
else
  ok "Python test tooling present (.venv)"
fi
