//! The centre and the policy levers (brief section 5): the `[levers]` and `[centre]` tables.
//!
//! `[levers]` holds what an analyst pulls; every field's default changes nothing, so a
//! scenario without the table runs as before. `[centre]` holds how the centre works (how
//! often funding rounds come, what a bid or a plan costs in staff time, how targets cascade
//! down funding lines); its defaults matter only when a lever uses them, except
//! `funder_target_weight`, whose default 0 also changes nothing.
//!
//! Each lever is described by what it changes in the model, not by the outcome it is hoped
//! to cause; `docs/scenarios.md` lists every field and `docs/ODD.md` every mechanism.

use serde::Deserialize;

use crate::scenario::AgendaRule;

/// How the centre and funders allocate the contestable part of providers' funding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FundingMode {
    /// Income as the scenario gives it, every tick.
    #[default]
    Formula,
    /// Each round, the contestable share of providers' income is shared out in proportion to
    /// bid scores (002:344-348, 002:450).
    Competitive,
    /// Each round, the whole contestable share goes to the best bid.
    Tender,
}

impl FundingMode {
    pub fn as_str(self) -> &'static str {
        match self {
            FundingMode::Formula => "formula",
            FundingMode::Competitive => "competitive",
            FundingMode::Tender => "tender",
        }
    }
}

/// How the centre sets agencies' annual budgets (002:344-348, 002:450).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BudgetRule {
    /// By formula: the scenario's incomes, whatever agencies bid.
    #[default]
    Formula,
    /// Bargaining: the envelope is shared in proportion to each bid weighted by the
    /// bidder's standing with the centre (legitimacy and political capital).
    Bargaining,
    /// Competition: shared in proportion to each bid weighted by the performance the bidder
    /// reported over the year (so reports matter, 003:72).
    Competition,
}

impl BudgetRule {
    pub fn as_str(self) -> &'static str {
        match self {
            BudgetRule::Formula => "formula",
            BudgetRule::Bargaining => "bargaining",
            BudgetRule::Competition => "competition",
        }
    }
}

/// What targets count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Accountability {
    /// Outputs: an agency is credited with the needs it served itself, and may report on the
    /// cases it chose to serve.
    #[default]
    Output,
    /// Outcomes: an agency is credited with the need met on the whole case, and reports on
    /// every case that reached it.
    Outcome,
}

/// Forum voting rule imposed on every forum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ForumRule {
    /// Each forum keeps the `agenda_rule` the scenario gives it.
    #[default]
    Scenario,
    PowerWeighted,
    EqualVotes,
    NeedWeighted,
    /// The chair rotates among members tick by tick and sets the agenda by its own bid.
    RotatingChair,
}

impl ForumRule {
    /// The agenda rule to apply to a forum whose own rule is `own`.
    pub fn resolve(self, own: AgendaRule) -> AgendaRule {
        match self {
            ForumRule::Scenario => own,
            ForumRule::PowerWeighted => AgendaRule::PowerWeighted,
            ForumRule::EqualVotes => AgendaRule::EqualVotes,
            ForumRule::NeedWeighted => AgendaRule::NeedWeighted,
            ForumRule::RotatingChair => AgendaRule::RotatingChair,
        }
    }
}

/// A duty to cooperate: a mandate with an enforcement rate and a sanction (M-L73, M-L228).
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct DutyToCooperate {
    /// Whether the duty applies: candidates of live mechanisms are required to join, and
    /// agencies asked to serve a need on a partner's case are required to. The duty does
    /// not compel: each refusal is a breach, detected at the enforcement rate and sanctioned.
    pub mandate: bool,
    /// Chance a breach is detected.
    pub enforcement: f64,
    /// Money a detected breach costs the agency (paid to the centre), k GBP.
    pub sanction: f64,
    /// What checking costs the centre per candidate of each live mechanism per tick, k GBP
    /// (refusals to serve on a partner's case are checked at no extra cost).
    pub cost: f64,
}

/// Inspection of referrals: "measure the cracks" and bill the sender (002:593-595).
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ReferralInspection {
    /// Chance a referral that counts as dumping is detected.
    pub detection: f64,
    /// Money the sender of a detected dumped referral pays the receiver, k GBP.
    pub charge: f64,
    /// What inspecting costs the centre per referral, k GBP.
    pub cost: f64,
}

/// Where a targeted price applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceOn {
    /// Paid by the sender of each referral that matches.
    Referral,
    /// Paid by the receiver of a referred case when it accepts it (a negative amount is a
    /// subsidy for taking the case).
    Acceptance,
}

