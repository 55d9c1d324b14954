#!/usr/bin/env python3
"""The Spring Boot peer in the bench (bench.py --peer, make bench-peer; issue 12).

bench/peers/spring-boot/ is the same order -> payment -> notification flow written with Spring
Boot and Spring Kafka. This module builds it (Maven, offline once ~/.m2 has it), starts it next
to orderflow's own payment-gateway binary and an SMTP sink, measures it with the same load
generator and the same figures as orderflow's stack, and prints the side-by-side table.

The peer uses the same broker as orderflow with its own topics: every name is prefixed with
`peer-<run>.` (its three consumer groups are `peer-*`), so neither system ever reads the
other's records, and a fresh prefix per run means no record of an earlier run is replayed.

Also: `peer.py smtp-sink --port P` is the SMTP server the peer's notification-service sends to
(it accepts and counts messages; run as its own process so its CPU is not the bench's).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEER_DIR = ROOT / "bench" / "peers" / "spring-boot"
APPS = ["order-service", "payment-service", "notification-service"]
GATEWAY = "payment-gateway"
PARTITIONS = 6
# The JVMs' warm-up: open-loop load at WARMUP_RATE, in chunks of WARMUP_CHUNK_S, for at least
# WARMUP_S (quick: WARMUP_QUICK_S) and then until the JIT is quiet: the C2 compiler threads of
# the three JVMs together used less than C2_QUIET of one core in the last chunk (at most
# WARMUP_MAX_S). orderflow then gets a warm-up of the same length at the same rate.
WARMUP_RATE = 300
WARMUP_CHUNK_S = 15
WARMUP_S = 120
WARMUP_QUICK_S = 75
WARMUP_MAX_S = 300
C2_QUIET = 0.02


def log(msg: str) -> None:
    print(f"==> peer: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- build
def jars() -> dict[str, Path]:
    return {app: PEER_DIR / app / "target" / f"{app}.jar" for app in APPS}


def build() -> dict[str, Path]:
    """mvn package: offline when ~/.m2 already has everything, online (once) otherwise; nothing
    when every jar is newer than every source file and pom."""
    sources = [p for p in PEER_DIR.rglob("*") if p.is_file() and "target" not in p.parts]
    built = list(jars().values())
    if all(j.exists() for j in built) and max(p.stat().st_mtime for p in sources) < min(j.stat().st_mtime for j in built):
        return jars()
    cmd = ["mvn", "-B", "-q", "-f", str(PEER_DIR / "pom.xml"), "package", "-DskipTests"]
    r = subprocess.run(cmd[:3] + ["-o"] + cmd[3:], capture_output=True, text=True)
    if r.returncode != 0:
        log("dependencies not all in ~/.m2: fetching them from Maven Central (once)")
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"maven build of the peer failed:\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
    return jars()


# ---------------------------------------------------------------------------- SMTP sink
class _Sink(asyncio.Protocol):
    count = 0

    def connection_made(self, transport):
        self.t, self.buf, self.data = transport, b"", False
        transport.write(b"220 peer-sink ESMTP\r\n")

    def data_received(self, chunk):
        self.buf += chunk
        while True:
            if self.data:
                end = self.buf.find(b"\r\n.\r\n")
                if end < 0:
                    return
                self.buf, self.data = self.buf[end + 5:], False
                _Sink.count += 1
                self.t.write(b"250 OK\r\n")
                continue
            nl = self.buf.find(b"\r\n")
            if nl < 0:
                return
            line, self.buf = self.buf[:nl].upper(), self.buf[nl + 2:]
            if line.startswith(b"EHLO"):
                self.t.write(b"250-peer-sink\r\n250 8BITMIME\r\n")
            elif line.startswith(b"DATA"):
                self.data = True
                self.buf = b"\r\n" + self.buf  # so a message with no body still ends at "\r\n.\r\n"
                self.t.write(b"354 go ahead\r\n")
            elif line.startswith(b"QUIT"):
                self.t.write(b"221 bye\r\n")
                self.t.close()
                return
            else:
                self.t.write(b"250 OK\r\n")


def smtp_sink(port: int, count_file: Path) -> None:
    async def main():
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
        server = await loop.create_server(_Sink, "127.0.0.1", port)
        async with server:
            while not stop.done():
                count_file.write_text(str(_Sink.count))
                await asyncio.wait([stop], timeout=1)
        count_file.write_text(str(_Sink.count))

    asyncio.run(main())


# ---------------------------------------------------------------------------- the peer's stack
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except Exception:  # noqa: BLE001
        return False


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class PeerStack:
    """orderflow's payment-gateway binary, an SMTP sink and the peer's three Spring Boot apps,
    on free ports, files in run_dir; each started by itself and stopped by its pid."""

    def __init__(self, run_dir: Path, bootstrap: str, bin_dir: Path, admin_token: str, prefix: str | None = None,
                 smtp_port: int | None = None, extra_args: list[str] | None = None):
        self.run_dir = run_dir
        self.own_smtp = smtp_port is None
        self.extra_args = extra_args or []
        self.bootstrap = bootstrap
        self.bin_dir = bin_dir
        self.admin_token = admin_token
        self.prefix = prefix if prefix is not None else f"peer-{int(time.time())}."
        self.ports = {name: free_port() for name in APPS + [GATEWAY]}
        self.ports["smtp"] = smtp_port or free_port()
        self.procs: dict[str, subprocess.Popen] = {}
        self.started_at = 0.0
        self.healthy_after_s: float | None = None
        run_dir.mkdir(parents=True, exist_ok=True)

    def url(self, name: str) -> str:
        return f"127.0.0.1:{self.ports[name]}"

    @property
    def order_events(self) -> str:
        return self.prefix + "order-events"

    def _spawn(self, name: str, args: list[str], env: dict | None = None) -> None:
        logf = open(self.run_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        self.procs[name] = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            env=env, start_new_session=True)
        logf.close()

    def app_args(self, app: str) -> list[str]:
        """The command line of one app: only where things are (ports, broker, files, topics)."""
        args = ["java", "-jar", str(jars()[app]), f"--server.port={self.ports[app]}",
                f"--spring.kafka.bootstrap-servers={self.bootstrap}", f"--peer.topics.prefix={self.prefix}",
                f"--peer.topics.partitions={PARTITIONS}"]
        if app == "order-service":
            args.append(f"--peer.data-dir={self.run_dir / 'order-data'}")
        if app == "payment-service":
            args.append(f"--peer.gateway-url=http://{self.url(GATEWAY)}")
        if app == "notification-service":
            args.append(f"--spring.mail.port={self.ports['smtp']}")
        return args + self.extra_args

    def up(self, timeout: float = 300) -> None:
        env = dict(os.environ, ORDERFLOW_HTTP_PORT=str(self.ports[GATEWAY]), ORDERFLOW_DATA_DIR=str(self.run_dir / "gateway"),
                   ORDERFLOW_ZIPKIN_URL="", ORDERFLOW_LOG_LEVEL="warn", ORDERFLOW_ADMIN_TOKEN=self.admin_token)
        (self.run_dir / "gateway").mkdir(exist_ok=True)
        self._spawn(GATEWAY, [str(self.bin_dir / GATEWAY)], env)
        if self.own_smtp:
            self._spawn("smtp", [sys.executable, str(Path(__file__).resolve()), "smtp-sink", "--port",
                                 str(self.ports["smtp"]), "--count-file", str(self.run_dir / "smtp-count")])
        self.wait(lambda: health(f"http://{self.url(GATEWAY)}/actuator/health") and port_open(self.ports["smtp"]),
                  "the payment-gateway and the SMTP sink", 30)
        # Start to healthy: from launching the three JVMs to every /actuator/health 200.
        self.started_at = time.monotonic()
        for app in APPS:
            self._spawn(app, self.app_args(app))
        self.wait(lambda: all(health(f"http://{self.url(a)}/actuator/health") for a in APPS),
                  "every peer app's /actuator/health", timeout)
        self.healthy_after_s = time.monotonic() - self.started_at

    def wait(self, predicate, what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, p in self.procs.items():
                if p.poll() is not None:
                    raise RuntimeError(f"{name} exited ({p.returncode}); log: {self.run_dir / (name + '.log')}")
            if predicate():
                return
            time.sleep(0.2)
        raise RuntimeError(f"timed out waiting for {what} (logs in {self.run_dir})")

    def pids(self) -> dict[str, int]:
        return {f"peer {a}": self.procs[a].pid for a in APPS if a in self.procs} | (
            {GATEWAY: self.procs[GATEWAY].pid} if GATEWAY in self.procs else {})

    def emails_sent(self) -> int:
        try:
            return int((self.run_dir / "smtp-count").read_text() or 0)
        except (OSError, ValueError):
            return 0

    def down(self) -> None:
        # SIGTERM each process by its pid (Spring Boot shuts down gracefully), then SIGKILL.
        for name in reversed(list(self.procs)):
            p = self.procs[name]
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        self.procs.clear()


# ---------------------------------------------------------------------------- measuring
def c2_cpu_seconds(pid: int) -> float:
    """CPU seconds of a JVM's C2 compiler threads so far (threads named "C2 CompilerThre…")."""
    total = 0.0
    clk = os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            if (task / "comm").read_text().startswith("C2 Compiler"):
                f = (task / "stat").read_text().rsplit(")", 1)[1].split()
                total += (int(f[11]) + int(f[12])) / clk
        except OSError:
            pass
    return total


