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
}

impl Ledger {
    pub fn new(n_agencies: usize, n_pools: usize) -> Ledger {
        Ledger {
            n_agencies,
            n_pools,
            balances: vec![0; 1 + n_agencies + n_pools + N_SINKS],
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
    pub fn transfer(&mut self, from: Account, to: Account, amount: f64) -> f64 {
        let want = Ledger::micros(amount);
        let fi = self.index(from);
        let ti = self.index(to);
        let paid = if from == Account::Centre {
            want
        } else {
            want.min(self.balances[fi].max(0))
        };
        self.balances[fi] -= paid;
        self.balances[ti] += paid;
        paid as f64 / SCALE
    }

    /// Whether `from` can pay `amount` in full.
    pub fn can_pay(&self, from: Account, amount: f64) -> bool {
        from == Account::Centre || self.balances[self.index(from)] >= Ledger::micros(amount)
    }

    /// Sum of all balances: zero while money is conserved.
    pub fn total(&self) -> i64 {
        self.balances.iter().sum()
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
}
