// silos serve: the teacher's page of a class where students play the agencies. Plain
// JavaScript and SVG, embedded in the binary. The class runs in the server; this page opens
// it, shows the join code, runs the rounds and draws what the server sends. Student names
// are shown with textContent only (never parsed as HTML).
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const COLOUR = { ra: "#0072b2", bp: "#d55e00", town: "#888" };

let id = null;        // the class id
let token = null;     // the teacher's token (kept in this tab's sessionStorage)
let state = null;     // the last state from the server
let poller = null;

function status(msg) { $("status").textContent = msg || ""; }

async function api(method, url, body) {
  const headers = {};
  if (body) headers["content-type"] = "application/json";
  if (token) headers["x-silos-token"] = token;
  const r = await fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const j = await r.json().catch(() => ({ error: `HTTP ${r.status}` }));
  if (!r.ok) throw new Error(j.error || `HTTP ${r.status}`);
  return j;
}

function el(tag, attrs, parent) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function cell(row, text, head) {
  const c = document.createElement(head ? "th" : "td");
  c.textContent = text;
  row.append(c);
  return c;
}

function table(t, head, rows) {
  t.replaceChildren();
  const h = t.insertRow();
  for (const x of head) cell(h, x, true);
  for (const r of rows) {
    const tr = t.insertRow();
    for (const x of r) {
      if (x instanceof Node) { const c = tr.insertCell(); c.append(x); } else cell(tr, x);
    }
  }
}

const pct = (x) => (x == null ? "–" : `${Math.round(100 * x)}%`);
const k = (x) => (x == null ? "–" : `£${x.toFixed(1)}k`);

// ---- setting up ------------------------------------------------------------------------

let lessons = [];

function drawLessonOptions() {
  const l = lessons.find((x) => x.name === $("lesson").value);
  if (!l) return;
  const seats = $("seats");
  seats.replaceChildren(seats.firstElementChild);
  for (const a of l.agencies) {
    const lab = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = true;
    box.value = a.name;
    box.dataset.seat = a.name;
    lab.append(box, ` ${a.label}`);
    seats.append(lab);
  }
  const lc = $("lever-controls");
  lc.replaceChildren();
  for (const c of l.controls) {
    const lab = document.createElement("label");
    lab.textContent = `${c.label}: `;
    let input;
    if (c.kind === "slider") {
      input = document.createElement("input");
      input.type = "number";
      input.min = c.min; input.max = c.max; input.step = c.step; input.value = c.off;
    } else {
      input = document.createElement("select");
      for (const o of c.options) {
        const opt = document.createElement("option");
        opt.value = o; opt.textContent = o;
        input.append(opt);
      }
    }
    input.dataset.path = c.path;
    input.dataset.kind = c.kind;
    lab.append(input);
    lc.append(lab);
  }
}

async function showSetup() {
  $("room").hidden = true;
  $("setup").hidden = false;
  lessons = await api("GET", "/api/lessons");
  const sel = $("lesson");
  sel.replaceChildren();
  for (const l of lessons) {
    const o = document.createElement("option");
    o.value = l.name;
    o.textContent = l.title;
    sel.append(o);
  }
  const want = new URLSearchParams(location.search).get("lesson");
  if (want) sel.value = want;
  sel.onchange = drawLessonOptions;
  drawLessonOptions();
}

async function openClass(ev) {
  ev.preventDefault();
  const body = { lesson: $("lesson").value, bot: $("bot").value, round_seconds: Number($("secs").value) };
  if ($("seed").value !== "") body.seed = Number($("seed").value);
  const boxes = [...$("seats").querySelectorAll("input[type=checkbox]")];
  if (boxes.some((b) => !b.checked)) body.seats = boxes.filter((b) => b.checked).map((b) => b.value);
  if ($("sanctions").checked) body.sanctions = true;
  const set = {};
  for (const i of $("lever-controls").querySelectorAll("[data-path]")) {
    set[i.dataset.path] = i.dataset.kind === "slider" ? Number(i.value) : i.value;
  }
  if (Object.keys(set).length) body.set = set;
  try {
    token = null;
    const st = await api("POST", "/api/classes", body);
    id = st.id;
    token = st.teacher_token;
    sessionStorage.setItem(`silos-class-${id}`, token);
    location.hash = `#/class/${id}`;
  } catch (e) {
    status(e.message);
  }
}

