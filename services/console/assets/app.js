// The console's page: a hash-routed single page over the console's own /api (same origin
// only; the console calls the services, Prometheus and Zipkin server-side).
import { COLORS, drawChart } from "/chart.js";

const main = document.getElementById("main");
let session = { signedIn: false };
let timer = null;

// ---- helpers ----

// Builds an element; strings become text nodes (never HTML), so data from Kafka or the
// services cannot inject markup.
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

function time(ms) {
  if (!ms) return "";
  const d = new Date(typeof ms === "string" ? ms : Number(ms));
  return isNaN(d) ? String(ms) : d.toISOString().replace("T", " ").replace("Z", "");
}

function table(headers, rows, attrs = {}) {
  return h("div", { class: "table-wrap" },
    h("table", attrs, h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, rows.length ? rows : [h("tr", {}, h("td", { colspan: headers.length, class: "muted" }, "none"))])));
}

function status(s) { return h("span", { class: `status ${s}` }, s); }
function json(v) { return h("pre", { class: "mono" }, typeof v === "string" ? v : JSON.stringify(v, null, 2)); }
function orderLink(id) { return id ? h("a", { href: `#/orders/${encodeURIComponent(id)}`, class: "mono" }, id) : ""; }

class ApiError extends Error {
  constructor(status, body) { super(body?.detail || body?.title || `HTTP ${status}`); this.status = status; this.body = body; }
}

async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRF-Token"] = session.csrf || "";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  const data = await res.json().catch(() => null);
  if (res.status === 401 && path !== "/api/session") { session = { signedIn: false }; showSignIn(); throw new ApiError(401, data); }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

function setPage(title, ...content) {
  main.replaceChildren(h("h1", {}, title), ...content);
  document.title = `${title} · orderflow console`;
}

function fail(e) { return h("p", { class: "error", role: "alert" }, `Could not load: ${e.message}`); }

// ---- sign-in ----

function showSignIn(message) {
  stopTimer();
  document.getElementById("nav").hidden = true;
  document.getElementById("sign-out").hidden = true;
  document.getElementById("demo-banner").hidden = true;
  document.getElementById("who").textContent = "";
  const input = h("input", { id: "token", type: "password", autocomplete: "current-password", required: true, "aria-label": "Admin token or admin API key" });
  const error = h("p", { id: "signin-error", class: "error", role: "alert" }, message || "");
  const form = h("form", { id: "signin", class: "card signin", onsubmit: async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    try {
      session = await api("/api/session", { method: "POST", body: { token: input.value } });
      input.value = "";
      signedIn();
    } catch (e) {
      error.textContent = e.status === 401 ? "Sign-in refused: that is neither an admin token nor an admin API key." : `Sign-in failed: ${e.message}`;
    }
  } },
  h("h1", {}, "Sign in"),
  h("p", { class: "muted" }, "With the admin token (ORDERFLOW_ADMIN_TOKEN) or an admin API key. The session is a cookie this page cannot read."),
  input, h("button", { class: "primary", type: "submit" }, "Sign in"), error);
  main.replaceChildren(form);
  input.focus();
}

function signedIn() {
  document.getElementById("nav").hidden = false;
  document.getElementById("sign-out").hidden = false;
  document.getElementById("demo-banner").hidden = !session.demo;
  document.getElementById("who").textContent = session.demo ? "demo (automatic sign-in)" : `signed in as ${session.who}`;
  route();
}

document.getElementById("sign-out").addEventListener("click", async () => {
  try { await api("/api/session", { method: "DELETE" }); } catch { /* signed out either way */ }
  session = { signedIn: false };
  showSignIn("Signed out.");
});

// ---- overview ----

function stopTimer() { if (timer) { clearInterval(timer); timer = null; } }

