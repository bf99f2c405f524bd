//! Lessons for a classroom: free riding, dumping and agenda capture, shown live.
//!
//! Each lesson runs a small named arena (six agencies a class can keep in mind) twice with
//! the same random draws: every agency following rational administration, then every agency
//! following bureaucratic politics (`BehaviourChoice::All`). It narrates, quarter by
//! quarter, what happened in both runs side by side, in plain language with the key
//! numbers, then closes with what the numbers show in this run. With `--set` overrides (a
//! lever pulled) it also runs the lesson's baseline (no overrides, same seed) and says what
//! the lever changed.
//!
//! Every number in the narration is computed from the world after each tick, through the
//! observables that fill the CSV files, and each arm's run is written to
//! `OUT/ra/` and `OUT/bp/` (`OUT/baseline/ra/`, `OUT/baseline/bp/` with overrides) so the
//! numbers can be checked against the files. See [`record`] for the three extra files a
//! lesson writes beside a run's usual ones. Each lesson also writes a printable A4 handout
//! (`OUT/handout.html`, charts inlined) and its charts as PNG (`OUT/charts/`), and the
//! narration as text (`OUT/narration.txt`).
//!
//! The arenas are ordinary scenario files in `scenarios/teaching/`, embedded in the binary;
//! `docs/teaching.md` has a lesson plan for each.

pub mod class;
mod handout;
mod live;
mod narrate;
pub mod record;

#[cfg(feature = "plots")]
mod charts;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use crate::error::{InvariantError, ScenarioError};
use crate::overrides::Override;

pub use narrate::{index, money, pct};
pub use record::{AgencySpan, Arm, GroupSpan, Mean, MechSpan, Span};

pub use live::{ArmFrame, Frame, Live};
use narrate::Narrator;

/// What a lesson is about; selects its narration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    FreeRiding,
    Dumping,
    Capture,
}

/// One lesson.
#[derive(Debug)]
pub struct Lesson {
    /// What to type: `silos teach NAME`.
    pub name: &'static str,
    pub title: &'static str,
    /// One line for the list of lessons.
    pub summary: &'static str,
    /// The scenario file in the repository (`scenarios/teaching/NAME.toml`).
    pub file: &'static str,
    /// The scenario's text, embedded in the binary.
    pub scenario: &'static str,
    /// A lever to try, as a `--set` argument, and what it does in a few words.
    pub lever: &'static str,
    pub lever_meaning: &'static str,
    /// What to watch for (read out before the run starts).
    pub(crate) watch: &'static str,
    /// Questions for the class (printed on the handout).
    pub(crate) questions: &'static [&'static str],
    pub(crate) kind: Kind,
}

static LESSONS: [Lesson; 3] = [
    Lesson {
        name: "free-riding",
        title: "Free riding: who pays for joining up?",
        summary: "A case conference and a joint fund help everyone; who hosts them, who pays in, who only takes?",
        file: "scenarios/teaching/free-riding.toml",
        scenario: include_str!("../../scenarios/teaching/free-riding.toml"),
        lever: "levers.host_reimbursement=1",
        lever_meaning: "the centre reimburses the host's costs",
        watch: "who hosts the case conference and the joint fund, what share of their cost the \
host bears, and what share of the benefit comes back to it. Under rational administration \
the best-placed agency hosts when the arrangement is worth more than it costs the town; \
under bureaucratic politics each agency weighs its own cost against its own gain, and \
waits for someone else to step up.",
        questions: &[
            "Which agency hosted, and why that one? Would it have hosted if it had only counted its own gain?",
            "Did the members who paid least get much of the benefit? Is that unfair, or just efficient?",
            "What would make hosting fairer? Try the lever: the centre reimburses the host. Who gains?",
        ],
        kind: Kind::FreeRiding,
    },
    Lesson {
        name: "dumping",
        title: "Dumping: passing clients on",
        summary: "People leaving prison and rough sleepers arrive; who keeps them, who passes them on, and to whom?",
        file: "scenarios/teaching/dumping.toml",
        scenario: include_str!("../../scenarios/teaching/dumping.toml"),
        lever: "levers.referral_inspection={ detection = 0.8, charge = 3.0 }",
        lever_meaning: "referrals are inspected and the sender pays £3k for each dumped one found",
        watch: "who passes cases on and who ends up with them. A referral counts as dumping \
when it saves the sender money and the receiver could meet no more of the person's needs \
than the sender, or had no room to take them. Both kinds of agency choose the same way \
from the same options; rational administrators value them by what the clients get, while \
under bureaucratic politics an agency also weighs its own targets, budget and blame, so it \
keeps what serves them, passes on or refuses the rest, and learns who will take its cases.",
        questions: &[
            "Who received the most dumped referrals? What do they have in common?",
            "Which clients were passed on most? What happens to a person passed on three times?",
            "Try the lever: charge the sender for dumping. Does it cut referrals? Does it get more people served? Why, or why not?",
        ],
        kind: Kind::Dumping,
    },
    Lesson {
        name: "capture",
        title: "Agenda capture: whose clients come first?",
        summary: "A multi-agency forum sets an agenda; does it follow need or the most powerful member's clients?",
        file: "scenarios/teaching/capture.toml",
        scenario: include_str!("../../scenarios/teaching/capture.toml"),
        lever: "levers.forum_rule=equal_votes",
        lever_meaning: "every forum member gets an equal vote on the agenda",
        watch: "the forum's agenda against each client group's share of the need. Under rational \
administration members bid for what the town needs; under bureaucratic politics each bids \
for its own targets, and the forum weighs bids by power. The agenda pulls members' targets \
toward the groups on it.",
        questions: &[
            "Whose clients topped the agenda? Were they the clients with the most need?",
            "Who hosted the forum, and what did hosting give them?",
            "Does an equal vote give an agenda that follows need? Try the lever, then try forum_rule=need_weighted.",
        ],
        kind: Kind::Capture,
    },
];

