// silos serve: the live lesson page. Plain JavaScript and SVG, embedded in the binary; no
// library, no network but this server. The simulation runs in the server; this page only
// asks it to step and draws what it sends.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
const ARMS = ["ra", "bp"];
const COLOUR = { ra: "#0072b2", bp: "#d55e00" };

let lessons = [];
let sess = null;      // the session state from the server
let timer = null;     // the Play timer
let busy = false;     // a request in flight

function status(msg) { $("status").textContent = msg || ""; }

async function api(method, url, body) {
  const r = await fetch(url, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
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

// ---- home ------------------------------------------------------------------------------

async function showHome() {
  stop();
  $("lesson").hidden = true;
  $("home").hidden = false;
  if (!lessons.length) lessons = await api("GET", "/api/lessons");
  const ul = $("lessons");
  ul.replaceChildren();
  for (const l of lessons) {
    const li = document.createElement("li");
    const h = document.createElement("h2");
    h.textContent = l.title;
    const p = document.createElement("p");
    p.textContent = l.summary;
    const b = document.createElement("button");
    b.textContent = "Open this lesson";
    b.dataset.lesson = l.name;
    b.onclick = () => { location.hash = `#/lesson/${l.name}`; };
    li.append(h, p, b);
    ul.append(li);
  }
}

// ---- a lesson --------------------------------------------------------------------------

async function openLesson(name, seed) {
  stop();
  $("home").hidden = true;
  $("lesson").hidden = false;
  status("");
  const body = { lesson: name };
  if (seed !== undefined) body.seed = seed;
  sess = await api("POST", "/api/sessions", body);
  if (!lessons.length) lessons = await api("GET", "/api/lessons");
  const l = lessons.find((x) => x.name === name);
  $("title").textContent = l ? l.title : name;
  buildControls();
  drawAll();
}

function buildControls() {
  const box = $("controls");
  box.replaceChildren();
  const current = {};
  for (const o of sess.levers) {
    const i = o.indexOf("=");
    current[o.slice(0, i)] = o.slice(i + 1);
  }
  for (const c of sess.controls) {
    const row = document.createElement("div");
    row.className = "lever";
    const lab = document.createElement("label");
    lab.textContent = c.label + " ";
    let input;
    if (c.kind === "slider") {
      input = document.createElement("input");
      Object.assign(input, { type: "range", min: c.min, max: c.max, step: c.step });
      input.value = current[c.path] !== undefined ? current[c.path] : c.off;
      const out = document.createElement("output");
      out.textContent = input.value;
      input.oninput = () => { out.textContent = input.value; };
      lab.append(input, out);
    } else {
      input = document.createElement("select");
      for (const o of c.options) {
        const opt = document.createElement("option");
        opt.value = o;
        opt.textContent = o === "scenario" ? "as the town has it" : o.replace(/_/g, " ");
        input.append(opt);
      }
      input.value = current[c.path] || c.options[0];
      lab.append(input);
    }
    input.dataset.path = c.path;
    input.onchange = applyLevers;
    row.append(lab);
    box.append(row);
  }
}

async function applyLevers() {
  if (busy) return;
  const set = {};
  for (const i of $("controls").querySelectorAll("[data-path]")) {
    set[i.dataset.path] = i.type === "range" ? Number(i.value) : i.value;
  }
  busy = true;
  try {
    sess = await api("POST", `/api/sessions/${sess.id}/levers`, { set });
    status(sess.levers.length ? `lever pulled from month ${sess.levers_from}` : "levers off");
    drawAll();
  } catch (e) { status(e.message); buildControls(); }
  busy = false;
}

async function step(months) {
  if (busy || !sess) return;
  if (sess.tick >= sess.ticks) { stop(); return; }
  busy = true;
  try {
    const r = await api("POST", `/api/sessions/${sess.id}/step`, { months });
    sess.frames.push(...r.frames);
    sess.narration.push(...r.narration);
    sess.tick = r.tick;
    drawAll();
    if (sess.tick >= sess.ticks) stop();
  } catch (e) { status(e.message); stop(); }
  busy = false;
}

async function restart() {
  stop();
  const v = $("seed").value.trim();
  const seed = v === "" ? undefined : Number(v);
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0)) {
    status("the seed is a whole number, 0 or more");
    return;
  }
  busy = true;
  try {
    sess = await api("POST", `/api/sessions/${sess.id}/restart`, seed === undefined ? {} : { seed });
    buildControls();
    drawAll();
    status("");
  } catch (e) { status(e.message); }
  busy = false;
}

