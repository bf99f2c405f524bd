//! A seat a person plays: a classroom student's orders standing in for an agency's rule.
//!
//! [`Seat`] wraps the agency's own rule (the *bot*, built by [`super::build`] like any
//! other) and a shared [`SeatLink`] holding the student's [`Orders`] for the current round.
//! Each decision the orders cover is taken from them; everything else, and every decision a
//! student leaves open, is the bot's. With no orders a seat decides exactly as its bot,
//! drawing the same numbers from the agency's stream, so a room where nobody plays is the
//! bot family's arm (tested in `tests/class.rs`).
//!
//! The contract is the one every rule keeps ("Rules read, the engine writes"): a seat returns
//! a decision and the engine applies it, checks it (a referral to an agency that already held
//! the case, a payment beyond what the agency holds, a refusal under a statutory duty) and
//! records it. The engine does not know a seat from a bot. What a student may order is what
//! every rule decides: keep, pass on or refuse a case of each client group (a standing order
//! for the round, as an agency's duty officer would give); host, join or leave each
//! arrangement; what to pay into a pooled fund; whom to sanction; which client group to push
//! a forum's agenda toward; whether to help partners who ask.
//!
//! The link also counts, for the student's view, what reached the agency's door and what
//! the orders did with it (atomics: counting never changes a decision).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use rand_chacha::ChaCha8Rng;

use super::{Behaviour, CaseView, PartnerQuery, ServeRequest, Triage};
use crate::model::{RuleState, World};
use crate::scenario::Family;

/// What to do with a case of one client group at the agency's door.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Take it on as lead agency.
    Keep,
    /// Pass it on to this agency (where the engine allows: one that takes cases and has not
    /// held this one, while referrals are still possible; otherwise the bot decides that
    /// case).
    Pass(usize),
    /// Refuse it (an agency with a statutory duty toward the group cannot; the engine keeps
    /// the case).
    Decline,
}

/// A student's orders for one round. `None` anywhere leaves that decision to the bot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Orders {
    /// Per client group.
    pub triage: Vec<Option<Route>>,
    /// Per mechanism: offer to host it or go on hosting (true), or not.
    pub host: Vec<Option<bool>>,
    /// Per mechanism: be a member this month.
    pub join: Vec<Option<bool>>,
    /// Per mechanism: k GBP a month to pay into its pooled fund.
    pub contribution: Vec<Option<f64>>,
    /// Per mechanism: the fellow members to sanction (when sanctions are on).
    pub sanction: Vec<Option<Vec<usize>>>,
    /// Per mechanism (forums): the client group to push the agenda toward (its whole bid).
    pub agenda: Vec<Option<usize>>,
    /// Put in the work when a partner asks for help on its case.
    pub help: Option<bool>,
}

impl Orders {
    /// No orders: every decision is the bot's.
    pub fn none(n_groups: usize, n_mechanisms: usize) -> Orders {
        Orders {
            triage: vec![None; n_groups],
            host: vec![None; n_mechanisms],
            join: vec![None; n_mechanisms],
            contribution: vec![None; n_mechanisms],
            sanction: vec![None; n_mechanisms],
            agenda: vec![None; n_mechanisms],
            help: None,
        }
    }

    /// Whether every decision is left to the bot.
    pub fn is_empty(&self) -> bool {
        self.triage.iter().all(Option::is_none)
            && self.host.iter().all(Option::is_none)
            && self.join.iter().all(Option::is_none)
            && self.contribution.iter().all(Option::is_none)
            && self.sanction.iter().all(Option::is_none)
            && self.agenda.iter().all(Option::is_none)
            && self.help.is_none()
    }
}

/// The cases an agency held, per client group (each time a case reached its door: on
/// arrival, on referral, or bounced back), and what it decided: keep, pass on, refuse, by
/// the student's orders or by the bot. (The engine may still overrule a decision: a refusal
/// under a statutory duty is kept.)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DoorCounts {
    pub at_door: u64,
    pub kept: u64,
    pub passed: u64,
    pub declined: u64,
    /// Cases the bot decided (no order for the group, or a pass the engine could not make).
    pub by_bot: u64,
}

const DOOR_FIELDS: usize = 5;

/// The student's side of a seat, shared between the server and the seat's rule.
#[derive(Debug)]
pub struct SeatLink {
    orders: RwLock<Orders>,
    /// Per group: `DOOR_FIELDS` counters (see [`DoorCounts`]).
    door: Vec<AtomicU64>,
}

impl SeatLink {
    pub fn new(n_groups: usize, n_mechanisms: usize) -> Arc<SeatLink> {
        Arc::new(SeatLink {
            orders: RwLock::new(Orders::none(n_groups, n_mechanisms)),
            door: (0..n_groups * DOOR_FIELDS)
                .map(|_| AtomicU64::new(0))
                .collect(),
        })
    }

    /// Replace the orders (between months; the engine is not stepping this seat's town).
    pub fn set(&self, o: Orders) {
        match self.orders.write() {
            Ok(mut g) => *g = o,
            Err(p) => *p.into_inner() = o,
        }
    }

