// silos serve: a student's page. Join with the class's code, then each round see what your
// agency sees and send your decisions. Plain JavaScript, embedded in the binary; everything
// shown from the server goes through textContent.
"use strict";

const $ = (id) => document.getElementById(id);

let token = sessionStorage.getItem("silos-seat");
let view = null;        // the last seat state
let formRound = -1;     // the round the form was drawn for
let poller = null;

function status(msg) { $("status").textContent = msg || ""; }

async function api(method, url, body) {
  const headers = {};
  if (body) headers["content-type"] = "application/json";
  if (token) headers["x-silos-token"] = token;
  const r = await fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const j = await r.json().catch(() => ({ error: `HTTP ${r.status}` }));
  if (!r.ok) { const e = new Error(j.error || `HTTP ${r.status}`); e.code = r.status; throw e; }
  return j;
}

const k = (x) => (x == null ? "–" : `£${x.toFixed(1)}k`);
const pct = (x) => (x == null ? "–" : `${Math.round(100 * x)}%`);

function p(parent, text, cls) {
  const e = document.createElement("p");
  e.textContent = text;
  if (cls) e.className = cls;
  parent.append(e);
  return e;
}

function option(sel, value, text) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = text;
  sel.append(o);
  return o;
}

// ---- joining ---------------------------------------------------------------------------

function showSignin() {
  $("play").hidden = true;
  $("signin").hidden = false;
  const code = new URLSearchParams(location.search).get("code");
  if (code) $("code").value = code;
}

async function join(ev) {
  ev.preventDefault();
  try {
    token = null;
    const j = await api("POST", "/api/join", { code: $("code").value, name: $("name").value });
    token = j.token;
    sessionStorage.setItem("silos-seat", token);
    start();
  } catch (e) {
    status(e.message);
  }
}

// ---- playing ---------------------------------------------------------------------------

function start() {
  $("signin").hidden = true;
  $("play").hidden = false;
  refresh();
  clearInterval(poller);
  poller = setInterval(refresh, 1500);
}

async function refresh() {
  try {
    view = await api("GET", "/api/seat");
    status("");
    draw();
  } catch (e) {
    if (e.code === 401) {
      clearInterval(poller);
      sessionStorage.removeItem("silos-seat");
      token = null;
      status(e.message);
      showSignin();
    } else {
      status(e.message);
    }
  }
}

function draw() {
  const s = view;
  const v = s.view;
  $("who").textContent = `${v.player || ""}: ${v.label}, town ${v.town}`;
  const secs = s.left_ms == null ? null : Math.ceil(s.left_ms / 1000);
  const ph = $("phase");
  ph.dataset.phase = s.phase;
  ph.dataset.round = v.round;
  if (s.phase === "lobby") ph.textContent = "Waiting for the teacher to start round 1.";
  else if (s.phase === "open") ph.textContent = `Round ${v.round + 1} of ${v.rounds} (months ${v.month + 1} to ${Math.min(v.month + 3, v.months)}): ${secs} s left`;
  else if (s.phase === "paused") ph.textContent = `Round ${v.round + 1} of ${v.rounds}: paused`;
  else ph.textContent = "The lesson has ended.";
  drawAgency(v);
  drawLast(v);
  drawPartners(v);
  const open = s.phase === "open" || s.phase === "paused";
  $("decide").hidden = !open;
  if (open && formRound !== v.round) {
    // Start from last round's choices: a student changes what they want to change.
    const keep = {};
    for (const e of $("decide").querySelectorAll("select, input")) {
      keep[e.id] = e.multiple ? [...e.selectedOptions].map((x) => x.value) : e.value;
    }
    drawForm(v);
    for (const e of $("decide").querySelectorAll("select, input")) {
      if (!(e.id in keep)) continue;
      if (e.multiple) for (const o of e.options) o.selected = keep[e.id].includes(o.value);
      else e.value = keep[e.id];
    }
    formRound = v.round;
  }
  $("sent").textContent = v.submitted ? "Sent. You can change them until the round ends." : "";
  $("end").hidden = s.phase !== "ended";
  if (s.phase === "ended" && s.debrief) drawEnd(s.debrief);
}

