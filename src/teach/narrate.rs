//! What a lesson says: an introduction, a block per quarter (a table of key numbers for the
//! two runs side by side, then a few sentences per run), and a closing summary with the
//! lesson's punchline and, when a lever was pulled, the comparison with the baseline.
//!
//! Every number comes from a [`Span`] (sums over ticks of what the CSV files hold); the
//! sentences only choose which numbers to state and in what words, by comparing them.

use std::io::{BufRead, Write};
use std::path::Path;

use super::record::{Arm, Span};
use super::{Kind, Lesson, PERIOD_TICKS, Pause, TeachError};
use crate::model::World;
use crate::scenario::{AgendaRule, Level, MechanismKind};

/// Width of the narration in characters (fits an 80-column terminal).
const WIDTH: usize = 78;
const LABEL_W: usize = 32;
const CELL_W: usize = 22;

// ---------------------------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------------------------

/// A share as a whole percentage ("71%"); "–" when undefined.
pub fn pct(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let r = (x * 100.0).round();
    format!("{}%", if r == 0.0 { 0.0 } else { r })
}

/// Money in thousands of pounds, one decimal ("£21.0k").
pub fn money(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let v = if x.abs() < 0.05 { 0.0 } else { x };
    format!("£{v:.1}k")
}

/// An index with two decimals ("0.37"); "–" when undefined.
pub fn index(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let v = if x.abs() < 0.005 { 0.0 } else { x };
    format!("{v:.2}")
}

/// Percentage points between two shares ("47 points").
fn points(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let r = (x * 100.0).round();
    format!("{} points", if r == 0.0 { 0.0 } else { r })
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn staff_days(x: f64) -> String {
    if x == 1.0 {
        "1 staff-day".into()
    } else {
        format!("{x} staff-days")
    }
}

fn months(n: u32) -> String {
    plural(n as u64, "month", "months")
}

/// "a, b and c".
fn and_list(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        k => format!("{} and {}", items[..k - 1].join(", "), items[k - 1]),
    }
}

/// Greedy word wrap to `WIDTH`, with `first` before the first line and `indent` before the
/// others.
fn wrap(text: &str, first: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split_whitespace() {
        let extra = if empty { 0 } else { 1 };
        if !empty && line.chars().count() + extra + word.chars().count() > WIDTH {
            out.push_str(line.trim_end());
            out.push('\n');
            line = indent.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

fn fit(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(w - 1).collect();
        t.push('…');
        t
    }
}

// ---------------------------------------------------------------------------------------------
// The arena, as the narration names it
// ---------------------------------------------------------------------------------------------

pub(crate) struct AgencyInfo {
    pub label: String,
    pub level: Level,
    /// Groups it has a statutory duty toward.
    pub duties: Vec<usize>,
    /// Its target weights over groups.
    pub targets: Vec<f64>,
}

impl AgencyInfo {
    /// The group it targets most, if any.
    pub fn top_target(&self) -> Option<usize> {
        argmax(&self.targets).filter(|&g| self.targets[g] > 0.0)
    }
}

pub(crate) struct GroupInfo {
    pub label: String,
    pub arrivals: f64,
    pub need_share: f64,
}

pub(crate) struct MechInfo {
    /// "Case conference".
    pub label: String,
    pub kind: MechanismKind,
    pub host_money: f64,
    pub host_staff: f64,
    pub rule: Option<AgendaRule>,
}

/// The lesson and its arena.
pub(crate) struct Context {
    pub lesson: &'static Lesson,
    pub path: String,
    pub seed: u64,
    pub ticks: u32,
    pub agencies: Vec<AgencyInfo>,
    pub groups: Vec<GroupInfo>,
    pub mechs: Vec<MechInfo>,
}

fn pretty(name: &str) -> String {
    let s = name.replace(['_', '-'], " ");
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => s,
    }
}

fn argmax(v: &[f64]) -> Option<usize> {
    v.iter()
        .enumerate()
        .filter(|(_, x)| x.is_finite())
        .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
        .map(|(i, _)| i)
}

impl Context {
    pub fn new(lesson: &'static Lesson, w: &World, path: &str, seed: u64, ticks: u32) -> Context {
        Context {
            lesson,
            path: path.to_string(),
            seed,
            ticks,
            agencies: w
                .agencies
                .iter()
                .map(|a| AgencyInfo {
                    label: a.label.clone(),
                    level: a.level,
                    duties: (0..w.n_groups()).filter(|&g| a.duties[g]).collect(),
                    targets: a.own_targets.clone(),
                })
                .collect(),
            groups: w
                .groups
                .iter()
                .map(|g| GroupInfo {
                    label: g.label.clone(),
                    arrivals: g.arrivals,
                    need_share: g.need_share,
                })
                .collect(),
            mechs: w
                .mechanisms
                .iter()
                .enumerate()
                .map(|(m, mech)| MechInfo {
                    label: pretty(&mech.name),
                    kind: mech.kind,
                    host_money: mech.host_money,
                    host_staff: mech.host_staff,
                    rule: (mech.kind == MechanismKind::Forum).then(|| w.agenda_rule(m)),
                })
                .collect(),
        }
    }

    fn kind(&self) -> Kind {
        self.lesson.kind
    }

    fn ag(&self, i: usize) -> &str {
        &self.agencies[i].label
    }

    fn grp(&self, g: usize) -> &str {
        &self.groups[g].label
    }

    /// "the case conference" for sentences.
    fn mech_lower(&self, m: usize) -> String {
        let l = &self.mechs[m].label;
        let mut c = l.chars();
        let low = match c.next() {
            Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
            None => String::new(),
        };
        format!("the {low}")
    }

    fn forums(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.mechs.len()).filter(|&m| self.mechs[m].kind == MechanismKind::Forum)
    }

    /// Mechanisms that are hosted arrangements (forums and protocols).
    fn hosted(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.mechs.len()).filter(|&m| self.mechs[m].kind != MechanismKind::PooledFund)
    }

    fn funds(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.mechs.len()).filter(|&m| self.mechs[m].kind == MechanismKind::PooledFund)
    }

    /// "Joint fund" with one pooled fund, "Pooled funds" with several, `None` without.
    fn fund_label(&self) -> Option<String> {
        let f: Vec<usize> = self.funds().collect();
        match f.len() {
            0 => None,
            1 => Some(self.mechs[f[0]].label.clone()),
            _ => Some("Pooled funds".into()),
        }
    }

    /// "the joint fund" or "the pooled funds", for sentences.
    fn fund_phrase(&self) -> String {
        let f: Vec<usize> = self.funds().collect();
        match f.len() {
            1 => self.mech_lower(f[0]),
            _ => "the pooled funds".into(),
        }
    }
}

