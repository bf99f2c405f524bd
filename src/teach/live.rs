//! A lesson stepped a month at a time from outside: what `silos teach` runs straight
//! through, and what `silos serve` shows live. One code path for both, so a lesson in the
//! browser and in the terminal with the same seed and levers give the same numbers and the
//! same narration.
//!
//! A lever pulled during a live lesson is a lever whose window opens at the next month
//! (`levers.active_from`): the lesson is rebuilt with that override and run again from
//! month 1 to where it was, which is exact because a run is a pure function of (scenario,
//! seed) and the lever is off until its window opens. So the live lesson at any moment is
//! also `silos teach LESSON --seed S --set LEVER --set levers.active_from=M`.

use std::borrow::Cow;
use std::path::PathBuf;

use serde::Serialize;

use super::narrate::{Context, Narrator};
use super::record::{Arm, ArmRun, Source, Span};
use super::{ArmReport, Lesson, PERIOD_TICKS, TeachError, TeachOptions, io_at, lesson};
use crate::error::ScenarioError;
use crate::model::Account;
use crate::scenario::Scenario;

/// A lesson in progress: the two arms (and, with overrides, the baseline's two), stepped
/// together.
pub struct Live {
    pub(crate) lesson: &'static Lesson,
    pub(crate) ctx: Context,
    /// RA, BP, then with overrides the baseline's RA and BP.
    pub(crate) arms: Vec<ArmRun>,
    pub(crate) ticks: u32,
    pub(crate) seed: u64,
    pub(crate) overrides: Vec<String>,
    pub(crate) out_dir: PathBuf,
    path: String,
    text: Cow<'static, str>,
}

impl Live {
    /// Set up lesson `name` as `opts` asks (seed, length, overrides, arena file, output
    /// folder), with nothing run yet. Each arm writes its CSV files as it goes.
    pub fn new(name: &str, opts: &TeachOptions) -> Result<Live, TeachError> {
        let lesson = lesson(name)?;
        let (text, path): (Cow<'static, str>, String) = match &opts.scenario {
            None => (
                Cow::Borrowed(lesson.scenario),
                format!("<embedded>/{}", lesson.file),
            ),
            Some(p) => {
                let file = p.display().to_string();
                let t = crate::limits::read_text(p).map_err(|e| ScenarioError::Io {
                    file: file.clone(),
                    message: e.to_string(),
                })?;
                (Cow::Owned(t), file)
            }
        };
        let scenario = Scenario::from_toml_str_with(&text, &path, &opts.overrides)?;
        let baseline = if opts.overrides.is_empty() {
            None
        } else {
            Some(Scenario::from_toml_str(&text, &path)?)
        };
        let seed = opts.seed.unwrap_or(scenario.seed);
        let ticks = opts.ticks.unwrap_or(scenario.ticks);
        if ticks == 0 {
            return Err(TeachError::NoTicks);
        }
        // A lesson runs its arena under both families (and the baseline): each run must fit.
        let (_, warning) = crate::limits::admit(&scenario, ticks)
            .map_err(|m| TeachError::Limit(format!("{path}: {m}")))?;
        if let Some(w) = warning {
            eprintln!("warning: {path}: {w}");
        }
        let out_dir = if opts.out_dir.as_os_str().is_empty() {
            super::default_out_dir(lesson.name)
        } else {
            opts.out_dir.clone()
        };
        std::fs::create_dir_all(&out_dir).map_err(io_at(&out_dir))?;
        let mut arms = Vec::with_capacity(4);
        for arm in Arm::BOTH {
            arms.push(ArmRun::new(&scenario, seed, arm, out_dir.join(arm.dir()))?);
        }
        if let Some(b) = &baseline {
            for arm in Arm::BOTH {
                let dir = out_dir.join("baseline").join(arm.dir());
                let mut a = ArmRun::new(b, seed, arm, dir)?;
                a.baseline = true;
                arms.push(a);
            }
        }
        let overrides = opts.overrides.iter().map(|o| o.text.clone()).collect();
        let ctx = Context::new(lesson, &arms[0].sim.world, &path, seed, ticks);
        Ok(Live {
            lesson,
            ctx,
            arms,
            ticks,
            seed,
            overrides,
            out_dir,
            path,
            text,
        })
    }

    /// The months the lesson runs.
    pub fn ticks(&self) -> u32 {
        self.ticks
    }