function play() {
  if (timer) { stop(); return; }
  $("play").textContent = "❚❚ Pause";
  const tick = () => step(1);
  tick();
  timer = setInterval(tick, Number($("speed").value));
}

function stop() {
  if (timer) clearInterval(timer);
  timer = null;
  $("play").textContent = "▶ Play";
}

// ---- drawing ---------------------------------------------------------------------------

function armFrame(frame, name) { return frame && frame.arms.find((a) => a.arm === name); }

function drawAll() {
  const last = sess.frames[sess.frames.length - 1];
  $("clock").textContent = `Month ${sess.tick} of ${sess.ticks} · seed ${sess.seed}`;
  $("clock").dataset.tick = sess.tick;
  if (document.activeElement !== $("seed")) $("seed").value = sess.seed;
  $("command").textContent = sess.command;
  for (const a of ARMS) drawTown($(`town-${a}`), last, a);
  drawChart($("chart-need"), (f) => (f.need_met === null ? null : 100 * f.need_met), "%");
  drawChart($("chart-dumped"), (f) => f.dumped, "");
  drawNumbers();
  const pre = $("narration");
  pre.textContent = sess.intro + sess.narration.join("");
  pre.scrollTop = pre.scrollHeight;
}

function drawTown(svg, frame, arm) {
  svg.replaceChildren();
  const n = sess.frames.length ? sess.frames[0].agencies.length : 0;
  const f = armFrame(frame, arm);
  if (!f) {
    el("text", { x: 220, y: 160, "text-anchor": "middle", fill: "#666" }, svg).textContent =
      "Press Play or step a month";
    return;
  }
  const names = frame.agencies;
  const cx = 220, cy = 165, R = 108;
  const pos = names.map((_, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / n;
    return [cx + R * Math.cos(a), cy + R * Math.sin(a)];
  });
  const maxMoney = Math.max(1, ...frame.arms.flatMap((x) => x.money.map(Math.abs)));
  const rad = f.money.map((m) => 9 + 21 * Math.sqrt(Math.max(0, m) / maxMoney));
  const defs = el("defs", {}, svg);
  for (const [id, c] of [["grey", "#888"], ["red", "#c0392b"]]) {
    const m = el("marker", { id: `arrow-${arm}-${id}`, viewBox: "0 0 10 10", refX: 9, refY: 5,
      markerWidth: 5, markerHeight: 5, orient: "auto-start-reverse" }, defs);
    el("path", { d: "M0,0 L10,5 L0,10 z", fill: c }, m);
  }
  for (const [s, r, count, dumped] of f.flows) {
    const [x1, y1] = pos[s], [x2, y2] = pos[r];
    const dx = x2 - x1, dy = y2 - y1, d = Math.hypot(dx, dy) || 1;
    // A slight bend so that flows both ways between two agencies stay apart.
    const mx = (x1 + x2) / 2 - (dy / d) * 14, my = (y1 + y2) / 2 + (dx / d) * 14;
    const sx = x1 + (dx / d) * rad[s], sy = y1 + (dy / d) * rad[s];
    const ex = x2 - (dx / d) * (rad[r] + 3), ey = y2 - (dy / d) * (rad[r] + 3);
    const red = dumped > 0;
    const p = el("path", {
      d: `M${sx},${sy} Q${mx},${my} ${ex},${ey}`, fill: "none",
      stroke: red ? "#c0392b" : "#888", "stroke-width": Math.min(8, 1.5 + Math.sqrt(count)),
      "marker-end": `url(#arrow-${arm}-${red ? "red" : "grey"})`, opacity: 0.8,
    }, svg);
    el("title", {}, p).textContent =
      `${names[s]} → ${names[r]}: ${count} referral(s), ${dumped} counted as dumping`;
  }
  const hosted = new Map();
  f.hosts.forEach((h, m) => { if (h !== null) hosted.set(h, (hosted.get(h) || []).concat(frame.mechanisms[m])); });
  names.forEach((name, i) => {
    const [x, y] = pos[i];
    const g = el("g", { "data-agency": i }, svg);
    if (hosted.has(i)) {
      el("circle", { cx: x, cy: y, r: rad[i] + 5, fill: "none", stroke: "#333", "stroke-width": 2, "stroke-dasharray": "4 3" }, g);
    }
    el("circle", { cx: x, cy: y, r: rad[i], fill: COLOUR[arm], opacity: 0.85 }, g);
    const below = y > cy;
    const t = el("text", { x, y: below ? y + rad[i] + 16 : y - rad[i] - 7, "text-anchor": "middle", "font-size": 13 }, g);
    t.textContent = name;
    el("title", {}, g).textContent =
      `${name}: £${f.money[i].toFixed(1)}k held` + (hosted.has(i) ? `; hosts ${hosted.get(i).join(", ")}` : "");
  });
  el("text", { x: 8, y: 336, "font-size": 13, fill: "#333" }, svg).textContent =
    `month ${frame.tick}: ${f.referrals} referrals, ${f.dumped} dumping, ` +
    `${f.need_met === null ? "–" : Math.round(100 * f.need_met) + "%"} of need met`;
}

