// A small time-series line chart on a <canvas>: the console's only chart type. Plain ES
// module, no dependency. Draws the series of one /api/charts entry and records how many
// points it drew in canvas.dataset.points.

export const COLORS = ["#2453c6", "#c0262d", "#1a7f37", "#9a6700", "#8250df", "#0f7b8a", "#d4486f", "#57606a"];

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v, unit) {
  if (unit === "s") return v >= 1 ? v.toFixed(2) + " s" : (v * 1000).toFixed(v * 1000 >= 10 ? 0 : 1) + " ms";
  const s = Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toFixed(2);
  return unit === "/s" ? s + "/s" : s;
}

export function drawChart(canvas, chart, start, end) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 400, h = canvas.clientHeight || 180;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const left = 56, right = 8, top = 8, bottom = 22;
  const pw = w - left - right, ph = h - top - bottom;
  let max = 0;
  for (const s of chart.series) for (const [, v] of s.points) if (v !== null && v > max) max = v;
  max = niceMax(max);
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#5b6575";
  ctx.strokeStyle = "#e3e7ee";
  ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = top + ph - (ph * i) / 4;
    ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(left + pw, y); ctx.stroke();
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    ctx.fillText(fmt((max * i) / 4, chart.unit), left - 4, y);
  }
  ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (let i = 0; i <= 4; i++) {
    const t = start + ((end - start) * i) / 4;
    const x = left + (pw * i) / 4;
    ctx.fillText(new Date(t * 1000).toTimeString().slice(0, end - start <= 600 ? 8 : 5), Math.min(Math.max(x, left + 14), left + pw - 14), top + ph + 5);
  }
  let drawn = 0;
  chart.series.forEach((s, i) => {
    ctx.strokeStyle = COLORS[i % COLORS.length];
    ctx.lineWidth = 2;
    ctx.beginPath();
    let pen = false;
    for (const [t, v] of s.points) {
      if (v === null) { pen = false; continue; }
      const x = left + (pw * (t - start)) / Math.max(1, end - start);
      const y = top + ph - (ph * v) / max;
      if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      pen = true;
      drawn++;
    }
    ctx.stroke();
  });
  if (drawn === 0) {
    ctx.fillStyle = "#5b6575"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
    ctx.fillText("no data yet", left + pw / 2, top + ph / 2);
  }
  canvas.dataset.points = String(drawn);
  canvas.dataset.max = String(chart.series.reduce((m, s) => Math.max(m, ...s.points.map(([, v]) => v ?? 0)), 0));
  canvas.setAttribute("aria-label", `${chart.title}: ${chart.series.length} series, ${drawn} points`);
}