async function overview(query) {
  const minutes = [1, 10, 60, 360].includes(Number(new URLSearchParams(query).get("minutes"))) ? Number(new URLSearchParams(query).get("minutes")) : 10;
  const range = h("select", { id: "range", "aria-label": "Chart range", onchange: () => { location.hash = `#/overview?minutes=${range.value}`; } },
    [1, 10, 60, 360].map((m) => h("option", { value: m, selected: m === minutes }, m < 60 ? `last ${m} min` : `last ${m / 60} h`)));
  const charts = h("div", { class: "grid", id: "charts" });
  const health = h("div", { id: "health" });
  const alerts = h("div", { id: "open-alerts" });
  const note = h("p", { class: "muted", id: "charts-note" });
  setPage("Overview", h("div", { class: "filters" }, h("label", {}, "Charts", range), note), charts, h("h2", {}, "Health"), health, h("h2", {}, "Latest alerts"), alerts);
  const canvases = new Map();
  const refreshCharts = async () => {
    try {
      const data = await api(`/api/charts?minutes=${minutes}`);
      note.textContent = data.prometheus === "UP"
        ? `From Prometheus, a point every ${data.step} s; refreshes every 5 s.`
        : "Prometheus does not answer: no charts (start it with scripts/prometheus.sh start).";
      for (const c of data.charts) {
        let entry = canvases.get(c.id);
        if (!entry) {
          const canvas = h("canvas", { class: "chart", role: "img", dataset: { chart: c.id } });
          const legend = h("div", { class: "legend" });
          charts.append(h("section", { class: "card chart-card" }, h("h3", {}, `${c.title} (${c.unit})`), canvas, legend));
          entry = { canvas, legend };
          canvases.set(c.id, entry);
        }
        drawChart(entry.canvas, c, data.start, data.end);
        entry.legend.replaceChildren(...c.series.map((s, i) => h("span", {}, h("i", { style: null, dataset: { color: COLORS[i % COLORS.length] } }), s.name)));
        entry.legend.querySelectorAll("i").forEach((el) => { el.style.background = el.dataset.color; });
      }
    } catch (e) { note.textContent = `Charts: ${e.message}`; }
  };
  const refreshHealth = async () => {
    try {
      const o = await api("/api/overview");
      const rows = o.services.map((s) => h("tr", {}, h("td", {}, s.name), h("td", {}, status(s.status)),
        h("td", { class: "muted" }, s.components ? Object.entries(s.components).map(([k, v]) => `${k}: ${v.status}`).join(", ") : (s.detail || ""))));
      rows.push(h("tr", {}, h("td", {}, "Kafka broker"), h("td", {}, status(o.broker.status)), h("td", { class: "muted" }, o.broker.status === "UP" ? "" : o.broker.detail)));
      const dlq = (o.dlq || []).map((d) => h("tr", {}, h("td", {}, h("a", { href: `#/dlq/${encodeURIComponent(d.topic)}` }, d.topic)), h("td", {}, String(d.depth))));
      health.replaceChildren(table(["component", "status", "detail"], rows, { id: "health-table" }),
        h("h2", {}, "DLQ depths"), table(["topic", "records"], dlq),
        h("p", { class: "muted" }, `${o.indexedEvents} Kafka records indexed by order.`));
      alerts.replaceChildren(alertTable(o.alerts || []));
    } catch (e) { health.replaceChildren(fail(e)); }
  };
  await Promise.all([refreshCharts(), refreshHealth()]);
  timer = setInterval(() => { refreshCharts(); refreshHealth(); }, 5000);
}

// ---- orders ----