impl PriceOn {
    pub fn as_str(self) -> &'static str {
        match self {
            PriceOn::Referral => "referral",
            PriceOn::Acceptance => "acceptance",
        }
    }
}

/// A price the centre sets on a channel (`[[levers.prices]]`): a charge (amount > 0, paid
/// to the centre) or a subsidy (amount < 0, paid by the centre). Any of `sender`,
/// `receiver` and `group` left out matches all, so a price can target a sender, a
/// receiver, a sender x receiver channel, a client group, or any mix (002:593-595).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PriceSpec {
    pub on: PriceOn,
    #[serde(default)]
    pub sender: Option<String>,
    #[serde(default)]
    pub receiver: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    /// k GBP per referral (or acceptance).
    pub amount: f64,
}

/// A validated price, names resolved to indices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub on: PriceOn,
    pub sender: Option<usize>,
    pub receiver: Option<usize>,
    pub group: Option<usize>,
    pub amount: f64,
}

impl Price {
    pub fn matches(&self, on: PriceOn, sender: usize, receiver: usize, group: usize) -> bool {
        self.on == on
            && self.sender.is_none_or(|s| s == sender)
            && self.receiver.is_none_or(|r| r == receiver)
            && self.group.is_none_or(|g| g == group)
    }
}

/// Peer sanctions inside mechanisms (001:182, 001:201): a member may sanction a fellow
/// member it resents as a free rider. Off while `fine` is 0.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Sanctions {
    /// What a sanction costs the sanctioned, k GBP (lost, not passed to anyone).
    pub fine: f64,
    /// What imposing one costs the sanctioner, k GBP.
    pub cost: f64,
}

/// The centre steering horizontal work directly (000:1138-1148).
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Steer {
    /// Mechanisms the centre convenes: kept hosted whatever members decide.
    pub convene: Vec<String>,
    /// The agency named to host convened mechanisms (if a candidate); otherwise the centre
    /// names the most legitimate candidate that can pay.
    pub host: Option<String>,
    /// Require a joint plan: every candidate of a convened mechanism is a member and spends
    /// `centre.plan_staff` staff-days a tick on the plan.
    pub joint_plan: bool,
}

/// `[levers]`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LeverParams {
    /// Share of each pooled-fund candidate's income moved into the fund every tick; any
    /// share above 0 makes every candidate a member (002:342, 002:909-917).
    pub pooled_budget_share: f64,
    /// Weight of a shared cross-cutting target (need shares over all groups) against each
    /// agency's own targets (001:125).
    pub shared_target_weight: f64,
    pub duty_to_cooperate: DutyToCooperate,
    /// Share of a host's coordination cost (money, and staff time at its money value) the
    /// centre reimburses.
    pub host_reimbursement: f64,
    pub referral_inspection: ReferralInspection,
    /// Targeted charges and subsidies on referral channels.
    pub prices: Vec<PriceSpec>,
    pub sanctions: Sanctions,
    pub funding_mode: FundingMode,
    /// How annual budgets of agencies in casework are set from their bids (each funder, the
    /// centre or a funding agency, runs the round among the agencies it funds).
    pub budget_rule: BudgetRule,
    /// Central control tightness, 0..1: extra reporting (staff share x control), a floor on
    /// the effort every agency puts on its targets, a higher chance of detecting gamed
    /// reports, and a heavier weight on targets in own utility (000:1125-1126, 003:72).
    pub control: f64,
    pub steer: Steer,
    pub forum_rule: ForumRule,
    /// Protocols are required: every candidate of a protocol is a member, and a vacant
    /// protocol gets a host named by the centre.
    pub mandate_information_sharing: bool,
    pub accountability: Accountability,
    /// Blame culture: multiplies blame for risk and failure (1 = as the scenario's weights;
    /// below 1, tolerance of failure, 002:354-362).
    pub blame: f64,
    /// Simultaneous central initiatives, each demanding plans and partnership time and
    /// pulling targets toward its client group (002:332-342).
    pub initiatives: u32,
    /// Target cascade: frontline targets per headline target (003:82); reporting grows with
    /// `cascade ^ centre.cascade_elasticity`.
    pub cascade: f64,
    /// How far the most powerful central department turns media salience of its groups into
    /// pressure on other departments' targets (001:119, 001:132).
    pub salience_pressure: f64,
    /// First tick at which the levers apply (1 = from the start).
    pub active_from: u32,
    /// Last tick at which they apply (none = to the end). Outside the window every lever is
    /// at its default, so a time-limited intervention and its aftermath can be studied.
    pub active_until: Option<u32>,
}

