//! A participatory lesson: students play the agencies.
//!
//! A [`Class`] is a lesson's arena played in rounds of a quarter ([`ROUND_TICKS`] months).
//! The class fills one or more *towns*, each a copy of the arena on the same draws (same
//! seed, same clients at the same doors), with its seats taken by students or left to bots
//! of the teacher's chosen family. Beside the towns run the lesson's two arms, every agency
//! rational administration and every agency bureaucratic politics, on the same draws: the
//! debrief sets what the room did against them.
//!
//! Every seat of a town runs [`Seat`](crate::behaviour::seat::Seat) around its bot: a
//! student's orders for the round are taken where given, the bot's decisions everywhere
//! else. The engine is the one every run uses; it never knows a student from a bot. So a
//! town is a pure function of (scenario, seed, the orders of every round), and a town where
//! nobody played is exactly the bot family's arm (tested).
//!
//! Every decision is logged: `decisions.csv` has one row per seat, round and decision (the
//! student's order or `bot`), `rounds.csv` one row per seat and round with what happened
//! (cases at the door and what became of them, referrals and dumping, money paid into
//! pooled funds against the fair share, hosting and membership). Both are rewritten
//! atomically after every round, so a class that stops early loses no finished round.
//! This module has no HTTP in it: `serve` adds seats, tokens and the round timer.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::record::{Arm, ArmRun, Source, Span};
use super::{Lesson, PERIOD_TICKS, TeachError, io_at, lesson};
use crate::behaviour::seat::{DoorCounts, Orders, Route, Seat, SeatLink};
use crate::model::{Account, World};
use crate::output::{self, CsvBuf};
use crate::overrides::Override;
use crate::scenario::{Family, MechanismKind, Scenario};

/// Months in a round: a quarter, as `silos teach` narrates.
pub const ROUND_TICKS: u32 = PERIOD_TICKS;
/// Most towns one class may hold.
pub const MAX_TOWNS: usize = 40;

/// How to set up a class.
#[derive(Debug, Clone)]
pub struct ClassOptions {
    pub lesson: String,
    pub seed: Option<u64>,
    pub ticks: Option<u32>,
    /// The family of the bots that take the seats nobody takes (and decide what students
    /// leave open).
    pub bot: Family,
    /// The agencies students may play (names); `None`: all of them.
    pub seats: Option<Vec<String>>,
    /// Lever settings for the whole class (`path=value`), checked by the caller.
    pub overrides: Vec<Override>,
    /// Where the class's files go.
    pub out_dir: PathBuf,
}

/// Who sits in a seat.
#[derive(Debug, Clone)]
struct Sitter {
    name: String,
}

/// One copy of the arena, played by part of the class.
struct Town {
    arm: ArmRun,
    /// Per agency: the seat's link (agencies open to students only).
    links: Vec<Option<Arc<SeatLink>>>,
    /// Per agency: who plays it now (None: the bot).
    players: Vec<Option<Sitter>>,
    /// Per agency: orders submitted for the round now open, and how many times.
    pending: Vec<Option<Orders>>,
    submissions: Vec<u32>,
    /// Per agency, the round just played: what reached its door, the fair share of pooled
    /// funds it was asked for (k GBP), months hosting and months a member.
    fair: Vec<f64>,
    host_months: Vec<u32>,
    member_months: Vec<u32>,
    /// Per agency: the last round's outcome (for the student's view).
    last: Vec<Option<SeatRound>>,
}

/// What one seat did and got in one round (a row of `rounds.csv`).
#[derive(Debug, Clone, Serialize)]
pub struct SeatRound {
    pub round: u32,
    pub town: usize,
    pub agency: String,
    /// The student's name, or empty for the bot.
    pub player: String,
    /// Whether the student's orders applied this round (false: the bot decided all).
    pub decided: bool,
    pub door: Vec<DoorCounts>,
    pub referrals_out: u64,
    pub referrals_in: u64,
    pub dumped_out: u64,
    pub dumped_in: u64,
    pub cases_led: u64,
    /// Money paid into pooled funds (k GBP) and the fair share asked (`pool_share` x income
    /// for each month a member).
    pub pool_paid: f64,
    pub fair_share: f64,
    pub host_months: u32,
    pub member_months: u32,
    /// Money held at the end of the round (k GBP).
    pub money: f64,
}

/// A participatory lesson in progress.
pub struct Class {
    pub lesson: &'static Lesson,
    scenario: Scenario,
    seed: u64,
    ticks: u32,
    bot: Family,
    /// Agencies students may play.
    seats: Vec<usize>,
    /// The all-RA and all-BP arms on the same draws.
    compare: Vec<ArmRun>,
    towns: Vec<Town>,
    /// Rounds played.
    round: u32,
    decisions: CsvBuf,
    rounds: CsvBuf,
    history: Vec<SeatRound>,
    out_dir: PathBuf,
    path: String,
    overrides: Vec<String>,
    /// Mechanism labels, as the narration names them.
    mech_labels: Vec<String>,
    sanctions_on: bool,
}

/// The decisions a student sends for a round, by name. Anything left out is the bot's.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OrdersInput {
    /// Client group -> "keep", "decline", "bot", or {"pass": "agency"}.
    #[serde(default)]
    pub triage: BTreeMap<String, RouteInput>,
    /// Mechanism -> host it (true) or not (false); null or absent: the bot decides.
    #[serde(default)]
    pub host: BTreeMap<String, Option<bool>>,
    /// Mechanism -> be a member.
    #[serde(default)]
    pub join: BTreeMap<String, Option<bool>>,
    /// Pooled fund -> k GBP a month to pay in.
    #[serde(default)]
    pub contribute: BTreeMap<String, Option<f64>>,
    /// Mechanism -> the fellow members to sanction.
    #[serde(default)]
    pub sanction: BTreeMap<String, Option<Vec<String>>>,
    /// Forum -> the client group to push its agenda toward (the whole bid).
    #[serde(default)]
    pub agenda: BTreeMap<String, Option<String>>,
    /// Help partners who ask for work on their cases.
    #[serde(default)]
    pub help: Option<bool>,
}

/// A standing order for a client group's cases.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum RouteInput {
    /// "keep", "decline" or "bot".
    Word(String),
    /// Pass on to an agency.
    Pass { pass: String },
}