async function orders(params) {
  const q = new URLSearchParams(params);
  const id = h("input", { id: "q-id", name: "id", placeholder: "order id" });
  const customer = h("input", { id: "q-customer", name: "customerId", placeholder: "customer id", value: q.get("customerId") || "" });
  const st = h("select", { id: "q-status", name: "status" }, ["", "PENDING", "CONFIRMED", "FAILED"].map((s) => h("option", { value: s, selected: q.get("status") === s }, s || "any status")));
  // A time window in UTC: the inputs show and take "YYYY-MM-DDTHH:MM:SS", the API takes RFC 3339.
  const utcInput = (id, name) => h("input", { id, name, type: "datetime-local", step: "1",
    value: (q.get(name) || "").replace(/(\.\d+)?Z$/, "") });
  const from = utcInput("q-from", "createdAfter");
  const until = utcInput("q-until", "createdBefore");
  const results = h("div", { id: "orders-results" });
  const form = h("form", { class: "filters", onsubmit: (ev) => {
    ev.preventDefault();
    if (id.value.trim()) { location.hash = `#/orders/${encodeURIComponent(id.value.trim())}`; return; }
    const p = new URLSearchParams();
    if (customer.value.trim()) p.set("customerId", customer.value.trim());
    if (st.value) p.set("status", st.value);
    const utc = (v) => (v.length === 16 ? `${v}:00` : v) + "Z";
    if (from.value) p.set("createdAfter", utc(from.value));
    if (until.value) p.set("createdBefore", utc(until.value));
    location.hash = `#/orders?${p}`;
  } },
  h("label", {}, "Order id", id), h("label", {}, "Customer", customer), h("label", {}, "Status", st),
  h("label", {}, "Placed from (UTC)", from), h("label", {}, "until (UTC)", until), h("button", { class: "primary", type: "submit" }, "Search"));
  setPage("Orders", form, results);
  try {
    q.set("limit", q.get("limit") || "20");
    const page = await api(`/api/orders?${q}`);
    const rows = page.items.map((o) => h("tr", { dataset: { orderId: o.orderId } }, h("td", {}, orderLink(o.orderId)), h("td", {}, status(o.status)),
      h("td", {}, o.customerId), h("td", {}, `${o.totalAmount} ${o.currency}`), h("td", {}, time(o.createdAt)), h("td", { class: "muted" }, o.failureReason || "")));
    const next = new URLSearchParams(q);
    results.replaceChildren(table(["order", "status", "customer", "total", "created", "failure"], rows, { id: "orders-table" }),
      h("div", { class: "actions" },
        q.get("after") ? h("a", { href: "#/orders", id: "first-page" }, "First page") : null,
        page.nextCursor ? h("a", { href: `#/orders?${(next.set("after", page.nextCursor), next)}`, id: "next-page" }, "Next page →") : null));
  } catch (e) { results.replaceChildren(fail(e)); }
}