fn level_word(l: Level) -> &'static str {
    match l {
        Level::Central => "central department",
        Level::LocalStatutory => "statutory",
        Level::Voluntary => "voluntary",
        Level::Accommodation => "accommodation",
    }
}

fn kind_word(k: MechanismKind) -> &'static str {
    match k {
        MechanismKind::Forum => "a multi-agency forum",
        MechanismKind::Protocol => "an information-sharing protocol",
        MechanismKind::PooledFund => "a pooled fund",
    }
}

fn rule_word(r: AgendaRule) -> &'static str {
    match r {
        AgendaRule::PowerWeighted => "bids weighted by power",
        AgendaRule::EqualVotes => "one member, one vote",
        AgendaRule::NeedWeighted => "the agenda follows need",
        AgendaRule::RotatingChair => "a rotating chair sets it",
    }
}

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

/// One cell of a table: a number with its display text, or a name.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Num { v: f64, text: String },
    Text(String),
}

impl Cell {
    pub fn text(&self) -> &str {
        match self {
            Cell::Num { text, .. } => text,
            Cell::Text(t) => t,
        }
    }

    fn pct(v: f64) -> Cell {
        Cell::Num { v, text: pct(v) }
    }

    fn money(v: f64) -> Cell {
        Cell::Num { v, text: money(v) }
    }

    fn count(n: u64) -> Cell {
        Cell::Num {
            v: n as f64,
            text: n.to_string(),
        }
    }

