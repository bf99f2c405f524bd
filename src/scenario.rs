//! Scenario files: the TOML format users write, and its validation.
//!
//! Two layers: `raw` structs mirror the file one-to-one (serde, unknown fields rejected) and
//! [`Scenario`] is the validated form the model is built from. Every check that can fail
//! returns a [`ScenarioError`] naming the file, the field path, the offending value and what
//! is allowed; nothing is clamped silently. The field reference is `docs/scenarios.md`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::ScenarioError;
use crate::levers::{LeverParams, Levers};
use crate::limits;
use crate::overrides::Override;

/// The default scenario, embedded in the binary (`scenarios/homelessness.toml`).
pub const DEFAULT_SCENARIO: &str = include_str!("../scenarios/homelessness.toml");
/// Name used for the embedded scenario in messages and manifests.
pub const DEFAULT_SCENARIO_NAME: &str = "<embedded>/scenarios/homelessness.toml";

/// Most contacts a bounded agency draws per decision (`search.breadth`).
pub const MAX_BREADTH: usize = 16;
/// Most need dimensions.
pub const MAX_DIMENSIONS: usize = 16;
/// Highest hop limit (each case carries one pre-drawn loss number per hop).
pub const MAX_HOPS: usize = 8;

/// The behaviour family of an agency: which motives it holds. Both families choose by the
/// same procedure from the same options; a family is a set of utility weights and
/// disposition distributions (`[behaviours.ra]`, `[behaviours.bp]`), nothing more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, PartialOrd, Ord)]
pub enum Family {
    /// Rational administration: the shared objective only (lambda 0 by default).
    #[serde(rename = "ra")]
    Ra,
    /// Bureaucratic politics: organisational interest weighted by lambda against the shared
    /// objective.
    #[serde(rename = "bp")]
    Bp,
}

impl Family {
    pub const ALL: [Family; 2] = [Family::Ra, Family::Bp];

    /// The spelling used in scenario files, on the command line and in CSV output.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Ra => "ra",
            Family::Bp => "bp",
        }
    }

    pub fn parse(s: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

/// Why a behaviour name is refused: `ra-bounded` was a family before the choice
/// architecture was unified; bounded search is now an information setting.
pub const BOUNDED_MOVED: &str = "\"ra-bounded\" is no longer a family: bounded search is an information setting \
     (use behaviour \"ra\" with `search.mode = \"bounded\"`, or --set search.mode=bounded)";

/// How an agency searches: every agency that could serve (synoptic) or a few contacts,
/// satisficing against an aspiration (bounded, 001:32). An axis of information, set per
/// agency, independent of motives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SearchMode {
    #[default]
    Synoptic,
    Bounded,
}

impl SearchMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SearchMode::Synoptic => "synoptic",
            SearchMode::Bounded => "bounded",
        }
    }
}

/// A disposition's distribution over agencies: a number (every agency the same), a uniform
/// range `{ low, high }`, or a triangular one `{ low, mode, high }`. Drawn once per agency
/// from the population stream by the inverse of its distribution function, so changing a
/// distribution moves no other draw.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "DistRaw")]
pub enum Dist {
    Fixed(f64),
    Range(DistRange),
}

/// A distribution as written: a number or a table, checked into a [`Dist`] with a message
/// that says what is missing.
#[derive(Deserialize)]
#[serde(
    untagged,
    expecting = "a number, or a table { low, high } or { low, mode, high }"
)]
enum DistRaw {
    Number(f64),
    Table(DistTable),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DistTable {
    low: Option<f64>,
    high: Option<f64>,
    mode: Option<f64>,
}

impl TryFrom<DistRaw> for Dist {
    type Error = String;
    fn try_from(r: DistRaw) -> Result<Dist, String> {
        match r {
            DistRaw::Number(v) => Ok(Dist::Fixed(v)),
            DistRaw::Table(DistTable { low, high, mode }) => match (low, high) {
                (Some(low), Some(high)) => Ok(Dist::Range(DistRange { low, high, mode })),
                _ => Err(
                    "a distribution table needs both `low` and `high` (and optionally `mode`)"
                        .to_string(),
                ),
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DistRange {
    pub low: f64,
    pub high: f64,
    pub mode: Option<f64>,
}

impl Dist {
    /// The value at quantile `u` (0..1).
    pub fn quantile(&self, u: f64) -> f64 {
        match *self {
            Dist::Fixed(v) => v,
            Dist::Range(DistRange {
                low,
                high,
                mode: None,
            }) => low + (high - low) * u,
            Dist::Range(DistRange {
                low,
                high,
                mode: Some(c),
            }) => {
                let w = high - low;
                if w <= 0.0 {
                    return low;
                }
                let f = (c - low) / w;
                if u < f {
                    low + (u * w * (c - low)).sqrt()
                } else {
                    high - ((1.0 - u) * w * (high - c)).sqrt()
                }
            }
        }
    }

    /// The distribution's mean.
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Fixed(v) => v,
            Dist::Range(DistRange { low, high, mode }) => match mode {
                None => 0.5 * (low + high),
                Some(c) => (low + c + high) / 3.0,
            },
        }
    }

    /// Lowest and highest values it can give.
    pub fn bounds(&self) -> (f64, f64) {
        match *self {
            Dist::Fixed(v) => (v, v),
            Dist::Range(r) => (r.low, r.high),
        }
    }
}

/// Where an agency sits (001:85-92).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Central,
    LocalStatutory,
    Voluntary,
    Accommodation,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Central => "central",
            Level::LocalStatutory => "local_statutory",
            Level::Voluntary => "voluntary",
            Level::Accommodation => "accommodation",
        }
    }
}

/// Kind of coordination mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MechanismKind {
    /// Multi-agency forum with an agenda over client groups (001:138, 001:190-194).
    Forum,
    /// Joint protocol / information sharing: cuts referral losses and joint-work overhead (001:150-158).
    Protocol,
    /// Pooled fund: members pay in, the fund pays for members' joint casework (002:342).
    PooledFund,
}

impl MechanismKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MechanismKind::Forum => "forum",
            MechanismKind::Protocol => "protocol",
            MechanismKind::PooledFund => "pooled_fund",
        }
    }
}

/// How a forum turns members' bids into an agenda. A rule of the forum, not of the agents.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgendaRule {
    /// Bids weighted by power raised to `gamma` (001:119, 001:194).
    PowerWeighted,
    /// One member, one vote.
    EqualVotes,
    /// The agenda follows need shares whatever members bid.
    NeedWeighted,
    /// The chair rotates among members tick by tick and sets the agenda by its own bid.
    RotatingChair,
}