// The whole story of one order, in time order.
async function orderPage(id) {
  setPage(`Order ${id}`, h("p", {}, "Loading…"));
  let s;
  try { s = await api(`/api/orders/${encodeURIComponent(id)}`); } catch (e) { setPage(`Order ${id}`, fail(e)); return; }
  const o = s.order;
  const summary = o ? h("div", { class: "card", id: "order-summary" },
    h("p", {}, "Status: ", h("span", { id: "order-status", class: `status ${o.status}` }, o.status), o.failureReason ? ` — ${o.failureReason}` : "",
      o.recoveredAt ? ` (recovered ${time(o.recoveredAt)})` : ""),
    h("p", {}, `Customer ${o.customerId} <${o.customerEmail || ""}> · ${o.totalAmount} ${o.currency} · correlation id `, h("span", { class: "mono" }, o.correlationId || "")),
    s.trace ? h("p", {}, "Trace: ", h("a", { id: "trace-link", href: s.trace.url, target: "_blank", rel: "noopener noreferrer", dataset: { traceId: s.trace.traceId } }, s.trace.traceId),
      h("span", { class: "muted" }, ` in Zipkin (${s.trace.spans} spans)`)) : h("p", { class: "muted" }, "No trace known."))
    : h("p", { class: "muted" }, "order-service does not know this order; what Kafka saw of it follows.");

  // One timeline from every source.
  const items = [];
  for (const hst of o?.history || []) items.push({ t: Date.parse(hst.at) || 0, what: "status", text: `${hst.status}${hst.reason ? " — " + hst.reason : ""}` });
  for (const e of s.events) items.push({ t: e.time, what: e.topic.endsWith(".dlq") ? "DLQ" : "Kafka", text: `${e.type || "(no ce_type)"} on ${e.topic}[${e.partition}]@${e.offset}` });
  for (const c of s.charges || []) items.push({ t: Date.parse(c.createdAt) || 0, what: "charge", text: `${c.id} ${c.status} ${c.amount ?? ""} ${c.currency ?? ""}` });
  for (const n of s.notifications || []) items.push({ t: Date.parse(n.sentAt) || 0, what: "email", text: `${n.outcome} email to ${n.to}: ${n.subject}` });
  for (const a of s.alerts || []) items.push({ t: Date.parse(a.time) || 0, what: "alert", text: `${a.topic} ${a.reason}` });
  items.sort((a, b) => a.t - b.t);

  const eventRows = s.events.map((e) => h("tr", { dataset: { type: e.type, topic: e.topic } },
    h("td", {}, time(e.time)), h("td", {}, h("span", { class: "tag" }, e.type)), h("td", { class: "mono" }, `${e.topic} / ${e.partition} / ${e.offset}`),
    h("td", { class: "mono" }, e.ceId), h("td", { class: "mono" }, e.correlationId), h("td", { class: "mono" }, e.traceparent),
    h("td", {}, h("details", {}, h("summary", {}, "payload & headers"), json(e.payload), json(Object.fromEntries(e.headers || []))))));
  const charges = (s.charges || []).map((c) => h("tr", { dataset: { chargeId: c.id } }, h("td", { class: "mono" }, c.id), h("td", {}, c.status), h("td", {}, `${c.amount} ${c.currency}`), h("td", {}, time(c.createdAt)), h("td", {}, String(c.attempts ?? ""))));
  const notes = (s.notifications || []).map((n) => h("tr", { dataset: { outcome: n.outcome } }, h("td", {}, time(n.sentAt)), h("td", {}, n.outcome), h("td", {}, n.to), h("td", {}, n.subject), h("td", {}, n.channel)));
  const alerts = alertTable(s.alerts || []);
  const dlqRows = s.events.filter((e) => e.topic.endsWith(".dlq")).map((e) => {
    const hd = Object.fromEntries(e.headers || []);
    return h("tr", {}, h("td", {}, h("a", { href: `#/dlq/${encodeURIComponent(e.topic)}?order=${encodeURIComponent(id)}` }, `${e.topic} / ${e.partition} / ${e.offset}`)),
      h("td", {}, hd["dlq-reason"] || ""), h("td", {}, hd["dlq-error-message"] || ""));
  });
  setPage(`Order ${id}`, summary,
    h("h2", {}, "Timeline"), table(["time", "source", "what"], items.map((i) => h("tr", {}, h("td", {}, time(i.t)), h("td", {}, i.what), h("td", {}, i.text))), { id: "timeline" }),
    h("h2", {}, "Status history"), table(["status", "at", "detail"], (o?.history || []).map((x) => h("tr", {}, h("td", {}, status(x.status)), h("td", {}, time(x.at)), h("td", {}, x.reason || ""))), { id: "history" }),
    h("h2", {}, `Kafka events (${s.events.length})`), table(["time", "type", "topic / partition / offset", "ce_id", "correlation id", "traceparent", ""], eventRows, { id: "events" }),
    h("h2", {}, `Gateway charges (${(s.charges || []).length})`), table(["charge", "status", "amount", "created", "attempts"], charges, { id: "charges" }),
    h("h2", {}, `Notifications (${(s.notifications || []).length})`), table(["sent", "outcome", "to", "subject", "channel"], notes, { id: "notifications" }),
    h("h2", {}, "Alerts naming it"), alerts,
    h("h2", {}, "DLQ records naming it"), table(["record", "reason", "error"], dlqRows, { id: "order-dlq" }));
}

// ---- DLQ ----