def warm_up(b, bin_dir: Path, target: str, bootstrap: str, seconds: float, topic: str | None = None,
            jvm_pids: list[int] | None = None) -> dict:
    """Open-loop load at WARMUP_RATE, in chunks of WARMUP_CHUNK_S, for `seconds`; with JVMs, for
    at least `seconds` and then until the C2 compiler threads of all of them together used less
    than C2_QUIET of one core during a chunk (at most WARMUP_MAX_S)."""
    chunks = []
    done = 0.0
    while True:
        d = WARMUP_CHUNK_S if jvm_pids else min(WARMUP_CHUNK_S, seconds - done)
        c2 = [c2_cpu_seconds(p) for p in jvm_pids or []]
        o = loadgen(b, bin_dir, target, f"warm-up {done:.0f}-{done + d:.0f}s", WARMUP_RATE, d, 16, bootstrap,
                    topic, warmup=0, drain=30)
        chunk = {"seconds": d, "confirmed": o["kafka"]["confirmed"], "missing": o["kafka"]["missing"]}
        if jvm_pids:
            chunk["c2_cpu_s"] = sum(c2_cpu_seconds(p) - c for p, c in zip(jvm_pids, c2))
        chunks.append(chunk)
        done += d
        if done >= WARMUP_MAX_S:
            break
        if done >= seconds - 1e-6 and (not jvm_pids or chunk["c2_cpu_s"] < C2_QUIET * d):
            break
    return {"seconds": done, "rate": WARMUP_RATE, "chunks": chunks,
            "c2_quiet": bool(jvm_pids) and chunks[-1]["c2_cpu_s"] < C2_QUIET * chunks[-1]["seconds"]}