/// The lessons, in the order they are listed.
pub fn lessons() -> &'static [Lesson] {
    &LESSONS
}

/// The lesson called `name`.
pub fn lesson(name: &str) -> Result<&'static Lesson, TeachError> {
    LESSONS
        .iter()
        .find(|l| l.name == name)
        .ok_or_else(|| TeachError::UnknownLesson {
            name: name.to_string(),
            available: LESSONS
                .iter()
                .map(|l| l.name)
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// The list of lessons as `silos teach` prints it.
pub fn lesson_list() -> String {
    let mut s = String::from("Lessons (run one with `silos teach LESSON`):\n");
    let w = LESSONS.iter().map(|l| l.name.len()).max().unwrap_or(0);
    for l in &LESSONS {
        s.push_str(&format!(
            "  {:w$}  {}\n  {:w$}  {}\n",
            l.name, l.title, "", l.summary
        ));
    }
    s.push_str(
        "\nOptions:\n  --step          pause after each quarter (Enter to go on, q to stop)\n  \
--set PATH=V    pull a lever, e.g.",
    );
    for (i, l) in LESSONS.iter().enumerate() {
        let lead = if i == 0 { " " } else { "                  " };
        s.push_str(&format!(
            "{lead}silos teach {} --set '{}'\n",
            l.name, l.lever
        ));
    }
    s.push_str(
        "  --out DIR       where the runs, charts and handout go (default output/teach/LESSON/)\n  \
--seed N        other random draws (default: the lesson's own)\n\n\
The arenas are scenarios/teaching/*.toml; docs/teaching.md has a lesson plan for each.\n",
    );
    s
}

/// Where a lesson writes by default: `output/teach/<lesson>/`.
pub fn default_out_dir(lesson: &str) -> PathBuf {
    PathBuf::from("output").join("teach").join(lesson)
}

/// How to run a lesson.
#[derive(Debug, Clone)]
pub struct TeachOptions {
    /// `--set path=value` overrides applied to the lesson's scenario (a lever pulled). With
    /// any, the lesson's baseline is run too and the narration compares against it.
    pub overrides: Vec<Override>,
    /// Pause after each quarter: read a line from the input; "q" stops. The caller decides
    /// (e.g. only when stdin is a terminal). At the end of the input the lesson runs on.
    pub step: bool,
    /// Output directory; empty means [`default_out_dir`].
    pub out_dir: PathBuf,
    /// Seed; `None` uses the lesson scenario's.
    pub seed: Option<u64>,
    /// Months to run; `None` uses the lesson scenario's (12 to 24).
    pub ticks: Option<u32>,
    /// Draw the charts (PNG) and inline them in the handout. Without the `plots` feature no
    /// charts are drawn either way.
    pub charts: bool,
    /// Read the arena from this file (a teacher's edited copy) instead of the embedded one.
    pub scenario: Option<PathBuf>,
}

impl Default for TeachOptions {
    fn default() -> Self {
        TeachOptions {
            overrides: Vec::new(),
            step: false,
            out_dir: PathBuf::new(),
            seed: None,
            ticks: None,
            charts: true,
            scenario: None,
        }
    }
}

/// Why a lesson could not run.
#[derive(Debug, thiserror::Error)]
pub enum TeachError {
    #[error("unknown lesson \"{name}\"; the lessons are: {available}")]
    UnknownLesson { name: String, available: String },
    /// The lesson's scenario with the overrides is not valid (the message names the field).
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("--ticks must be at least 1")]
    NoTicks,
    /// The lesson's run cannot fit (`limits::admit`; the message names the field).
    #[error("{0}")]
    Limit(String),
    #[error("the lesson's run broke a model invariant (a bug in silos): {0}")]
    Invariant(#[from] InvariantError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the narration: {0}")]
    Output(#[source] std::io::Error),
    #[error("cannot read the teacher's input: {0}")]
    Input(#[source] std::io::Error),
    /// A participatory class was asked for something it cannot do (the message says what).
    #[error("{0}")]
    Class(String),
}

/// One arm's record: its output directory and what happened, by period and over the run.
#[derive(Debug, Clone)]
pub struct ArmReport {
    pub arm: Arm,
    pub dir: PathBuf,
    /// Every period of the run (all of them, even when the narration stopped early).
    pub periods: Vec<Span>,
    pub run: Span,
}

/// What a lesson did.
#[derive(Debug, Clone)]
pub struct LessonReport {
    pub lesson: &'static str,
    pub seed: u64,
    pub ticks: u32,
    /// Months per narrated period (3: quarters).
    pub period_ticks: u32,
    /// Periods narrated (fewer than `ra.periods.len()` after a "q").
    pub periods_narrated: usize,
    pub stopped_early: bool,
    pub out_dir: PathBuf,
    /// Rational administration and bureaucratic politics, with the overrides.
    pub ra: ArmReport,
    pub bp: ArmReport,
    /// The same two without the overrides, when overrides were given.
    pub baseline: Option<[ArmReport; 2]>,
    pub overrides: Vec<String>,
    /// The narration as written to the output (also saved as `narration.txt`).
    pub narration: String,
    pub handout: PathBuf,
    /// Charts written (PNG), with how they print on the handout.
    pub charts: Vec<PrintedChart>,
    /// Anything that went wrong without stopping the lesson (a chart not drawn).
    pub notes: Vec<String>,
}

/// A lesson chart and how it prints on the A4 handout.
#[derive(Debug, Clone)]
pub struct PrintedChart {
    pub path: PathBuf,
    /// Its width on the handout, in millimetres.
    pub width_mm: f64,
    /// The PNG's width, in pixels.
    pub width_px: u32,
    /// The size (em) of the smallest text drawn on it, in pixels.
    pub smallest_text_px: f64,
}

impl PrintedChart {
    /// The size of its smallest text when the handout is printed, in points (1/72 inch).
    pub fn smallest_text_pt(&self) -> f64 {
        self.smallest_text_px * self.width_mm / self.width_px as f64 * 72.0 / 25.4
    }
}

/// Months per narrated period.
pub const PERIOD_TICKS: u32 = 3;

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> TeachError + '_ {
    move |source| TeachError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Run lesson `name`: narrate to `out`, pausing on `input` after each quarter when
/// `opts.step`, and write the runs, charts and handout into the output directory.
pub fn run_lesson(
    name: &str,
    opts: &TeachOptions,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<LessonReport, TeachError> {
    let mut live = Live::new(name, opts)?;
    let mut n = Narrator::new(out);
    n.intro(&live.ctx, &live.overrides)?;

    let n_periods = live.n_periods();
    let mut step = opts.step;
    let mut stopped = false;
    let mut narrated = 0;
    if step {
        match n.pause(input, "start")? {
            Pause::Go => {}
            Pause::Eof => step = false,
            Pause::Stop => stopped = true,
        }
    }
    while !live.done() {
        let Some(p) = live.step()? else { continue };
        if stopped {
            continue;
        }
        live.narrate_period(p, &mut n)?;
        narrated += 1;
        if step {
            let next = if p + 1 == n_periods {
                "summary"
            } else {
                "next quarter"
            };
            match n.pause(input, next)? {
                Pause::Go => {}
                Pause::Eof => step = false,
                Pause::Stop => stopped = true,
            }
        }
    }

    live.finish_files()?;
    let mut reports = live.reports().into_iter();
    let (Some(ra), Some(bp)) = (reports.next(), reports.next()) else {
        unreachable!("a lesson has two arms")
    };
    let base = match (reports.next(), reports.next()) {
        (Some(a), Some(b)) => Some([a, b]),
        _ => None,
    };
    let (lesson, ctx, seed, ticks, out_dir, overrides) = (
        live.lesson,
        &live.ctx,
        live.seed,
        live.ticks,
        live.out_dir.clone(),
        live.overrides.clone(),
    );
    let base_spans = base.as_ref().map(|b| [&b[0].run, &b[1].run]);
    let run_spans = [&ra.run, &bp.run];
    let last_spans = ra
        .periods
        .last()
        .zip(bp.periods.last())
        .map(|(a, b)| [a, b]);

    if stopped {
        n.stopped(narrated, n_periods, &out_dir)?;
    } else {
        n.summary(ctx, run_spans, last_spans, base_spans, &overrides)?;
    }

    let (charts, notes) = if opts.charts {
        draw_charts(ctx, &out_dir, [&ra, &bp], base.as_ref())
    } else {
        (Vec::new(), Vec::new())
    };
    let handout = handout::write(
        ctx, &out_dir, run_spans, last_spans, base_spans, &overrides, &charts,
    )
    .map_err(io_at(&out_dir.join("handout.html")))?;
    n.files(&out_dir, &handout, !charts.is_empty(), &notes)?;
    let narration = n.into_text();
    crate::output::write_atomic(&out_dir, "narration.txt", narration.as_bytes())
        .map_err(io_at(&out_dir.join("narration.txt")))?;

    Ok(LessonReport {
        lesson: lesson.name,
        seed,
        ticks,
        period_ticks: PERIOD_TICKS,
        periods_narrated: narrated,
        stopped_early: stopped,
        out_dir,
        ra,
        bp,
        baseline: base,
        overrides,
        narration,
        handout,
        charts,
        notes,
    })
}

/// Draw the lesson's charts into `OUT/charts/` and each arm's run charts into its `plots/`;
/// returns the lesson's charts and notes on anything not drawn.
#[cfg(feature = "plots")]
fn draw_charts(
    ctx: &narrate::Context,
    out_dir: &Path,
    arms: [&ArmReport; 2],
    base: Option<&[ArmReport; 2]>,
) -> (Vec<PrintedChart>, Vec<String>) {
    let mut notes = Vec::new();
    let periods = [&arms[0].periods[..], &arms[1].periods[..]];
    let base_periods = base.map(|b| [&b[0].periods[..], &b[1].periods[..]]);
    let charts = match charts::draw(
        ctx,
        &out_dir.join("charts"),
        [&arms[0].run, &arms[1].run],
        periods,
        base_periods,
    ) {
        Ok(c) => c
            .into_iter()
            .enumerate()
            .map(|(i, d)| PrintedChart {
                path: d.path,
                width_mm: handout::chart_width_mm(i, base.is_some()),
                width_px: d.width_px,
                smallest_text_px: d.smallest_text_px,
            })
            .collect(),
        Err(e) => {
            notes.push(format!("charts not drawn: {e}"));
            Vec::new()
        }
    };
    for a in arms {
        let po = crate::plot::PlotOptions::default();
        if let Err(e) = crate::plot::plot_dir(&a.dir, &po) {
            notes.push(format!("run charts of {} not drawn: {e}", a.dir.display()));
        }
    }
    (charts, notes)
}

/// Without the `plots` feature no charts are drawn.
#[cfg(not(feature = "plots"))]
fn draw_charts(
    _ctx: &narrate::Context,
    _out_dir: &Path,
    _arms: [&ArmReport; 2],
    _base: Option<&[ArmReport; 2]>,
) -> (Vec<PrintedChart>, Vec<String>) {
    (Vec::new(), Vec::new())
}

/// What the teacher said at a pause.
pub(crate) enum Pause {
    Go,
    Stop,
    /// The input ended: run on without pausing.
    Eof,
}
