#!/usr/bin/env python3
"""Where an order's CPU goes, per service: system calls and bytes written per order.

    .venv/bin/python bench/profile.py [--orders 8000 | --rate 400] [--record]

Starts the bench's stack (scripts/stack.sh, the five services on free ports, the .eml drop on
tmpfs, as `make bench` does) against the broker at ORDERFLOW_KAFKA_BOOTSTRAP (started with
scripts/kafka.sh when none answers, and stopped again), warms it up, then places orders —
closed loop with --orders N, or open loop at --rate R for --seconds S — and prints per
confirmed order, for each service and the broker:

  CPU µs            utime + stime
  written           bytes passed to write/pwrite/send (/proc/<pid>/io wchar) and write calls
  system calls      fdatasync, fsync, pwrite64, pread64, sendmsg, recvmsg, futex, epoll_wait …,
                    counted by `perf stat` on the syscalls:sys_enter_* tracepoints (needs
                    linux-perf and root; left out without them)
  peak RSS, threads

--idle S first measures each process's CPU per second with no load for S seconds (what a
quiet pipeline costs: consumers fetching, heartbeats, statistics).

--record also runs `perf record --call-graph dwarf` on each service for a few seconds of the
load and leaves the profiles in --out (read them with `perf report -i <service>.data`).
bench/README.md quotes its figures ("Where the syscalls went"). It reports; it never fails
on speed.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import bench

ROOT = Path(__file__).resolve().parents[1]
SYSCALLS = ["fdatasync", "fsync", "pwrite64", "write", "pread64", "read", "sendmsg", "sendto", "recvmsg",
            "recvfrom", "futex", "epoll_wait"]


def io_counters(pid: int) -> dict[str, int]:
    lines = Path(f"/proc/{pid}/io").read_text().splitlines()
    return {k: int(v) for k, v in (line.split(": ") for line in lines)}


def perf_stat(pid: int, out: Path) -> subprocess.Popen | None:
    if shutil.which("perf") is None or os.geteuid() != 0:
        return None
    events = ",".join(f"syscalls:sys_enter_{name}" for name in SYSCALLS)
    return subprocess.Popen(["perf", "stat", "-x,", "-e", events, "-p", str(pid), "-o", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def read_perf_stat(path: Path) -> dict[str, int]:
    counts = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        parts = line.split(",")
        if len(parts) > 2 and parts[0].replace(".", "").isdigit():
            counts[parts[2].rsplit("sys_enter_", 1)[-1]] = int(float(parts[0]))
    return counts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=8000, help="closed loop: orders to place (default 8000)")
    ap.add_argument("--rate", type=float, default=0, help="open loop at this many orders/s instead")
    ap.add_argument("--seconds", type=float, default=12, help="open loop: how long (default 12)")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--idle", type=float, default=0, metavar="S",
                    help="first measure S seconds with no load: each process's CPU per second when idle")
    ap.add_argument("--record", action="store_true", help="perf record each service for 5 s of the load")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "profile"))
    ap.add_argument("--build-dir", default=os.environ.get("ORDERFLOW_BUILD_DIR", str(ROOT / "build" / "release")))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    bin_dir = Path(args.build_dir) / "bin"
    bootstrap = os.environ.get("ORDERFLOW_KAFKA_BOOTSTRAP",
                               f"127.0.0.1:{os.environ.get('ORDERFLOW_KAFKA_PORT', '9092')}")
    started_kafka = False
    if not bench.kafka_answers(bootstrap):
        subprocess.run([str(ROOT / "scripts" / "kafka.sh"), "start"], check=True)
        started_kafka = True
    run_dir = Path(tempfile.mkdtemp(prefix="orderflow-profile-"))
    mail_dir = Path(tempfile.mkdtemp(prefix="orderflow-profile-mail-", dir="/dev/shm"))
    stack = bench.Stack(run_dir, bootstrap, {"ORDERFLOW_LOG_LEVEL": "warn", "ORDERFLOW_MAIL_DIR": str(mail_dir)})
    try:
        stack.up()
        target = stack.urls["order-service"]
        bench.loadgen(bin_dir, target, "warm-up", 300, 3, 8, kafka=bootstrap, warmup=0, drain=20)
        pids = stack.pids()
        watched = dict(pids)
        if (broker := bench.listener_pid(bootstrap)) is not None:
            watched[bench.BROKER] = broker
        stats = bench.ProcStats(watched)
        if args.idle > 0:
            idle0 = stats.cpu()
            time.sleep(args.idle)  # the measurement itself: CPU spent while nothing is asked
            idle1 = stats.cpu()
            print(f"\nidle, CPU ms per second over {args.idle:.0f} s:")
            for svc in watched:
                print(f"{svc:22s} {(idle1[svc] - idle0[svc]) / args.idle * 1e3:7.1f}")
            print(f"{'total':22s} {sum(idle1[s] - idle0[s] for s in watched) / args.idle * 1e3:7.1f}")
        io0 = {svc: io_counters(pid) for svc, pid in pids.items()}
        threads0 = {svc: bench.thread_table(pid) for svc, pid in pids.items()}
        cpu0 = stats.cpu()
        counters = {svc: perf_stat(pid, out / f"{svc}.stat") for svc, pid in pids.items()}
        result: dict = {}

        def load() -> None:
            if args.rate > 0:
                result["run"] = bench.loadgen(bin_dir, target, f"open {args.rate:.0f}/s", args.rate, args.seconds,
                                              args.connections, kafka=bootstrap, drain=120)
            else:
                result["run"] = bench.loadgen(bin_dir, target, "closed", 0, 600, args.connections, kafka=bootstrap,
                                              warmup=0, drain=300, max_requests=args.orders)

        loader = threading.Thread(target=load)
        loader.start()
        if args.record and shutil.which("perf"):
            time.sleep(2)
            recorders = [subprocess.Popen(["perf", "record", "-F", "499", "--call-graph", "dwarf,16384", "-o",
                                           str(out / f"{svc}.data"), "-p", str(pid), "--", "sleep", "5"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                         for svc, pid in pids.items() if svc != "alerting-service"]
            for r in recorders:
                r.wait()
        loader.join()
        for proc in counters.values():
            if proc is not None:
                proc.send_signal(signal.SIGINT)
                proc.wait()
        cpu1 = stats.cpu()
        orders = max(1, result["run"]["kafka"]["confirmed"])
        print(f"\n{orders} orders confirmed, {result['run']['kafka']['confirmed_per_s_overall']:.0f}/s; per order:")
        print(f"{'':22s} {'CPU us':>7s} {'written':>9s} {'writes':>6s}  system calls")
        for svc in watched:
            cpu = (cpu1[svc] - cpu0[svc]) / orders * 1e6
            if svc not in pids:
                print(f"{svc:22s} {cpu:7.0f}")
                continue
            io1 = io_counters(pids[svc])
            written = (io1["wchar"] - io0[svc]["wchar"]) / orders
            writes = (io1["syscw"] - io0[svc]["syscw"]) / orders
            calls = read_perf_stat(out / f"{svc}.stat")
            per = " ".join(f"{name} {n / orders:.2f}" for name, n in calls.items() if n)
            print(f"{svc:22s} {cpu:7.0f} {written:8.0f}B {writes:6.2f}  {per}")
        print()
        for svc, pid in pids.items():
            by_name = bench.thread_delta(threads0[svc], bench.thread_table(pid), orders)
            own = sum(t["threads"] for name, t in by_name.items() if name != "rdk:*")
            rdk = by_name.get("rdk:*", {}).get("threads", 0)
            print(f"{svc:22s} peak RSS {bench.proc_status(pid, 'VmHWM') / 2**20:5.1f} MiB, "
                  f"threads {own} own + {rdk} librdkafka")
        return 0
    finally:
        stack.down()
        shutil.rmtree(mail_dir, ignore_errors=True)
        if started_kafka:
            subprocess.run([str(ROOT / "scripts" / "kafka.sh"), "stop"], check=False)


if __name__ == "__main__":
    sys.exit(main())