function drawChart(svg, value, unit) {
  svg.replaceChildren();
  const W = 440, H = 220, x0 = 44, x1 = W - 12, y0 = H - 28, y1 = 12;
  const T = sess.ticks;
  const series = [];
  for (const a of ARMS) {
    for (const base of [true, false]) {
      const name = base ? `baseline-${a}` : a;
      const pts = sess.frames.map((fr) => {
        const f = armFrame(fr, name);
        return f ? [fr.tick, value(f)] : null;
      }).filter((p) => p && p[1] !== null && Number.isFinite(p[1]));
      if (pts.length) series.push({ a, base, pts });
    }
  }
  const hi = Math.max(1, ...series.flatMap((s) => s.pts.map((p) => p[1])));
  const step = niceStep(hi);
  const top = Math.ceil(hi / step) * step;
  const X = (t) => x0 + ((x1 - x0) * (t - 0.5)) / Math.max(1, T);
  const Y = (v) => y0 - ((y0 - y1) * v) / top;
  for (let v = 0; v <= top + 1e-9; v += step) {
    el("line", { x1: x0, x2: x1, y1: Y(v), y2: Y(v), stroke: "#e3e3e3" }, svg);
    el("text", { x: x0 - 6, y: Y(v) + 4, "text-anchor": "end", "font-size": 12, fill: "#555" }, svg).textContent =
      `${+v.toFixed(2)}${unit}`;
  }
  const every = Math.max(1, Math.ceil(T / 10));
  for (let t = 1; t <= T; t++) {
    if ((T - t) % every) continue;
    el("text", { x: X(t), y: H - 10, "text-anchor": "middle", "font-size": 12, fill: "#555" }, svg).textContent = t;
  }
  for (const s of series) {
    el("polyline", {
      points: s.pts.map(([t, v]) => `${X(t)},${Y(v)}`).join(" "), fill: "none",
      stroke: COLOUR[s.a], "stroke-width": s.base ? 2 : 3, opacity: s.base ? 0.35 : 1,
      "stroke-dasharray": s.base ? "5 4" : "",
      "data-series": s.base ? `baseline-${s.a}` : s.a,
    }, svg);
  }
}

function niceStep(hi) {
  const raw = hi / 4, p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function drawNumbers() {
  const t = $("numbers");
  t.replaceChildren();
  const sum = (arm, key) => sess.frames.reduce((s, fr) => s + ((armFrame(fr, arm) || {})[key] || 0), 0);
  const rows = [
    ["Referrals so far", "referrals"],
    ["of which dumping", "dumped"],
    ["Cases that fell through", "fell_through"],
    ["Arrivals", "arrivals"],
  ];
  const head = t.insertRow();
  for (const h of ["", "Rational administration", "Bureaucratic politics"]) {
    const th = document.createElement("th");
    th.textContent = h;
    head.append(th);
  }
  for (const [label, key] of rows) {
    const r = t.insertRow();
    r.insertCell().textContent = label;
    for (const a of ARMS) {
      const c = r.insertCell();
      c.textContent = sum(a, key);
      c.dataset.arm = a;
      c.dataset.key = key;
    }
  }
}

// ---- wiring ----------------------------------------------------------------------------

$("play").onclick = play;
$("month").onclick = () => { stop(); step(1); };
$("quarter").onclick = () => { stop(); step(3); };
$("restart").onclick = restart;
$("speed").onchange = () => { if (timer) { stop(); play(); } };

function route() {
  // #/lesson/NAME opens a lesson; #/lesson/NAME/M opens it run to month M.
  const m = location.hash.match(/^#\/lesson\/([a-z-]+)(?:\/(\d+))?$/);
  const go = m
    ? openLesson(m[1]).then(() => (m[2] ? step(Math.min(Number(m[2]), 120)) : null))
    : showHome();
  go.catch((e) => status(e.message));
}
window.addEventListener("hashchange", route);
route();