async function dlqPage(topic, params) {
  const q = new URLSearchParams(params);
  const topics = h("div", { id: "dlq-topics" });
  const body = h("div", { id: "dlq-body" });
  setPage("Dead letter queues", topics, body);
  let list;
  try { list = await api("/api/dlq"); } catch (e) { topics.replaceChildren(fail(e)); return; }
  topics.replaceChildren(table(["topic", "records"], list.map((d) => h("tr", {}, h("td", {}, h("a", { href: `#/dlq/${encodeURIComponent(d.topic)}`, "aria-current": d.topic === topic ? "page" : null }, d.topic)), h("td", {}, String(d.depth)))), { id: "dlq-topic-table" }));
  if (!topic) topic = list.find((d) => d.depth > 0)?.topic;
  if (!topic) { body.replaceChildren(h("p", { class: "muted" }, "Every DLQ is empty.")); return; }

  const reason = h("input", { id: "f-reason", placeholder: "reason", value: q.get("reason") || "" });
  const order = h("input", { id: "f-order", placeholder: "order id", value: q.get("order") || "" });
  const records = h("div", { id: "dlq-records" });
  const plan = h("div", { id: "dry-run", "aria-live": "polite" });
  const audit = h("div", { id: "audit" });
  let data = { records: [] };
  const visible = () => data.records.filter((r) => {
    const hd = Object.fromEntries(r.headers.map((x) => [x.key, x.value]));
    return (!reason.value || (hd["dlq-reason"] || "").includes(reason.value)) && (!order.value || r.key === order.value);
  });
  const render = () => {
    const rows = visible().map((r) => {
      const hd = Object.fromEntries(r.headers.map((x) => [x.key, x.value]));
      return h("tr", { dataset: { orderId: r.key, partition: r.partition, offset: r.offset } },
        h("td", {}, h("input", { type: "checkbox", class: "pick", "aria-label": `select ${r.partition}/${r.offset}`, dataset: { partition: r.partition, offset: r.offset } })),
        h("td", { class: "mono" }, `${r.partition} / ${r.offset}`), h("td", {}, time(r.timestamp)), h("td", {}, orderLink(r.key)),
        h("td", {}, hd["ce_type"] || ""), h("td", {}, hd["dlq-reason"] || ""), h("td", {}, hd["dlq-error-message"] || ""),
        h("td", {}, `${hd["dlq-original-topic"] || ""}[${hd["dlq-original-partition"] || ""}]@${hd["dlq-original-offset"] || ""}`), h("td", {}, hd["dlq-attempts"] || ""),
        h("td", {}, h("details", {}, h("summary", {}, "payload & headers"), json(r.value), json(hd))));
    });
    records.replaceChildren(table(["", "partition / offset", "time", "order", "event", "reason", "error", "original", "attempts", ""], rows, { id: "dlq-table" }));
  };
  const dryRun = async (selection) => {
    plan.replaceChildren(h("p", {}, "Dry run…"));
    try {
      const r = await api(`/api/dlq/${encodeURIComponent(topic)}/replay`, { method: "POST", body: { ...selection, dryRun: true } });
      const rows = r.predictions.map((p) => h("tr", { dataset: { orderId: p.orderId, outcome: p.outcome, goesTo: p.goesTo } },
        h("td", { class: "mono" }, `${p.partition} / ${p.offset}`), h("td", {}, orderLink(p.orderId)), h("td", {}, p.orderStatus ? status(p.orderStatus) : "unknown"),
        h("td", {}, p.goesTo || "—"), h("td", {}, p.orderCanChange ? "yes" : "no"), h("td", { class: `prediction ${p.outcome}` }, p.says)));
      const confirm = h("button", { id: "replay-confirm", class: "danger", type: "button", disabled: r.count === 0, onclick: async () => {
        confirm.disabled = true;
        try {
          const done = await api(`/api/dlq/${encodeURIComponent(topic)}/replay`, { method: "POST", body: selection });
          plan.append(h("p", { id: "replay-result", role: "status" }, `Replay ${done.replayId}: ${done.replayed.length} record(s) re-published, ${done.alreadyReplayed.length} already replayed, ${done.failed.length} failed.`));
          loadAudit();
        } catch (e) { plan.append(h("p", { class: "error", role: "alert" }, `Replay refused: ${e.message}`)); }
      } }, `Replay ${r.count} record(s)`);
      plan.replaceChildren(h("h2", {}, `Dry run: what a replay would do (${r.count} to publish, ${r.alreadyReplayed.length} already replayed)`),
        table(["record", "order", "order now", "goes to", "order can change", "prediction"], rows, { id: "predictions" }),
        h("div", { class: "actions" }, confirm, h("button", { type: "button", onclick: () => plan.replaceChildren() }, "Cancel")));
    } catch (e) { plan.replaceChildren(fail(e)); }
  };
  const loadAudit = async () => {
    try {
      const a = await api(`/api/dlq/replays?topic=${encodeURIComponent(topic)}`);
      audit.replaceChildren(table(["replay", "time", "who", "dry run", "selection", "records", "already replayed", "failed"],
        a.map((x) => h("tr", { dataset: { replayId: x.id, dryRun: String(x.dryRun) } }, h("td", {}, String(x.id)), h("td", {}, time(x.time)), h("td", {}, x.who),
          h("td", {}, x.dryRun ? "yes" : "no"), h("td", {}, x.selection), h("td", { class: "mono" }, (x.offsets || []).map((p) => `${p.partition}/${p.offset}`).join(", ")),
          h("td", {}, String(x.alreadyReplayed)), h("td", {}, String(x.failed)))), { id: "audit-table" }));
    } catch (e) { audit.replaceChildren(fail(e)); }
  };
  const picked = () => [...records.querySelectorAll("input.pick:checked")].map((c) => ({ partition: Number(c.dataset.partition), offset: Number(c.dataset.offset) }));
  reason.addEventListener("input", render);
  order.addEventListener("input", render);
  body.replaceChildren(h("h2", {}, topic),
    h("div", { class: "filters" }, h("label", {}, "Reason", reason), h("label", {}, "Order id", order)),
    records,
    h("div", { class: "actions" },
      h("button", { id: "dry-run-selected", class: "primary", type: "button", onclick: () => { const p = picked(); if (p.length) dryRun({ offsets: p }); else plan.replaceChildren(h("p", { class: "error" }, "Select records first.")); } }, "Dry run: selected"),
      h("button", { id: "dry-run-shown", type: "button", onclick: () => dryRun({ offsets: visible().map((r) => ({ partition: r.partition, offset: r.offset })) }) }, "Dry run: shown"),
      h("button", { id: "dry-run-all", type: "button", onclick: () => dryRun({ all: true }) }, "Dry run: all")),
    plan, h("h2", {}, "Replay audit"), audit);
  try { data = await api(`/api/dlq/${encodeURIComponent(topic)}/messages?limit=500`); render(); } catch (e) { records.replaceChildren(fail(e)); }
  loadAudit();
}