    pub fn orders(&self) -> Orders {
        self.read(Orders::clone)
    }

    fn read<R>(&self, f: impl FnOnce(&Orders) -> R) -> R {
        match self.orders.read() {
            Ok(g) => f(&g),
            Err(p) => f(&p.into_inner()),
        }
    }

    /// What reached the door of each group since the last [`take_door`](Self::take_door).
    pub fn take_door(&self) -> Vec<DoorCounts> {
        self.door
            .chunks(DOOR_FIELDS)
            .map(|c| {
                let v: Vec<u64> = c.iter().map(|x| x.swap(0, Ordering::Relaxed)).collect();
                DoorCounts {
                    at_door: v[0],
                    kept: v[1],
                    passed: v[2],
                    declined: v[3],
                    by_bot: v[4],
                }
            })
            .collect()
    }

    fn count(&self, g: usize, field: usize) {
        if let Some(c) = self.door.get(g * DOOR_FIELDS + field) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A played seat: the student's orders where given, the bot's decisions elsewhere.
pub struct Seat {
    bot: Box<dyn Behaviour>,
    link: Arc<SeatLink>,
}

impl Seat {
    pub fn new(bot: Box<dyn Behaviour>, link: Arc<SeatLink>) -> Seat {
        Seat { bot, link }
    }
}

impl Behaviour for Seat {
    fn family(&self) -> Family {
        self.bot.family()
    }

    fn effort(&self, w: &World, me: usize, out: &mut [f64]) {
        self.bot.effort(w, me, out)
    }

    fn triage(&self, w: &World, me: usize, case: &CaseView, rng: &mut ChaCha8Rng) -> Triage {
        let g = case.case.group;
        let order = self.link.read(|o| o.triage.get(g).copied().flatten());
        let d = match order {
            Some(Route::Keep) => Some(Triage::Accept),
            Some(Route::Decline) => Some(Triage::Decline),
            Some(Route::Pass(j))
                if j != me
                    && j < w.n_agencies()
                    && w.referrable(j)
                    && case.can_refer
                    && !case.has_held(j) =>
            {
                Some(Triage::Refer(j))
            }
            Some(Route::Pass(_)) | None => None,
        };
        if d.is_none() {
            self.link.count(g, 4);
        }
        let d = d.unwrap_or_else(|| self.bot.triage(w, me, case, rng));
        self.link.count(g, 0);
        self.link.count(
            g,
            match d {
                Triage::Accept => 1,
                Triage::Refer(_) => 2,
                Triage::Decline => 3,
            },
        );
        d
    }

    fn choose_partner(
        &self,
        w: &World,
        me: usize,
        q: &PartnerQuery,
        rng: &mut ChaCha8Rng,
    ) -> Option<usize> {
        self.bot.choose_partner(w, me, q, rng)
    }

    fn co_serve(&self, w: &World, me: usize, req: &ServeRequest) -> bool {
        self.link
            .read(|o| o.help)
            .unwrap_or_else(|| self.bot.co_serve(w, me, req))
    }

    fn volunteer_to_host(&self, w: &World, me: usize, m: usize, rng: &mut ChaCha8Rng) -> bool {
        self.link
            .read(|o| o.host.get(m).copied().flatten())
            .unwrap_or_else(|| self.bot.volunteer_to_host(w, me, m, rng))
    }

    fn keep_hosting(&self, w: &World, me: usize, m: usize) -> bool {
        self.link
            .read(|o| o.host.get(m).copied().flatten())
            .unwrap_or_else(|| self.bot.keep_hosting(w, me, m))
    }

    fn join(&self, w: &World, me: usize, m: usize) -> bool {
        self.link
            .read(|o| o.join.get(m).copied().flatten())
            .unwrap_or_else(|| self.bot.join(w, me, m))
    }

    fn contribution(&self, w: &World, me: usize, m: usize) -> f64 {
        self.link
            .read(|o| o.contribution.get(m).copied().flatten())
            .unwrap_or_else(|| self.bot.contribution(w, me, m))
    }

    fn sanction(&self, w: &World, me: usize, m: usize, target: usize) -> bool {
        let order = self.link.read(|o| {
            o.sanction
                .get(m)
                .and_then(|s| s.as_ref().map(|v| v.contains(&target)))
        });
        match order {
            Some(b) => b,
            None => self.bot.sanction(w, me, m, target),
        }
    }

    fn budget_bid(&self, w: &World, me: usize) -> f64 {
        self.bot.budget_bid(w, me)
    }

    fn agenda_bid(&self, w: &World, me: usize, m: usize, out: &mut [f64]) {
        match self.link.read(|o| o.agenda.get(m).copied().flatten()) {
            Some(g) if g < out.len() => {
                out.fill(0.0);
                out[g] = 1.0;
            }
            _ => self.bot.agenda_bid(w, me, m, out),
        }
    }

    fn report(&self, w: &World, me: usize, true_attainment: f64, favourable: f64) -> f64 {
        self.bot.report(w, me, true_attainment, favourable)
    }

    fn learn(&self, state: &mut RuleState) {
        self.bot.learn(state)
    }
}
