//! The engine: builds a run from (scenario, seed, behaviour choice), steps it, and hands each
//! tick's state to an observer. A run is a pure function of its inputs; the engine holds no
//! global state and never branches on a behaviour family.

use rand::RngExt;

use crate::behaviour::{self, Behaviour};
use crate::error::InvariantError;
use crate::model::step::{Scratch, Streams};
use crate::model::{AgentSetup, CentreContest, Dispositions, World};
use crate::rng::{self, Stream};
use crate::scenario::{AgencySpec, Family, Scenario};

/// Which behaviour each agency follows in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BehaviourChoice {
    /// Keep the scenario's own: each agency's `behaviour`, else a draw from `[population]`.
    Mixed,
    /// Every agency follows this family.
    All(Family),
}

impl BehaviourChoice {
    pub fn parse(s: &str) -> Option<BehaviourChoice> {
        if s == "mixed" {
            Some(BehaviourChoice::Mixed)
        } else {
            Family::parse(s).map(BehaviourChoice::All)
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BehaviourChoice::Mixed => "mixed",
            BehaviourChoice::All(f) => f.as_str(),
        }
    }
}

/// Each agency's family. Agencies without their own draw from the population shares on the
/// population stream; the same numbers are drawn whatever the choice (see [`setups`]).
pub fn assign_families(s: &Scenario, seed: u64, choice: BehaviourChoice) -> Vec<Family> {
    setups(s, seed, choice).iter().map(|a| a.family).collect()
}

/// Uniform numbers drawn per agency from the population stream, whatever the choice, the
/// scenario or the family: family, lambda, altruism, reciprocity, risk aversion, aspiration.
const DRAWS_PER_AGENCY: usize = 6;

/// Each agency's family, dispositions and search, drawn from the population stream. Six
/// numbers are drawn per agency in a fixed order whatever the choice, and each disposition
/// is the quantile of its family's distribution at its own number, so overriding the
/// behaviour, a distribution or a fixed value moves no other draw. A family with lambda
/// fixed at 0 therefore gives exactly the dispositions that matter (lambda, aspiration) of
/// any other family with lambda 0.
pub fn setups(s: &Scenario, seed: u64, choice: BehaviourChoice) -> Vec<AgentSetup> {
    let mut r = rng::stream(seed, Stream::Population);
    s.agencies
        .iter()
        .map(|a| {
            let mut u = [0.0f64; DRAWS_PER_AGENCY];
            for x in u.iter_mut() {
                *x = r.random();
            }
            let family = match choice {
                BehaviourChoice::All(f) => f,
                BehaviourChoice::Mixed => a.behaviour.unwrap_or_else(|| {
                    let shares = s
                        .population
                        .expect("validated: population present when an agency has no behaviour");
                    let mut acc = 0.0;
                    for (f, sh) in Family::ALL.iter().zip(shares) {
                        acc += sh;
                        if u[0] < acc {
                            return *f;
                        }
                    }
                    // Rounding at the top: the last family with a positive share.
                    Family::ALL
                        .iter()
                        .zip(shares)
                        .rev()
                        .find(|(_, s)| *s > 0.0)
                        .map(|(f, _)| *f)
                        .unwrap_or(Family::Ra)
                }),
            };
            setup(s, a, family, &u)
        })
        .collect()
}

fn setup(s: &Scenario, a: &AgencySpec, family: Family, u: &[f64; DRAWS_PER_AGENCY]) -> AgentSetup {
    let m = s.behaviours.motives(family);
    AgentSetup {
        family,
        disp: Dispositions {
            lambda: a.lambda.unwrap_or_else(|| m.lambda.quantile(u[1])),
            altruism: m.altruism.quantile(u[2]),
            reciprocity: m.reciprocity.quantile(u[3]),
            risk_aversion: a
                .risk_aversion
                .unwrap_or_else(|| m.risk_aversion.quantile(u[4])),
            aspiration: s.search.aspiration.quantile(u[5]),
        },
        search: a.search.unwrap_or(s.search.mode),
    }
}

/// Setups for explicitly given families (tests): the same draws as [`setups`].
pub fn setups_with_families(s: &Scenario, seed: u64, families: &[Family]) -> Vec<AgentSetup> {
    let mut r = rng::stream(seed, Stream::Population);
    s.agencies
        .iter()
        .zip(families)
        .map(|(a, &f)| {
            let mut u = [0.0f64; DRAWS_PER_AGENCY];
            for x in u.iter_mut() {
                *x = r.random();
            }
            setup(s, a, f, &u)
        })
        .collect()
}

/// One run in progress.
pub struct Simulation {
    pub world: World,
    rules: Vec<Box<dyn Behaviour>>,
    streams: Streams,
    scratch: Scratch,
    pub seed: u64,
}

