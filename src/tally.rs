//! Counters the step code fills while a tick runs, and run-long totals. Observables
//! (`metrics.rs`) are computed from these and the world state; nothing here is reported by a
//! behaviour rule about itself. All buffers are allocated once per run and reset per tick.

/// Outcome counters for one slice of cases (all cases, one group, or one number of needs).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Outcomes {
    pub arrivals: u64,
    pub served: u64,
    pub partly_served: u64,
    pub fell_through: u64,
    /// Need arriving, severity-weighted need units.
    pub need: f64,
    /// Need met, severity-weighted need units.
    pub need_met: f64,
    pub referrals: u64,
    pub bounces: u64,
    pub dumped: u64,
}

impl Outcomes {
    pub fn share_met(&self) -> f64 {
        if self.need > 0.0 {
            self.need_met / self.need
        } else {
            f64::NAN
        }
    }
}

/// Why a case fell through the cracks.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FellCounts {
    /// Nobody would take it (declined at entry, or at the hop limit).
    pub refused: u64,
    /// Lost between agencies on a referral.
    pub lost: u64,
    /// Taken on, but none of its needs could be met.
    pub nothing_met: u64,
}

/// One agency's tick.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AgencyTick {
    pub income: f64,
    pub income_shortfall: f64,
    /// Fixed costs it could not pay this tick from its own money: a deficit, covered by a
    /// loan from the centre and added to its debt.
    pub fixed_shortfall: f64,
    /// Debt repaid to the centre this tick.
    pub debt_repaid: f64,
    /// Case costs it rationed: the money its own casework would have cost beyond what it
    /// could pay.
    pub rationed: f64,
    pub throughput_income: f64,
    pub spend_core: f64,
    pub spend_cases: f64,
    pub spend_hosting: f64,
    pub spend_pool: f64,
    pub pool_paid_for: f64,
    /// Base reporting load (targets and returns); the extra that levers add is in
    /// `staff_levers`.
    pub staff_reporting: f64,
    pub staff_mechanisms: f64,
    pub staff_cases: f64,
    pub staff_joint: f64,
    pub cases_led: u64,
    pub co_served: u64,
    pub referrals_out: u64,
    pub referrals_in: u64,
    pub declined_referrals: u64,
    pub true_attainment: f64,
    pub reported_attainment: f64,
    pub gaming_detected: bool,
    pub hosting: u32,
    pub memberships: u32,
    /// Staff time the levers took: extra reporting (cascade, control), initiatives, bids,
    /// joint plans.
    pub staff_levers: f64,
    /// Hosting costs the centre reimbursed.
    pub reimbursed: f64,
    /// Sanctions paid for breaches of a duty to cooperate.
    pub sanctions: f64,
    /// Charges paid for detected dumped referrals, and received.
    pub charges_paid: f64,
    pub charges_received: f64,
    /// Money moved into pooled funds by the pooled-budget lever (beyond voluntary payments).
    pub pooled_mandated: f64,
    /// Bids written in a funding round this tick.
    pub bids: u32,
    /// Breaches of a duty to cooperate this tick, and those detected.
    pub breaches: u32,
    pub breaches_detected: u32,
    /// Charges (positive) or subsidies (negative) from targeted prices, paid this tick.
    pub prices_paid: f64,
    /// Charges from targeted prices it could not pay (it held too little).
    pub prices_unpaid: f64,
    /// Peer-sanction fines it could not pay (it held too little).
    pub fines_unpaid: f64,
    /// Charges for detected dumping it could not pay (it held too little).
    pub charges_unpaid: f64,
    /// Peer sanctions imposed on others (their cost to it) and suffered.
    pub sanctions_imposed: u32,
    pub sanction_cost: f64,
    pub sanctions_suffered: u32,
    pub sanction_fines: f64,
    /// Its budget bid this tick (a multiple of its formula budget; 0 outside budget rounds).
    pub budget_bid: f64,
    /// Pool contribution as a multiple of its fair share (mean over its pools; NaN if none).
    pub contribution_ratio: f64,
    /// Live pools it was asked to pay into this tick.
    pub pools: u32,
}