impl Class {
    /// Set up a class of `opts.lesson` with no towns yet (add them with
    /// [`add_town`](Class::add_town)).
    pub fn new(opts: &ClassOptions) -> Result<Class, TeachError> {
        let lesson = lesson(&opts.lesson)?;
        let path = format!("<embedded>/{}", lesson.file);
        let scenario = Scenario::from_toml_str_with(lesson.scenario, &path, &opts.overrides)?;
        let seed = opts.seed.unwrap_or(scenario.seed);
        let ticks = opts.ticks.unwrap_or(scenario.ticks);
        if ticks == 0 {
            return Err(TeachError::NoTicks);
        }
        crate::limits::admit(&scenario, ticks)
            .map_err(|m| TeachError::Limit(format!("{path}: {m}")))?;
        let seats = match &opts.seats {
            None => (0..scenario.agencies.len()).collect(),
            Some(names) => {
                let mut v = Vec::new();
                for n in names {
                    let i = scenario
                        .agencies
                        .iter()
                        .position(|a| &a.name == n)
                        .ok_or_else(|| {
                            TeachError::Class(format!(
                                "seats: no agency \"{n}\" in lesson {}; its agencies are: {}",
                                lesson.name,
                                scenario
                                    .agencies
                                    .iter()
                                    .map(|a| a.name.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ))
                        })?;
                    if !v.contains(&i) {
                        v.push(i);
                    }
                }
                if v.is_empty() {
                    return Err(TeachError::Class(
                        "seats: give at least one agency for students to play".into(),
                    ));
                }
                v.sort_unstable();
                v
            }
        };
        std::fs::create_dir_all(&opts.out_dir).map_err(io_at(&opts.out_dir))?;
        let mut compare = Vec::with_capacity(2);
        for arm in Arm::BOTH {
            compare.push(ArmRun::new(
                &scenario,
                seed,
                arm,
                opts.out_dir.join(arm.dir()),
            )?);
        }
        let w = &compare[0].sim.world;
        let mech_labels = super::narrate::Context::new(lesson, w, &path, seed, ticks)
            .mechs
            .into_iter()
            .map(|m| m.label)
            .collect();
        let sanctions_on = w.levers.p.sanctions.fine > 0.0;
        let mut decisions = CsvBuf::new();
        decisions.record([
            "round",
            "first_month",
            "last_month",
            "town",
            "agency",
            "player",
            "source",
            "kind",
            "subject",
            "choice",
            "submissions",
        ]);
        let mut rounds = CsvBuf::new();
        let mut head = vec![
            "round",
            "town",
            "agency",
            "player",
            "decided",
            "referrals_out",
            "referrals_in",
            "dumped_out",
            "dumped_in",
            "cases_led",
            "pool_paid",
            "fair_share",
            "host_months",
            "member_months",
            "money",
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
        for g in &w.groups {
            for f in ["at_door", "kept", "passed", "declined", "by_bot"] {
                head.push(format!("{}_{f}", g.name));
            }
        }
        rounds.record(&head);
        // What it takes, with decisions.csv, to play the class again (`replay`).
        let setup = serde_json::json!({
            "silos_version": env!("CARGO_PKG_VERSION"),
            "build": output::build_info(),
            "lesson": lesson.name,
            "seed": seed,
            "ticks": ticks,
            "bot": opts.bot.as_str(),
            "seats": seats.iter().map(|&i| scenario.agencies[i].name.clone()).collect::<Vec<_>>(),
            "overrides": opts.overrides.iter().map(|o| o.text.clone()).collect::<Vec<_>>(),
        });
        let text = serde_json::to_string_pretty(&setup).unwrap_or_default() + "\n";
        output::write_atomic(&opts.out_dir, "class.json", text.as_bytes())
            .map_err(io_at(&opts.out_dir.join("class.json")))?;
        Ok(Class {
            lesson,
            seed,
            ticks,
            bot: opts.bot,
            seats,
            compare,
            towns: Vec::new(),
            round: 0,
            decisions,
            rounds,
            history: Vec::new(),
            out_dir: opts.out_dir.clone(),
            path,
            overrides: opts.overrides.iter().map(|o| o.text.clone()).collect(),
            mech_labels,
            sanctions_on,
            scenario,
        })
    }

    /// Add a town (before the first round): a copy of the arena on the same draws, every
    /// seat a bot until a student sits down. Returns its index.
    pub fn add_town(&mut self) -> Result<usize, TeachError> {
        if self.round > 0 {
            return Err(TeachError::Class(
                "a town can only be added before the first round".into(),
            ));
        }
        if self.towns.len() >= MAX_TOWNS {
            return Err(TeachError::Class(format!(
                "the class is full: at most {MAX_TOWNS} towns"
            )));
        }
        let k = self.towns.len();
        let arm = match self.bot {
            Family::Ra => Arm::Ra,
            Family::Bp => Arm::Bp,
        };
        let mut run = ArmRun::new(
            &self.scenario,
            self.seed,
            arm,
            self.out_dir.join(format!("town-{}", k + 1)),
        )?;
        let w = &run.sim.world;
        let (n, ng, nm) = (w.n_agencies(), w.n_groups(), w.mechanisms.len());
        let links: Vec<Option<Arc<SeatLink>>> = (0..n)
            .map(|i| self.seats.contains(&i).then(|| SeatLink::new(ng, nm)))
            .collect();
        let l2 = links.clone();
        run.sim.wrap_rules(|i, bot| match &l2[i] {
            Some(link) => Box::new(Seat::new(bot, link.clone())),
            None => bot,
        });
        run.behaviour = format!("class: students, bots {}", self.bot.as_str());
        self.towns.push(Town {
            arm: run,
            links,
            players: vec![None; n],
            pending: vec![None; n],
            submissions: vec![0; n],
            fair: vec![0.0; n],
            host_months: vec![0; n],
            member_months: vec![0; n],
            last: vec![None; n],
        });
        Ok(k)
    }

    pub fn n_towns(&self) -> usize {
        self.towns.len()
    }

    /// The agencies students may play.
    pub fn seats(&self) -> &[usize] {
        &self.seats
    }

    pub fn bot(&self) -> Family {
        self.bot
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn ticks(&self) -> u32 {
        self.ticks
    }

    pub fn overrides(&self) -> &[String] {
        &self.overrides
    }

    pub fn out_dir(&self) -> &std::path::Path {
        &self.out_dir
    }

    /// Rounds in the lesson.
    pub fn n_rounds(&self) -> u32 {
        self.ticks.div_ceil(ROUND_TICKS)
    }

    /// Rounds played so far.
    pub fn round(&self) -> u32 {
        self.round
    }

    pub fn done(&self) -> bool {
        self.round >= self.n_rounds()
    }

    fn world(&self) -> &World {
        &self.compare[0].sim.world
    }

    /// The agency's name.
    pub fn agency_name(&self, i: usize) -> &str {
        &self.world().agencies[i].name
    }

    pub fn agency_label(&self, i: usize) -> &str {
        &self.world().agencies[i].label
    }

    /// Who plays agency `i` in town `t` (None: the bot).
    pub fn player(&self, t: usize, i: usize) -> Option<&str> {
        self.towns
            .get(t)
            .and_then(|x| x.players.get(i))
            .and_then(|p| p.as_ref().map(|s| s.name.as_str()))
    }

    /// The first empty seat, lowest town first.
    pub fn free_seat(&self) -> Option<(usize, usize)> {
        for (t, town) in self.towns.iter().enumerate() {
            for &i in &self.seats {
                if town.players[i].is_none() {
                    return Some((t, i));
                }
            }
        }
        None
    }

    /// Seat `name` at agency `i` of town `t`.
    pub fn sit(&mut self, t: usize, i: usize, name: &str) -> Result<(), TeachError> {
        let town = self
            .towns
            .get_mut(t)
            .ok_or_else(|| TeachError::Class(format!("no town {}", t + 1)))?;
        if town.links.get(i).is_none_or(Option::is_none) {
            return Err(TeachError::Class(format!(
                "agency {i} is not a seat of this class"
            )));
        }
        town.players[i] = Some(Sitter {
            name: name.to_string(),
        });
        Ok(())
    }

    /// Give agency `i` of town `t` back to the bot (a student left, or was moved out);
    /// orders already submitted for the open round are dropped.
    pub fn unseat(&mut self, t: usize, i: usize) {
        if let Some(town) = self.towns.get_mut(t)
            && i < town.players.len()
        {
            town.players[i] = None;
            town.pending[i] = None;
            town.submissions[i] = 0;
        }
    }

    /// Whether the student in agency `i` of town `t` has sent orders for the open round.
    pub fn submitted(&self, t: usize, i: usize) -> bool {
        self.towns
            .get(t)
            .and_then(|x| x.pending.get(i))
            .is_some_and(Option::is_some)
    }

    /// Seated students, and how many of them have sent orders for the open round.
    pub fn readiness(&self) -> (usize, usize) {
        let mut seated = 0;
        let mut ready = 0;
        for town in &self.towns {
            for &i in &self.seats {
                if town.players[i].is_some() {
                    seated += 1;
                    if town.pending[i].is_some() {
                        ready += 1;
                    }
                }
            }
        }
        (seated, ready)
    }

    /// Check a student's orders for agency `me` of town `t` and hold them for the open
    /// round (a later submission in the same round replaces an earlier one). Every error
    /// names the field, the value and what is allowed.
    pub fn submit(&mut self, t: usize, me: usize, input: &OrdersInput) -> Result<(), String> {
        if self.done() {
            return Err("the lesson has ended; no more rounds to play".into());
        }
        let orders = self.check_orders(t, me, input)?;
        let town = self
            .towns
            .get_mut(t)
            .ok_or_else(|| format!("no town {}", t + 1))?;
        town.pending[me] = Some(orders);
        town.submissions[me] += 1;
        Ok(())
    }

    /// Turn named orders into [`Orders`], refusing anything the seat cannot decide.
    pub fn check_orders(&self, t: usize, me: usize, input: &OrdersInput) -> Result<Orders, String> {
        let town = self
            .towns
            .get(t)
            .ok_or_else(|| format!("no town {}", t + 1))?;
        if town.links.get(me).is_none_or(Option::is_none) {
            return Err(format!("agency {me} is not a seat of this class"));
        }
        let w = &town.arm.sim.world;
        let (n, ng, nm) = (w.n_agencies(), w.n_groups(), w.mechanisms.len());
        let agency_names = || {
            w.agencies
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != me)
                .map(|(_, a)| a.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let partner = |field: &str, name: &str| -> Result<usize, String> {
            (0..n)
                .find(|&j| j != me && w.agencies[j].name == name)
                .ok_or_else(|| {
                    format!(
                        "{field}: \"{name}\" is not another agency of the town; allowed: {}",
                        agency_names()
                    )
                })
        };
        let mut o = Orders::none(ng, nm);
        for (g, r) in &input.triage {
            let gi = w.groups.iter().position(|x| &x.name == g).ok_or_else(|| {
                format!(
                    "triage.{g}: not a client group of the lesson; allowed: {}",
                    w.groups
                        .iter()
                        .map(|x| x.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            o.triage[gi] = match r {
                RouteInput::Word(s) if s == "keep" => Some(Route::Keep),
                RouteInput::Word(s) if s == "decline" => Some(Route::Decline),
                RouteInput::Word(s) if s == "bot" => None,
                RouteInput::Word(s) => {
                    return Err(format!(
                        "triage.{g}: \"{s}\" is not allowed; allowed: \"keep\", \"decline\", \
                         \"bot\" or {{\"pass\": AGENCY}}"
                    ));
                }
                RouteInput::Pass { pass } => {
                    let j = partner(&format!("triage.{g}.pass"), pass)?;
                    if !w.referrable(j) {
                        return Err(format!(
                            "triage.{g}.pass: \"{pass}\" takes no cases; pass them to an agency \
                             that serves people"
                        ));
                    }
                    Some(Route::Pass(j))
                }
            };
        }
        let mech = |field: &str, name: &str| -> Result<usize, String> {
            let m = w
                .mechanisms
                .iter()
                .position(|x| x.name == name)
                .filter(|&m| w.mechanisms[m].candidates.contains(&me))
                .ok_or_else(|| {
                    format!(
                        "{field}.{name}: not an arrangement {} can take part in; allowed: {}",
                        w.agencies[me].name,
                        w.mechanisms
                            .iter()
                            .filter(|x| x.candidates.contains(&me))
                            .map(|x| x.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?;
            Ok(m)
        };
        for (name, v) in &input.host {
            o.host[mech("host", name)?] = *v;
        }
        for (name, v) in &input.join {
            o.join[mech("join", name)?] = *v;
        }
        let held = w.ledger.balance(Account::Agency(me));
        for (name, v) in &input.contribute {
            let m = mech("contribute", name)?;
            if w.mechanisms[m].kind != MechanismKind::PooledFund {
                return Err(format!(
                    "contribute.{name}: not a pooled fund; only pooled funds take payments"
                ));
            }
            if let Some(x) = v
                && (!x.is_finite() || *x < 0.0 || *x > held.max(0.0))
            {
                return Err(format!(
                    "contribute.{name}: {x} is not allowed; allowed: 0 to {} (k GBP a \
                     month; the money {} holds)",
                    num_text(held.max(0.0)),
                    w.agencies[me].label
                ));
            }
            o.contribution[m] = *v;
        }
        for (name, v) in &input.sanction {
            let m = mech("sanction", name)?;
            if !self.sanctions_on {
                return Err(format!(
                    "sanction.{name}: sanctions are off in this class (the teacher turns them \
                     on with levers.sanctions.fine)"
                ));
            }
            o.sanction[m] = match v {
                None => None,
                Some(list) => {
                    let mut js = Vec::with_capacity(list.len());
                    for p in list {
                        let j = partner(&format!("sanction.{name}"), p)?;
                        if !w.mechanisms[m].candidates.contains(&j) {
                            return Err(format!(
                                "sanction.{name}: \"{p}\" cannot be a member of {name}"
                            ));
                        }
                        if !js.contains(&j) {
                            js.push(j);
                        }
                    }
                    Some(js)
                }
            };
        }
        for (name, v) in &input.agenda {
            let m = mech("agenda", name)?;
            if w.mechanisms[m].kind != MechanismKind::Forum {
                return Err(format!(
                    "agenda.{name}: not a forum; only forums set an agenda"
                ));
            }
            o.agenda[m] = match v {
                None => None,
                Some(g) => Some(w.groups.iter().position(|x| &x.name == g).ok_or_else(|| {
                    format!(
                        "agenda.{name}: \"{g}\" is not a client group; allowed: {}",
                        w.groups
                            .iter()
                            .map(|x| x.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?),
            };
        }
        o.help = input.help;
        Ok(o)
    }

    /// Close the open round: apply each seat's orders (none: the bot decides), log them,
    /// run the round's months in every town and both comparison arms, record what each
    /// seat did and got, and write the class's files. Returns the round's rows.
    pub fn play_round(&mut self) -> Result<Vec<SeatRound>, TeachError> {
        if self.done() {
            return Ok(Vec::new());
        }
        let round = self.round + 1;
        let first = self.compare[0].sim.world.tick + 1;
        let last = (first + ROUND_TICKS - 1).min(self.ticks);
        // Apply and log the orders.
        for (t, town) in self.towns.iter_mut().enumerate() {
            for &i in &self.seats {
                let Some(link) = &town.links[i] else { continue };
                let orders = town.pending[i].take();
                let player = town.players[i].clone();
                let w = &town.arm.sim.world;
                log_orders(
                    &mut self.decisions,
                    w,
                    &LogRow {
                        round,
                        first,
                        last,
                        town: t,
                        agency: i,
                        player: player.as_ref().map(|p| p.name.as_str()).unwrap_or(""),
                        submissions: town.submissions[i],
                        sanctions_on: self.sanctions_on,
                    },
                    orders.as_ref(),
                );
                town.submissions[i] = 0;
                let w = &town.arm.sim.world;
                link.set(orders.unwrap_or_else(|| Orders::none(w.n_groups(), w.mechanisms.len())));
                link.take_door();
            }
            town.fair.fill(0.0);
            town.host_months.fill(0);
            town.member_months.fill(0);
        }
        // Run the months.
        for _ in first..=last {
            for a in self.compare.iter_mut() {
                a.step()?;
            }
            for town in self.towns.iter_mut() {
                town.arm.step()?;
                let w = &town.arm.sim.world;
                for i in 0..w.n_agencies() {
                    for m in &w.mechanisms {
                        if m.host == Some(i) {
                            town.host_months[i] += 1;
                        }
                        if m.is_member(i) {
                            if m.host != Some(i) {
                                town.member_months[i] += 1;
                            }
                            if m.pool.is_some() && m.alive() {
                                town.fair[i] += m.pool_share * w.agencies[i].income;
                            }
                        }
                    }
                }
            }
        }
        for a in self.compare.iter_mut() {
            a.close_period();
        }
        let mut out = Vec::new();
        for (t, town) in self.towns.iter_mut().enumerate() {
            let span: Span = town.arm.close_period().clone();
            let w = &town.arm.sim.world;
            for &i in &self.seats {
                let Some(link) = &town.links[i] else { continue };
                let a = &span.agencies[i];
                let player = town.players[i].as_ref().map(|p| p.name.clone());
                let decided = player.is_some() && !link.orders().is_empty();
                let r = SeatRound {
                    round,
                    town: t,
                    agency: w.agencies[i].name.clone(),
                    player: player.unwrap_or_default(),
                    decided,
                    door: link.take_door(),
                    referrals_out: a.referrals_out,
                    referrals_in: a.referrals_in,
                    dumped_out: span.dumped_out(i),
                    dumped_in: span.dumped_in(i),
                    cases_led: a.cases_led,
                    pool_paid: a.spend_pool,
                    fair_share: town.fair[i],
                    host_months: town.host_months[i],
                    member_months: town.member_months[i],
                    money: w.ledger.balance(Account::Agency(i)),
                };
                write_round(&mut self.rounds, &r);
                town.last[i] = Some(r.clone());
                out.push(r);
            }
        }
        self.history.extend(out.iter().cloned());
        self.round = round;
        self.write_logs()?;
        Ok(out)
    }

    /// Rewrite `decisions.csv` and `rounds.csv` (atomically).
    fn write_logs(&mut self) -> Result<(), TeachError> {
        let d = self.out_dir.clone();
        output::write_atomic(&d, "decisions.csv", self.decisions.as_bytes())
            .map_err(io_at(&d.join("decisions.csv")))?;
        output::write_atomic(&d, "rounds.csv", self.rounds.as_bytes())
            .map_err(io_at(&d.join("rounds.csv")))?;
        Ok(())
    }

    /// Finish every run's files and write `debrief.json` and the logs.
    pub fn finish(&mut self) -> Result<Debrief, TeachError> {
        self.write_logs()?;
        let text = self.lesson.scenario;
        let overrides = self.overrides.clone();
        let src = Source {
            lesson: self.lesson.name,
            path: &self.path,
            text,
            overrides: &overrides,
        };
        for a in self.compare.iter_mut() {
            a.finish(&src)?;
        }
        for town in self.towns.iter_mut() {
            town.arm.finish(&src)?;
        }
        let d = self.debrief();
        let json = serde_json::to_string_pretty(&d).unwrap_or_default() + "\n";
        output::write_atomic(&self.out_dir, "debrief.json", json.as_bytes())
            .map_err(io_at(&self.out_dir.join("debrief.json")))?;
        Ok(d)
    }

    /// Every round's rows so far.
    pub fn history(&self) -> &[SeatRound] {
        &self.history
    }

    /// What agency `me` of town `t` sees now.
    pub fn view(&self, t: usize, me: usize) -> Option<SeatView> {
        let town = self.towns.get(t)?;
        town.links.get(me)?.as_ref()?;
        let w = &town.arm.sim.world;
        let a = &w.agencies[me];
        let n = w.n_agencies();
        let groups: Vec<Named> = w
            .groups
            .iter()
            .map(|g| Named {
                name: g.name.clone(),
                label: g.label.clone(),
            })
            .collect();
        let last = town.last[me].clone();
        let mechanisms = w
            .mechanisms
            .iter()
            .enumerate()
            .filter(|(_, m)| m.candidates.contains(&me))
            .map(|(k, m)| MechView {
                name: m.name.clone(),
                label: self.mech_labels.get(k).cloned().unwrap_or(m.name.clone()),
                kind: kind_name(m.kind),
                host: m.host.map(|h| w.agencies[h].label.clone()),
                you_host: m.host == Some(me),
                member: m.is_member(me),
                host_money: m.host_money,
                host_staff: m.host_staff,
                member_staff: m.member_staff,
                pooled_fund: m.pool.is_some(),
                fair_share: if m.pool.is_some() {
                    m.pool_share * a.income
                } else {
                    0.0
                },
                members: (0..n)
                    .filter(|&j| j != me && m.candidates.contains(&j))
                    .map(|j| w.agencies[j].name.clone())
                    .collect(),
            })
            .collect();
        let partners = (0..n)
            .filter(|&j| j != me)
            .map(|j| {
                let prev = town.last[j].clone();
                PartnerView {
                    name: w.agencies[j].name.clone(),
                    label: w.agencies[j].label.clone(),
                    player: town.players[j].as_ref().map(|p| p.name.clone()),
                    referred_to_you: last_flow(&town.arm, j, me).0,
                    dumped_on_you: last_flow(&town.arm, j, me).1,
                    you_referred: last_flow(&town.arm, me, j).0,
                    paid_into_pools: prev.as_ref().map(|r| r.pool_paid),
                    fair_share: prev.as_ref().map(|r| r.fair_share),
                    hosts: w
                        .mechanisms
                        .iter()
                        .enumerate()
                        .filter(|(_, m)| m.host == Some(j))
                        .map(|(k, m)| self.mech_labels.get(k).cloned().unwrap_or(m.name.clone()))
                        .collect(),
                    you_resent: w.resentment(me, j) > 0.0,
                    takes_cases: w.referrable(j),
                }
            })
            .collect();
        Some(SeatView {
            lesson: self.lesson.name,
            bot: self.bot.as_str(),
            title: self.lesson.title,
            round: self.round,
            rounds: self.n_rounds(),
            month: w.tick,
            months: self.ticks,
            town: t + 1,
            agency: me,
            name: a.name.clone(),
            label: a.label.clone(),
            player: town.players[me].as_ref().map(|p| p.name.clone()),
            money: w.ledger.balance(Account::Agency(me)),
            income: a.income,
            fixed_costs: a.fixed_costs,
            staff: a.staff,
            targets: w
                .groups
                .iter()
                .enumerate()
                .map(|(g, x)| (x.label.clone(), a.targets[g]))
                .collect(),
            duties: w
                .groups
                .iter()
                .enumerate()
                .filter(|(g, _)| a.duties[*g])
                .map(|(_, x)| x.label.clone())
                .collect(),
            groups,
            partners,
            mechanisms,
            sanctions: self.sanctions_on,
            last,
            submitted: town.pending[me].is_some(),
            need_met_last_round: town
                .arm
                .periods
                .last()
                .map(Span::share_met)
                .filter(|x| x.is_finite()),
        })
    }

    /// The room at a glance, for the projector: every town's and arm's rounds so far.
    pub fn frame(&self) -> ClassFrame {
        let arm_rounds =
            |a: &ArmRun| -> Vec<RoundNumbers> { a.periods.iter().map(RoundNumbers::of).collect() };
        let (seated, ready) = self.readiness();
        ClassFrame {
            lesson: self.lesson.name,
            title: self.lesson.title,
            seed: self.seed,
            bot: self.bot.as_str(),
            round: self.round,
            rounds: self.n_rounds(),
            months_per_round: ROUND_TICKS,
            seated,
            ready,
            seats: self
                .seats
                .iter()
                .map(|&i| Named {
                    name: self.agency_name(i).to_string(),
                    label: self.agency_label(i).to_string(),
                })
                .collect(),
            towns: self
                .towns
                .iter()
                .enumerate()
                .map(|(t, town)| TownFrame {
                    town: t + 1,
                    players: self
                        .seats
                        .iter()
                        .map(|&i| SeatState {
                            agency: self.agency_name(i).to_string(),
                            player: town.players[i].as_ref().map(|p| p.name.clone()),
                            submitted: town.pending[i].is_some(),
                        })
                        .collect(),
                    rounds: arm_rounds(&town.arm),
                })
                .collect(),
            ra: arm_rounds(&self.compare[0]),
            bp: arm_rounds(&self.compare[1]),
        }
    }

    /// The debrief: who paid in and who free rode, who dumped on whom, what the clients
    /// got, against the all-RA and all-BP arms on the same draws. Every number is a sum of
    /// `rounds.csv` rows or of the runs' own files.
    pub fn debrief(&self) -> Debrief {
        let mut seats = Vec::new();
        for t in 0..self.towns.len() {
            for &i in &self.seats {
                let rows: Vec<&SeatRound> = self
                    .history
                    .iter()
                    .filter(|r| r.town == t && r.agency == self.agency_name(i))
                    .collect();
                let players: Vec<String> = {
                    let mut v: Vec<String> = Vec::new();
                    for r in &rows {
                        if !r.player.is_empty() && !v.contains(&r.player) {
                            v.push(r.player.clone());
                        }
                    }
                    v
                };
                let paid: f64 = rows.iter().map(|r| r.pool_paid).sum();
                let fair: f64 = rows.iter().map(|r| r.fair_share).sum();
                let member: u32 = rows.iter().map(|r| r.member_months).sum();
                let host: u32 = rows.iter().map(|r| r.host_months).sum();
                let ratio = (fair > 0.0).then(|| paid / fair);
                let verdict = match ratio {
                    None if host > 0 => "hosted",
                    None => "stayed out",
                    Some(r) if r >= 0.95 => "paid its share",
                    Some(r) if r > 0.0 => "paid part",
                    Some(_) => "free rode",
                };
                seats.push(DebriefSeat {
                    town: t + 1,
                    agency: self.agency_name(i).to_string(),
                    label: self.agency_label(i).to_string(),
                    players,
                    rounds_decided: rows.iter().filter(|r| r.decided).count() as u32,
                    pool_paid: paid,
                    fair_share: fair,
                    paid_ratio: ratio,
                    verdict,
                    host_months: host,
                    member_months: member,
                    referrals_out: rows.iter().map(|r| r.referrals_out).sum(),
                    dumped_out: rows.iter().map(|r| r.dumped_out).sum(),
                    dumped_in: rows.iter().map(|r| r.dumped_in).sum(),
                });
            }
        }
        let mut dumping = Vec::new();
        for (t, town) in self.towns.iter().enumerate() {
            let s = &town.arm.run;
            for (from, to, refs, dumped) in s.top_flows() {
                if dumped > 0 {
                    dumping.push(DumpFlow {
                        town: t + 1,
                        from: self.agency_name(from).to_string(),
                        to: self.agency_name(to).to_string(),
                        from_label: self.agency_label(from).to_string(),
                        to_label: self.agency_label(to).to_string(),
                        referrals: refs,
                        dumped,
                    });
                }
            }
        }
        let mut clients: Vec<Clients> = self
            .towns
            .iter()
            .enumerate()
            .map(|(t, town)| Clients::of(format!("town {}", t + 1), &town.arm.run))
            .collect();
        clients.push(Clients::of("all ra".into(), &self.compare[0].run));
        clients.push(Clients::of("all bp".into(), &self.compare[1].run));
        Debrief {
            lesson: self.lesson.name,
            seed: self.seed,
            bot: self.bot.as_str(),
            rounds: self.round,
            months: self.compare[0].sim.world.tick,
            seats,
            dumping,
            clients,
        }
    }
}

/// The class recorded in `dir` (its `class.json` and `decisions.csv`), played again into
/// `out`: the same lesson, seed, bots, seats and levers, the same towns, the same players in
/// the same seats and every student's orders in the round they were given. A class is a
/// pure function of these, so every town's run files and `rounds.csv` come out the same
/// (`tests/class.rs`; `silos replay CLASS_DIR` checks it and says so).
pub fn replay(dir: &std::path::Path, out: &std::path::Path) -> Result<Class, TeachError> {
    let bad = |what: String| TeachError::Class(format!("{}: {what}", dir.display()));
    let setup: serde_json::Value = {
        let p = dir.join("class.json");
        let text = crate::limits::read_text(&p).map_err(|e| bad(format!("class.json: {e}")))?;
        serde_json::from_str(&text).map_err(|e| bad(format!("class.json: {e}")))?
    };
    let field = |k: &str| {
        setup
            .get(k)
            .ok_or_else(|| bad(format!("class.json: no field {k}")))
    };
    let strings = |k: &str| -> Result<Vec<String>, TeachError> {
        field(k)?
            .as_array()
            .ok_or_else(|| bad(format!("class.json: {k} is not a list")))?
            .iter()
            .map(|v| {
                v.as_str()
                    .map(String::from)
                    .ok_or_else(|| bad(format!("class.json: {k} holds a non-text item")))
            })
            .collect()
    };
    let overrides = strings("overrides")?
        .iter()
        .map(|o| Override::parse(o).map_err(|e| bad(format!("class.json: overrides: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let bot = field("bot")?
        .as_str()
        .and_then(Family::parse)
        .ok_or_else(|| bad("class.json: bot is not \"ra\" or \"bp\"".into()))?;
    let opts = ClassOptions {
        lesson: field("lesson")?.as_str().unwrap_or_default().to_string(),
        seed: field("seed")?.as_u64(),
        ticks: field("ticks")?.as_u64().map(|t| t as u32),
        bot,
        seats: Some(strings("seats")?),
        overrides,
        out_dir: out.to_path_buf(),
    };
    // The decisions, by round, town and agency.
    let path = dir.join("decisions.csv");
    let mut rdr = csv::Reader::from_path(&path).map_err(|e| bad(format!("decisions.csv: {e}")))?;
    let head: Vec<String> = rdr
        .headers()
        .map_err(|e| bad(format!("decisions.csv: {e}")))?
        .iter()
        .map(String::from)
        .collect();
    let col = |name: &str| {
        head.iter()
            .position(|h| h == name)
            .ok_or_else(|| bad(format!("decisions.csv: no column {name}")))
    };
    let (c_round, c_town, c_agency, c_player, c_source, c_kind, c_subject, c_choice) = (
        col("round")?,
        col("town")?,
        col("agency")?,
        col("player")?,
        col("source")?,
        col("kind")?,
        col("subject")?,
        col("choice")?,
    );
    // (round, town, agency) -> (player, orders given, any student decision)
    let mut plays: BTreeMap<(u32, usize, String), (String, OrdersInput, bool)> = BTreeMap::new();
    for (line, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| bad(format!("decisions.csv: {e}")))?;
        let at = |c: usize| rec.get(c).unwrap_or_default();
        let num = |c: usize| -> Result<u64, TeachError> {
            at(c).parse().map_err(|_| {
                bad(format!(
                    "decisions.csv line {}: {:?} is not a whole number",
                    line + 2,
                    at(c)
                ))
            })
        };
        let key = (
            num(c_round)? as u32,
            num(c_town)? as usize,
            at(c_agency).to_string(),
        );
        let e = plays
            .entry(key)
            .or_insert_with(|| (at(c_player).to_string(), OrdersInput::default(), false));
        if at(c_source) != "student" {
            continue;
        }
        e.2 = true;
        let (subject, choice) = (at(c_subject).to_string(), at(c_choice));
        let yes = |s: &str| match s {
            "yes" => Ok(true),
            "no" => Ok(false),
            x => Err(bad(format!(
                "decisions.csv line {}: {x:?} is not yes or no",
                line + 2
            ))),
        };
        match at(c_kind) {
            "triage" => {
                let r = match choice.strip_prefix("pass:") {
                    Some(a) => RouteInput::Pass {
                        pass: a.to_string(),
                    },
                    None => RouteInput::Word(choice.to_string()),
                };
                e.1.triage.insert(subject, r);
            }
            "host" => {
                e.1.host.insert(subject, Some(yes(choice)?));
            }
            "join" => {
                e.1.join.insert(subject, Some(yes(choice)?));
            }
            "contribute" => {
                let x: f64 = choice.parse().map_err(|_| {
                    bad(format!(
                        "decisions.csv line {}: {choice:?} is not an amount",
                        line + 2
                    ))
                })?;
                e.1.contribute.insert(subject, Some(x));
            }
            "sanction" => {
                let v = choice
                    .split(';')
                    .filter(|x| !x.is_empty())
                    .map(String::from)
                    .collect();
                e.1.sanction.insert(subject, Some(v));
            }
            "help" => e.1.help = Some(yes(choice)?),
            "agenda" => {
                e.1.agenda.insert(subject, Some(choice.to_string()));
            }
            k => {
                return Err(bad(format!(
                    "decisions.csv line {}: unknown kind {k:?}",
                    line + 2
                )));
            }
        }
    }
    let mut class = Class::new(&opts)?;
    let towns = plays.keys().map(|k| k.1).max().unwrap_or(0);
    for _ in 0..towns {
        class.add_town()?;
    }
    let rounds = plays.keys().map(|k| k.0).max().unwrap_or(0);
    for r in 1..=rounds {
        let this_round = plays
            .range((r, 0, String::new())..)
            .take_while(|(k, _)| k.0 == r);
        for ((_, t, agency), (player, orders, student)) in this_round {
            let Some(i) = (0..class.world().n_agencies()).find(|&i| class.agency_name(i) == agency)
            else {
                return Err(bad(format!(
                    "decisions.csv: no agency {agency:?} in the lesson"
                )));
            };
            let t = t - 1;
            if player.is_empty() {
                class.unseat(t, i);
            } else {
                class.sit(t, i, player)?;
            }
            if *student {
                class
                    .submit(t, i, orders)
                    .map_err(|e| bad(format!("round {r}, town {}, {agency}: {e}", t + 1)))?;
            }
        }
        class.play_round()?;
    }
    Ok(class)
}

fn kind_name(k: MechanismKind) -> &'static str {
    k.as_str()
}

/// Referrals and dumped referrals from `s` to `r` in the last closed round.
fn last_flow(arm: &ArmRun, s: usize, r: usize) -> (u64, u64) {
    arm.periods
        .last()
        .map(|p| {
            let n = p.n_agencies();
            (p.flows[s * n + r], p.dumped_flows[s * n + r])
        })
        .unwrap_or((0, 0))
}

struct LogRow<'a> {
    round: u32,
    first: u32,
    last: u32,
    town: usize,
    agency: usize,
    player: &'a str,
    submissions: u32,
    sanctions_on: bool,
}

/// One row per decision a seat could take this round: the student's order, or `bot`.
fn log_orders(buf: &mut CsvBuf, w: &World, r: &LogRow<'_>, o: Option<&Orders>) {
    let me = r.agency;
    let mut row = |kind: &str, subject: &str, choice: Option<String>| {
        buf.num(r.round as f64)
            .num(r.first as f64)
            .num(r.last as f64)
            .num((r.town + 1) as f64)
            .field(&w.agencies[me].name)
            .field(r.player)
            .field(if choice.is_some() { "student" } else { "bot" })
            .field(kind)
            .field(subject)
            .field(choice.as_deref().unwrap_or("bot"))
            .num(r.submissions as f64);
        buf.end();
    };
    for (g, grp) in w.groups.iter().enumerate() {
        let c = o.and_then(|o| o.triage[g]).map(|x| match x {
            Route::Keep => "keep".to_string(),
            Route::Decline => "decline".to_string(),
            Route::Pass(j) => format!("pass:{}", w.agencies[j].name),
        });
        row("triage", &grp.name, c);
    }
    for (m, mech) in w.mechanisms.iter().enumerate() {
        if !mech.candidates.contains(&me) {
            continue;
        }
        let yn = |b: bool| if b { "yes" } else { "no" }.to_string();
        row("host", &mech.name, o.and_then(|o| o.host[m]).map(yn));
        row("join", &mech.name, o.and_then(|o| o.join[m]).map(yn));
        if mech.kind == MechanismKind::PooledFund {
            row(
                "contribute",
                &mech.name,
                o.and_then(|o| o.contribution[m]).map(num_text),
            );
        }
        if mech.kind == MechanismKind::Forum {
            let c = o
                .and_then(|o| o.agenda[m])
                .map(|g| w.groups[g].name.clone());
            row("agenda", &mech.name, c);
        }
        if r.sanctions_on {
            let c = o.and_then(|o| o.sanction[m].as_ref()).map(|v| {
                v.iter()
                    .map(|&j| w.agencies[j].name.as_str())
                    .collect::<Vec<_>>()
                    .join(";")
            });
            row("sanction", &mech.name, c);
        }
    }
    let help = o
        .and_then(|o| o.help)
        .map(|b| if b { "yes" } else { "no" }.to_string());
    row("help", "-", help);
}

fn write_round(buf: &mut CsvBuf, r: &SeatRound) {
    buf.num(r.round as f64)
        .num((r.town + 1) as f64)
        .field(&r.agency)
        .field(&r.player)
        .field(if r.decided { "true" } else { "false" })
        .num(r.referrals_out as f64)
        .num(r.referrals_in as f64)
        .num(r.dumped_out as f64)
        .num(r.dumped_in as f64)
        .num(r.cases_led as f64)
        .num(r.pool_paid)
        .num(r.fair_share)
        .num(r.host_months as f64)
        .num(r.member_months as f64)
        .num(r.money);
    for d in &r.door {
        buf.num(d.at_door as f64)
            .num(d.kept as f64)
            .num(d.passed as f64)
            .num(d.declined as f64)
            .num(d.by_bot as f64);
    }
    buf.end();
}

#[derive(Debug, Clone, Serialize)]
pub struct Named {
    pub name: String,
    pub label: String,
}

/// An arrangement the seat's agency can take part in.
#[derive(Debug, Clone, Serialize)]
pub struct MechView {
    pub name: String,
    pub label: String,
    pub kind: &'static str,
    /// Who hosts it now (label), if anyone.
    pub host: Option<String>,
    pub you_host: bool,
    pub member: bool,
    pub host_money: f64,
    pub host_staff: f64,
    pub member_staff: f64,
    pub pooled_fund: bool,
    /// The fair contribution a month (k GBP), for pooled funds.
    pub fair_share: f64,
    /// The other agencies that may take part (names).
    pub members: Vec<String>,
}

/// What a partner did last round, as the seat saw it.
#[derive(Debug, Clone, Serialize)]
pub struct PartnerView {
    pub name: String,
    pub label: String,
    pub player: Option<String>,
    pub referred_to_you: u64,
    /// Of those, referrals that count as dumping (the sender shifted its cost to you).
    pub dumped_on_you: u64,
    pub you_referred: u64,
    /// Paid into pooled funds and the fair share asked (seats only; None for a bot-only
    /// agency or before the first round).
    pub paid_into_pools: Option<f64>,
    pub fair_share: Option<f64>,
    /// Arrangements it hosts now.
    pub hosts: Vec<String>,
    /// Whether your agency resents it as a free rider (it bore more of a shared
    /// arrangement's cost than it got of its benefit): only then can you sanction it, when
    /// sanctions are on. Every agency, bot or student, has the same option.
    pub you_resent: bool,
    /// Whether it takes cases (it can be passed people).
    pub takes_cases: bool,
}

/// What a student sees: their agency, its partners and arrangements, and last round.
#[derive(Debug, Clone, Serialize)]
pub struct SeatView {
    pub lesson: &'static str,
    /// The bots' family: how a decision left open is taken.
    pub bot: &'static str,
    pub title: &'static str,
    pub round: u32,
    pub rounds: u32,
    pub month: u32,
    pub months: u32,
    pub town: usize,
    pub agency: usize,
    pub name: String,
    pub label: String,
    pub player: Option<String>,
    pub money: f64,
    pub income: f64,
    pub fixed_costs: f64,
    pub staff: f64,
    /// (group label, target weight).
    pub targets: Vec<(String, f64)>,
    /// Groups it has a statutory duty toward (it cannot refuse them).
    pub duties: Vec<String>,
    pub groups: Vec<Named>,
    pub partners: Vec<PartnerView>,
    pub mechanisms: Vec<MechView>,
    pub sanctions: bool,
    pub last: Option<SeatRound>,
    pub submitted: bool,
    pub need_met_last_round: Option<f64>,
}

/// A round's headline numbers for one town or arm.
#[derive(Debug, Clone, Serialize)]
pub struct RoundNumbers {
    pub need_met: Option<f64>,
    pub arrivals: u64,
    pub fell_through: u64,
    pub referrals: u64,
    pub dumped: u64,
    pub pool_paid: f64,
}

impl RoundNumbers {
    fn of(s: &Span) -> RoundNumbers {
        RoundNumbers {
            need_met: Some(s.share_met()).filter(|x| x.is_finite()),
            arrivals: s.arrivals,
            fell_through: s.fell_through,
            referrals: s.referrals,
            dumped: s.dumped,
            pool_paid: s.agencies.iter().map(|a| a.spend_pool).sum(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SeatState {
    pub agency: String,
    pub player: Option<String>,
    pub submitted: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TownFrame {
    pub town: usize,
    pub players: Vec<SeatState>,
    pub rounds: Vec<RoundNumbers>,
}

/// The projector's view of a class.
#[derive(Debug, Clone, Serialize)]
pub struct ClassFrame {
    pub lesson: &'static str,
    pub title: &'static str,
    pub seed: u64,
    pub bot: &'static str,
    pub round: u32,
    pub rounds: u32,
    pub months_per_round: u32,
    pub seated: usize,
    pub ready: usize,
    pub seats: Vec<Named>,
    pub towns: Vec<TownFrame>,
    pub ra: Vec<RoundNumbers>,
    pub bp: Vec<RoundNumbers>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DebriefSeat {
    pub town: usize,
    pub agency: String,
    pub label: String,
    /// Everyone who played the seat (empty: the bot all along).
    pub players: Vec<String>,
    pub rounds_decided: u32,
    pub pool_paid: f64,
    pub fair_share: f64,
    pub paid_ratio: Option<f64>,
    pub verdict: &'static str,
    pub host_months: u32,
    pub member_months: u32,
    pub referrals_out: u64,
    pub dumped_out: u64,
    pub dumped_in: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct DumpFlow {
    pub town: usize,
    pub from: String,
    pub to: String,
    pub from_label: String,
    pub to_label: String,
    pub referrals: u64,
    pub dumped: u64,
}

/// What the clients got, in a town or an arm, over the rounds played.
#[derive(Debug, Clone, Serialize)]
pub struct Clients {
    pub who: String,
    pub arrivals: u64,
    pub served: u64,
    pub partly_served: u64,
    pub fell_through: u64,
    pub need_met: Option<f64>,
    pub dumped: u64,
}

impl Clients {
    fn of(who: String, s: &Span) -> Clients {
        Clients {
            who,
            arrivals: s.arrivals,
            served: s.served,
            partly_served: s.partly_served,
            fell_through: s.fell_through,
            need_met: Some(s.share_met()).filter(|x| x.is_finite()),
            dumped: s.dumped,
        }
    }
}

/// The end of a class.
#[derive(Debug, Clone, Serialize)]
pub struct Debrief {
    pub lesson: &'static str,
    pub seed: u64,
    pub bot: &'static str,
    pub rounds: u32,
    pub months: u32,
    pub seats: Vec<DebriefSeat>,
    pub dumping: Vec<DumpFlow>,
    pub clients: Vec<Clients>,
}

/// A number as the CSV files write it.
fn num_text(v: f64) -> String {
    let mut s = String::new();
    output::fmt_num(&mut s, v);
    s
}
