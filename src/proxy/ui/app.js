// The rustllm proxy dashboard: plain JavaScript, no framework, nothing fetched from
// anywhere but this proxy.
//
// Safety rules this file keeps:
// - Every value that comes from the proxy (key aliases, team names, model names, error
//   messages) reaches the page as text (textContent, text nodes, attribute values),
//   never as HTML: there is no innerHTML here. A team called `<script>` shows as that.
// - The master key lives in this tab's sessionStorage and goes only to this origin, in
//   `Authorization: Bearer`. No cookies: nothing a third-party page could ride on.
// - API answers are fetched with `cache: "no-store"` so the browser keeps no copy.
"use strict";

(function () {
  const KEY_STORE = "rustllm.dashboard.key";
  const VIEWS = ["activity", "spend", "health", "keys", "new-key"];
  const REFRESH_MS = 10000;

  const $ = (id) => document.getElementById(id);
  let key = sessionStorage.getItem(KEY_STORE) || "";
  let masterHash = "";
  let noAuth = false;
  let hasDb = true;
  let current = "";
  let keysPage = 1;
  let health = null; // the last /health answer, with when it came
  let modelsLoaded = false;
  let directoryCache = null; // /key/list by hash, for names, with when it was read

  // ---- DOM helpers: text only ------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    for (const c of children) add(node, c);
    return node;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    setAttrs(node, attrs);
    for (const c of children) add(node, c);
    return node;
  }

  function setAttrs(node, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.setAttribute("class", v);
      else if (k === "text") node.textContent = String(v);
      else node.setAttribute(k, String(v)); // names are this file's constants, never data
    }
  }

  function add(node, child) {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child)) child.forEach((c) => add(node, c));
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function setText(id, value) {
    $(id).textContent = value;
  }

  // ---- Formatting ----------------------------------------------------------------

  function usd(x) {
    const v = Number(x) || 0;
    if (Math.abs(v) >= 1000) return "$" + v.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    if (Math.abs(v) >= 1) return "$" + v.toFixed(2);
    return "$" + v.toFixed(4);
  }

  function int(n) {
    return (Number(n) || 0).toLocaleString("en-US");
  }

  function percent(part, whole) {
    if (!whole) return "–";
    return ((100 * part) / whole).toFixed(1) + "%";
  }

  function when(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    if (isNaN(d)) return String(iso);
    return d.toLocaleString(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  }

  // To the second, with the date only when it is not today.
  function stamp(iso) {
    const d = new Date(iso);
    if (isNaN(d)) return String(iso || "");
    const time = d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
    if (d.toDateString() === new Date().toDateString()) return time;
    return d.toLocaleDateString(undefined, { month: "short", day: "numeric" }) + " " + time;
  }

  function utcDate(daysAgo) {
    const d = new Date(Date.now() - daysAgo * 86400000);
    return d.toISOString().slice(0, 10);
  }

  function shortHash(h) {
    return h ? String(h).slice(0, 10) + "…" : "(none)";
  }

  // ---- The API ------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, options) {
    const opts = options || {};
    const headers = {};
    if (key) headers.Authorization = "Bearer " + key;
    let body;
    if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.json);
    }
    let res;
    try {
      res = await fetch(path, { method: opts.method || "GET", headers, body, cache: "no-store", credentials: "omit" });
    } catch (e) {
      throw new ApiError(0, "The proxy did not answer (" + e.message + ").");
    }
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (_) {
      data = text;
    }
    if (!res.ok) {
      const message = (data && data.error && data.error.message) || (typeof data === "string" && data) || res.statusText;
      if (res.status === 401 && !opts.signingIn) {
        signOut("The proxy refused the key (it may have changed): sign in again.");
      }
      throw new ApiError(res.status, String(message));
    }
    return data;
  }

  // ---- Signing in and out -------------------------------------------------------

  async function hashOf(text) {
    if (!window.crypto || !crypto.subtle || !text) return "";
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function showLogin(message) {
    $("app").hidden = true;
    $("login").hidden = false;
    const err = $("login-error");
    err.hidden = !message;
    err.textContent = message || "";
    $("login-key").value = "";
    $("login-key").focus();
  }

  function signOut(message) {
    key = "";
    masterHash = "";
    directoryCache = null;
    sessionStorage.removeItem(KEY_STORE);
    clearNewKey();
    history.replaceState(null, "", location.pathname);
    showLogin(message || "");
  }

  function loginMessage(e) {
    if (e.status === 401) return "That key was refused: it is not this proxy's master key.";
    if (e.status === 403) return "That is a virtual key. The dashboard needs the proxy's master key.";
    return "Could not sign in: " + e.message;
  }

  async function enter(activity) {
    hasDb = activity.database !== false;
    masterHash = await hashOf(key);
    const notes = [];
    if (noAuth) {
      notes.push("No master key is set: anyone who can reach this proxy may use it and this dashboard (set general_settings.master_key).");
    }
    if (!hasDb) {
      notes.push("This proxy runs without a database (general_settings.database: none): there are no keys, spend or request history to show. Deployment health still works.");
    }
    const banner = $("banner");
    banner.hidden = notes.length === 0;
    banner.textContent = notes.join(" ");
    for (const section of document.querySelectorAll(".needs-db")) {
      section.hidden = !hasDb;
      const note = section.previousElementSibling;
      if (!hasDb && !(note && note.classList.contains("no-db"))) {
        section.before(el("div", { class: "card no-db muted", text: "Needs a database: this proxy runs with general_settings.database: none." }));
      }
    }
    $("login").hidden = true;
    $("app").hidden = false;
    current = "";
    route();
  }

  async function onLogin(event) {
    event.preventDefault();
    const candidate = $("login-key").value.trim();
    if (!candidate) {
      showLogin("Enter the master key.");
      return;
    }
    const button = $("login-submit");
    button.disabled = true;
    key = candidate;
    try {
      const activity = await api("/ui/api/activity?minutes=" + $("activity-window").value, { signingIn: true });
      sessionStorage.setItem(KEY_STORE, key);
      await enter(activity);
    } catch (e) {
      key = "";
      showLogin(loginMessage(e));
    } finally {
      button.disabled = false;
    }
  }

  async function start() {
    if (key) {
      try {
        await enter(await api("/ui/api/activity?minutes=60", { signingIn: true }));
        return;
      } catch (e) {
        signOut(e.status === 401 || e.status === 403 ? loginMessage(e) : "");
        return;
      }
    }
    // A proxy without a master key lets every caller in (as LiteLLM): then so does this.
    try {
      const activity = await api("/ui/api/activity?minutes=60", { signingIn: true });
      noAuth = true;
      await enter(activity);
    } catch (_) {
      showLogin("");
    }
  }

  // ---- Views --------------------------------------------------------------------

  function route() {
    let view = location.hash.replace(/^#/, "");
    if (!VIEWS.includes(view)) view = "activity";
    if (view !== "new-key") clearNewKey();
    for (const v of VIEWS) $("view-" + v).hidden = v !== view;
    for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.view === view);
    current = view;
    load(view);
  }

  const LOADERS = {
    activity: loadActivity,
    spend: loadSpend,
    health: loadDeployments,
    keys: loadKeys,
    "new-key": loadNewKeyForm,
  };

  async function load(view) {
    if (!key && !noAuth) return;
    const needsDb = view !== "health";
    if (needsDb && !hasDb) return;
    try {
      await LOADERS[view]();
    } catch (e) {
      if (e.status !== 401) showViewError(view, e.message);
    }
  }

  function showViewError(view, message) {
    const section = $("view-" + view);
    let box = section.querySelector(".view-error");
    if (!box) {
      box = el("p", { class: "error view-error", role: "alert" });
      section.querySelector(".view-head").after(box);
    }
    box.textContent = message;
  }

  function clearViewError(view) {
    const box = $("view-" + view).querySelector(".view-error");
    if (box) box.remove();
  }

  // ---- Activity -----------------------------------------------------------------

  function bucketName(seconds) {
    const names = { 60: "minute", 300: "5 minutes", 900: "15 minutes", 1800: "30 minutes", 3600: "hour", 7200: "2 hours", 10800: "3 hours", 21600: "6 hours", 43200: "12 hours", 86400: "day" };
    return names[seconds] || seconds + " seconds";
  }

  async function loadActivity() {
    const [data, directory] = await Promise.all([
      api("/ui/api/activity?minutes=" + encodeURIComponent($("activity-window").value)),
      cachedKeyDirectory(),
    ]);
    clearViewError("activity");
    if (data.database === false) return;
    const t = data.totals;
    setText("stat-requests", int(t.requests));
    setText("stat-errors", int(t.errors));
    setText("stat-error-rate", percent(t.errors, t.requests));
    setText("stat-spend", usd(t.spend));
    setText("activity-bucket", bucketName(data.bucket_seconds));
    drawActivity(data);
    drawRecent(data.recent || [], directory);
  }

  function keyLabel(hash, directory) {
    const known = directory[hash];
    if (known) return known.key_alias || known.key_name || shortHash(hash);
    if (masterHash && hash === masterHash) return "Master key";
    return hash ? shortHash(hash) : "—";
  }

  function drawRecent(rows, directory) {
    const tbody = $("recent-table").querySelector("tbody");
    clear(tbody);
    for (const r of rows) {
      const failed = r.status === "failure";
      tbody.append(
        el("tr", { "data-request": r.request_id },
          el("td", { title: r.request_id, text: stamp(r.start) }),
          el("td", { text: r.model || "—" }),
          el("td", { class: "wrap key", text: keyLabel(r.api_key, directory) }),
          el("td", { class: "wrap", text: r.team_id || "—" }),
          el("td", {}, el("span", { class: failed ? "pill bad" : "pill ok", text: failed ? "failed" : "ok" })),
          el("td", { class: "num", text: int(r.total_tokens) }),
          el("td", { class: "num", text: usd(r.spend) }),
          el("td", { class: "num", text: r.duration_ms == null ? "—" : int(r.duration_ms) + " ms" })),
      );
    }
    if (!rows.length) tbody.append(el("tr", { class: "empty-row" }, el("td", { colspan: 8, text: "No requests in this window" })));
  }

  function niceStep(max) {
    const raw = max / 4;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 5, 10]) if (m * mag >= raw) return Math.max(1, m * mag);
    return Math.max(1, 10 * mag);
  }

  function drawActivity(data) {
    const box = $("activity-chart");
    box.activity = data;
    clear(box);
    const W = Math.max(box.clientWidth || 900, 320);
    const H = 260;
    const m = { left: 44, right: 10, top: 12, bottom: 26 };
    const pw = W - m.left - m.right;
    const ph = H - m.top - m.bottom;
    const buckets = data.buckets;
    const peak = Math.max(0, ...buckets.map((b) => b.requests));
    const step = niceStep(Math.max(peak, 4));
    const top = Math.ceil(Math.max(peak, 1) / step) * step;
    const y = (v) => m.top + ph - (v / top) * ph;
    const chart = svg("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "Requests and failed requests over time" });
    for (let v = 0; v <= top; v += step) {
      chart.append(svg("line", { class: "axis", x1: m.left, x2: W - m.right, y1: y(v), y2: y(v) }));
      chart.append(svg("text", { class: "tick", x: m.left - 8, y: y(v) + 4, "text-anchor": "end", text: int(v) }));
    }
    const slot = pw / buckets.length;
    const bw = Math.max(1, slot * 0.72);
    const daily = data.bucket_seconds >= 86400;
    const label = (iso) => {
      const d = new Date(iso);
      return daily
        ? d.toLocaleDateString(undefined, { month: "short", day: "numeric" })
        : data.bucket_seconds >= 3600
          ? d.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
          : d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    };
    buckets.forEach((b, i) => {
      const x = m.left + i * slot + (slot - bw) / 2;
      const ok = b.requests - b.errors;
      const tip = svg("title", { text: `${label(b.start)}: ${int(b.requests)} requests, ${int(b.errors)} failed, ${usd(b.spend)}` });
      if (ok > 0) chart.append(svg("rect", { class: "ok", x, width: bw, y: y(b.requests), height: y(b.errors) - y(b.requests) }, tip.cloneNode(true)));
      if (b.errors > 0) chart.append(svg("rect", { class: "bad", x, width: bw, y: y(b.errors), height: y(0) - y(b.errors) }, tip));
    });
    const labels = Math.min(6, buckets.length);
    for (let k = 0; k < labels; k++) {
      const i = Math.round((k * (buckets.length - 1)) / Math.max(1, labels - 1));
      const x = m.left + i * slot + slot / 2;
      const anchor = k === 0 ? "start" : k === labels - 1 ? "end" : "middle";
      chart.append(svg("text", { class: "tick", x, y: H - 8, "text-anchor": anchor, text: label(buckets[i].start) }));
    }
    if (peak === 0) {
      chart.append(svg("text", { class: "empty", x: m.left + pw / 2, y: m.top + ph / 2, "text-anchor": "middle", text: "No requests in this window" }));
    }
    box.append(chart);
  }

  // ---- Spend --------------------------------------------------------------------

  async function keyDirectory() {
    // Hash → the key's alias and name, from /key/list (100 a page, at most 2,000 keys).
    const out = {};
    for (let page = 1; page <= 20; page++) {
      const data = await api(`/key/list?return_full_object=true&size=100&page=${page}`);
      for (const k of data.keys || []) out[k.token] = k;
      if (page >= (data.total_pages || 0)) break;
    }
    return out;
  }

  // The activity view refreshes every few seconds: its key names may be a little old.
  async function cachedKeyDirectory() {
    if (!directoryCache || Date.now() - directoryCache.at > 30000) {
      directoryCache = { at: Date.now(), keys: await keyDirectory() };
    }
    return directoryCache.keys;
  }

  function addTo(totals, name, amount) {
    totals.set(name, (totals.get(name) || 0) + (Number(amount) || 0));
  }

  async function loadSpend() {
    const days = Number($("spend-period").value) || 7;
    const range = `start_date=${utcDate(days - 1)}&end_date=${utcDate(0)}`;
    const report = (group) => api(`/global/spend/report?${range}&group_by=${group}`);
    const [teams, keys, models, directory] = await Promise.all([report("team"), report("api_key"), report("model"), keyDirectory()]);
    clearViewError("spend");

    const perTeam = new Map();
    for (const day of teams) for (const t of day.teams || []) addTo(perTeam, t.team_name, t.total_spend);
    const perModel = new Map();
    for (const day of models) for (const mdl of day.models || []) addTo(perModel, mdl.model, mdl.total_spend);
    const perKey = keys.map((k) => {
      const known = directory[k.api_key];
      let name = keyLabel(k.api_key, directory);
      let sub = known && known.key_alias ? known.key_name : "";
      if (!known && name !== "Master key") {
        // Not in /key/list: deleted, or (where the browser cannot hash, off localhost
        // without TLS) perhaps the master key.
        name = k.api_key ? "Key " + shortHash(k.api_key) : "No key (auth off)";
        if (k.api_key) sub = masterHash ? "deleted" : "the master key or a deleted key";
      }
      const tokens = (k.total_input_tokens || 0) + (k.total_output_tokens || 0);
      return { name, sub: [sub, int(tokens) + " tokens"].filter(Boolean).join(" · "), spend: Number(k.total_cost) || 0 };
    });

    const total = [...perModel.values()].reduce((a, b) => a + b, 0);
    setText("spend-total", usd(total));
    setText("spend-team-count", int(perTeam.size));
    setText("spend-key-count", int(perKey.length));
    setText("spend-model-count", int(perModel.size));
    barTable("spend-teams", [...perTeam].map(([name, spend]) => ({ name, spend })));
    barTable("spend-keys", perKey);
    barTable("spend-models", [...perModel].map(([name, spend]) => ({ name, spend })));
  }

  function barTable(id, rows, limit) {
    const tbody = $(id).querySelector("tbody");
    clear(tbody);
    rows.sort((a, b) => b.spend - a.spend || String(a.name).localeCompare(String(b.name)));
    if (rows.length === 0) {
      tbody.append(el("tr", { class: "empty-row" }, el("td", { colspan: 2, text: "No spend in this period" })));
      return;
    }
    const max = Math.max(...rows.map((r) => r.spend), 0);
    const shown = rows.slice(0, limit || 15);
    for (const r of shown) {
      const bar = el("div", { class: "bar" });
      bar.style.width = (max > 0 ? (100 * r.spend) / max : 0).toFixed(1) + "%";
      tbody.append(
        el("tr", {},
          el("td", {}, el("div", { class: "name", text: r.name }), r.sub ? el("div", { class: "sub", text: r.sub }) : null, bar),
          el("td", { class: "num", text: usd(r.spend) })),
      );
    }
    if (rows.length > shown.length) {
      const rest = rows.slice(shown.length).reduce((a, r) => a + r.spend, 0);
      tbody.append(el("tr", {}, el("td", { class: "sub", text: `${rows.length - shown.length} more` }), el("td", { class: "num sub", text: usd(rest) })));
    }
  }

  // ---- Health -------------------------------------------------------------------

  let deployments = [];

  async function loadDeployments() {
    const info = await api("/model/info");
    clearViewError("health");
    deployments = (info.data || []).map((d) => ({
      group: d.model_name,
      model: (d.litellm_params || {}).model || "",
      base: (d.litellm_params || {}).api_base || "",
      id: (d.model_info || {}).id || "",
    }));
    renderHealth();
  }

  async function runHealth() {
    const button = $("health-run");
    button.disabled = true;
    button.textContent = "Checking…";
    try {
      const data = await api("/health");
      health = { at: new Date(), results: {} };
      for (const e of data.healthy_endpoints || []) health.results[e.model_id] = { ok: true };
      for (const e of data.unhealthy_endpoints || []) health.results[e.model_id] = { ok: false, error: e.error || "unhealthy" };
      clearViewError("health");
      if (!deployments.length) await loadDeployments();
      else renderHealth();
    } catch (e) {
      if (e.status !== 401) showViewError("health", e.message);
    } finally {
      button.disabled = false;
      button.textContent = "Run health checks";
    }
  }

  function renderHealth() {
    const tbody = $("health-table").querySelector("tbody");
    clear(tbody);
    let healthy = 0;
    let unhealthy = 0;
    for (const d of deployments) {
      const r = health && health.results[d.id];
      let status;
      if (!health) status = el("span", { class: "pill idle", text: "not checked" });
      else if (!r) status = el("span", { class: "pill idle", text: "no check (wildcard)" });
      else if (r.ok) {
        healthy++;
        status = el("span", { class: "pill ok", text: "healthy" });
      } else {
        unhealthy++;
        status = [el("span", { class: "pill bad", text: "unhealthy" }), el("div", { class: "reason", text: r.error })];
      }
      tbody.append(
        el("tr", { "data-deployment": d.id },
          el("td", { text: d.group }),
          el("td", { class: "mono", text: d.model }),
          el("td", { class: "mono wrap", text: d.base || "(provider default)" }),
          el("td", { class: "mono", title: d.id, text: d.id.length > 16 ? d.id.slice(0, 12) + "…" : d.id }),
          el("td", { class: "wrap" }, status)),
      );
    }
    if (!deployments.length) tbody.append(el("tr", { class: "empty-row" }, el("td", { colspan: 5, text: "No deployments" })));
    setText("health-total", int(deployments.length));
    setText("health-healthy", health ? int(healthy) : "–");
    setText("health-unhealthy", health ? int(unhealthy) : "–");
    setText("health-checked", health ? health.at.toLocaleTimeString(undefined, { hourCycle: "h23" }) : "never");
  }

  // ---- Keys ---------------------------------------------------------------------

  function keyStatus(k) {
    if (k.blocked) return el("span", { class: "pill bad", text: "blocked" });
    if (k.expires && new Date(k.expires) < new Date()) return el("span", { class: "pill bad", text: "expired" });
    return el("span", { class: "pill ok", text: "active" });
  }

  function limits(k) {
    const parts = [];
    if (k.rpm_limit != null) parts.push(int(k.rpm_limit) + " rpm");
    if (k.tpm_limit != null) parts.push(int(k.tpm_limit) + " tpm");
    if (k.max_parallel_requests != null) parts.push(int(k.max_parallel_requests) + " parallel");
    return parts.join(" · ") || "—";
  }

  async function loadKeys() {
    const data = await api(`/key/list?return_full_object=true&size=25&page=${keysPage}`);
    clearViewError("keys");
    const pages = Math.max(1, data.total_pages || 1);
    if (keysPage > pages) {
      keysPage = pages;
      return loadKeys();
    }
    setText("keys-count", `${int(data.total_count || 0)} keys`);
    setText("keys-page", `page ${keysPage} of ${pages}`);
    $("keys-prev").disabled = keysPage <= 1;
    $("keys-next").disabled = keysPage >= pages;
    const tbody = $("keys-table").querySelector("tbody");
    clear(tbody);
    for (const k of data.keys || []) {
      const models = Array.isArray(k.models) && k.models.length ? k.models.join(", ") : "all";
      tbody.append(
        el("tr", { "data-token": k.token },
          el("td", { class: "wrap alias", text: k.key_alias || "—" }),
          el("td", { class: "mono", text: k.key_name || shortHash(k.token) }),
          el("td", { class: "wrap", text: k.team_id || "—" }),
          el("td", { class: "wrap", text: k.user_id || "—" }),
          el("td", { class: "wrap", text: models }),
          el("td", { class: "num", text: usd(k.spend) }),
          el("td", { class: "num", text: k.max_budget != null ? usd(k.max_budget) : "—" }),
          el("td", { text: limits(k) }),
          el("td", { text: k.expires ? when(k.expires) : "never" }),
          el("td", {}, keyStatus(k))),
      );
    }
    if (!(data.keys || []).length) tbody.append(el("tr", { class: "empty-row" }, el("td", { colspan: 10, text: "No keys yet: create one under New key." })));
  }

  // ---- New key ------------------------------------------------------------------

  async function loadNewKeyForm() {
    if (!modelsLoaded) {
      const info = await api("/model/info");
      const groups = [...new Set((info.data || []).map((d) => d.model_name))].filter((g) => !g.includes("*")).sort();
      const box = $("new-key-models");
      clear(box);
      for (const g of groups) box.append(el("label", {}, el("input", { type: "checkbox", name: "models", value: g }), g));
      modelsLoaded = true;
    }
    const teams = new Set();
    const directory = await keyDirectory();
    for (const k of Object.values(directory)) if (k.team_id) teams.add(k.team_id);
    const list = $("team-ids");
    clear(list);
    for (const t of [...teams].sort()) list.append(el("option", { value: t }));
  }

  function clearNewKey() {
    const value = $("new-key-value");
    if (value) value.value = "";
    if ($("new-key-result")) $("new-key-result").hidden = true;
  }

  function newKeyBody(form) {
    const body = {};
    const text = (name) => form.elements[name].value.trim();
    for (const name of ["key_alias", "team_id", "user_id", "duration", "budget_duration"]) {
      if (text(name)) body[name] = text(name);
    }
    for (const name of ["max_budget", "rpm_limit", "tpm_limit"]) {
      if (!text(name)) continue;
      const n = Number(text(name));
      if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number of 0 or more`);
      body[name] = n;
    }
    const models = [...form.querySelectorAll('input[name="models"]:checked')].map((c) => c.value);
    if (models.length) body.models = models;
    return body;
  }

  async function onNewKey(event) {
    event.preventDefault();
    const form = $("new-key-form");
    const err = $("new-key-error");
    err.hidden = true;
    let body;
    try {
      body = newKeyBody(form);
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
      return;
    }
    const button = $("new-key-submit");
    button.disabled = true;
    try {
      const created = await api("/key/generate", { method: "POST", json: body });
      directoryCache = null;
      $("new-key-value").value = created.key;
      const summary = [
        created.key_alias ? "Alias " + created.key_alias : "",
        created.team_id ? "team " + created.team_id : "",
        Array.isArray(created.models) && created.models.length ? "models " + created.models.join(", ") : "every model",
        created.expires ? "expires " + when(created.expires) : "never expires",
      ].filter(Boolean);
      setText("new-key-summary", summary.join(" · "));
      $("new-key-copy").textContent = "Copy";
      $("new-key-result").hidden = false;
      form.reset();
      $("new-key-value").select();
    } catch (e) {
      if (e.status !== 401) {
        err.textContent = e.message;
        err.hidden = false;
      }
    } finally {
      button.disabled = false;
    }
  }

  async function copyNewKey() {
    const input = $("new-key-value");
    try {
      await navigator.clipboard.writeText(input.value);
    } catch (_) {
      input.select();
      document.execCommand("copy");
    }
    $("new-key-copy").textContent = "Copied";
  }

  // ---- Wiring -------------------------------------------------------------------

  function wire() {
    $("login-form").addEventListener("submit", onLogin);
    $("logout").addEventListener("click", () => signOut(""));
    window.addEventListener("hashchange", route);
    $("activity-window").addEventListener("change", () => load("activity"));
    $("activity-refresh").addEventListener("click", () => load("activity"));
    $("spend-period").addEventListener("change", () => load("spend"));
    $("spend-refresh").addEventListener("click", () => load("spend"));
    $("health-run").addEventListener("click", runHealth);
    $("keys-prev").addEventListener("click", () => {
      keysPage = Math.max(1, keysPage - 1);
      load("keys");
    });
    $("keys-next").addEventListener("click", () => {
      keysPage += 1;
      load("keys");
    });
    $("new-key-form").addEventListener("submit", onNewKey);
    $("new-key-copy").addEventListener("click", copyNewKey);
    $("new-key-done").addEventListener("click", clearNewKey);
    let resize = 0;
    window.addEventListener("resize", () => {
      clearTimeout(resize);
      resize = setTimeout(() => {
        const box = $("activity-chart");
        if (box.activity && current === "activity") drawActivity(box.activity);
      }, 150);
    });
    // The activity view follows new traffic while it is on screen.
    setInterval(() => {
      if (current === "activity" && !$("app").hidden && document.visibilityState === "visible") load("activity");
    }, REFRESH_MS);
  }

  wire();
  start();
})();