// ---- alerts ----

function alertTable(alerts) {
  return table(["time", "DLQ topic", "reason", "order", "count", "window", "record", "error"], alerts.map((a) => h("tr", { dataset: { orderId: a.orderId } },
    h("td", {}, time(a.time)), h("td", {}, a.topic), h("td", {}, a.reason), h("td", {}, orderLink(a.orderId)), h("td", {}, String(a.count)),
    h("td", {}, time(a.windowStart)), h("td", {}, h("a", { href: `#/dlq/${encodeURIComponent(a.topic)}?order=${encodeURIComponent(a.orderId || "")}` }, `${a.partition} / ${a.offset}`)),
    h("td", { class: "muted" }, a.errorMessage || ""))));
}

async function alertsPage() {
  setPage("Alerts", h("p", {}, "Loading…"));
  try {
    const alerts = await api("/api/alerts?limit=500");
    setPage("Alerts", h("p", { class: "muted" }, "DLQ alerts raised by alerting-service (grouped per topic and reason per window; Prometheus' own alerts go through Alertmanager)."), alertTable(alerts));
  } catch (e) { setPage("Alerts", fail(e)); }
}

// ---- routing ----

function route() {
  stopTimer();
  if (!session.signedIn) { showSignIn(); return; }
  const [path, query = ""] = (location.hash.slice(1) || "/overview").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  document.querySelectorAll("#nav a").forEach((a) => a.toggleAttribute("aria-current", a.getAttribute("href") === `#/${parts[0]}`));
  document.querySelectorAll("#nav a[aria-current]").forEach((a) => a.setAttribute("aria-current", "page"));
  const done = (p) => p.then(() => main.focus({ preventScroll: true }));
  if (parts[0] === "orders" && parts[1]) return done(orderPage(parts[1]));
  if (parts[0] === "orders") return done(orders(query));
  if (parts[0] === "dlq") return done(dlqPage(parts[1], query));
  if (parts[0] === "alerts") return done(alertsPage());
  return done(overview(query));
}

window.addEventListener("hashchange", route);
(async () => {
  try { session = await api("/api/session"); } catch (e) { session = { signedIn: false }; }
  if (session.signedIn) signedIn(); else showSignIn();
})();