function drawAgency(v) {
  const a = $("agency");
  a.replaceChildren();
  const h = document.createElement("h3");
  h.textContent = v.label;
  a.append(h);
  p(a, `Money: ${k(v.money)}. Income ${k(v.income)} a month; fixed costs ${k(v.fixed_costs)} a month. Staff: ${v.staff} staff-days a month.`);
  const t = v.targets.filter(([, w]) => w > 0).map(([g, w]) => `${g} (${Math.round(100 * w)}%)`);
  p(a, `Your targets: ${t.length ? t.join(", ") : "none"}.`);
  if (v.duties.length) p(a, `You have a statutory duty to: ${v.duties.join(", ")} (you cannot refuse them).`);
}

function drawLast(v) {
  const box = $("last");
  box.replaceChildren();
  const h = document.createElement("h3");
  h.textContent = "Last round";
  box.append(h);
  const r = v.last;
  if (!r) { p(box, "Nothing yet: this is the first round."); return; }
  for (let g = 0; g < v.groups.length; g++) {
    const d = r.door[g];
    p(box, `${v.groups[g].label}: ${d.at_door} at your door; you kept ${d.kept}, passed on ${d.passed}, refused ${d.declined}${d.by_bot ? ` (${d.by_bot} decided by the bot)` : ""}.`);
  }
  p(box, `You passed on ${r.referrals_out} (${r.dumped_out} counted as dumping); partners passed ${r.referrals_in} to you (${r.dumped_in} dumped on you). You led ${r.cases_led} cases.`);
  if (r.fair_share > 0 || r.pool_paid > 0) p(box, `You paid ${k(r.pool_paid)} into the joint fund; your fair share was ${k(r.fair_share)}.`);
  p(box, `Shared arrangements: you hosted for ${r.host_months} month(s) and were a member for ${r.member_months} month(s), each arrangement counted separately. In your town ${pct(v.need_met_last_round)} of the need was met.`);
}

function drawPartners(v) {
  const t = $("partners");
  t.replaceChildren();
  const head = t.insertRow();
  for (const x of ["Partner", "Played by", "Sent you", "Dumped on you", "You sent", "Paid in / fair share", "Hosts"]) {
    const c = document.createElement("th");
    c.textContent = x;
    head.append(c);
  }
  for (const q of v.partners) {
    const r = t.insertRow();
    const vals = [
      q.label + (q.you_resent ? " (you resent)" : ""), q.player || "bot", `${q.referred_to_you}`, `${q.dumped_on_you}`,
      `${q.you_referred}`, q.paid_into_pools == null ? "–" : `${k(q.paid_into_pools)} / ${k(q.fair_share)}`,
      q.hosts.join(", ") || "–",
    ];
    for (const x of vals) r.insertCell().textContent = x;
  }
}

function yesNo(id, label, yes, no) {
  const l = document.createElement("label");
  l.textContent = label + " ";
  const s = document.createElement("select");
  s.id = id;
  option(s, "", "let the bot decide");
  option(s, "yes", yes);
  option(s, "no", no);
  l.append(s);
  return l;
}