    fn index(v: f64) -> Cell {
        Cell::Num { v, text: index(v) }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub label: String,
    pub cells: [Cell; 2],
}

fn row(label: impl Into<String>, f: impl Fn(&Span) -> Cell, s: [&Span; 2]) -> Row {
    Row {
        label: label.into(),
        cells: [f(s[0]), f(s[1])],
    }
}

fn render_rows(rows: &[Row], head: [&str; 2]) -> String {
    let mut out = format!(
        "{:<LABEL_W$}{:>CELL_W$}  {:>CELL_W$}\n",
        "",
        fit(head[0], CELL_W),
        fit(head[1], CELL_W)
    );
    for r in rows {
        out.push_str(&format!(
            "{:<LABEL_W$}{:>CELL_W$}  {:>CELL_W$}\n",
            fit(&r.label, LABEL_W - 1),
            fit(r.cells[0].text(), CELL_W),
            fit(r.cells[1].text(), CELL_W)
        ));
    }
    out
}

/// The agency with the largest `f`, with its value (first in file order on a tie).
fn top_agency(s: &Span, f: impl Fn(usize) -> f64) -> Option<(usize, f64)> {
    let v: Vec<f64> = (0..s.n_agencies()).map(f).collect();
    argmax(&v).map(|i| (i, v[i]))
}

/// The member of mechanism `m` gaining most relative to what it paid: the largest share of
/// the need `m` added minus share of its cost (`mechanisms.csv`), if positive.
fn top_free_rider(s: &Span, m: usize) -> Option<(usize, f64, f64)> {
    let ms = &s.mechanisms[m];
    let (i, gap) = top_agency(s, |i| {
        let (c, b) = ms.shares(i);
        b - c
    })?;
    let (c, b) = ms.shares(i);
    (gap > 0.0).then_some((i, c, b))
}

/// Money paid into pooled funds and spent by them on members' cases (`agencies.csv`:
/// `spend_pool`, `pool_paid_for`).
fn pool_money(s: &Span) -> (f64, f64) {
    (
        s.agencies.iter().map(|a| a.spend_pool).sum(),
        s.agencies.iter().map(|a| a.pool_paid_for).sum(),
    )
}

/// The member that drew most pooled money beyond what it paid in, if any did.
fn top_pool_drawer(s: &Span) -> Option<(usize, f64, f64)> {
    let (i, gap) = top_agency(s, |i| {
        s.agencies[i].pool_paid_for - s.agencies[i].spend_pool
    })?;
    (gap > 0.0).then(|| (i, s.agencies[i].spend_pool, s.agencies[i].pool_paid_for))
}

/// The main host, with "+k" when others hosted too and "(a/b)" when it lapsed for part of
/// the span.
fn host_cell(ctx: &Context, s: &Span, m: usize) -> Cell {
    let ms = &s.mechanisms[m];
    let Some(h) = ms.main_host() else {
        return Cell::Text("nobody".into());
    };
    let mut t = ctx.ag(h).to_string();
    if ms.n_hosts() > 1 {
        t.push_str(&format!(" +{}", ms.n_hosts() - 1));
    }
    if ms.ticks_alive < s.ticks() {
        t.push_str(&format!(" ({}/{})", ms.ticks_alive, s.ticks()));
    }
    Cell::Text(t)
}

fn host_shares(s: &Span, m: usize) -> (f64, f64) {
    match s.mechanisms[m].main_host() {
        Some(h) => s.mechanisms[m].shares(h),
        None => (f64::NAN, f64::NAN),
    }
}

/// The most powerful agency among those that were members of `m` during the span, by power
/// at the span's end.
fn most_powerful_member(s: &Span, m: usize) -> Option<usize> {
    let ms = &s.mechanisms[m];
    (0..s.n_agencies())
        .filter(|&i| ms.member_ticks[i] > 0)
        .max_by(|&a, &b| {
            s.agencies[a]
                .power
                .total_cmp(&s.agencies[b].power)
                .then(b.cmp(&a))
        })
}

fn top_agenda(s: &Span, m: usize) -> Option<(usize, f64)> {
    let mean = s.mechanisms[m].agenda_mean();
    argmax(&mean).map(|g| (g, mean[g]))
}

/// The key numbers of a lesson over a span, both runs side by side.
/// With `lever_rows`, rows for the levers' transfers are added; `compact` leaves reference
/// values (need shares) out of cells, for the baseline-against-lever table.
pub(crate) fn rows(ctx: &Context, s: [&Span; 2], lever_rows: bool, compact: bool) -> Vec<Row> {
    let mut v = Vec::new();
    match ctx.kind() {
        Kind::FreeRiding => {
            v.push(row("Need met", |s| Cell::pct(s.share_met()), s));
            for m in ctx.hosted() {
                let label = &ctx.mechs[m].label;
                v.push(row(format!("{label}: host"), |s| host_cell(ctx, s, m), s));
                v.push(row(
                    "  host's share of the cost",
                    |s| Cell::pct(host_shares(s, m).0),
                    s,
                ));
                v.push(row(
                    "  host's share of the benefit",
                    |s| Cell::pct(host_shares(s, m).1),
                    s,
                ));
                v.push(row(
                    "  gained most for least",
                    |s| match top_free_rider(s, m) {
                        Some((i, _, _)) => Cell::Text(ctx.ag(i).to_string()),
                        None => Cell::Text("nobody".into()),
                    },
                    s,
                ));
                v.push(row(
                    "    its share: cost | benefit",
                    |s| match top_free_rider(s, m) {
                        Some((_, c, b)) => Cell::Text(format!("{} | {}", pct(c), pct(b))),
                        None => Cell::Text("–".into()),
                    },
                    s,
                ));
            }
            if let Some(fund) = ctx.fund_label() {
                for m in ctx.funds() {
                    let label = &ctx.mechs[m].label;
                    v.push(row(format!("{label}: host"), |s| host_cell(ctx, s, m), s));
                }
                v.push(row(
                    format!("{fund}: paid in"),
                    |s| Cell::money(pool_money(s).0),
                    s,
                ));
                v.push(row(
                    "  spent on members' cases",
                    |s| Cell::money(pool_money(s).1),
                    s,
                ));
                v.push(row(
                    "  drew most beyond paying in",
                    |s| match top_pool_drawer(s) {
                        Some((i, _, _)) => Cell::Text(ctx.ag(i).to_string()),
                        None => Cell::Text("nobody".into()),
                    },
                    s,
                ));
            }
            if lever_rows {
                v.push(row(
                    "Hosting costs reimbursed",
                    |s| Cell::money(s.reimbursed),
                    s,
                ));
            }
        }
        Kind::Dumping => {
            v.push(row("People arriving", |s| Cell::count(s.arrivals), s));
            v.push(row(
                "Referrals (cases passed on)",
                |s| Cell::count(s.referrals),
                s,
            ));
            v.push(row(
                "  counted as dumping",
                |s| Cell::Num {
                    v: s.dumped_share(),
                    text: format!("{} ({})", s.dumped, pct(s.dumped_share())),
                },
                s,
            ));
            v.push(row(
                "Fell through the cracks",
                |s| Cell::count(s.fell_through),
                s,
            ));
            v.push(row("Need met", |s| Cell::pct(s.share_met()), s));
            let top_out = |s: &Span| {
                top_agency(s, |i| s.agencies[i].referrals_out as f64).filter(|x| x.1 > 0.0)
            };
            let top_in = |s: &Span| top_agency(s, |i| s.dumped_in(i) as f64).filter(|x| x.1 > 0.0);
            v.push(row(
                "Passed on most",
                |s| match top_out(s) {
                    Some((i, _)) => Cell::Text(ctx.ag(i).to_string()),
                    None => Cell::Text("nobody".into()),
                },
                s,
            ));
            v.push(row(
                "  referrals it sent",
                |s| Cell::count(top_out(s).map_or(0, |x| x.1 as u64)),
                s,
            ));
            v.push(row(
                "Received most dumping",
                |s| match top_in(s) {
                    Some((i, _)) => Cell::Text(ctx.ag(i).to_string()),
                    None => Cell::Text("nobody".into()),
                },
                s,
            ));
            v.push(row(
                "  dumped referrals it received",
                |s| Cell::count(top_in(s).map_or(0, |x| x.1 as u64)),
                s,
            ));
            if lever_rows {
                v.push(row(
                    "Dumping found by inspection",
                    |s| Cell::count(s.dumping_detected),
                    s,
                ));
                v.push(row(
                    "Charges paid for dumping",
                    |s| Cell::money(s.dumping_charges),
                    s,
                ));
            }
        }
        Kind::Capture => {
            for m in ctx.forums() {
                let label = &ctx.mechs[m].label;
                v.push(row(format!("{label}: host"), |s| host_cell(ctx, s, m), s));
                v.push(row(
                    "  top of its agenda",
                    |s| match top_agenda(s, m) {
                        Some((g, _)) => Cell::Text(ctx.grp(g).to_string()),
                        None => Cell::Text("no agenda".into()),
                    },
                    s,
                ));
                for g in 0..ctx.groups.len() {
                    v.push(row(
                        format!("  agenda: {}", ctx.grp(g)),
                        |s| {
                            let a = s.mechanisms[m].agenda_mean()[g];
                            if compact {
                                Cell::pct(a)
                            } else {
                                Cell::Num {
                                    v: a,
                                    text: format!(
                                        "{} (need {})",
                                        pct(a),
                                        pct(ctx.groups[g].need_share)
                                    ),
                                }
                            }
                        },
                        s,
                    ));
                }
                v.push(row(
                    "  most powerful member",
                    |s| match most_powerful_member(s, m) {
                        Some(i) => Cell::Text(ctx.ag(i).to_string()),
                        None => Cell::Text("no members".into()),
                    },
                    s,
                ));
            }
            v.push(row(
                "Agenda capture (0 = need)",
                |s| Cell::index(s.agenda_capture.value()),
                s,
            ));
            for g in 0..ctx.groups.len() {
                v.push(row(
                    format!("Need met: {}", ctx.grp(g)),
                    |s| Cell::pct(s.groups[g].share_met()),
                    s,
                ));
            }
        }
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Sentences
// ---------------------------------------------------------------------------------------------

/// What one run did in one quarter, in a few sentences.
fn period_sentences(ctx: &Context, arm: Arm, s: &Span, prev: Option<&Span>) -> String {
    let mut out = Vec::new();
    match ctx.kind() {
        Kind::FreeRiding => {
            for m in ctx.hosted() {
                let ms = &s.mechanisms[m];
                let name = ctx.mech_lower(m);
                let Some(h) = ms.main_host() else {
                    out.push(format!("Nobody hosted {name}."));
                    continue;
                };
                let (c, b) = ms.shares(h);
                let same_host = prev.and_then(|p| p.mechanisms[m].main_host()) == Some(h)
                    && ms.ticks_alive == s.ticks();
                if same_host {
                    out.push(format!(
                        "{} still hosts {name}: {} of its cost, {} of the extra need it met.",
                        ctx.ag(h),
                        pct(c),
                        pct(b)
                    ));
                } else {
                    let when = if ms.ticks_alive < s.ticks() {
                        format!(" for {} of {}", ms.ticks_alive, months(s.ticks()))
                    } else {
                        String::new()
                    };
                    let benefit = if ms.total_benefit() > 0.0 {
                        format!("and got {} of the extra need it met", pct(b))
                    } else {
                        "and it had helped meet no extra need yet".to_string()
                    };
                    out.push(format!(
                        "{} hosted {name}{when}: it bore {} of its cost ({} of {}) {benefit}.",
                        ctx.ag(h),
                        pct(c),
                        money(ms.cost[h]),
                        money(ms.total_cost()),
                    ));
                }
                if let Some((i, c, b)) = top_free_rider(s, m) {
                    out.push(format!(
                        "{} gained most for least: {} of the extra need met for {} of the cost.",
                        ctx.ag(i),
                        pct(b),
                        pct(c)
                    ));
                }
            }
            if ctx.fund_label().is_some() {
                let fund = ctx.fund_phrase();
                let (paid, spent) = pool_money(s);
                let before = prev
                    .map(|p| format!(" ({} the quarter before)", money(pool_money(p).0)))
                    .unwrap_or_default();
                let mut t = format!(
                    "Members paid {}{before} into {} and it spent {} on their cases",
                    money(paid),
                    fund,
                    money(spent)
                );
                if let Some((i, p, d)) = top_pool_drawer(s) {
                    t.push_str(&format!(
                        "; {} drew {} after paying in {}",
                        ctx.ag(i),
                        money(d),
                        money(p)
                    ));
                }
                out.push(t + ".");
            }
        }
        Kind::Dumping => {
            if s.referrals == 0 {
                out.push("Nobody passed a case on.".into());
            } else {
                let flows: Vec<String> = s
                    .top_flows()
                    .iter()
                    .take(2)
                    .map(|&(a, b, r, d)| format!("{} → {} {r} ({d} dumping)", ctx.ag(a), ctx.ag(b)))
                    .collect();
                out.push(format!("Biggest flows: {}.", and_list(&flows)));
                let g = argmax(
                    &s.groups
                        .iter()
                        .map(|g| g.referrals as f64)
                        .collect::<Vec<_>>(),
                );
                if let Some(g) = g {
                    let gs = &s.groups[g];
                    out.push(format!(
                        "Passed on most: {}, {} for {}.",
                        gs.label.to_lowercase(),
                        plural(gs.referrals, "referral", "referrals"),
                        plural(gs.arrivals, "person", "people")
                    ));
                }
            }
            if s.fell_through > 0 {
                out.push(format!(
                    "{} fell through the cracks ({} lost between agencies, {} refused).",
                    plural(s.fell_through, "person", "people"),
                    s.fell_lost,
                    s.fell_refused
                ));
            }
        }
        Kind::Capture => {
            for m in ctx.forums() {
                let ms = &s.mechanisms[m];
                let name = ctx.mech_lower(m);
                let Some(h) = ms.main_host() else {
                    out.push(format!("Nobody hosted {name}, so it set no agenda."));
                    continue;
                };
                let mean = ms.agenda_mean();
                let gap: Vec<f64> = (0..ctx.groups.len())
                    .map(|g| mean[g] - ctx.groups[g].need_share)
                    .collect();
                let mut first = name.clone();
                if let Some(f) = first.get_mut(0..1) {
                    f.make_ascii_uppercase();
                }
                let share = |g: usize| {
                    format!(
                        "{} of its agenda for {} of the need",
                        pct(mean[g]),
                        pct(ctx.groups[g].need_share)
                    )
                };
                let over = argmax(&gap);
                let under = argmax(&gap.iter().map(|x| -x).collect::<Vec<_>>());
                match (over, under) {
                    (Some(o), Some(u)) if gap[o] >= 0.005 => out.push(format!(
                        "{first}, hosted by {}, gave {} {}, and {} {}.",
                        ctx.ag(h),
                        ctx.grp(o).to_lowercase(),
                        share(o),
                        ctx.grp(u).to_lowercase(),
                        share(u)
                    )),
                    _ => out.push(format!(
                        "{first}, hosted by {}, followed need: each group's share of its \
agenda matched its share of the need.",
                        ctx.ag(h)
                    )),
                }
                if let Some(p) = prev {
                    let (a, b) = (p.agenda_capture.value(), s.agenda_capture.value());
                    if a.is_finite() && b.is_finite() && (b - a).abs() >= 0.02 {
                        out.push(format!(
                            "Agenda capture {} from {} to {}.",
                            if b > a { "rose" } else { "fell" },
                            index(a),
                            index(b)
                        ));
                    }
                }
                if arm == Arm::Bp
                    && let Some(p) = most_powerful_member(s, m)
                    && let Some(t) = ctx.agencies[p].top_target()
                {
                    out.push(format!(
                        "Its most powerful member, {}, targets {}.",
                        ctx.ag(p),
                        ctx.grp(t).to_lowercase()
                    ));
                }
            }
        }
    }
    out.join(" ")
}

/// Power rank of agency `i` among all the agencies at the span's end ("the least powerful",
/// "the 2nd most powerful").
fn power_rank(s: &Span, i: usize) -> String {
    let mut order: Vec<usize> = (0..s.n_agencies()).collect();
    order.sort_by(|&a, &b| {
        s.agencies[b]
            .power
            .total_cmp(&s.agencies[a].power)
            .then(a.cmp(&b))
    });
    let pos = order.iter().position(|&x| x == i).unwrap_or(0);
    let n = order.len();
    if pos + 1 == n {
        format!("the least powerful of the {n} agencies")
    } else if pos == 0 {
        format!("the most powerful of the {n} agencies")
    } else {
        let k = pos + 1;
        let suf = match k {
            2 => "nd",
            3 => "rd",
            _ => "th",
        };
        format!("the {k}{suf} most powerful of the {n} agencies")
    }
}

/// The lesson's punchline: what the numbers show in this run.
pub(crate) fn punchlines(ctx: &Context, s: [&Span; 2], last: Option<[&Span; 2]>) -> Vec<String> {
    let (ra, bp) = (s[0], s[1]);
    let mut v = Vec::new();
    let run = format!("In this run ({}, seed {}):", months(ra.ticks()), ctx.seed);
    match ctx.kind() {
        Kind::FreeRiding => {
            if ctx.mechs.is_empty() {
                v.push(
                    "This arena has no shared arrangement, so nobody hosts or pays for one."
                        .to_string(),
                );
            }
            let mut lead = run.clone();
            for m in ctx.hosted() {
                let parts: Vec<String> = Arm::BOTH
                    .iter()
                    .zip(s)
                    .enumerate()
                    .map(|(k, (arm, sp))| {
                        let ms = &sp.mechanisms[m];
                        let under = format!(
                            "{} {}",
                            if k == 0 && !lead.is_empty() {
                                "under"
                            } else {
                                "Under"
                            },
                            arm.title().to_lowercase()
                        );
                        match ms.main_host() {
                            None => format!("{under} nobody hosted {}.", ctx.mech_lower(m)),
                            Some(h) => {
                                let (c, b) = ms.shares(h);
                                let how_long = if ms.ticks_alive == sp.ticks() {
                                    format!("all {}", months(sp.ticks()))
                                } else {
                                    format!("{} of {}", ms.ticks_alive, months(sp.ticks()))
                                };
                                format!(
                                    "{under} {} hosted {} for {how_long}, bearing {} of its \
cost for {} of the extra need it met.",
                                    ctx.ag(h),
                                    ctx.mech_lower(m),
                                    pct(c),
                                    pct(b)
                                )
                            }
                        }
                    })
                    .collect();
                v.push(format!("{lead} {}", parts.join(" ")).trim().to_string());
                lead = String::new();
                let gap = |sp: &Span| {
                    let (c, b) = host_shares(sp, m);
                    c - b
                };
                let (gr, gb) = (gap(ra), gap(bp));
                if gr.is_finite() && gb.is_finite() {
                    let side = |g: f64| {
                        if g >= 0.0 {
                            format!("above its share of the benefit by {}", points(g))
                        } else {
                            format!("below its share of the benefit by {}", points(-g))
                        }
                    };
                    let cmp = if (gb - gr).abs() < 0.005 {
                        "the host came off the same under both"
                    } else if gb > gr {
                        "the host came off worse under bureaucratic politics"
                    } else {
                        "the host came off better under bureaucratic politics"
                    };
                    let others = |sp: &Span| {
                        let (c, b) = host_shares(sp, m);
                        format!(
                            "{} of the benefit for {} of the cost",
                            pct(1.0 - b),
                            pct(1.0 - c)
                        )
                    };
                    v.push(format!(
                        "So the host's share of the cost was {} under rational administration \
and {} under bureaucratic politics: {cmp}. The other members got {} and {}.",
                        side(gr),
                        side(gb),
                        others(ra),
                        others(bp)
                    ));
                }
                let riders: Vec<String> = [ra, bp]
                    .iter()
                    .zip(Arm::BOTH)
                    .filter_map(|(sp, arm)| {
                        top_free_rider(sp, m).map(|(i, c, b)| {
                            format!(
                                "{} under {} ({} of the extra need met for {} of the cost)",
                                ctx.ag(i),
                                arm.title().to_lowercase(),
                                pct(b),
                                pct(c)
                            )
                        })
                    })
                    .collect();
                if !riders.is_empty() {
                    v.push(format!("Gained most for least: {}.", and_list(&riders)));
                }
            }
            if ctx.fund_label().is_some() {
                let fund = ctx.fund_phrase();
                let (pr, sr) = pool_money(ra);
                let (pb, sb) = pool_money(bp);
                let mut t = format!(
                    "Members paid {} into {} under rational administration and {} under \
bureaucratic politics; it spent {} and {} on their cases.",
                    money(pr),
                    fund,
                    money(pb),
                    money(sr),
                    money(sb)
                );
                if let Some([lr, lb]) = last {
                    t.push_str(&format!(
                        " In the last quarter alone they paid in {} and {}.",
                        money(pool_money(lr).0),
                        money(pool_money(lb).0)
                    ));
                }
                v.push(t);
            }
            v.push(format!(
                "Need met was {} and {}. It differs for several reasons at once (which cases \
agencies keep or pass on, where they put their effort), not only because of who paid for \
coordination.",
                pct(ra.share_met()),
                pct(bp.share_met())
            ));
        }
        Kind::Dumping => {
            let part = |sp: &Span| {
                format!(
                    "{} passed on, {} of them ({}) counted as dumping",
                    plural(sp.referrals, "case", "cases"),
                    sp.dumped,
                    pct(sp.dumped_share())
                )
            };
            v.push(format!(
                "{run} {} under rational administration; {} under bureaucratic politics, for \
the same {} people.",
                part(ra),
                part(bp),
                ra.arrivals
            ));
            if let Some((i, d)) = top_agency(bp, |i| bp.dumped_in(i) as f64)
                && d > 0.0
            {
                let duty = &ctx.agencies[i].duties;
                let duty_txt = if duty.is_empty() {
                    String::new()
                } else {
                    let g: Vec<String> = duty.iter().map(|&g| ctx.grp(g).to_lowercase()).collect();
                    format!(", and has a duty toward {}", and_list(&g))
                };
                v.push(format!(
                    "Under bureaucratic politics {} received the most dumped referrals: {d} of \
the {} referrals it received. It is {}{duty_txt}. Under rational administration it received {}.",
                    ctx.ag(i),
                    bp.agencies[i].referrals_in,
                    power_rank(bp, i),
                    plural(ra.dumped_in(i), "dumped referral", "dumped referrals")
                ));
            }
            if let Some(g) = argmax(
                &bp.groups
                    .iter()
                    .map(|g| g.referrals as f64)
                    .collect::<Vec<_>>(),
            ) && bp.groups[g].referrals > 0
            {
                v.push(format!(
                    "The clients passed on most were {}: {} under bureaucratic politics against \
{} under rational administration, for {}.",
                    ctx.grp(g).to_lowercase(),
                    plural(bp.groups[g].referrals, "referral", "referrals"),
                    ra.groups[g].referrals,
                    plural(bp.groups[g].arrivals, "person", "people")
                ));
            }
            v.push(format!(
                "Need met was {} under rational administration and {} under bureaucratic \
politics; {} and {} fell through the cracks.",
                pct(ra.share_met()),
                pct(bp.share_met()),
                plural(ra.fell_through, "person", "people"),
                plural(bp.fell_through, "person", "people")
            ));
            if ra.dumped > 0 {
                v.push(format!(
                    "Rational administration 'dumped' {} by this test too: an agency that is \
full passes a case to whoever has room, even if they fit it no better.",
                    plural(ra.dumped, "time", "times")
                ));
            }
        }
        Kind::Capture => {
            if ctx.forums().next().is_none() {
                v.push("This arena has no forum, so there is no agenda to capture.".to_string());
            }
            let mut lead = run.clone();
            for m in ctx.forums() {
                for (arm, sp) in Arm::BOTH.iter().zip(s) {
                    match top_agenda(sp, m) {
                        None => v.push(format!(
                            "{lead} under {}, nobody hosted {}.",
                            arm.title().to_lowercase(),
                            ctx.mech_lower(m)
                        )),
                        Some((g, a)) => v.push(format!(
                            "{lead} under {}, {} put {} first with {} of its agenda, for {} of \
the need; agenda capture averaged {}.",
                            arm.title().to_lowercase(),
                            ctx.mech_lower(m),
                            ctx.grp(g).to_lowercase(),
                            pct(a),
                            pct(ctx.groups[g].need_share),
                            index(sp.agenda_capture.value())
                        )),
                    }
                    lead = "And".into();
                }
                if let Some(p) = most_powerful_member(bp, m)
                    && let Some(t) = ctx.agencies[p].top_target()
                {
                    let same = top_agenda(bp, m).is_some_and(|(g, _)| g == t);
                    v.push(format!(
                        "The most powerful member under bureaucratic politics, {}, targets {}{}.",
                        ctx.ag(p),
                        ctx.grp(t).to_lowercase(),
                        if same {
                            ": the group that topped the agenda"
                        } else {
                            ", which did not top the agenda"
                        }
                    ));
                }
            }
            let per: Vec<String> = (0..ctx.groups.len())
                .map(|g| {
                    format!(
                        "{} {} against {}",
                        ctx.grp(g).to_lowercase(),
                        pct(ra.groups[g].share_met()),
                        pct(bp.groups[g].share_met())
                    )
                })
                .collect();
            v.push(format!(
                "Need met by group (rational administration against bureaucratic politics): {}. \
An agenda pulls members' targets and so their effort; need met also depends on which \
cases they keep or pass on, so it differs for more reasons than the agenda.",
                and_list(&per)
            ));
        }
    }
    v
}

/// A lever's effect: the rows, baseline against lever, and sentences naming what changed.
pub(crate) struct LeverComparison {
    /// (label, [baseline, with lever] for rational administration, the same for bureaucratic
    /// politics).
    pub rows: Vec<(String, [Cell; 2], [Cell; 2])>,
    pub sentences: Vec<String>,
    /// One sentence per run naming only what changed (for the handout).
    pub short: Vec<String>,
}

/// Whether a change from `a` to `b` is worth a sentence: the shown text differs and, for
/// numbers, by more than 2% of the larger.
fn notable(a: &Cell, b: &Cell) -> bool {
    if a.text() == b.text() {
        return false;
    }
    // "Police (40)" against "Police (38)": the same name; the table shows the counts.
    let name = |c: &Cell| c.text().split(" (").next().unwrap_or("").to_string();
    match (a, b) {
        (Cell::Text(_), Cell::Text(_)) if name(a) == name(b) => false,
        (Cell::Num { v: x, .. }, Cell::Num { v: y, .. }) if x.is_finite() && y.is_finite() => {
            (y - x).abs() > 0.02 * x.abs().max(y.abs())
        }
        _ => true,
    }
}

/// "need met rose from 40% to 45%". A cell that shows a count with its share, "112 (55%)",
/// compares the share; when the count moves the other way, both are said: "counted as
/// dumping fell from 112 to 58, its share rose from 55% to 66%".
fn change_phrase(name: &str, a: &Cell, b: &Cell) -> String {
    let verb = |x: f64, y: f64| {
        if y > x {
            "rose"
        } else if y < x {
            "fell"
        } else {
            "changed"
        }
    };
    let (Cell::Num { v: x, .. }, Cell::Num { v: y, .. }) = (a, b) else {
        return format!("{name} changed from {} to {}", a.text(), b.text());
    };
    let share_verb = verb(*x, *y);
    // "112 (55%)": the count before the bracket, the share (what v holds) inside it.
    let split = |c: &Cell| -> Option<(f64, String, String)> {
        let (count, rest) = c.text().split_once(" (")?;
        let share = rest.strip_suffix(')')?;
        if !share.ends_with('%') {
            return None;
        }
        Some((
            count.trim().parse().ok()?,
            count.to_string(),
            share.to_string(),
        ))
    };
    if let (Some((ca, ta, sa)), Some((cb, tb, sb))) = (split(a), split(b)) {
        let count_verb = verb(ca, cb);
        if count_verb != share_verb {
            return format!(
                "{name} {count_verb} from {ta} to {tb}, its share {share_verb} from {sa} to {sb}"
            );
        }
    }
    format!("{name} {share_verb} from {} to {}", a.text(), b.text())
}

pub(crate) fn lever_comparison(
    ctx: &Context,
    lever: [&Span; 2],
    base: [&Span; 2],
    overrides: &[String],
) -> LeverComparison {
    let with = rows(ctx, lever, true, true);
    let without = rows(ctx, base, true, true);
    let dash = Cell::Text("–".into());
    let mut table = Vec::new();
    for r in &with {
        let b = without.iter().find(|x| x.label == r.label);
        let bc = |k: usize| b.map_or(dash.clone(), |b| b.cells[k].clone());
        table.push((
            r.label.clone(),
            [bc(0), r.cells[0].clone()],
            [bc(1), r.cells[1].clone()],
        ));
    }
    let mut sentences = vec![format!(
        "With {} against the lesson's baseline (same seed, same people arriving):",
        and_list(
            &overrides
                .iter()
                .map(|o| format!("--set {o}"))
                .collect::<Vec<_>>()
        )
    )];
    let mut short = Vec::new();
    for (k, arm) in Arm::BOTH.iter().enumerate() {
        let mut changed = Vec::new();
        let mut same = Vec::new();
        let mut parent = String::new();
        for (label, ra, bp) in &table {
            let depth = label.len() - label.trim_start().len();
            let lab = label.trim().to_lowercase();
            let name = if depth == 0 {
                parent = match lab.split_once(':') {
                    Some((p, _)) => format!("{p}: "),
                    None => String::new(),
                };
                lab
            } else if depth <= 2 {
                format!("{parent}{lab}")
            } else {
                continue;
            };
            let pair = if k == 0 { ra } else { bp };
            if !notable(&pair[0], &pair[1]) {
                same.push(name);
                continue;
            }
            changed.push(change_phrase(&name, &pair[0], &pair[1]));
        }
        let text = if changed.is_empty() {
            short.push(format!(
                "Under {}, none of these numbers changed by more than a rounding.",
                arm.title().to_lowercase()
            ));
            "none of these numbers changed by more than a rounding.".to_string()
        } else {
            let n = changed.len();
            let shown: Vec<String> = changed.into_iter().take(4).collect();
            let more = if n > shown.len() {
                format!(" ({} more in the table)", n - shown.len())
            } else {
                String::new()
            };
            let unchanged = if same.is_empty() {
                String::new()
            } else {
                let k = same.len();
                let mut listed: Vec<String> = same.into_iter().take(4).collect();
                if k > listed.len() {
                    listed.push(format!("{} more", k - listed.len()));
                }
                format!(" Unchanged or barely changed: {}.", and_list(&listed))
            };
            short.push(format!(
                "Under {}, {}{more}.",
                arm.title().to_lowercase(),
                and_list(&shown)
            ));
            format!("{}{more}.{unchanged}", and_list(&shown))
        };
        sentences.push(format!("Under {}, {text}", arm.title().to_lowercase()));
    }
    LeverComparison {
        rows: table,
        sentences,
        short,
    }
}

// ---------------------------------------------------------------------------------------------
// The narrator
// ---------------------------------------------------------------------------------------------

/// Writes the narration to the output and keeps a copy.
pub(crate) struct Narrator<'a> {
    out: &'a mut dyn Write,
    text: String,
}

impl<'a> Narrator<'a> {
    pub fn new(out: &'a mut dyn Write) -> Narrator<'a> {
        Narrator {
            out,
            text: String::new(),
        }
    }

    fn say(&mut self, s: &str) -> Result<(), TeachError> {
        self.text.push_str(s);
        self.out
            .write_all(s.as_bytes())
            .and_then(|_| self.out.flush())
            .map_err(TeachError::Output)
    }

    pub fn into_text(self) -> String {
        self.text
    }

    fn heading(&mut self, title: &str, rule: char) -> Result<(), TeachError> {
        let lead = format!("{rule}{rule} {title} ");
        let n = WIDTH.saturating_sub(lead.chars().count());
        let line = format!("\n{lead}{}\n", rule.to_string().repeat(n));
        self.say(&line)
    }

    pub fn intro(&mut self, ctx: &Context, overrides: &[String]) -> Result<(), TeachError> {
        let l = ctx.lesson;
        self.heading(&format!("Lesson: {}", l.title), '═')?;
        let mut s = String::new();
        let agencies: Vec<String> = ctx
            .agencies
            .iter()
            .map(|a| format!("{} ({})", a.label, level_word(a.level)))
            .collect();
        s.push_str(&wrap(
            &format!(
                "The town: {} agencies, {}.",
                ctx.agencies.len(),
                and_list(&agencies)
            ),
            "",
            "  ",
        ));
        let groups: Vec<String> = ctx
            .groups
            .iter()
            .map(|g| {
                format!(
                    "about {} {} ({} of the need)",
                    g.arrivals.round(),
                    g.label.to_lowercase(),
                    pct(g.need_share)
                )
            })
            .collect();
        s.push_str(&wrap(
            &format!("Arriving each month: {}.", and_list(&groups)),
            "",
            "  ",
        ));
        for m in &ctx.mechs {
            let rule = m
                .rule
                .map(|r| format!("; agenda: {}", rule_word(r)))
                .unwrap_or_default();
            s.push_str(&wrap(
                &format!(
                    "{}: {}; hosting it costs the host {} and {} a month{rule}.",
                    m.label,
                    kind_word(m.kind),
                    money(m.host_money),
                    staff_days(m.host_staff)
                ),
                "",
                "  ",
            ));
        }
        s.push_str(&wrap(
            &format!(
                "Two runs of {} with the same people arriving (seed {}): every agency \
following rational administration (working for the shared good), then every agency \
following bureaucratic politics (weighing its own budget, targets and turf too).",
                months(ctx.ticks),
                ctx.seed
            ),
            "",
            "  ",
        ));
        if !overrides.is_empty() {
            s.push_str(&wrap(
                &format!(
                    "Lever pulled: {}. The lesson's baseline runs alongside, without it, and \
the summary says what changed.",
                    and_list(
                        &overrides
                            .iter()
                            .map(|o| format!("--set {o}"))
                            .collect::<Vec<_>>()
                    )
                ),
                "",
                "  ",
            ));
        }
        s.push_str(&wrap(&format!("Watch {}", l.watch), "", "  "));
        s.push_str(&wrap(
            &format!(
                "Arena: {}. Numbers per quarter; money in £ thousands.",
                ctx.path
            ),
            "",
            "  ",
        ));
        self.say(&s)
    }

    pub fn pause(&mut self, input: &mut dyn BufRead, next: &str) -> Result<Pause, TeachError> {
        self.say(&format!("  [Enter] {next}   [q] stop › "))?;
        let mut line = String::new();
        let n = input.read_line(&mut line).map_err(TeachError::Input)?;
        if n == 0 {
            self.say("\n")?;
            return Ok(Pause::Eof);
        }
        // The line read is the teacher's; keep the copy readable when input is piped.
        self.text.push('\n');
        if line.trim().eq_ignore_ascii_case("q") {
            Ok(Pause::Stop)
        } else {
            Ok(Pause::Go)
        }
    }

    pub fn period(
        &mut self,
        ctx: &Context,
        p: usize,
        s: [&Span; 2],
        prev: Option<[&Span; 2]>,
    ) -> Result<(), TeachError> {
        let (a, b) = (s[0].first_tick, s[0].last_tick);
        let title = if a == b {
            format!("Quarter {} · month {a}", p + 1)
        } else {
            format!("Quarter {} · months {a}–{b}", p + 1)
        };
        self.heading(&title, '─')?;
        let mut t = render_rows(
            &rows(ctx, s, false, false),
            ["Rational admin.", "Bureaucratic politics"],
        );
        for (k, (arm, sp)) in Arm::BOTH.iter().zip(s).enumerate() {
            t.push_str(&wrap(
                &period_sentences(ctx, *arm, sp, prev.map(|p| p[k])),
                &format!("{}: ", arm.title()),
                "  ",
            ));
        }
        self.say(&t)
    }

    pub fn summary(
        &mut self,
        ctx: &Context,
        s: [&Span; 2],
        last: Option<[&Span; 2]>,
        base: Option<[&Span; 2]>,
        overrides: &[String],
    ) -> Result<(), TeachError> {
        self.heading(
            &format!("Summary · the whole run, months 1–{}", s[0].last_tick),
            '═',
        )?;
        let mut t = render_rows(
            &rows(ctx, s, base.is_some(), false),
            ["Rational admin.", "Bureaucratic politics"],
        );
        t.push('\n');
        for p in punchlines(ctx, s, last) {
            t.push_str(&wrap(&p, "", ""));
        }
        if let Some(b) = base {
            let c = lever_comparison(ctx, s, b, overrides);
            t.push_str(&format!(
                "\n{:<LABEL_W$}{:>CELL_W$}  {:>CELL_W$}\n",
                "Baseline → with lever", "Rational admin.", "Bureaucratic politics"
            ));
            for (label, ra, bp) in &c.rows {
                // Unchanged: the value; changed: "before → after" (names: "→ after").
                let cell = |p: &[Cell; 2]| match (&p[0], &p[1]) {
                    _ if p[0].text() == p[1].text() => p[0].text().to_string(),
                    (Cell::Num { .. }, Cell::Num { .. }) => {
                        format!("{} → {}", p[0].text(), p[1].text())
                    }
                    _ => format!("→ {}", p[1].text()),
                };
                t.push_str(&format!(
                    "{:<LABEL_W$}{:>CELL_W$}  {:>CELL_W$}\n",
                    fit(label, LABEL_W - 1),
                    fit(&cell(ra), CELL_W),
                    fit(&cell(bp), CELL_W)
                ));
            }
            t.push('\n');
            for sentence in &c.sentences {
                t.push_str(&wrap(sentence, "", ""));
            }
        }
        self.say(&t)
    }

    pub fn stopped(&mut self, narrated: usize, total: usize, dir: &Path) -> Result<(), TeachError> {
        self.say(&wrap(
            &format!(
                "Stopped after {narrated} of {total} quarters. The runs were finished without \
narration; the numbers, charts and handout are in {}.",
                dir.display()
            ),
            "\n",
            "",
        ))
    }

    pub fn files(
        &mut self,
        dir: &Path,
        handout: &Path,
        charts: bool,
        notes: &[String],
    ) -> Result<(), TeachError> {
        let mut t = String::from("\n");
        t.push_str(&wrap(
            &format!(
                "Handout: {}. Charts: {}. Runs (CSV): {}/ra and {}/bp.",
                handout.display(),
                if !charts {
                    "none".to_string()
                } else {
                    dir.join("charts").display().to_string()
                },
                dir.display(),
                dir.display()
            ),
            "",
            "  ",
        ));
        for n in notes {
            t.push_str(&wrap(&format!("Note: {n}"), "", "  "));
        }
        self.say(&t)
    }
}

/// Months per period, for the handout's wording.
pub(crate) fn period_word() -> &'static str {
    if PERIOD_TICKS == 3 {
        "quarter"
    } else {
        "period"
    }
}

#[cfg(test)]
mod tests {
    use super::{Cell, change_phrase};

    fn count_share(n: u64, share: f64) -> Cell {
        Cell::Num {
            v: share,
            text: format!("{n} ({})", super::pct(share)),
        }
    }

    #[test]
    fn a_count_and_its_share_moving_apart_are_both_said() {
        let p = change_phrase(
            "counted as dumping",
            &count_share(112, 0.55),
            &count_share(58, 0.66),
        );
        assert_eq!(
            p,
            "counted as dumping fell from 112 to 58, its share rose from 55% to 66%"
        );
        // Moving together: one verb, both numbers.
        let p = change_phrase(
            "counted as dumping",
            &count_share(50, 0.4),
            &count_share(70, 0.5),
        );
        assert_eq!(p, "counted as dumping rose from 50 (40%) to 70 (50%)");
        let p = change_phrase("need met", &Cell::pct(0.5), &Cell::pct(0.4));
        assert_eq!(p, "need met fell from 50% to 40%");
    }
}