    /// The month last run (0 before the first).
    pub fn tick(&self) -> u32 {
        self.arms[0].sim.world.tick
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn overrides(&self) -> &[String] {
        &self.overrides
    }

    pub fn done(&self) -> bool {
        self.tick() >= self.ticks
    }

    /// The number of quarters (narrated periods) in the lesson.
    pub fn n_periods(&self) -> usize {
        self.ticks.div_ceil(PERIOD_TICKS) as usize
    }

    /// Run one month in every arm. Returns the index of the quarter it closed, if it closed
    /// one (its last month, or the lesson's).
    pub fn step(&mut self) -> Result<Option<usize>, TeachError> {
        if self.done() {
            return Ok(None);
        }
        for a in self.arms.iter_mut() {
            a.step()?;
        }
        let t = self.tick();
        if t.is_multiple_of(PERIOD_TICKS) || t == self.ticks {
            for a in self.arms.iter_mut() {
                a.close_period();
            }
            Ok(Some(self.arms[0].periods.len() - 1))
        } else {
            Ok(None)
        }
    }

    /// The closed quarters of an arm (0 RA, 1 BP, 2 and 3 the baseline's).
    pub fn periods(&self, arm: usize) -> &[Span] {
        &self.arms[arm].periods
    }

    /// The lesson's opening: the town, the two accounts, what to watch.
    pub fn intro_text(&self) -> Result<String, TeachError> {
        let mut sink = std::io::sink();
        let mut n = Narrator::new(&mut sink);
        n.intro(&self.ctx, &self.overrides)?;
        Ok(n.into_text())
    }

    /// Narrate closed quarter `p` into `n`, exactly as `silos teach` does.
    pub(crate) fn narrate_period(&self, p: usize, n: &mut Narrator) -> Result<(), TeachError> {
        let (ra, bp) = (&self.arms[0].periods, &self.arms[1].periods);
        let prev = (p > 0).then(|| [&ra[p - 1], &bp[p - 1]]);
        n.period(&self.ctx, p, [&ra[p], &bp[p]], prev)
    }

    /// The narration of closed quarter `p`, as text.
    pub fn period_text(&self, p: usize) -> Result<String, TeachError> {
        let mut sink = std::io::sink();
        let mut n = Narrator::new(&mut sink);
        self.narrate_period(p, &mut n)?;
        Ok(n.into_text())
    }

    /// Finish every arm's files (CSV, the extra files, `manifest.json`).
    pub fn finish_files(&mut self) -> Result<(), TeachError> {
        let none: [String; 0] = [];
        let src_overrides = self.overrides.clone();
        for (k, a) in self.arms.iter_mut().enumerate() {
            a.finish(&Source {
                lesson: self.lesson.name,
                path: &self.path,
                text: &self.text,
                overrides: if k < 2 { &src_overrides } else { &none },
            })?;
        }
        Ok(())
    }

    /// Each arm's record so far.
    pub(crate) fn reports(&self) -> Vec<ArmReport> {
        self.arms
            .iter()
            .map(|a| ArmReport {
                arm: a.arm,
                dir: a.dir.clone(),
                periods: a.periods.clone(),
                run: a.run.clone(),
            })
            .collect()
    }

    /// What the live view draws after the month just run.
    pub fn frame(&self) -> Frame {
        let w = &self.arms[0].sim.world;
        Frame {
            lesson: self.lesson.name,
            tick: self.tick(),
            ticks: self.ticks,
            seed: self.seed,
            overrides: self.overrides.clone(),
            agencies: w.agencies.iter().map(|a| a.label.clone()).collect(),
            mechanisms: self.ctx.mechs.iter().map(|m| m.label.clone()).collect(),
            arms: self.arms.iter().map(ArmFrame::of).collect(),
        }
    }
}

/// One month of one arm, for the live view.
#[derive(Debug, Clone, Serialize)]
pub struct ArmFrame {
    /// `ra`, `bp`; the baseline's arms are `baseline-ra`, `baseline-bp`.
    pub arm: String,
    /// This month: the share of need met, referrals, dumped referrals, cases that fell
    /// through, arrivals (NaN is sent as null).
    pub need_met: Option<f64>,
    pub referrals: u64,
    pub dumped: u64,
    pub fell_through: u64,
    pub arrivals: u64,
    /// Each agency's money at the end of the month (k GBP) and its power.
    pub money: Vec<f64>,
    pub power: Vec<f64>,
    /// This month's referrals: [sender, receiver, referrals, of which dumped].
    pub flows: Vec<[u64; 4]>,
    /// Each mechanism's host at the end of the month, if it has one.
    pub hosts: Vec<Option<usize>>,
}

impl ArmFrame {
    fn of(a: &ArmRun) -> ArmFrame {
        let m = &a.month;
        let w = &a.sim.world;
        let finite = |v: f64| v.is_finite().then_some(v);
        ArmFrame {
            arm: if a.baseline {
                format!("baseline-{}", a.arm.dir())
            } else {
                a.arm.dir().to_string()
            },
            need_met: finite(m.share_met()),
            referrals: m.referrals,
            dumped: m.dumped,
            fell_through: m.fell_through,
            arrivals: m.arrivals,
            money: (0..w.n_agencies())
                .map(|i| w.ledger.balance(Account::Agency(i)))
                .collect(),
            power: m.agencies.iter().map(|x| x.power).collect(),
            flows: m
                .top_flows()
                .into_iter()
                .map(|(s, r, n, d)| [s as u64, r as u64, n, d])
                .collect(),
            hosts: m.mechanisms.iter().map(|x| x.host_end).collect(),
        }
    }
}

/// The live view's state after a month.
#[derive(Debug, Clone, Serialize)]
pub struct Frame {
    pub lesson: &'static str,
    pub tick: u32,
    pub ticks: u32,
    pub seed: u64,
    pub overrides: Vec<String>,
    pub agencies: Vec<String>,
    pub mechanisms: Vec<String>,
    pub arms: Vec<ArmFrame>,
}