def loadgen(b, bin_dir, target, label, rate, duration, connections, bootstrap, topic=None, **kw) -> dict:
    """bench.loadgen (same load generator, same options), watching `topic` for OrderConfirmed."""
    if topic is None:
        return b.loadgen(bin_dir, target, label, rate, duration, connections, kafka=bootstrap, **kw)
    opts = {"warmup": 1.0, "drain": 30, "max_requests": 0} | kw
    args = [str(bin_dir / "orderflow-loadgen"), "--target", target, "--rate", str(rate), "--duration",
            str(duration), "--warmup", str(opts["warmup"]), "--connections", str(connections), "--label", label,
            "--drain", str(opts["drain"]), "--max-requests", str(opts["max_requests"]), "--kafka", bootstrap,
            "--topic", topic]
    out = subprocess.run(args, capture_output=True, text=True)
    sys.stderr.write(out.stderr)
    if out.returncode != 0:
        raise RuntimeError(f"loadgen failed ({out.returncode}): {out.stderr}")
    return json.loads(out.stdout)


def measure(b, bin_dir: Path, run_dir: Path, bootstrap: str, quick: bool, duration: float, connections: int,
            fractions=(0.25, 0.5), warmup_s: float | None = None, drain_orders: int = 0) -> dict:
    """The peer's figures, as bench.py measures orderflow's stack. `b` is the bench module.
    drain_orders > 0: also the catch-up figure (drain()), after the others."""
    jars_ = build()
    log(f"built {', '.join(p.name for p in jars_.values())}")
    stack = PeerStack(run_dir, bootstrap, bin_dir, b.BENCH_ADMIN_TOKEN)
    warmup_s = warmup_s or (WARMUP_QUICK_S if quick else WARMUP_S)
    try:
        stack.up()
        log(f"healthy {stack.healthy_after_s:.1f} s after launch; topics {stack.prefix}*")
        watched = stack.pids()
        if (broker := b.listener_pid(bootstrap)) is not None:
            watched[b.BROKER] = broker
        stats = b.ProcStats(watched)
        jvms = [stack.procs[a].pid for a in APPS]
        target = stack.url("order-service")
        topic = stack.order_events
        log(f"warm-up: at least {warmup_s:.0f} s at {WARMUP_RATE}/s, then until C2 is quiet")
        warm = warm_up(b, bin_dir, target, bootstrap, warmup_s, topic, jvms)
        log(f"warmed up for {warm['seconds']:.0f} s; C2 in the last chunk: {warm['chunks'][-1]['c2_cpu_s']:.2f} s")
        cpu0 = stats.cpu()
        mx = loadgen(b, bin_dir, target, "peer T1 closed", 0, duration, connections, bootstrap, topic, warmup=0,
                     drain=300, max_requests=3000 if quick else 20000)
        cpu1 = stats.cpu()
        orders = max(1, mx["kafka"]["confirmed"])
        cpu_per_order = {s: (cpu1[s] - cpu0[s]) / orders * 1e6 for s in cpu1}
        t1 = mx["kafka"]["confirmed_per_s_overall"]
        opens = []
        for frac in fractions:
            rate = max(50.0, round(t1 * frac, -1))
            c0 = stats.cpu()
            o = loadgen(b, bin_dir, target, f"peer open {frac:.0%} of peer T1", rate, duration, connections,
                        bootstrap, topic, drain=60)
            c1 = stats.cpu()
            o["cpu_us_per_order"] = {s: (c1[s] - c0[s]) / max(1, o["kafka"]["confirmed"]) * 1e6 for s in c1}
            o["fraction_of_peer_t1"] = frac
            opens.append(o)
        rss = stats.peak_rss()
        drained = drain(b, bin_dir, stack, bootstrap, drain_orders, 2 * connections, stats) if drain_orders > 0 else None
        return {
            "topic_prefix": stack.prefix, "healthy_after_s": stack.healthy_after_s, "warmup": warm, "max": mx,
            "open": opens, "cpu_us_per_order": cpu_per_order, "drain": drained,
            "peak_rss_mib_with_drain": {s: v / 2**20 for s, v in stats.peak_rss().items() if s != b.BROKER},
            "peak_rss_mib": {s: v / 2**20 for s, v in rss.items() if s != b.BROKER},
            "emails": stack.emails_sent(),
            "spring_boot": "3.5.7", "java": java_version(),
        }
    finally:
        stack.down()


