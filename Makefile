# orderflow: the front door.
#   make run    install what is missing, build, start Kafka + the five services and the console, run the
#               demo orders, keep running until Ctrl-C, then stop what it started
#   make test   install, build, run unit + integration + end-to-end tests
#   make bench  install, build, measure throughput/latency/CPU/RSS against same-run
#               baselines (bench/README.md); BENCH_ARGS=--quick for a one-minute run
#   make up / make down / make status / make demo / make clean
# Runtime state (Kafka data, SQLite files, logs, mail) lives in .run/ (ORDERFLOW_RUN_DIR).

SHELL := /bin/bash
.DEFAULT_GOAL := help
PRESET ?= release

.PHONY: help deps build build-debug kafka-up kafka-down up down status demo run test \
        test-unit test-e2e test-cluster bench bench-peer clean distclean

help:
	@echo "make run         build, start Kafka and the services, place demo orders; Ctrl-C stops"
	@echo "make test        unit, integration and end-to-end tests (starts what they need)"
	@echo "make test-cluster  broker-failure tests on a 3-broker Kafka cluster (starts it)"
	@echo "make up | down   the same stack in the background | stop it"
	@echo "make status      what is running;  make demo: the demo orders against a running stack"
	@echo "make bench       benchmarks with same-run baselines (BENCH_ARGS=--quick: ~1 min); bench/README.md"
	@echo "make bench-peer  the same plus the Spring Boot peer, side by side (bench/peers/spring-boot)"
	@echo "make deps | build | build-debug | kafka-up | kafka-down | clean | distclean"

deps:
	@scripts/deps.sh

build: deps
	cmake --preset $(PRESET)
	cmake --build --preset $(PRESET)

build-debug:
	@$(MAKE) --no-print-directory build PRESET=debug

kafka-up: deps
	@scripts/kafka.sh start

kafka-down:
	@scripts/kafka.sh stop

up: build kafka-up
	@scripts/zipkin.sh start || echo "Zipkin did not start (see above); the stack runs without traces"
	@scripts/stack.sh up
	@[ "$${ORDERFLOW_CONSOLE:-on}" = off ] || echo "console: http://localhost:$${ORDERFLOW_CONSOLE_PORT:-8080}/"
	@scripts/zipkin.sh status >/dev/null 2>&1 && echo "traces: $$(scripts/zipkin.sh url)/zipkin/" || true
	@scripts/alertmanager.sh start || echo "Alertmanager did not start (see above); alerts reach no one"
	@scripts/prometheus.sh start || echo "Prometheus did not start (see above); the stack runs without it"

down:
	@scripts/prometheus.sh stop
	@scripts/alertmanager.sh stop
	@scripts/stack.sh down
	@scripts/zipkin.sh stop
	@scripts/kafka.sh stop

status:
	@scripts/kafka.sh status || true
	@scripts/stack.sh status || true
	@scripts/zipkin.sh status || true
	@scripts/prometheus.sh status || true
	@scripts/alertmanager.sh status || true

demo:
	@scripts/demo.sh

run: build
	@scripts/run.sh

test: build
	@scripts/test.sh

# Benchmarks: starts Kafka (if none answers) and its own copy of the stack; reports, never
# fails on speed. Results in bench/results/ (not in git).
bench: build
	.venv/bin/python bench/bench.py $(BENCH_ARGS)

# The same, plus the Spring Boot peer (bench/peers/spring-boot) in the same run: one table with
# a column per system (bench/README.md). Needs Java 17 and Maven; ~5 more minutes.
bench-peer: build
	.venv/bin/python bench/bench.py --peer $(BENCH_ARGS)

# Only the unit tests: no broker needed.
test-unit: build
	ctest --preset unit --output-on-failure

# Only the end-to-end tests, against a broker that is already running (make kafka-up).
test-e2e: build
	.venv/bin/pytest tests/e2e -v

test-cluster: build
	@scripts/test-cluster.sh

clean: down
	rm -rf build .run

distclean: clean
	rm -rf .venv