#[derive(Debug, Clone)]
pub struct Tally {
    n: usize,
    n_groups: usize,
    pub all: Outcomes,
    pub fell: FellCounts,
    pub groups: Vec<Outcomes>,
    /// Indexed by number of needs (index 0 unused).
    pub by_needs: Vec<Outcomes>,
    pub agencies: Vec<AgencyTick>,
    /// Multi-need cases this tick, and those served jointly (every need served, by two or
    /// more agencies joined at least 0.5).
    pub multi_need_cases: u64,
    pub joint_cases: u64,
    pub dumped_cost: f64,
    pub shocks: u32,
    /// What the centre spent inspecting referrals and enforcing duties this tick.
    pub inspection_cost: f64,
    pub enforcement_cost: f64,
    /// Referrals inspected and dumped referrals detected this tick.
    pub inspections: u64,
    pub dumping_detected: u64,
    /// Severity-weighted need of cases of group g reaching agency i: `[i * groups + g]`.
    pub reached: Vec<f64>,
    /// Need met on those cases, credited to the agencies that served: `[i * groups + g]`.
    pub met: Vec<f64>,
    /// Need of the cases agency i served on (the favourable denominator): `[i * groups + g]`.
    pub served_on: Vec<f64>,
    /// Referrals from sender s to receiver r this tick: `[s * n + r]`.
    pub referrals_tick: Vec<u32>,
    /// Cost (money-equivalent) agency i bore for mechanism m this tick: `[m * n + i]`.
    pub mech_cost: Vec<f64>,
    /// Need met mechanism m added within agency i's remit this tick: `[m * n + i]`.
    pub mech_benefit: Vec<f64>,
    /// Run totals.
    pub run: Outcomes,
    pub run_fell: FellCounts,
    /// Sender x receiver referrals, dumped referrals and dumped cost over the run: `[s * n + r]`.
    pub referrals: Vec<u64>,
    pub dumped: Vec<u64>,
    pub dumped_cost_matrix: Vec<f64>,
}

impl Tally {
    pub fn new(n: usize, n_groups: usize, n_dims: usize, n_mechanisms: usize) -> Tally {
        Tally {
            n,
            n_groups,
            all: Outcomes::default(),
            fell: FellCounts::default(),
            groups: vec![Outcomes::default(); n_groups],
            by_needs: vec![Outcomes::default(); n_dims + 1],
            agencies: vec![AgencyTick::default(); n],
            multi_need_cases: 0,
            joint_cases: 0,
            dumped_cost: 0.0,
            shocks: 0,
            inspection_cost: 0.0,
            enforcement_cost: 0.0,
            inspections: 0,
            dumping_detected: 0,
            reached: vec![0.0; n * n_groups],
            met: vec![0.0; n * n_groups],
            served_on: vec![0.0; n * n_groups],
            referrals_tick: vec![0; n * n],
            mech_cost: vec![0.0; n_mechanisms * n],
            mech_benefit: vec![0.0; n_mechanisms * n],
            run: Outcomes::default(),
            run_fell: FellCounts::default(),
            referrals: vec![0; n * n],
            dumped: vec![0; n * n],
            dumped_cost_matrix: vec![0.0; n * n],
        }
    }

    /// Clear the per-tick counters (run totals stay).
    pub fn reset_tick(&mut self) {
        self.all = Outcomes::default();
        self.fell = FellCounts::default();
        self.groups.fill(Outcomes::default());
        self.by_needs.fill(Outcomes::default());
        self.agencies.fill(AgencyTick::default());
        for a in &mut self.agencies {
            a.contribution_ratio = f64::NAN;
        }
        self.multi_need_cases = 0;
        self.joint_cases = 0;
        self.dumped_cost = 0.0;
        self.shocks = 0;
        self.inspection_cost = 0.0;
        self.enforcement_cost = 0.0;
        self.inspections = 0;
        self.dumping_detected = 0;
        self.reached.fill(0.0);
        self.met.fill(0.0);
        self.served_on.fill(0.0);
        self.referrals_tick.fill(0);
        self.mech_cost.fill(0.0);
        self.mech_benefit.fill(0.0);
    }

    pub fn n_agencies(&self) -> usize {
        self.n
    }

    pub fn ag(&self, i: usize, g: usize) -> usize {
        i * self.n_groups + g
    }
}
