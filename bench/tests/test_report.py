"""The bench's report, rendered from a saved result: a run takes minutes, a broken table or
plot at its end loses it (bench.py writes latest.json first, so a run can be re-rendered)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BENCH))

import bench  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "quick-result.json"


@pytest.fixture()
def result() -> dict:
    return json.loads(FIXTURE.read_text())


def test_table_renders_every_figure_of_a_quick_run(result):
    text = bench.table(result)
    width = text.splitlines()[1].index(" ")  # the figure column, as wide as its ---- rule
    rows = {line[:width].strip(): line for line in text.splitlines()}
    t1 = result["stack"]["max"]["kafka"]["confirmed_per_s_overall"]
    assert f"{t1:.0f}/s" in rows["T1 confirmed/s"]
    for figure in ("T4 confirmed/s, gateway 50 ms", "D  drain orders/s (20000 backlog)",
                   "CPU-s per order (all svcs)", "broker requests/order in T1", "records/batch in T1"):
        assert figure in rows, f"{figure!r} missing from:\n{text}"
    requests = result["stack"]["max"]["broker_requests_per_order"]
    assert f"{requests['all']:.1f} (produce {requests['Produce']:.2f}" in rows["broker requests/order in T1"]


def test_request_summary_names_produce_and_fetch():
    assert bench.request_summary({"all": 3.3, "Produce": 1.22, "Fetch": 2.08}) == "3.3 (produce 1.22, fetch 2.08)"
    assert bench.request_summary({"all": 0.5}) == "0.5 (produce 0.00, fetch 0.00)"


def test_plot_writes_a_png(result, tmp_path):
    out = tmp_path / "latest.png"
    bench.plot(result, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