// ---- the room --------------------------------------------------------------------------

async function showRoom(classId) {
  id = classId;
  token = sessionStorage.getItem(`silos-class-${id}`);
  $("setup").hidden = true;
  $("room").hidden = false;
  await refresh();
  clearInterval(poller);
  poller = setInterval(refresh, 1000);
}

async function refresh() {
  try {
    state = await api("GET", `/api/classes/${id}`);
    status(state.error || "");
    draw();
  } catch (e) {
    status(e.message);
  }
}

async function control(action) {
  try {
    state = await api("POST", `/api/classes/${id}/${action}`, {});
    draw();
  } catch (e) {
    status(e.message);
  }
}

async function kick(town, agency) {
  try {
    state = await api("POST", `/api/classes/${id}/kick`, { town, agency });
    draw();
  } catch (e) {
    status(e.message);
  }
}

function clockText(s) {
  const f = s.frame;
  const secs = s.left_ms == null ? null : Math.ceil(s.left_ms / 1000);
  switch (s.phase) {
    case "lobby": return `Waiting for students: ${f.seated} joined. ${f.rounds} rounds of ${f.months_per_round} months.`;
    case "open": return `Round ${f.round + 1} of ${f.rounds}: ${secs} s left. ${f.ready} of ${f.seated} students have decided.`;
    case "paused": return `Round ${f.round + 1} of ${f.rounds}: paused with ${secs} s left. ${f.ready} of ${f.seated} have decided.`;
    default: return `The class has ended after ${f.round} round${f.round === 1 ? "" : "s"}.`;
  }
}

function draw() {
  const s = state;
  const f = s.frame;
  $("title").textContent = `${f.title} (bots: ${f.bot === "ra" ? "rational administration" : "bureaucratic politics"}, seed ${f.seed})`;
  $("clock").textContent = clockText(s);
  $("clock").dataset.phase = s.phase;
  $("clock").dataset.round = f.round;
  $("join").hidden = s.phase === "ended";
  $("join-url").textContent = s.join_url.replace(/\?code=.*/, "");
  $("code").textContent = s.code;
  if ($("qr").dataset.url !== s.join_url) {
    $("qr").innerHTML = s.qr_svg; // made by the server from the join address
    $("qr").dataset.url = s.join_url;
  }
  $("ready").textContent = `${f.seated} student${f.seated === 1 ? "" : "s"} in ${f.towns.length} town${f.towns.length === 1 ? "" : "s"}`;
  $("start").hidden = s.phase !== "lobby";
  $("pause").hidden = !(s.phase === "open" || s.phase === "paused");
  $("pause").textContent = s.phase === "paused" ? "Resume" : "Pause";
  $("next").hidden = !(s.phase === "open" || s.phase === "paused");
  $("end").hidden = s.phase === "ended";
  // Seats: one row per town, one column per agency.
  const rows = f.towns.map((t) => [
    `Town ${t.town}`,
    ...t.players.map((p) => {
      const span = document.createElement("span");
      if (!p.player) { span.textContent = "bot"; span.className = "hint"; return span; }
      span.textContent = p.player + (p.submitted ? " ✓" : "");
      if (p.submitted) span.className = "yes";
      if (s.phase !== "ended") {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "kick";
        b.textContent = "to bot";
        b.title = `Give ${p.agency} back to the bot`;
        b.onclick = () => kick(t.town, p.agency);
        span.append(" ", b);
      }
      return span;
    }),
  ]);
  table($("seats-table"), ["", ...f.seats.map((x) => x.label)], rows);
  chart($("chart-need"), f, (r) => (r.need_met == null ? null : 100 * r.need_met), 100);
  chart($("chart-dumped"), f, (r) => r.dumped, null);
  if (s.debrief) debrief(s);
  $("debrief").hidden = !s.debrief;
}