def listeners(stack: PeerStack, app: str, action: str) -> dict:
    """POST /admin/listeners/{pause,resume} of one app (ListenerControl in the peer's events
    module): every @KafkaListener container paused or resumed, the JVM left running."""
    req = urllib.request.Request(f"http://{stack.url(app)}/admin/listeners/{action}", data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def drain(b, bin_dir: Path, stack: PeerStack, bootstrap: str, orders: int, connections: int,
          stats) -> dict:
    """The catch-up figure, as bench.drain_run measures orderflow's: the peer's consumers are
    down while `orders` orders are placed, then start again, and the drain is timed from that
    moment to the last of those orders final (its OrderConfirmed / OrderFailed record's
    timestamp). "Down" here is every @KafkaListener of the three apps paused — Spring Kafka's
    container pause: the JVMs stay up and their JIT warm; orderflow's two consuming services
    are stopped and started instead (C++ has no warm-up to lose). No new orders arrive during
    the peer's drain (orderflow's gets 100/s more). The end is found from the topic's end
    offsets (each backlog order adds one outcome record once its OrderCreated are all there),
    and the reader that dates each order's final event waits meanwhile, as in drain_run."""
    topic = stack.order_events
    start = b.drain_topic_ends(bootstrap, topic)
    reader = b.DrainEventReader(bootstrap, start, topic)
    target = stack.url("order-service")
    out: dict = {"orders": orders, "how": "listener containers paused (JVMs warm)"}
    try:
        for app in APPS:
            listeners(stack, app, "pause")
        log(f"drain: placing {orders} orders with every listener paused")
        t_place = time.monotonic()
        placed = b.loadgen(bin_dir, target, "peer drain: backlog", 0, 3600, connections, warmup=0, max_requests=orders)
        out["placed"] = {k: placed[k] for k in ("sent", "ok", "errors", "status", "achieved_rps", "l1")}
        b.wait_for(lambda: reader.counts()[0] >= placed["ok"], "the backlog's OrderCreated records",
                   max(60, orders / 200))
        out["placing_s"] = time.monotonic() - t_place
        backlog = reader.snapshot_created()
        out["backlog"] = len(backlog)
        reader.pause()
        records0 = sum(b.drain_topic_ends(bootstrap, topic).values())
        c0, m0 = stats.cpu(), b.machine_jiffies()
        t0, t0_wall = time.monotonic(), time.time()
        log("drain: resuming every listener")
        for app in APPS:
            listeners(stack, app, "resume")
        deadline = t0 + max(300, orders / 50)
        while time.monotonic() < deadline and sum(b.drain_topic_ends(bootstrap, topic).values()) < records0 + len(backlog):
            time.sleep(0.5)
        t1 = time.monotonic()
        c1, m1 = stats.cpu(), b.machine_jiffies()
        reader.resume()
        while reader.unfinished(backlog) and time.monotonic() < deadline:
            time.sleep(0.1)
        out["unfinished"] = reader.unfinished(backlog)
        end_wall = reader.last_final(backlog) if not out["unfinished"] else time.time()
        out["drain_s"] = end_wall - t0_wall
        out["drain_per_s"] = len(backlog) / out["drain_s"]
        out["cpu_window_s"] = t1 - t0
        out["cpu_us_per_order"] = {s: (c1[s] - c0[s]) / max(1, len(backlog)) * 1e6 for s in c1}
        out["machine_busy"] = (m1[0] - m0[0]) / max(1, m1[1] - m0[1])
        log(f"drain: {len(backlog)} orders in {out['drain_s']:.1f} s = {out['drain_per_s']:.0f}/s")
        return out
    finally:
        reader.stop()
        for app in APPS:  # whatever happened, the peer consumes again
            try:
                listeners(stack, app, "resume")
            except OSError:
                pass


def java_version() -> str:
    r = subprocess.run(["java", "-version"], capture_output=True, text=True)
    return (r.stderr.splitlines() or ["?"])[0]


def rates(peer: dict) -> list[float]:
    """The open-loop rates both systems are measured at (fractions of the peer's T1)."""
    return [o["offered_rps"] for o in peer["open"]]


# ---------------------------------------------------------------------------- report
def _ms(o: dict, key: str) -> str:
    h = o["l1"] if key == "l1" else o["kafka"]["l2"]
    return " / ".join("-" if h.get(p) is None else f"{h[p] / 1000:.2f}" for p in ("p50_us", "p99_us", "p99_9_us"))


def table(r: dict, b) -> str:
    """orderflow and the peer side by side; ratio = peer / orderflow."""
    st, pe = r["stack"], r["peer"]
    ours = [s for s in b.SERVICES if s in st["cpu_us_per_order"]]
    rows = [("figure", "orderflow", "spring-boot peer", "peer/orderflow")]

    def add(name, a, p, fmt, ratio=True):
        rows.append((name, fmt(a) if a is not None else "-", fmt(p) if p is not None else "-",
                     b.ratio(p, a) if ratio and a is not None and p is not None else ""))

    t1o, t1p = st["max"]["kafka"]["confirmed_per_s_overall"], pe["max"]["kafka"]["confirmed_per_s_overall"]
    add(f"warm-up before T1 ({pe['warmup']['rate']}/s)", st.get("warmup_s"), pe["warmup"]["seconds"],
        lambda v: f"{v:.0f} s", ratio=False)
    last = pe["warmup"]["chunks"][-1]
    rows.append(("   peer C2 JIT CPU, last warm-up chunk", "", f"{last.get('c2_cpu_s', 0):.2f} s in {last['seconds']:.0f} s"
                 + ("" if pe["warmup"].get("c2_quiet") else " (NOT quiet)"), ""))
    add("T1 confirmed orders/s (closed)", t1o, t1p, lambda v: f"{v:.0f}/s")
    add("   unconfirmed after drain (T1)", st["max"]["kafka"]["missing"], pe["max"]["kafka"]["missing"], str, ratio=False)
    svc_o = sum(v for s, v in st["cpu_us_per_order"].items() if s in b.SERVICES)
    svc_p = sum(v for s, v in pe["cpu_us_per_order"].items() if s != b.BROKER)
    add("CPU per order, services (us)", svc_o, svc_p, lambda v: f"{v:.0f}")
    pairs = [("order-service", "peer order-service"), ("payment-service", "peer payment-service"),
             ("notification-service", "peer notification-service"), ("payment-gateway", "payment-gateway")]
    for o, p in pairs:
        add(f"   {o}", st["cpu_us_per_order"].get(o), pe["cpu_us_per_order"].get(p), lambda v: f"{v:.0f}")
    if "alerting-service" in ours:
        add("   alerting-service (no peer)", st["cpu_us_per_order"]["alerting-service"], None, lambda v: f"{v:.0f}")
    bo, bp = st["cpu_us_per_order"].get(b.BROKER), pe["cpu_us_per_order"].get(b.BROKER)
    add("   kafka broker", bo, bp, lambda v: f"{v:.0f}")
    all_o = svc_o + (bo or 0)
    all_p = svc_p + (bp or 0)
    add("CPU per order, all incl. broker (us)", all_o, all_p, lambda v: f"{v:.0f}")
    add("orders/s per core (all CPU)", 1e6 / all_o, 1e6 / all_p, lambda v: f"{v:.0f}/s")
    rss_o = {s: v for s, v in st["peak_rss_mib"].items()}
    rss_p = pe["peak_rss_mib"]
    add("peak RSS, all services (MiB)", sum(rss_o.values()), sum(rss_p.values()), lambda v: f"{v:.0f}")
    for o, p in pairs:
        add(f"   {o}", rss_o.get(o), rss_p.get(p), lambda v: f"{v:.1f}")
    if "alerting-service" in rss_o:
        add("   alerting-service (no peer)", rss_o["alerting-service"], None, lambda v: f"{v:.1f}")
    by_rate_o = {round(o["offered_rps"]): o for o in st["open"]}
    for po in pe["open"]:
        rate = round(po["offered_rps"])
        oo = by_rate_o.get(rate)
        lbl = f"@{rate}/s ({po['fraction_of_peer_t1']:.0%} peer T1)"
        for key, name in (("l1", "L1"), ("l2", "L2")):
            a = _ms(oo, key) if oo else "-"
            p99o = (oo["l1"] if key == "l1" else oo["kafka"]["l2"])["p99_us"] if oo else None
            p99p = (po["l1"] if key == "l1" else po["kafka"]["l2"])["p99_us"]
            rows.append((f"{name} p50/p99/p99.9 ms {lbl}", a, _ms(po, key), "p99 " + b.ratio(p99p, p99o)))
        lost_o = oo["kafka"]["missing"] if oo else None
        add(f"   unconfirmed after drain {lbl}", lost_o, po["kafka"]["missing"], str, ratio=False)
        if oo and "cpu_us_per_order" in oo:
            add(f"   CPU/order all incl. broker {lbl}", b.pipeline_cpu(oo["cpu_us_per_order"]),
                sum(po["cpu_us_per_order"].values()), lambda v: f"{v:.0f} us")
    do, dp = r.get("drain"), pe.get("drain")
    if dp:
        add(f"D  drain orders/s ({dp['backlog']} backlog)", do["drain_per_s"] if do else None, dp["drain_per_s"],
            lambda v: f"{v:.0f}/s")
        add("   unfinished after the drain", do["unfinished"] if do else None, dp["unfinished"], str, ratio=False)
        add("   CPU/order in the drain, all incl. broker", b.pipeline_cpu(do["cpu_us_per_order"]) if do else None,
            sum(dp["cpu_us_per_order"].values()), lambda v: f"{v:.0f} us")
        rss_d = pe.get("peak_rss_mib_with_drain", {})
        add("   peak RSS, all services, with the drain (MiB)",
            sum(do["peak_rss_mib"].values()) if do else None, sum(rss_d.values()) if rss_d else None,
            lambda v: f"{v:.0f}")
    add("start to every service healthy", st.get("start_to_healthy_s"), pe["healthy_after_s"], lambda v: f"{v:.1f} s")
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def plot(ax, r: dict) -> None:
    """The peer's latency against offered load on orderflow's latency axes (grey, dotted)."""
    pe = r.get("peer")
    if not pe:
        return
    opens = sorted(pe["open"], key=lambda o: o["offered_rps"])
    x = [o["offered_rps"] for o in opens]
    for key, name in (("l1", "L1 accept"), ("l2", "L2 confirmed")):
        for pct, marker in (("p50_us", "o"), ("p99_us", "s"), ("p99_9_us", "^")):
            ys = [(o[key] if key == "l1" else o["kafka"]["l2"])[pct] / 1000 for o in opens]
            ax.plot(x, ys, ":", marker=marker, color="grey" if key == "l1" else "black", alpha=0.7,
                    label=f"spring-boot peer {name} {pct[:-3].replace('_', '.')}")
    ax.legend(fontsize=6)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("smtp-sink", help="an SMTP server that accepts and counts messages")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--count-file", type=Path, required=True)
    sub.add_parser("build", help="mvn package the peer (offline once cached)")
    args = ap.parse_args()
    if args.cmd == "smtp-sink":
        smtp_sink(args.port, args.count_file)
    elif args.cmd == "build":
        print("\n".join(str(p) for p in build().values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