impl Default for LeverParams {
    fn default() -> Self {
        LeverParams {
            pooled_budget_share: 0.0,
            shared_target_weight: 0.0,
            duty_to_cooperate: DutyToCooperate::default(),
            host_reimbursement: 0.0,
            referral_inspection: ReferralInspection::default(),
            prices: Vec::new(),
            sanctions: Sanctions::default(),
            funding_mode: FundingMode::Formula,
            budget_rule: BudgetRule::Formula,
            control: 0.0,
            steer: Steer::default(),
            forum_rule: ForumRule::Scenario,
            mandate_information_sharing: false,
            accountability: Accountability::Output,
            blame: 1.0,
            initiatives: 0,
            cascade: 1.0,
            salience_pressure: 0.0,
            active_from: 1,
            active_until: None,
        }
    }
}

/// `[centre]`: how the centre works.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CentreParams {
    /// Ticks between funding rounds (competitive or tender funding).
    pub funding_period: u32,
    /// Share of a provider's income put out to bid each round.
    pub contestable_share: f64,
    /// Staff-days a provider spends writing a bid.
    pub bid_staff: f64,
    /// Elasticity of reporting load to the target cascade.
    pub cascade_elasticity: f64,
    /// Staff-days each agency in casework spends per initiative per tick.
    pub initiative_staff: f64,
    /// Ticks an initiative lasts before the next replaces it.
    pub initiative_period: u32,
    /// Pull of each initiative's client group on agencies' targets.
    pub initiative_weight: f64,
    /// Staff-days each member spends per tick on a required joint plan.
    pub plan_staff: f64,
    /// Weight of a funder's (effective) targets in the targets of the agencies it funds:
    /// targets cascade down funding lines (001:192, 001:234). 0 changes nothing.
    pub funder_target_weight: f64,
}

impl Default for CentreParams {
    fn default() -> Self {
        CentreParams {
            funding_period: 12,
            contestable_share: 0.3,
            bid_staff: 3.0,
            cascade_elasticity: 0.3,
            initiative_staff: 1.0,
            initiative_period: 24,
            initiative_weight: 0.1,
            plan_staff: 1.0,
            funder_target_weight: 0.0,
        }
    }
}

/// The levers, validated, with names resolved to indices.
#[derive(Debug, Clone, PartialEq)]
pub struct Levers {
    pub p: LeverParams,
    pub centre: CentreParams,
    /// Mechanisms the centre convenes.
    pub convene: Vec<usize>,
    /// The agency named to host them, if any.
    pub steer_host: Option<usize>,
    /// Targeted prices, resolved.
    pub prices: Vec<Price>,
}

impl Levers {
    /// The levers of a scenario without `[levers]` or `[centre]`: nothing changes.
    pub fn none() -> Levers {
        Levers {
            p: LeverParams::default(),
            centre: CentreParams::default(),
            convene: Vec::new(),
            steer_host: None,
            prices: Vec::new(),
        }
    }

    /// The sum of the prices that apply to a referral (or an acceptance) on a channel.
    pub fn price(&self, on: PriceOn, sender: usize, receiver: usize, group: usize) -> f64 {
        self.prices
            .iter()
            .filter(|p| p.matches(on, sender, receiver, group))
            .map(|p| p.amount)
            .sum()
    }

    /// Whether the levers apply at `tick`.
    pub fn active_at(&self, tick: u32) -> bool {
        tick >= self.p.active_from && self.p.active_until.is_none_or(|u| tick <= u)
    }

    /// The same centre with every lever at its default (what applies outside the window).
    pub fn switched_off(&self) -> Levers {
        Levers {
            p: LeverParams::default(),
            centre: self.centre.clone(),
            convene: Vec::new(),
            steer_host: None,
            prices: Vec::new(),
        }
    }

    /// Extra reporting load as a share of staff from the cascade and from central control.
    pub fn reporting_multiplier(&self) -> f64 {
        self.p.cascade.powf(self.centre.cascade_elasticity) + self.p.control
    }

    /// Chance that inspection sees through a gamed report.
    pub fn detection(&self, base: f64) -> f64 {
        base + self.p.control * (1.0 - base)
    }

    /// Whether funding rounds happen this tick (tick numbers start at 1).
    pub fn funding_round(&self, tick: u32) -> bool {
        self.p.funding_mode != FundingMode::Formula
            && (tick - 1).is_multiple_of(self.centre.funding_period.max(1))
    }
}