function drawForm(v) {
  $("bot-kind").textContent = v.bot === "ra" ? "rational administrator (the town's good)" : "bureaucratic politician (your own budget, targets and turf)";
  const tri = $("triage");
  tri.replaceChildren(tri.firstElementChild);
  for (const g of v.groups) {
    const l = document.createElement("label");
    l.textContent = `${g.label}: `;
    const s = document.createElement("select");
    s.id = `triage-${g.name}`;
    s.dataset.group = g.name;
    option(s, "", "let the bot decide");
    option(s, "keep", "keep them (lead their case)");
    option(s, "decline", "refuse them");
    for (const q of v.partners) if (q.takes_cases) option(s, `pass:${q.name}`, `pass them to ${q.label}`);
    l.append(s);
    tri.append(l);
  }
  const ms = $("mechs");
  ms.replaceChildren(ms.firstElementChild);
  for (const m of v.mechanisms) {
    const box = document.createElement("div");
    const h = document.createElement("p");
    h.textContent = `${m.label}: ${m.host ? `hosted by ${m.you_host ? "you" : m.host}` : "nobody hosts it"}; you are ${m.member ? "a member" : "not a member"}. Hosting costs ${k(m.host_money)} and ${m.host_staff} staff-days a month; members give ${m.member_staff} staff-days.`;
    box.append(h);
    box.append(yesNo(`host-${m.name}`, "Host it:", "host it", "don't host"));
    box.append(yesNo(`join-${m.name}`, "Take part:", "join / stay in", "stay out / leave"));
    if (m.pooled_fund) {
      const l = document.createElement("label");
      l.textContent = `Pay into it each month (£k; fair share ${k(m.fair_share)}; blank: the bot decides) `;
      const i = document.createElement("input");
      i.type = "number";
      i.min = "0";
      i.step = "0.5";
      i.id = `contribute-${m.name}`;
      l.append(i);
      box.append(l);
    }
    if (m.kind === "forum") {
      const l = document.createElement("label");
      l.textContent = "Push the agenda toward: ";
      const s = document.createElement("select");
      s.id = `agenda-${m.name}`;
      option(s, "", "let the bot decide");
      for (const g of v.groups) option(s, g.name, g.label);
      l.append(s);
      box.append(l);
    }
    if (v.sanctions) {
      const l = document.createElement("label");
      l.textContent = "Sanction (only partners you resent can be fined): ";
      const s = document.createElement("select");
      s.id = `sanction-${m.name}`;
      s.multiple = true;
      for (const q of v.partners) if (m.members.includes(q.name)) option(s, q.name, q.label);
      l.append(s);
      box.append(l);
    }
    ms.append(box);
  }
}

function orders() {
  const v = view.view;
  const o = { triage: {}, host: {}, join: {}, contribute: {}, sanction: {}, agenda: {} };
  for (const g of v.groups) {
    const x = $(`triage-${g.name}`).value;
    if (x.startsWith("pass:")) o.triage[g.name] = { pass: x.slice(5) };
    else if (x) o.triage[g.name] = x;
  }
  for (const m of v.mechanisms) {
    const h = $(`host-${m.name}`).value;
    if (h) o.host[m.name] = h === "yes";
    const j = $(`join-${m.name}`).value;
    if (j) o.join[m.name] = j === "yes";
    const c = $(`contribute-${m.name}`);
    if (c && c.value !== "") o.contribute[m.name] = Number(c.value);
    const a = $(`agenda-${m.name}`);
    if (a && a.value) o.agenda[m.name] = a.value;
    const s = $(`sanction-${m.name}`);
    if (s) {
      const picked = [...s.selectedOptions].map((x) => x.value);
      if (picked.length) o.sanction[m.name] = picked;
    }
  }
  const help = $("help").value;
  if (help) o.help = help === "yes";
  return o;
}

async function send(ev) {
  ev.preventDefault();
  try {
    view = await api("POST", "/api/seat/orders", orders());
    draw();
  } catch (e) {
    status(e.message);
  }
}

function drawEnd(d) {
  const box = $("mine");
  box.replaceChildren();
  p(box, `Over ${d.rounds_decided} round(s) you decided, you paid ${k(d.pool_paid)} into the joint fund against a fair share of ${k(d.fair_share)}: ${d.verdict}.`);
  p(box, `You hosted for ${d.host_months} month(s), passed on ${d.referrals_out} cases (${d.dumped_out} counted as dumping), and had ${d.dumped_in} dumped on you.`);
}

$("join-form").addEventListener("submit", join);
$("decide").addEventListener("submit", send);
if (token) start(); else showSignin();