impl Simulation {
    pub fn new(s: &Scenario, seed: u64, choice: BehaviourChoice) -> Simulation {
        Simulation::with_setups(s, seed, &setups(s, seed, choice))
    }

    /// A run with each agency's family given explicitly.
    pub fn with_families(s: &Scenario, seed: u64, families: &[Family]) -> Simulation {
        Simulation::with_setups(s, seed, &setups_with_families(s, seed, families))
    }

    /// A run with each agency's family, dispositions and search given.
    pub fn with_setups(s: &Scenario, seed: u64, setups: &[AgentSetup]) -> Simulation {
        let world = World::new(s, setups);
        let rules = setups
            .iter()
            .map(|a| behaviour::build(a.family, s))
            .collect();
        let streams = Streams::new(seed, s.agencies.len());
        let scratch = Scratch::new(&world);
        Simulation {
            world,
            rules,
            streams,
            scratch,
            seed,
        }
    }

    /// Draw media shocks and the centre's choices (which group each initiative targets)
    /// from streams seeded by `national_seed`, the same in every locality of a national run:
    /// those draws depend only on the scenario's parameters, so every locality sees the same
    /// shocks and initiatives.
    pub fn share_national_streams(&mut self, national_seed: u64) {
        self.streams.shocks = rng::stream(national_seed, Stream::Shocks);
        self.streams.centre = rng::stream(national_seed, Stream::Centre);
    }

    pub fn rules(&self) -> &[Box<dyn Behaviour>] {
        &self.rules
    }

    /// Replace each agency's rule by `f(i, rule)`, before the first tick (a classroom
    /// seat wraps its agency's bot: `behaviour::seat`). The engine still never knows which
    /// rule is which.
    pub fn wrap_rules(
        &mut self,
        mut f: impl FnMut(usize, Box<dyn Behaviour>) -> Box<dyn Behaviour>,
    ) {
        let rules = std::mem::take(&mut self.rules);
        self.rules = rules
            .into_iter()
            .enumerate()
            .map(|(i, r)| f(i, r))
            .collect();
    }

    /// Run the first phases of the next tick (up to casework) and stop there, for tests that
    /// inspect the world as agencies are about to take cases. Follow with nothing but a new
    /// simulation: the tick is not finished.
    pub fn begin_tick_for_inspection(&mut self) {
        self.world
            .begin_tick(&self.rules, &mut self.streams, &mut self.scratch);
    }

    /// The first phase of a tick in a national run: up to the claims of the centre's budget
    /// round, returning this locality's contribution. Follow with
    /// [`share_budgets_and_bid`](Simulation::share_budgets_and_bid) and
    /// [`close_tick`](Simulation::close_tick), passing the sums over every locality; with
    /// the locality's own values the three make exactly one [`step`](Simulation::step).
    pub fn open_tick(&mut self) -> CentreContest {
        self.world.open_tick(&self.rules, &mut self.streams)
    }

    /// The second phase: share the centre's budgets, return this locality's funding bids.
    pub fn share_budgets_and_bid(&mut self, budget: &CentreContest) -> CentreContest {
        self.world.share_budgets_and_bid(budget)
    }

    /// The last phase: funding awards from the centre's `bids`, then the rest of the tick.
    pub fn close_tick(&mut self, bids: &CentreContest) -> Result<(), InvariantError> {
        self.world
            .close_rounds(&self.rules, &mut self.streams, &mut self.scratch, bids);
        self.world
            .finish_tick(&self.rules, &mut self.streams, &mut self.scratch)
    }

    /// Advance one tick and check the invariants.
    pub fn step(&mut self) -> Result<(), InvariantError> {
        self.world
            .step(&self.rules, &mut self.streams, &mut self.scratch)
    }
}

/// Something that watches a run tick by tick (the CSV writer, a summary, a test).
pub trait Observer {
    type Error;
    fn observe(&mut self, w: &World) -> Result<(), Self::Error>;
}

/// An observer that records nothing (benchmarks).
pub struct NoObserver;

impl Observer for NoObserver {
    type Error = std::convert::Infallible;
    fn observe(&mut self, _w: &World) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Why a run stopped early.
#[derive(Debug, thiserror::Error)]
pub enum RunError<E: std::error::Error + 'static> {
    #[error(transparent)]
    Invariant(#[from] InvariantError),
    #[error("output: {0}")]
    Observer(#[source] E),
}

/// Run `ticks` ticks, calling the observer after each. Returns the final world.
pub fn run<O: Observer>(
    sim: &mut Simulation,
    ticks: u32,
    obs: &mut O,
) -> Result<(), RunError<O::Error>>
where
    O::Error: std::error::Error + 'static,
{
    for _ in 0..ticks {
        sim.step()?;
        obs.observe(&sim.world).map_err(RunError::Observer)?;
    }
    Ok(())
}