impl AgendaRule {
    pub fn as_str(self) -> &'static str {
        match self {
            AgendaRule::PowerWeighted => "power_weighted",
            AgendaRule::EqualVotes => "equal_votes",
            AgendaRule::NeedWeighted => "need_weighted",
            AgendaRule::RotatingChair => "rotating_chair",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Raw file layout
// ---------------------------------------------------------------------------------------------

mod raw {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct File {
        pub scenario: Meta,
        pub dimensions: Vec<String>,
        #[serde(default)]
        pub model: ModelParams,
        #[serde(default)]
        pub power: PowerWeights,
        #[serde(default)]
        pub behaviours: BehaviourParams,
        #[serde(default)]
        pub search: SearchParams,
        #[serde(default)]
        pub population: Option<Population>,
        #[serde(default)]
        pub levers: crate::levers::LeverParams,
        #[serde(default)]
        pub centre: crate::levers::CentreParams,
        pub groups: Vec<Group>,
        pub agencies: Vec<Agency>,
        #[serde(default)]
        pub mechanisms: Vec<Mechanism>,
        #[serde(default)]
        pub localities: Option<Localities>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Localities {
        pub count: u32,
        #[serde(default)]
        pub arrivals: Option<super::Span>,
        #[serde(default)]
        pub income: Option<super::Span>,
        #[serde(default)]
        pub bp_share: Option<super::Span>,
        #[serde(default)]
        pub levers_share: Option<f64>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Meta {
        pub name: String,
        #[serde(default)]
        pub description: String,
        pub ticks: u32,
        pub seed: u64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Population {
        pub shares: BTreeMap<String, f64>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Group {
        pub name: String,
        #[serde(default)]
        pub label: Option<String>,
        pub arrivals: f64,
        pub needs: BTreeMap<String, f64>,
        #[serde(default = "one")]
        pub need_size: f64,
        #[serde(default = "one")]
        pub severity: f64,
        #[serde(default = "half")]
        pub salience: f64,
        #[serde(default)]
        pub risk: f64,
        pub entry: BTreeMap<String, f64>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Agency {
        pub name: String,
        #[serde(default)]
        pub label: Option<String>,
        pub level: Level,
        #[serde(default)]
        pub behaviour: Option<String>,
        #[serde(default)]
        pub lambda: Option<f64>,
        #[serde(default = "centre")]
        pub funder: String,
        pub income: f64,
        #[serde(default)]
        pub reserves: f64,
        #[serde(default)]
        pub fixed_costs: f64,
        pub staff: f64,
        #[serde(default = "reporting")]
        pub reporting_share: f64,
        pub remit: BTreeMap<String, f64>,
        #[serde(default)]
        pub targets: BTreeMap<String, f64>,
        #[serde(default)]
        pub duties: Vec<String>,
        #[serde(default = "half")]
        pub information: f64,
        #[serde(default = "half")]
        pub legitimacy: f64,
        #[serde(default = "half")]
        pub political: f64,
        #[serde(default = "half")]
        pub autonomy: f64,
        #[serde(default)]
        pub risk_aversion: Option<f64>,
        #[serde(default)]
        pub search: Option<SearchMode>,
        #[serde(default)]
        pub throughput_pay: f64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Mechanism {
        pub name: String,
        pub kind: MechanismKind,
        pub candidates: Vec<String>,
        #[serde(default = "two")]
        pub host_money: f64,
        #[serde(default = "two")]
        pub host_staff: f64,
        #[serde(default = "half")]
        pub member_staff: f64,
        #[serde(default = "threat")]
        pub threat: f64,
        #[serde(default = "growth")]
        pub growth: f64,
        #[serde(default = "decay")]
        pub decay: f64,
        #[serde(default)]
        pub initial_depth: f64,
        #[serde(default)]
        pub agenda_rule: Option<AgendaRule>,
        #[serde(default)]
        pub gamma: Option<f64>,
        #[serde(default)]
        pub agenda_pull: Option<f64>,
        #[serde(default)]
        pub pool_share: Option<f64>,
    }

    fn one() -> f64 {
        1.0
    }
    fn two() -> f64 {
        2.0
    }
    fn half() -> f64 {
        0.5
    }
    fn reporting() -> f64 {
        0.1
    }
    fn threat() -> f64 {
        0.3
    }
    fn growth() -> f64 {
        0.1
    }
    fn decay() -> f64 {
        0.05
    }
    fn centre() -> String {
        "centre".to_string()
    }
}

/// Arena-wide model parameters (`[model]`). Defaults and sources: `docs/ODD.md`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ModelParams {
    /// 0 = needs are substitutes (mean of dimensions), 1 = strict complements (minimum).
    pub complementarity: f64,
    /// Need met at or above which a case counts as served.
    pub served_threshold: f64,
    /// Most referrals a case may take before whoever holds it must accept or let it fall.
    pub hop_limit: u32,
    /// Chance a referral loses the case, before any protocol between sender and receiver.
    pub referral_loss: f64,
    /// Share of service effectiveness lost when a case's servers are not joined up.
    pub fragmentation_penalty: f64,
    /// Remit below which an agency does not serve a dimension itself but seeks a partner.
    pub remit_floor: f64,
    /// Money per unit of need served (k GBP).
    pub unit_cost: f64,
    /// Staff-days per unit of need served.
    pub unit_staff: f64,
    /// Staff-days each partner spends per joint case, before any protocol.
    pub joint_overhead: f64,
    /// Shared knowledge gained per joint case between two partners (share of the gap to 1).
    pub knowledge_growth: f64,
    /// Share of shared knowledge lost per tick.
    pub knowledge_decay: f64,
    /// Trust change per favour or refusal.
    pub trust_step: f64,
    /// Share of trust (and resentment) that fades per tick.
    pub trust_decay: f64,
    /// Expected media-salience shocks per tick.
    pub shock_rate: f64,
    /// Salience added by a shock.
    pub shock_size: f64,
    /// Share of excess salience that fades per tick.
    pub salience_decay: f64,
    /// Political capital an agency gains per unit of excess salience of its target groups.
    pub political_gain: f64,
    /// Chance per tick that inspection sees through an agency's gamed report.
    pub detection_rate: f64,
    /// Loss of legitimacy when gaming is detected.
    pub blame_penalty: f64,
    /// Weight on money in the shared objective (need met per unit of case cost).
    pub cost_weight: f64,
    /// Speed at which agencies' estimates of a mechanism's value follow what it achieved.
    pub value_learning: f64,
    /// Share of lost legitimacy regained per tick.
    pub legitimacy_recovery: f64,
    /// Extra cost of serving at the edge of a remit: a unit of need costs
    /// `unit_cost x (1 + edge_cost x (1 - remit))`, so double at remit 0 when 1.
    pub edge_cost: f64,
    /// How strongly a pooled fund joins its members' work per unit of depth (money is a
    /// trigger, not a bond, 002:911).
    pub pool_bond: f64,
    /// Mean join at or above which a multi-need case served by two or more agencies counts
    /// as served jointly (the coordination index).
    pub joint_threshold: f64,
    /// Shape of the fragmentation penalty: service is cut by
    /// `fragmentation_penalty x (1 - join)^fragmentation_exponent`.
    pub fragmentation_exponent: f64,
    /// Months of fixed costs that reserves must cover for no survival pressure.
    pub survival_horizon: f64,
    /// Least weight a forum's agenda gives a member's own share of its value, however far
    /// the agenda is from the member's targets.
    pub agenda_floor: f64,
    /// Exponent of depth in a mechanism's threat to autonomy: `threat x (1 + depth)^this`.
    pub threat_exponent: f64,
    /// Largest pool contribution, as a multiple of the fair share.
    pub max_contribution: f64,
    /// Months of budget an agency keeps before it counts reserves as idle in a budget bid.
    pub reserve_buffer: f64,
    /// Largest budget bid, as a multiple of the formula budget.
    pub max_bid: f64,
    /// How much central control raises the weight on own targets: `x (1 + control_pull x
    /// control)` (000:1125-1126).
    pub control_pull: f64,
    /// Ablation switch: partner work may also use staff time earmarked for the case's
    /// group (by default it uses flexible time only).
    pub partner_uses_earmark: bool,
}

impl Default for ModelParams {
    fn default() -> Self {
        ModelParams {
            complementarity: 0.7,
            served_threshold: 0.75,
            hop_limit: 3,
            referral_loss: 0.1,
            fragmentation_penalty: 0.4,
            remit_floor: 0.3,
            unit_cost: 1.0,
            unit_staff: 1.0,
            joint_overhead: 0.5,
            knowledge_growth: 0.02,
            knowledge_decay: 0.02,
            trust_step: 0.02,
            trust_decay: 0.02,
            shock_rate: 0.1,
            shock_size: 0.5,
            salience_decay: 0.1,
            political_gain: 0.5,
            detection_rate: 0.2,
            blame_penalty: 0.1,
            cost_weight: 0.2,
            value_learning: 0.1,
            legitimacy_recovery: 0.05,
            edge_cost: 1.0,
            pool_bond: 0.5,
            joint_threshold: 0.5,
            fragmentation_exponent: 1.0,
            survival_horizon: 12.0,
            agenda_floor: 0.5,
            threat_exponent: 2.0,
            max_contribution: 2.0,
            reserve_buffer: 3.0,
            max_bid: 2.0,
            control_pull: 1.0,
            partner_uses_earmark: false,
        }
    }
}

/// Weights of the power index (`[power]`), after 001:46 and 001:194.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PowerWeights {
    pub finance: f64,
    pub information: f64,
    pub legitimacy: f64,
    pub political: f64,
    pub leverage: f64,
}

impl Default for PowerWeights {
    fn default() -> Self {
        PowerWeights {
            finance: 0.3,
            information: 0.15,
            legitimacy: 0.2,
            political: 0.2,
            leverage: 0.15,
        }
    }
}

/// The two families' motives (`[behaviours.ra]`, `[behaviours.bp]`): the same fields,
/// different defaults. Both choose by one procedure (`behaviour/`); see docs/ODD.md 7.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BehaviourParams {
    /// A partial table keeps the family's own defaults for the fields it leaves out.
    #[serde(deserialize_with = "ra_motives")]
    pub ra: Motives,
    #[serde(deserialize_with = "bp_motives")]
    pub bp: Motives,
}

fn ra_motives<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Motives, D::Error> {
    Ok(MotivesPatch::deserialize(d)?.onto(Motives::rational_administration()))
}

fn bp_motives<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Motives, D::Error> {
    Ok(MotivesPatch::deserialize(d)?.onto(Motives::bureaucratic_politics()))
}

/// A `[behaviours.*]` table as written: every field optional, laid over the family's
/// defaults.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct MotivesPatch {
    lambda: Option<Dist>,
    altruism: Option<Dist>,
    reciprocity: Option<Dist>,
    risk_aversion: Option<Dist>,
    target_weight: Option<f64>,
    budget_weight: Option<f64>,
    survival_weight: Option<f64>,
    blame_weight: Option<f64>,
    autonomy_weight: Option<f64>,
    turf_weight: Option<f64>,
    workload_weight: Option<f64>,
    resentment_weight: Option<f64>,
    rivalry_weight: Option<f64>,
    target_commitment: Option<f64>,
    target_focus: Option<f64>,
}

impl MotivesPatch {
    fn onto(self, mut m: Motives) -> Motives {
        macro_rules! lay {
            ($($f:ident),*) => { $( if let Some(v) = self.$f { m.$f = v; } )* };
        }
        lay!(
            lambda,
            altruism,
            reciprocity,
            risk_aversion,
            target_weight,
            budget_weight,
            survival_weight,
            blame_weight,
            autonomy_weight,
            turf_weight,
            workload_weight,
            resentment_weight,
            rivalry_weight,
            target_commitment,
            target_focus
        );
        m
    }
}

impl Default for BehaviourParams {
    fn default() -> Self {
        BehaviourParams {
            ra: Motives::rational_administration(),
            bp: Motives::bureaucratic_politics(),
        }
    }
}

impl BehaviourParams {
    pub fn motives(&self, f: Family) -> &Motives {
        match f {
            Family::Ra => &self.ra,
            Family::Bp => &self.bp,
        }
    }
}

/// A family's motives: the weight on organisational interest (`lambda`) and the weights of
/// the organisational-interest terms (seed-001-003 extract, section 1.6.1; brief section 3),
/// plus the distributions from which each agency's dispositions are drawn.
///
/// Utility of an option = (1 - lambda) x shared objective + lambda x organisational
/// interest. With lambda 0 every other field here is multiplied by zero.
#[derive(Debug, Clone, PartialEq)]
pub struct Motives {
    /// Weight on organisational interest against the shared objective (0 = rational
    /// administration exactly). A distribution over the family's agencies.
    pub lambda: Dist,
    /// Residual altruism inside organisational interest (001:160, 001:208).
    pub altruism: Dist,
    /// Reciprocity: weight on matching partners' contributions and repaying favours (001:119).
    pub reciprocity: Dist,
    /// Risk aversion, for agencies that do not give their own `risk_aversion`.
    pub risk_aversion: Dist,
    /// Own targets.
    pub target_weight: f64,
    /// Budget protection.
    pub budget_weight: f64,
    /// Survival: multiplies budget protection as reserves run low.
    pub survival_weight: f64,
    /// Blame risk (scaled by each agency's risk aversion).
    pub blame_weight: f64,
    /// Autonomy loss (scaled by each agency's autonomy value).
    pub autonomy_weight: f64,
    /// Turf and agenda control.
    pub turf_weight: f64,
    /// Workload: staff time spent, per mean case's staff time.
    pub workload_weight: f64,
    /// Resentment of free-riding partners, weighed by a host deciding to go on.
    pub resentment_weight: f64,
    /// Information given to funding rivals in a protocol, per unit of the contestable
    /// share of funding (001:214).
    pub rivalry_weight: f64,
    /// Share of case time an agency with lambda 1 ring-fences for its target groups
    /// (001:226, 003:72); lambda scales it.
    pub target_commitment: f64,
    /// Exponent concentrating earmarks and agenda bids on the heaviest targets.
    pub target_focus: f64,
}

impl Motives {
    /// Rational administration: lambda 0 (the other weights apply only if lambda is raised).
    pub fn rational_administration() -> Motives {
        Motives {
            lambda: Dist::Fixed(0.0),
            ..Motives::bureaucratic_politics()
        }
    }

    /// Bureaucratic politics: organisational interest dominant, with some altruism left
    /// (001:234-238, 001:160). Every number is assumed; docs/ODD.md gives ranges.
    pub fn bureaucratic_politics() -> Motives {
        Motives {
            lambda: Dist::Range(DistRange {
                low: 0.5,
                mode: Some(0.8),
                high: 1.0,
            }),
            altruism: Dist::Range(DistRange {
                low: 0.0,
                mode: Some(0.1),
                high: 0.4,
            }),
            // On the scale of the budget weight per unit of a fair share (see
            // `options::contribution_response`): wide enough that free riders, conditional
            // and unconditional contributors can all arise from the draws, as in public-goods
            // experiments (Fischbacher, Gachter and Fehr 2001). Assumed.
            reciprocity: Dist::Range(DistRange {
                low: 0.0,
                mode: Some(1.0),
                high: 6.0,
            }),
            risk_aversion: Dist::Range(DistRange {
                low: 0.2,
                mode: None,
                high: 0.8,
            }),
            target_weight: 1.0,
            budget_weight: 0.6,
            survival_weight: 1.0,
            blame_weight: 0.5,
            autonomy_weight: 0.5,
            turf_weight: 0.5,
            workload_weight: 0.2,
            resentment_weight: 1.0,
            rivalry_weight: 1.0,
            target_commitment: 0.6,
            target_focus: 2.0,
        }
    }
}

/// `[search]`: the information and search axis, the same for both families.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SearchParams {
    /// Search of agencies without their own `search`.
    pub mode: SearchMode,
    /// Contacts a bounded agency compares per decision (drawn from the agencies that serve
    /// the need in question), besides fellow members of protocols it belongs to.
    pub breadth: u32,
    /// Initial aspiration: the share of a case's need that satisfies a bounded agency.
    pub aspiration: Dist,
    /// Speed at which aspiration follows achievement (001:32).
    pub adapt_rate: f64,
    /// Spread of the logistic choice between taking on a mechanism role and not (hosting),
    /// in case-equivalents: 0 would be a strict best reply.
    pub noise: f64,
    /// Speed at which beliefs follow what an agency observes.
    pub belief_rate: f64,
    /// Prior belief that a partner accepts a referral or agrees to co-serve.
    pub partner_prior: f64,
    /// Prior belief that another candidate hosts a mechanism if this one does not.
    pub others_host_prior: f64,
    /// Prior value of a mechanism, as a multiple of what it costs the arena: a mechanism
    /// must prove its worth.
    pub mechanism_prior: f64,
}

impl Default for SearchParams {
    fn default() -> Self {
        SearchParams {
            mode: SearchMode::Synoptic,
            breadth: 3,
            aspiration: Dist::Fixed(0.5),
            adapt_rate: 0.1,
            noise: 0.25,
            belief_rate: 0.1,
            partner_prior: 0.7,
            others_host_prior: 0.5,
            mechanism_prior: 1.0,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Validated scenario
// ---------------------------------------------------------------------------------------------

/// A validated scenario: names resolved to indices, shares checked, ready to build a world.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub ticks: u32,
    pub seed: u64,
    pub dimensions: Vec<String>,
    pub model: ModelParams,
    pub power: PowerWeights,
    pub behaviours: BehaviourParams,
    /// The information and search axis (`[search]`).
    pub search: SearchParams,
    /// Shares of each family for agencies without their own `behaviour`, in [`Family::ALL`] order.
    pub population: Option<[f64; 2]>,
    pub groups: Vec<GroupSpec>,
    pub agencies: Vec<AgencySpec>,
    pub mechanisms: Vec<MechanismSpec>,
    /// The centre and the policy levers (`[levers]`, `[centre]`).
    pub levers: Levers,
    /// `[localities]`: the arena is a template instantiated this many times under one
    /// centre (a national run, `national.rs`); `None` for a single locality.
    pub localities: Option<Localities>,
}

/// A range `{ low, high }` from which each locality draws a value uniformly.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Span {
    pub low: f64,
    pub high: f64,
}

/// `[localities]`, validated: how many localities, and the variation each draws from the
/// run's seed.
#[derive(Debug, Clone, PartialEq)]
pub struct Localities {
    pub count: u32,
    /// Multiplier on every client group's arrivals (population and deprivation).
    pub arrivals: Span,
    /// Multiplier on local agencies' income and reserves (budgets).
    pub income: Span,
    /// Share of bureaucratic politics in the population (the behaviour mix); `None` keeps
    /// the scenario's `[population]`.
    pub bp_share: Option<Span>,
    /// Share of localities where the scenario's local `[levers]` apply (each locality draws
    /// whether they do); the others run without them. 1 = everywhere.
    pub levers_share: f64,
}

#[derive(Debug, Clone)]
pub struct GroupSpec {
    pub name: String,
    pub label: String,
    pub arrivals: f64,
    /// Chance a case of this group has a need on each dimension.
    pub need_prob: Vec<f64>,
    pub need_size: f64,
    pub severity: f64,
    pub salience: f64,
    pub risk: f64,
    /// Share of cases first presenting at each agency.
    pub entry: Vec<f64>,
}

/// Who pays an agency's income.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Funder {
    Centre,
    Agency(usize),
}

#[derive(Debug, Clone)]
pub struct AgencySpec {
    pub name: String,
    pub label: String,
    pub level: Level,
    pub behaviour: Option<Family>,
    /// Fixed lambda for this agency (else drawn from its family's distribution).
    pub lambda: Option<f64>,
    /// Search for this agency (else `[search].mode`).
    pub search: Option<SearchMode>,
    pub funder: Funder,
    pub income: f64,
    pub reserves: f64,
    pub fixed_costs: f64,
    pub staff: f64,
    pub reporting_share: f64,
    pub remit: Vec<f64>,
    /// Target weights over groups, normalised to sum 1 (all zero if the agency has none).
    pub targets: Vec<f64>,
    pub duties: Vec<bool>,
    pub information: f64,
    pub legitimacy: f64,
    pub political: f64,
    pub autonomy: f64,
    /// Fixed risk aversion for this agency (else drawn from its family's distribution).
    pub risk_aversion: Option<f64>,
    pub throughput_pay: f64,
}

#[derive(Debug, Clone)]
pub struct MechanismSpec {
    pub name: String,
    pub kind: MechanismKind,
    pub candidates: Vec<usize>,
    pub host_money: f64,
    pub host_staff: f64,
    pub member_staff: f64,
    pub threat: f64,
    pub growth: f64,
    pub decay: f64,
    pub initial_depth: f64,
    pub agenda_rule: AgendaRule,
    pub gamma: f64,
    pub agenda_pull: f64,
    pub pool_share: f64,
}

impl Scenario {
    /// Read and validate a scenario file.
    pub fn from_path(path: &Path) -> Result<Scenario, ScenarioError> {
        let file = path.display().to_string();
        let text = limits::read_text(path).map_err(|message| ScenarioError::Io {
            file: file.clone(),
            message,
        })?;
        Scenario::from_toml_str(&text, &file)
    }

    /// The embedded default scenario.
    pub fn default_scenario() -> Scenario {
        Scenario::from_toml_str(DEFAULT_SCENARIO, DEFAULT_SCENARIO_NAME)
            .expect("the embedded default scenario is validated by the test suite")
    }

    /// Parse and validate TOML text; `file` names the source in error messages.
    pub fn from_toml_str(text: &str, file: &str) -> Result<Scenario, ScenarioError> {
        Scenario::from_toml_str_with(text, file, &[])
    }

    /// Parse, apply `--set` overrides, and validate. Without overrides, parse errors carry
    /// the file's line and column; with them, the override is named in every message.
    pub fn from_toml_str_with(
        text: &str,
        file: &str,
        overrides: &[Override],
    ) -> Result<Scenario, ScenarioError> {
        let parse_err = |file: &str, e: toml::de::Error| ScenarioError::Parse {
            file: file.to_string(),
            message: e.to_string(),
        };
        if overrides.is_empty() {
            let raw: raw::File = toml::from_str(text).map_err(|e| parse_err(file, e))?;
            return Validator { file }.validate(raw);
        }
        let mut table: toml::Table = toml::from_str(text).map_err(|e| parse_err(file, e))?;
        for o in overrides {
            crate::overrides::apply(&mut table, o, file)?;
        }
        let sets: Vec<&str> = overrides.iter().map(|o| o.text.as_str()).collect();
        let label = format!("{file} (with --set {})", sets.join(" --set "));
        let raw: raw::File = raw::File::deserialize(table).map_err(|e| parse_err(&label, e))?;
        Validator { file: &label }.validate(raw)
    }
}

struct Validator<'a> {
    file: &'a str,
}

impl Validator<'_> {
    fn err(
        &self,
        field: impl Into<String>,
        value: impl ToString,
        allowed: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError::Invalid {
            file: self.file.to_string(),
            field: field.into(),
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }

    fn finite(&self, field: &str, v: f64) -> Result<f64, ScenarioError> {
        if v.is_finite() {
            Ok(v)
        } else {
            Err(self.err(field, v, "a finite number"))
        }
    }

    fn non_negative(&self, field: &str, v: f64) -> Result<f64, ScenarioError> {
        if v.is_finite() && v >= 0.0 {
            Ok(v)
        } else {
            Err(self.err(field, v, "a number >= 0"))
        }
    }

    fn positive(&self, field: &str, v: f64) -> Result<f64, ScenarioError> {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(self.err(field, v, "a number > 0"))
        }
    }

    /// A number from 0 to `max` (`what` names the unit in the message), for the magnitudes
    /// the engine bounds (`limits.rs`): money, staff, need.
    fn up_to(&self, field: &str, v: f64, max: f64, what: &str) -> Result<f64, ScenarioError> {
        if v.is_finite() && (0.0..=max).contains(&v) {
            Ok(v)
        } else {
            Err(self.err(
                field,
                v,
                format!("a number >= 0 and at most {max:e} ({what})"),
            ))
        }
    }

    /// A money field: from 0 to [`limits::MAX_MONEY`] k GBP.
    fn money(&self, field: &str, v: f64) -> Result<f64, ScenarioError> {
        self.up_to(
            field,
            v,
            limits::MAX_MONEY,
            "k GBP; the ledger holds money in i64 micro-units",
        )
    }

    fn unit(&self, field: &str, v: f64) -> Result<f64, ScenarioError> {
        if v.is_finite() && (0.0..=1.0).contains(&v) {
            Ok(v)
        } else {
            Err(self.err(field, v, "a number from 0 to 1"))
        }
    }

    fn name(&self, field: &str, v: &str) -> Result<(), ScenarioError> {
        let ok = crate::names::is_name(v) && v != "centre" && v != "all";
        if ok {
            Ok(())
        } else {
            Err(self.err(
                field,
                format!("{v:?}"),
                format!("{} (not \"centre\" or \"all\")", crate::names::NAME_RULE),
            ))
        }
    }

    /// Resolve a table keyed by names into a dense vector; unknown keys are errors.
    fn keyed(
        &self,
        field: &str,
        map: &BTreeMap<String, f64>,
        names: &[String],
        what: &str,
        check: impl Fn(&str, f64) -> Result<f64, ScenarioError>,
    ) -> Result<Vec<f64>, ScenarioError> {
        let mut out = vec![0.0; names.len()];
        for (k, &v) in map {
            let Some(i) = names.iter().position(|n| n == k) else {
                return Err(self.err(
                    format!("{field}.{k}"),
                    k,
                    format!("one of the {what}: {}", names.join(", ")),
                ));
            };
            out[i] = check(&format!("{field}.{k}"), v)?;
        }
        Ok(out)
    }

    fn shares_sum_to_one(&self, field: &str, v: &[f64]) -> Result<(), ScenarioError> {
        let s: f64 = v.iter().sum();
        if (s - 1.0).abs() > 1e-6 {
            return Err(self.err(
                field,
                format!("shares summing to {s}"),
                "shares that sum to 1 (within 1e-6)",
            ));
        }
        Ok(())
    }

    fn validate(&self, raw: raw::File) -> Result<Scenario, ScenarioError> {
        let meta = raw.scenario;
        // The name starts a run's default folder name (output/<name>-seed...).
        if !crate::names::is_name(&meta.name) {
            return Err(self.err(
                "scenario.name",
                format!("{:?}", meta.name),
                crate::names::NAME_RULE,
            ));
        }
        if meta.ticks == 0 {
            return Err(self.err("scenario.ticks", 0, "a whole number of ticks >= 1"));
        }
        if meta.ticks > limits::MAX_TICKS {
            return Err(self.err(
                "scenario.ticks",
                meta.ticks,
                format!(
                    "a whole number of ticks >= 1 and at most {}",
                    limits::MAX_TICKS
                ),
            ));
        }
        // Dimensions.
        if raw.dimensions.is_empty() || raw.dimensions.len() > MAX_DIMENSIONS {
            return Err(self.err(
                "dimensions",
                raw.dimensions.len(),
                format!("between 1 and {MAX_DIMENSIONS} need dimensions"),
            ));
        }
        for (i, d) in raw.dimensions.iter().enumerate() {
            self.name(&format!("dimensions[{i}]"), d)?;
            if raw.dimensions[..i].contains(d) {
                return Err(self.err(format!("dimensions[{i}]"), d, "names that appear once"));
            }
        }
        let dims = raw.dimensions.clone();
        self.model(&raw.model)?;
        self.power(&raw.power)?;
        self.behaviours(&raw.behaviours)?;
        self.search(&raw.search)?;

        // Agency names first: groups and mechanisms refer to them.
        if raw.agencies.is_empty() {
            return Err(self.err("agencies", 0, "at least one agency"));
        }
        let mut agency_names: Vec<String> = Vec::new();
        for (i, a) in raw.agencies.iter().enumerate() {
            self.name(&format!("agencies[{i}].name"), &a.name)?;
            if agency_names.contains(&a.name) {
                return Err(self.err(
                    format!("agencies[{i}].name"),
                    &a.name,
                    "a name no other agency has",
                ));
            }
            agency_names.push(a.name.clone());
        }
        if raw.groups.is_empty() {
            return Err(self.err("groups", 0, "at least one client group"));
        }
        let mut group_names: Vec<String> = Vec::new();
        for (i, g) in raw.groups.iter().enumerate() {
            self.name(&format!("groups[{i}].name"), &g.name)?;
            if group_names.contains(&g.name) {
                return Err(self.err(
                    format!("groups[{i}].name"),
                    &g.name,
                    "a name no other group has",
                ));
            }
            group_names.push(g.name.clone());
        }

        let mut groups = Vec::new();
        for (i, g) in raw.groups.iter().enumerate() {
            let f = format!("groups[{i}]");
            let need_prob = self.keyed(
                &format!("{f}.needs"),
                &g.needs,
                &dims,
                "dimensions",
                |p, v| self.unit(p, v),
            )?;
            if need_prob.iter().all(|&p| p == 0.0) {
                return Err(self.err(
                    format!("{f}.needs"),
                    "no need above 0",
                    "at least one dimension with a chance > 0",
                ));
            }
            let entry = self.keyed(
                &format!("{f}.entry"),
                &g.entry,
                &agency_names,
                "agencies",
                |p, v| self.unit(p, v),
            )?;
            self.shares_sum_to_one(&format!("{f}.entry"), &entry)?;
            groups.push(GroupSpec {
                name: g.name.clone(),
                label: g.label.clone().unwrap_or_else(|| g.name.clone()),
                arrivals: self.up_to(
                    &format!("{f}.arrivals"),
                    g.arrivals,
                    limits::MAX_ARRIVALS,
                    "expected cases per tick",
                )?,
                need_prob,
                need_size: self
                    .positive(&format!("{f}.need_size"), g.need_size)
                    .and_then(|v| {
                        self.up_to(
                            &format!("{f}.need_size"),
                            v,
                            limits::MAX_AMOUNT,
                            "need units",
                        )
                    })?,
                severity: self.positive(&format!("{f}.severity"), g.severity)?,
                salience: self.non_negative(&format!("{f}.salience"), g.salience)?,
                risk: self.unit(&format!("{f}.risk"), g.risk)?,
                entry,
            });
        }

        let mut agencies = Vec::new();
        for (i, a) in raw.agencies.iter().enumerate() {
            let f = format!("agencies[{i}]");
            let behaviour = match &a.behaviour {
                None => None,
                Some(b) => Some(Family::parse(b).ok_or_else(|| {
                    self.err(
                        format!("{f}.behaviour"),
                        format!("{b:?}"),
                        if b == "ra-bounded" {
                            BOUNDED_MOVED
                        } else {
                            "one of \"ra\", \"bp\""
                        },
                    )
                })?),
            };
            let funder = if a.funder == "centre" {
                Funder::Centre
            } else {
                match agency_names.iter().position(|n| *n == a.funder) {
                    Some(j) if j != i => Funder::Agency(j),
                    Some(_) => {
                        return Err(self.err(
                            format!("{f}.funder"),
                            &a.funder,
                            "\"centre\" or another agency",
                        ));
                    }
                    None => {
                        return Err(self.err(
                            format!("{f}.funder"),
                            &a.funder,
                            format!(
                                "\"centre\" or one of the agencies: {}",
                                agency_names.join(", ")
                            ),
                        ));
                    }
                }
            };
            let remit = self.keyed(
                &format!("{f}.remit"),
                &a.remit,
                &dims,
                "dimensions",
                |p, v| self.unit(p, v),
            )?;
            let mut targets = self.keyed(
                &format!("{f}.targets"),
                &a.targets,
                &group_names,
                "groups",
                |p, v| self.non_negative(p, v),
            )?;
            let total: f64 = targets.iter().sum();
            if total > 0.0 {
                targets.iter_mut().for_each(|t| *t /= total);
            }
            let mut duties = vec![false; group_names.len()];
            for (k, d) in a.duties.iter().enumerate() {
                match group_names.iter().position(|n| n == d) {
                    Some(g) => duties[g] = true,
                    None => {
                        return Err(self.err(
                            format!("{f}.duties[{k}]"),
                            d,
                            format!("one of the groups: {}", group_names.join(", ")),
                        ));
                    }
                }
            }
            if !(a.reporting_share.is_finite() && (0.0..1.0).contains(&a.reporting_share)) {
                return Err(self.err(
                    format!("{f}.reporting_share"),
                    a.reporting_share,
                    "a share from 0 to below 1",
                ));
            }
            agencies.push(AgencySpec {
                name: a.name.clone(),
                label: a.label.clone().unwrap_or_else(|| a.name.clone()),
                level: a.level,
                behaviour,
                lambda: match a.lambda {
                    Some(l) => Some(self.unit(&format!("{f}.lambda"), l)?),
                    None => None,
                },
                funder,
                income: self.money(&format!("{f}.income"), a.income)?,
                reserves: self.money(&format!("{f}.reserves"), a.reserves)?,
                fixed_costs: self.money(&format!("{f}.fixed_costs"), a.fixed_costs)?,
                staff: self.up_to(
                    &format!("{f}.staff"),
                    a.staff,
                    limits::MAX_AMOUNT,
                    "staff-days per tick",
                )?,
                reporting_share: a.reporting_share,
                remit,
                targets,
                duties,
                information: self.unit(&format!("{f}.information"), a.information)?,
                legitimacy: self.unit(&format!("{f}.legitimacy"), a.legitimacy)?,
                political: self.unit(&format!("{f}.political"), a.political)?,
                autonomy: self.unit(&format!("{f}.autonomy"), a.autonomy)?,
                risk_aversion: match a.risk_aversion {
                    Some(r) => Some(self.unit(&format!("{f}.risk_aversion"), r)?),
                    None => None,
                },
                search: a.search,
                throughput_pay: self.money(&format!("{f}.throughput_pay"), a.throughput_pay)?,
            });
        }
        // Funding chains must end at the centre.
        for (i, a) in agencies.iter().enumerate() {
            let mut seen = vec![false; agencies.len()];
            let mut cur = a.funder;
            while let Funder::Agency(j) = cur {
                if seen[j] {
                    return Err(self.err(
                        format!("agencies[{i}].funder"),
                        &raw.agencies[i].funder,
                        "a funding chain that ends at \"centre\" (this one loops)",
                    ));
                }
                seen[j] = true;
                cur = agencies[j].funder;
            }
        }

        let population = match &raw.population {
            None => None,
            Some(p) => {
                let mut shares = [0.0; 2];
                for (k, &v) in &p.shares {
                    let Some(fam) = Family::parse(k) else {
                        return Err(self.err(
                            format!("population.shares.{k}"),
                            k,
                            if k == "ra-bounded" {
                                BOUNDED_MOVED
                            } else {
                                "one of \"ra\", \"bp\""
                            },
                        ));
                    };
                    let idx = Family::ALL
                        .iter()
                        .position(|f| *f == fam)
                        .expect("family listed");
                    shares[idx] = self.unit(&format!("population.shares.{k}"), v)?;
                }
                self.shares_sum_to_one("population.shares", &shares)?;
                Some(shares)
            }
        };
        if population.is_none()
            && let Some(i) = agencies.iter().position(|a| a.behaviour.is_none())
        {
            return Err(self.err(
                format!("agencies[{i}].behaviour"),
                "missing",
                "a behaviour (\"ra\" or \"bp\") for every agency, or a [population] table of shares",
            ));
        }

        let mut mechanisms = Vec::new();
        for (i, m) in raw.mechanisms.iter().enumerate() {
            let f = format!("mechanisms[{i}]");
            self.name(&format!("{f}.name"), &m.name)?;
            if raw.mechanisms[..i].iter().any(|o| o.name == m.name) {
                return Err(self.err(
                    format!("{f}.name"),
                    &m.name,
                    "a name no other mechanism has",
                ));
            }
            let mut candidates = Vec::new();
            for (k, c) in m.candidates.iter().enumerate() {
                match agency_names.iter().position(|n| n == c) {
                    Some(j) if !candidates.contains(&j) => candidates.push(j),
                    Some(_) => {
                        return Err(self.err(
                            format!("{f}.candidates[{k}]"),
                            c,
                            "each agency listed once",
                        ));
                    }
                    None => {
                        return Err(self.err(
                            format!("{f}.candidates[{k}]"),
                            c,
                            format!("one of the agencies: {}", agency_names.join(", ")),
                        ));
                    }
                }
            }
            if candidates.len() < 2 {
                return Err(self.err(
                    format!("{f}.candidates"),
                    candidates.len(),
                    "at least two agencies",
                ));
            }
            let forum_only = |field: &str, present: bool| -> Result<(), ScenarioError> {
                if present && m.kind != MechanismKind::Forum {
                    return Err(self.err(
                        format!("{f}.{field}"),
                        format!("set on a mechanism of kind {:?}", m.kind.as_str()),
                        "only on mechanisms of kind \"forum\"",
                    ));
                }
                Ok(())
            };
            forum_only("agenda_rule", m.agenda_rule.is_some())?;
            forum_only("gamma", m.gamma.is_some())?;
            forum_only("agenda_pull", m.agenda_pull.is_some())?;
            if m.pool_share.is_some() && m.kind != MechanismKind::PooledFund {
                return Err(self.err(
                    format!("{f}.pool_share"),
                    format!("set on a mechanism of kind {:?}", m.kind.as_str()),
                    "only on mechanisms of kind \"pooled_fund\"",
                ));
            }
            mechanisms.push(MechanismSpec {
                name: m.name.clone(),
                kind: m.kind,
                candidates,
                host_money: self.money(&format!("{f}.host_money"), m.host_money)?,
                host_staff: self.up_to(
                    &format!("{f}.host_staff"),
                    m.host_staff,
                    limits::MAX_AMOUNT,
                    "staff-days per tick",
                )?,
                member_staff: self.up_to(
                    &format!("{f}.member_staff"),
                    m.member_staff,
                    limits::MAX_AMOUNT,
                    "staff-days per tick",
                )?,
                threat: self.unit(&format!("{f}.threat"), m.threat)?,
                growth: self.unit(&format!("{f}.growth"), m.growth)?,
                decay: self.unit(&format!("{f}.decay"), m.decay)?,
                initial_depth: self.unit(&format!("{f}.initial_depth"), m.initial_depth)?,
                agenda_rule: m.agenda_rule.unwrap_or(AgendaRule::PowerWeighted),
                gamma: self.non_negative(&format!("{f}.gamma"), m.gamma.unwrap_or(1.0))?,
                agenda_pull: self
                    .unit(&format!("{f}.agenda_pull"), m.agenda_pull.unwrap_or(0.3))?,
                pool_share: self.unit(&format!("{f}.pool_share"), m.pool_share.unwrap_or(0.05))?,
            });
        }

        let in_casework: Vec<bool> = (0..agencies.len())
            .map(|i| {
                agencies[i]
                    .remit
                    .iter()
                    .any(|&r| r >= raw.model.remit_floor && r > 0.0)
                    || groups.iter().any(|g: &GroupSpec| g.entry[i] > 0.0)
            })
            .collect();
        let levers = self.levers(
            &raw.levers,
            &raw.centre,
            &agencies,
            &in_casework,
            &mechanisms,
            &group_names,
        )?;

        let localities = match &raw.localities {
            None => None,
            Some(l) => Some(self.localities(l, population.is_some())?),
        };
        // Expected arrivals per tick in a locality, over all groups, within what a run can
        // do (`limits::MAX_ARRIVALS`): named by the largest group.
        let hi = localities.as_ref().map_or(1.0, |l| l.arrivals.high);
        let total: f64 = groups.iter().map(|g| g.arrivals).sum::<f64>() * hi;
        if total > limits::MAX_ARRIVALS {
            let (i, g) = groups
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.arrivals.total_cmp(&b.1.arrivals))
                .expect("at least one group");
            return Err(self.err(
                format!("groups[{i}].arrivals"),
                g.arrivals,
                format!(
                    "expected arrivals summed over groups (x the localities' highest arrivals multiplier, {hi}) of at most {:e} per tick; they sum to {total:e}",
                    limits::MAX_ARRIVALS
                ),
            ));
        }
        let scenario = Scenario {
            localities,
            name: meta.name,
            description: meta.description,
            ticks: meta.ticks,
            seed: meta.seed,
            dimensions: dims,
            model: raw.model,
            power: raw.power,
            behaviours: raw.behaviours,
            search: raw.search,
            population,
            groups,
            agencies,
            mechanisms,
            levers,
        };
        // The worst-case money a run pays out must fit the ledger (`limits::money_excess`).
        if let Some(x) = limits::money_excess(&scenario, scenario.ticks) {
            return Err(self.err(x.field.clone(), x.value, x.allowed(scenario.ticks)));
        }
        Ok(scenario)
    }