function chart(svg, f, value, top) {
  svg.replaceChildren();
  const W = 440, H = 220, L = 40, R = 10, T = 10, B = 30;
  const series = [
    ...f.towns.map((t) => ({ rounds: t.rounds, colour: COLOUR.town, width: 1.5, name: `town ${t.town}` })),
    { rounds: f.ra, colour: COLOUR.ra, width: 3, name: "all ra" },
    { rounds: f.bp, colour: COLOUR.bp, width: 3, name: "all bp" },
  ];
  let max = top || 1;
  for (const s of series) for (const r of s.rounds) { const v = value(r); if (v != null && v > max) max = v; }
  const n = Math.max(f.rounds, 1);
  const x = (i) => L + ((W - L - R) * (i + 0.5)) / n;
  const y = (v) => T + (H - T - B) * (1 - v / max);
  el("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#999" }, svg);
  for (let i = 0; i < n; i++) {
    const t = el("text", { x: x(i), y: H - 10, "text-anchor": "middle", "font-size": 12, fill: "#555" }, svg);
    t.textContent = `R${i + 1}`;
  }
  for (const v of [0, max / 2, max]) {
    const t = el("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", "font-size": 12, fill: "#555" }, svg);
    t.textContent = Math.round(v);
  }
  for (const s of series) {
    const pts = s.rounds.map((r, i) => [i, value(r)]).filter((p) => p[1] != null);
    if (!pts.length) continue;
    el("polyline", {
      points: pts.map(([i, v]) => `${x(i)},${y(v)}`).join(" "),
      fill: "none", stroke: s.colour, "stroke-width": s.width,
    }, svg).dataset.series = s.name;
    for (const [i, v] of pts) el("circle", { cx: x(i), cy: y(v), r: s.width + 1, fill: s.colour }, svg);
  }
}

function debrief(s) {
  const d = s.debrief;
  table($("debrief-seats"),
    ["Town", "Agency", "Played by", "Rounds decided", "Paid into the fund", "Fair share", "Verdict", "Months hosting", "Passed on", "Dumped", "Dumped on it"],
    d.seats.map((x) => [
      `${x.town}`, x.label, x.players.length ? x.players.join(", ") : "bot", `${x.rounds_decided}`,
      k(x.pool_paid), k(x.fair_share), x.verdict, `${x.host_months}`, `${x.referrals_out}`,
      `${x.dumped_out}`, `${x.dumped_in}`,
    ]));
  $("debrief-seats").dataset.rows = JSON.stringify(d.seats);
  table($("debrief-dumping"), ["Town", "From", "To", "Referrals", "Dumped"],
    d.dumping.map((x) => [`${x.town}`, x.from_label, x.to_label, `${x.referrals}`, `${x.dumped}`]));
  table($("debrief-clients"), ["", "People arriving", "Fully served", "Fell through", "Need met", "Dumped referrals"],
    d.clients.map((x) => [x.who, `${x.arrivals}`, `${x.served}`, `${x.fell_through}`, pct(x.need_met), `${x.dumped}`]));
  $("out-dir").textContent = s.out_dir;
}

async function download(file) {
  try {
    const r = await fetch(`/api/classes/${id}/log/${file}`, { headers: { "x-silos-token": token } });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const url = URL.createObjectURL(await r.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = file;
    a.click();
    URL.revokeObjectURL(url);
  } catch (e) {
    status(e.message);
  }
}

function route() {
  const m = location.hash.match(/^#\/class\/(\d+)/);
  if (m) showRoom(Number(m[1])); else { clearInterval(poller); showSetup(); }
}

$("new").addEventListener("submit", openClass);
$("start").onclick = () => control("start");
$("pause").onclick = () => control(state && state.phase === "paused" ? "resume" : "pause");
$("next").onclick = () => control("next");
$("end").onclick = () => { if (confirm("End the class now and show the debrief?")) control("end"); };
$("dl-decisions").onclick = (e) => { e.preventDefault(); download("decisions.csv"); };
$("dl-rounds").onclick = (e) => { e.preventDefault(); download("rounds.csv"); };
window.addEventListener("hashchange", route);
route();
