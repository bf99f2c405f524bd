//! Double-entry money ledger. Every unit of money is in exactly one account at every moment:
//! the centre (a source whose balance goes negative as it pays out), an agency, a pooled fund,
//! or a sink that records what money was spent on. Amounts are integers of micro-units
//! (1e-6 k GBP), so conservation is exact: the balances always sum to zero.

/// Micro-units per money unit.
pub const SCALE: f64 = 1_000_000.0;

/// What spent money was spent on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    /// Agencies' fixed running costs.
    Core = 0,
    /// Casework paid by agencies.
    Cases = 1,
    /// Casework paid by pooled funds.
    PooledCases = 2,
    /// Hosting coordination mechanisms.
    Coordination = 3,
    /// What the centre spends running levers (inspection, enforcement).
    Levers = 4,
    /// Peer sanctions: the fine and the sanctioner's cost, both lost.
    Sanctions = 5,
}

pub const N_SINKS: usize = 6;

/// An account in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Account {
    Centre,
    Agency(usize),
    Pool(usize),
    Sink(Sink),
}

#[derive(Debug, Clone)]
pub struct Ledger {
    n_agencies: usize,
    n_pools: usize,
    /// centre, agencies, pools, sinks.
    balances: Vec<i64>,
    /// The first transfer that would have gone beyond what an `i64` holds (payer, payee),
    /// refused and recorded here: the validator's money bounds (`limits::money_excess`)
    /// should make it impossible, and the tick's invariant check turns it into an error
    /// that names the likely field.
    pub overflow: Option<(Account, Account)>,
}

impl Ledger {
    pub fn new(n_agencies: usize, n_pools: usize) -> Ledger {
        Ledger {
            n_agencies,
            n_pools,
            balances: vec![0; 1 + n_agencies + n_pools + N_SINKS],
            overflow: None,
        }
    }

    fn index(&self, a: Account) -> usize {
        match a {
            Account::Centre => 0,
            Account::Agency(i) => {
                debug_assert!(i < self.n_agencies);
                1 + i
            }
            Account::Pool(p) => {
                debug_assert!(p < self.n_pools);
                1 + self.n_agencies + p
            }
            Account::Sink(s) => 1 + self.n_agencies + self.n_pools + s as usize,
        }
    }

    /// Convert a money amount to micro-units (non-negative, rounded to nearest).
    pub fn micros(amount: f64) -> i64 {
        if amount.is_finite() && amount > 0.0 {
            (amount * SCALE).round() as i64
        } else {
            0
        }
    }

    pub fn balance(&self, a: Account) -> f64 {
        self.balances[self.index(a)] as f64 / SCALE
    }

    pub fn balance_micros(&self, a: Account) -> i64 {
        self.balances[self.index(a)]
    }

    /// Move up to `amount` from `from` to `to`. Only the centre may go below zero; any other
    /// payer pays what it holds. Returns the amount actually moved.
    ///
    /// Arithmetic is checked: an amount beyond what the ledger can represent, or a balance
    /// that would overflow, moves nothing and is recorded in `overflow` (the first only).
    pub fn transfer(&mut self, from: Account, to: Account, amount: f64) -> f64 {
        let fi = self.index(from);
        let ti = self.index(to);
        // `micros` saturates at i64::MAX; an amount that large cannot be represented.
        let exact = amount.is_finite() && amount * SCALE < i64::MAX as f64;
        let want = Ledger::micros(amount);
        let paid = if from == Account::Centre {
            want
        } else {
            want.min(self.balances[fi].max(0))
        };
        match (
            self.balances[fi].checked_sub(paid),
            self.balances[ti].checked_add(paid),
        ) {
            (Some(f), Some(t)) if exact || from != Account::Centre => {
                self.balances[fi] = f;
                self.balances[ti] = t;
                paid as f64 / SCALE
            }
            _ => {
                self.overflow.get_or_insert((from, to));
                0.0
            }
        }
    }

    /// Whether `from` can pay `amount` in full.
    pub fn can_pay(&self, from: Account, amount: f64) -> bool {
        from == Account::Centre || self.balances[self.index(from)] >= Ledger::micros(amount)
    }

    /// Sum of all balances: zero while money is conserved (wrapping, so a broken ledger
    /// reports a non-zero sum instead of panicking).
    pub fn total(&self) -> i64 {
        self.balances.iter().fold(0i64, |a, &b| a.wrapping_add(b))
    }

    /// The first account, other than the centre, with a negative balance.
    pub fn first_negative(&self) -> Option<usize> {
        self.balances
            .iter()
            .skip(1)
            .position(|&b| b < 0)
            .map(|p| p + 1)
    }

    pub fn sink(&self, s: Sink) -> f64 {
        self.balance(Account::Sink(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfers_conserve_and_never_overdraw() {
        let mut l = Ledger::new(2, 1);
        assert_eq!(l.transfer(Account::Centre, Account::Agency(0), 10.0), 10.0);
        assert_eq!(l.transfer(Account::Agency(0), Account::Pool(0), 4.0), 4.0);
        // Agency 0 holds 6; asking for 100 pays 6.
        assert_eq!(
            l.transfer(Account::Agency(0), Account::Sink(Sink::Cases), 100.0),
            6.0
        );
        assert_eq!(l.balance(Account::Agency(0)), 0.0);
        assert_eq!(l.total(), 0);
        assert_eq!(l.first_negative(), None);
        assert!(!l.can_pay(Account::Agency(1), 0.5));
        assert!(l.can_pay(Account::Pool(0), 4.0));
    }

    #[test]
    fn an_overflowing_transfer_moves_nothing_and_is_recorded() {
        let mut l = Ledger::new(1, 0);
        let big = 5e12; // 5e18 micro-units: one fits, two do not.
        assert_eq!(l.transfer(Account::Centre, Account::Agency(0), big), big);
        assert_eq!(l.overflow, None);
        assert_eq!(l.transfer(Account::Centre, Account::Agency(0), big), 0.0);
        assert_eq!(l.overflow, Some((Account::Centre, Account::Agency(0))));
        assert_eq!(l.transfer(Account::Centre, Account::Agency(0), 1e20), 0.0);
        assert_eq!(l.total(), 0);
        assert_eq!(l.balance(Account::Agency(0)), big);
    }
}