    fn localities(
        &self,
        l: &raw::Localities,
        has_population: bool,
    ) -> Result<Localities, ScenarioError> {
        if l.count == 0 {
            return Err(self.err("localities.count", 0, "a whole number of at least 1"));
        }
        if l.count > limits::MAX_LOCALITIES {
            return Err(self.err(
                "localities.count",
                l.count,
                format!(
                    "a whole number of at least 1 and at most {}",
                    limits::MAX_LOCALITIES
                ),
            ));
        }
        let span =
            |field: &str, s: Option<Span>, lo: f64, hi: f64| -> Result<Span, ScenarioError> {
                let s = s.unwrap_or(Span {
                    low: 1.0,
                    high: 1.0,
                });
                if !(s.low.is_finite()
                    && s.high.is_finite()
                    && lo <= s.low
                    && s.low <= s.high
                    && s.high <= hi)
                {
                    return Err(self.err(
                        field,
                        format!("{{ low = {}, high = {} }}", s.low, s.high),
                        format!("{{ low, high }} with {lo} <= low <= high <= {hi}"),
                    ));
                }
                Ok(s)
            };
        let arrivals = span("localities.arrivals", l.arrivals, 0.0, 100.0)?;
        let income = span("localities.income", l.income, 0.0, 100.0)?;
        let bp_share = match l.bp_share {
            None => None,
            Some(s) => {
                if !has_population {
                    return Err(self.err(
                        "localities.bp_share",
                        format!("{{ low = {}, high = {} }}", s.low, s.high),
                        "a [population] table as well (the share replaces its bp share)",
                    ));
                }
                Some(span("localities.bp_share", Some(s), 0.0, 1.0)?)
            }
        };
        let levers_share = l.levers_share.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&levers_share) {
            return Err(self.err(
                "localities.levers_share",
                levers_share,
                "a share from 0 to 1",
            ));
        }
        Ok(Localities {
            count: l.count,
            arrivals,
            income,
            bp_share,
            levers_share,
        })
    }

    fn levers(
        &self,
        p: &LeverParams,
        c: &crate::levers::CentreParams,
        agencies: &[AgencySpec],
        in_casework: &[bool],
        mechanisms: &[MechanismSpec],
        group_names: &[String],
    ) -> Result<Levers, ScenarioError> {
        self.unit("levers.pooled_budget_share", p.pooled_budget_share)?;
        self.unit("levers.shared_target_weight", p.shared_target_weight)?;
        self.unit(
            "levers.duty_to_cooperate.enforcement",
            p.duty_to_cooperate.enforcement,
        )?;
        self.money(
            "levers.duty_to_cooperate.sanction",
            p.duty_to_cooperate.sanction,
        )?;
        self.money("levers.duty_to_cooperate.cost", p.duty_to_cooperate.cost)?;
        self.unit("levers.host_reimbursement", p.host_reimbursement)?;
        self.unit(
            "levers.referral_inspection.detection",
            p.referral_inspection.detection,
        )?;
        self.money(
            "levers.referral_inspection.charge",
            p.referral_inspection.charge,
        )?;
        self.money(
            "levers.referral_inspection.cost",
            p.referral_inspection.cost,
        )?;
        self.unit("levers.control", p.control)?;
        self.non_negative("levers.blame", p.blame)?;
        self.non_negative("levers.salience_pressure", p.salience_pressure)?;
        let cascade = self.finite("levers.cascade", p.cascade)?;
        if cascade < 1.0 {
            return Err(self.err(
                "levers.cascade",
                cascade,
                "a number >= 1 (frontline targets per headline target)",
            ));
        }
        if p.active_from == 0 {
            return Err(self.err(
                "levers.active_from",
                0,
                "a tick number >= 1 (ticks count from 1)",
            ));
        }
        if let Some(u) = p.active_until
            && u < p.active_from
        {
            return Err(self.err(
                "levers.active_until",
                u,
                format!("a tick number >= levers.active_from ({})", p.active_from),
            ));
        }
        if c.funding_period == 0 {
            return Err(self.err("centre.funding_period", 0, "a whole number of ticks >= 1"));
        }
        self.unit("centre.contestable_share", c.contestable_share)?;
        self.non_negative("centre.bid_staff", c.bid_staff)?;
        self.non_negative("centre.cascade_elasticity", c.cascade_elasticity)?;
        self.non_negative("centre.initiative_staff", c.initiative_staff)?;
        if c.initiative_period == 0 {
            return Err(self.err(
                "centre.initiative_period",
                0,
                "a whole number of ticks >= 1",
            ));
        }
        self.unit("centre.initiative_weight", c.initiative_weight)?;
        self.non_negative("centre.plan_staff", c.plan_staff)?;
        self.unit("centre.funder_target_weight", c.funder_target_weight)?;
        if p.initiatives as f64 * c.initiative_weight > 1.0 {
            return Err(self.err(
                "levers.initiatives",
                p.initiatives,
                format!(
                    "at most {} initiatives at centre.initiative_weight = {} (their pulls on targets must sum to 1 or less)",
                    (1.0 / c.initiative_weight.max(1e-12)).floor(),
                    c.initiative_weight
                ),
            ));
        }
        let mut levers = Levers {
            p: p.clone(),
            centre: c.clone(),
            convene: Vec::new(),
            steer_host: None,
            prices: Vec::new(),
        };
        let agency_names: Vec<String> = agencies.iter().map(|a| a.name.clone()).collect();
        let lookup = |field: String, v: &Option<String>, names: &[String], what: &str| match v {
            None => Ok(None),
            Some(n) => names.iter().position(|x| x == n).map(Some).ok_or_else(|| {
                self.err(field, n, format!("one of the {what}: {}", names.join(", ")))
            }),
        };
        for (k, pr) in p.prices.iter().enumerate() {
            let f = format!("levers.prices[{k}]");
            let amount = self.finite(&format!("{f}.amount"), pr.amount)?;
            if amount.abs() > 1e6 {
                return Err(self.err(
                    format!("{f}.amount"),
                    amount,
                    "a number from -1000000 to 1000000 (k GBP)",
                ));
            }
            levers.prices.push(crate::levers::Price {
                on: pr.on,
                sender: lookup(format!("{f}.sender"), &pr.sender, &agency_names, "agencies")?,
                receiver: lookup(
                    format!("{f}.receiver"),
                    &pr.receiver,
                    &agency_names,
                    "agencies",
                )?,
                group: lookup(format!("{f}.group"), &pr.group, group_names, "groups")?,
                amount,
            });
        }
        self.money("levers.sanctions.fine", p.sanctions.fine)?;
        self.money("levers.sanctions.cost", p.sanctions.cost)?;
        // Reporting must leave staff time: reporting_share x (cascade^e + control) < 1.
        let mult = levers.reporting_multiplier();
        for (i, a) in agencies.iter().enumerate() {
            // Only agencies in casework carry the cascade (see model/centre.rs).
            if in_casework[i] && a.reporting_share * mult >= 1.0 {
                return Err(self.err(
                    "levers.cascade",
                    format!("{cascade} with control {}", p.control),
                    format!(
                        "a cascade and control that leave agencies[{i}] ({}) staff time: reporting_share {} x (cascade^{} + control) must be below 1",
                        a.name, a.reporting_share, c.cascade_elasticity
                    ),
                ));
            }
        }
        let mech_names: Vec<&str> = mechanisms.iter().map(|m| m.name.as_str()).collect();
        for (k, name) in p.steer.convene.iter().enumerate() {
            match mech_names.iter().position(|n| n == name) {
                Some(m) if !levers.convene.contains(&m) => levers.convene.push(m),
                Some(_) => {
                    return Err(self.err(
                        format!("levers.steer.convene[{k}]"),
                        name,
                        "each mechanism listed once",
                    ));
                }
                None => {
                    return Err(self.err(
                        format!("levers.steer.convene[{k}]"),
                        name,
                        format!("one of the mechanisms: {}", mech_names.join(", ")),
                    ));
                }
            }
        }
        if let Some(h) = &p.steer.host {
            let names: Vec<&str> = agencies.iter().map(|a| a.name.as_str()).collect();
            match names.iter().position(|n| n == h) {
                Some(i) => levers.steer_host = Some(i),
                None => {
                    return Err(self.err(
                        "levers.steer.host",
                        h,
                        format!("one of the agencies: {}", names.join(", ")),
                    ));
                }
            }
        }
        Ok(levers)
    }

    fn model(&self, m: &ModelParams) -> Result<(), ScenarioError> {
        self.unit("model.complementarity", m.complementarity)?;
        self.unit("model.served_threshold", m.served_threshold)?;
        if m.served_threshold == 0.0 {
            return Err(self.err(
                "model.served_threshold",
                0,
                "a number above 0 and at most 1",
            ));
        }
        if m.hop_limit as usize > MAX_HOPS {
            return Err(self.err(
                "model.hop_limit",
                m.hop_limit,
                format!("a whole number from 0 to {MAX_HOPS}"),
            ));
        }
        self.unit("model.referral_loss", m.referral_loss)?;
        self.unit("model.fragmentation_penalty", m.fragmentation_penalty)?;
        self.unit("model.remit_floor", m.remit_floor)?;
        self.positive("model.unit_cost", m.unit_cost)?;
        self.money("model.unit_cost", m.unit_cost)?;
        self.positive("model.unit_staff", m.unit_staff)?;
        self.up_to(
            "model.unit_staff",
            m.unit_staff,
            limits::MAX_AMOUNT,
            "staff-days per unit of need",
        )?;
        self.non_negative("model.joint_overhead", m.joint_overhead)?;
        self.unit("model.knowledge_growth", m.knowledge_growth)?;
        self.unit("model.knowledge_decay", m.knowledge_decay)?;
        self.unit("model.trust_step", m.trust_step)?;
        self.unit("model.trust_decay", m.trust_decay)?;
        self.up_to(
            "model.shock_rate",
            m.shock_rate,
            limits::MAX_SHOCK_RATE,
            "expected shocks per tick",
        )?;
        self.non_negative("model.shock_size", m.shock_size)?;
        self.unit("model.salience_decay", m.salience_decay)?;
        self.non_negative("model.political_gain", m.political_gain)?;
        self.unit("model.detection_rate", m.detection_rate)?;
        self.unit("model.blame_penalty", m.blame_penalty)?;
        self.non_negative("model.cost_weight", m.cost_weight)?;
        self.unit("model.value_learning", m.value_learning)?;
        self.unit("model.legitimacy_recovery", m.legitimacy_recovery)?;
        self.non_negative("model.edge_cost", m.edge_cost)?;
        self.unit("model.pool_bond", m.pool_bond)?;
        self.unit("model.joint_threshold", m.joint_threshold)?;
        self.positive("model.fragmentation_exponent", m.fragmentation_exponent)?;
        self.positive("model.survival_horizon", m.survival_horizon)?;
        self.unit("model.agenda_floor", m.agenda_floor)?;
        self.non_negative("model.threat_exponent", m.threat_exponent)?;
        self.positive("model.max_contribution", m.max_contribution)?;
        self.non_negative("model.reserve_buffer", m.reserve_buffer)?;
        self.positive("model.max_bid", m.max_bid)?;
        self.non_negative("model.control_pull", m.control_pull)?;
        Ok(())
    }

    fn power(&self, p: &PowerWeights) -> Result<(), ScenarioError> {
        let w = [
            p.finance,
            p.information,
            p.legitimacy,
            p.political,
            p.leverage,
        ];
        let names = [
            "finance",
            "information",
            "legitimacy",
            "political",
            "leverage",
        ];
        for (n, v) in names.iter().zip(w) {
            self.non_negative(&format!("power.{n}"), v)?;
        }
        self.shares_sum_to_one("power", &w)
    }

    fn dist(&self, field: &str, d: &Dist, lo: f64, hi: f64) -> Result<(), ScenarioError> {
        let allowed = format!(
            "a number from {lo} to {hi}, or {{ low, high }} or {{ low, mode, high }} within it, low <= mode <= high"
        );
        let ok = |v: f64| v.is_finite() && v >= lo && v <= hi;
        let good = match *d {
            Dist::Fixed(v) => ok(v),
            Dist::Range(r) => {
                ok(r.low)
                    && ok(r.high)
                    && r.low <= r.high
                    && r.mode.is_none_or(|m| ok(m) && r.low <= m && m <= r.high)
            }
        };
        if good {
            Ok(())
        } else {
            let shown = match *d {
                Dist::Fixed(v) => v.to_string(),
                Dist::Range(r) => match r.mode {
                    Some(m) => format!("{{ low = {}, mode = {m}, high = {} }}", r.low, r.high),
                    None => format!("{{ low = {}, high = {} }}", r.low, r.high),
                },
            };
            Err(self.err(field, shown, allowed))
        }
    }

    fn behaviours(&self, b: &BehaviourParams) -> Result<(), ScenarioError> {
        for (fam, m) in [("ra", &b.ra), ("bp", &b.bp)] {
            let f = |n: &str| format!("behaviours.{fam}.{n}");
            self.dist(&f("lambda"), &m.lambda, 0.0, 1.0)?;
            self.dist(&f("altruism"), &m.altruism, 0.0, 10.0)?;
            self.dist(&f("reciprocity"), &m.reciprocity, 0.0, 10.0)?;
            self.dist(&f("risk_aversion"), &m.risk_aversion, 0.0, 1.0)?;
            for (n, v) in [
                ("target_weight", m.target_weight),
                ("budget_weight", m.budget_weight),
                ("survival_weight", m.survival_weight),
                ("blame_weight", m.blame_weight),
                ("autonomy_weight", m.autonomy_weight),
                ("turf_weight", m.turf_weight),
                ("workload_weight", m.workload_weight),
                ("resentment_weight", m.resentment_weight),
                ("rivalry_weight", m.rivalry_weight),
            ] {
                if !(v.is_finite() && (0.0..=100.0).contains(&v)) {
                    return Err(self.err(f(n), v, "a number from 0 to 100"));
                }
            }
            self.unit(&f("target_commitment"), m.target_commitment)?;
            let tf = m.target_focus;
            if !(tf.is_finite() && (1.0..=10.0).contains(&tf)) {
                return Err(self.err(f("target_focus"), tf, "a number from 1 to 10"));
            }
        }
        Ok(())
    }

    fn search(&self, s: &SearchParams) -> Result<(), ScenarioError> {
        if s.breadth == 0 || s.breadth as usize > MAX_BREADTH {
            return Err(self.err(
                "search.breadth",
                s.breadth,
                format!("a whole number from 1 to {MAX_BREADTH}"),
            ));
        }
        self.dist("search.aspiration", &s.aspiration, 0.0, 1.0)?;
        self.unit("search.adapt_rate", s.adapt_rate)?;
        if !(s.noise.is_finite() && s.noise > 0.0 && s.noise <= 100.0) {
            return Err(self.err("search.noise", s.noise, "a number above 0, at most 100"));
        }
        self.unit("search.belief_rate", s.belief_rate)?;
        self.unit("search.partner_prior", s.partner_prior)?;
        self.unit("search.others_host_prior", s.others_host_prior)?;
        if !(s.mechanism_prior.is_finite() && (0.0..=1000.0).contains(&s.mechanism_prior)) {
            return Err(self.err(
                "search.mechanism_prior",
                s.mechanism_prior,
                "a number from 0 to 1000",
            ));
        }
        Ok(())
    }
}
