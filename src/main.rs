//! The `silos` command line. All model logic lives in the library; this file parses
//! arguments, reads files, and prints.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use silos::engine::{self, BehaviourChoice, Simulation};
use silos::metrics::{AGENCY, TICK};
use silos::model::World;
use silos::outdir::OutputKind;
use silos::output::{self, RunWriter};
use silos::overrides::Override;
use silos::scenario::{DEFAULT_SCENARIO, DEFAULT_SCENARIO_NAME, Scenario};
use silos::sweep::{Experiment, SweepOptions, run_sweep};

#[derive(Parser)]
#[command(
    name = "silos",
    version,
    about = "Agent-based simulator of bureaucratic politics in joined-up government",
    long_about = "silos simulates public agencies (housing, health, probation, police, voluntary bodies, \
central departments) serving people whose problems cross their boundaries. Each agency follows a \
decision rule: rational administration (synoptic or bounded) or bureaucratic politics. A run writes \
tidy CSV of need met, referrals and dumping, coordination, free riding, agenda capture and budgets.\n\n\
With no subcommand, silos runs the embedded default scenario (a local homelessness arena after \
Moseley 2009) and writes to output/homelessness-seed20090907-mixed/.",
    after_help = "Examples:\n  \
silos                                   run the default scenario into output/homelessness-seed20090907-mixed/\n  \
silos run scenarios/homelessness.toml --seed 7 --behaviour bp --out output/bp-7\n  \
silos run my.toml --ticks 24            a two-year run of your own scenario\n  \
silos run --set model.hop_limit=1       the default scenario with one field changed\n  \
silos check my.toml                     validate a scenario without running it\n  \
silos params levers.                    the policy levers: defaults, allowed values, sources\n  \
silos scenario show > mine.toml         the default scenario with every field written out\n  \
silos columns                           what every CSV column means\n  \
silos sweep EXPERIMENT --plots          many seeded runs, with charts (docs/experiments.md)\n\n\
Docs: README.md, docs/scenarios.md (scenario fields), docs/experiments.md (sweeps), docs/python.md, docs/ODD.md (the model)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run one seeded simulation and write CSV output.
    #[command(
        after_help = "Output files in --out: ticks.csv (one row per tick, every arena-level observable), \
agencies.csv (one row per agency per tick), groups.csv (one row per client group per tick), needs.csv \
(one row per number of needs per tick), dumping.csv (sender x receiver referral and dumping totals), manifest.json (version, scenario \
hash, seed, behaviour, times). `silos columns` explains every column."
    )]
    Run(RunArgs),
    /// Validate a scenario file, estimate a run's memory and time, and print a summary; exit
    /// non-zero on error.
    #[command(
        after_help = "Besides each field's allowed values (silos params, docs/scenarios.md), check applies the engine's limits: \
at most 10000 ticks and 1e7 expected arrivals a tick, money fields up to 1e9 k GBP, and the money a run can pay out in the \
worst case below a quarter of what the ledger holds (i64 micro-units); the message names the field, its value and the allowed range. \
It then estimates a run's peak memory and time and refuses a run that would need more memory than the limit: half this \
machine's memory by default (MemTotal in /proc/meminfo; 4G where it cannot be read), or --max-memory SIZE. With --force \
it warns instead. run, sweep (per run) and teach apply the same estimate before allocating and take the same options. \
Input files must be regular files of at most 16 MB.\n\nExamples:\n  silos check my.toml\n  silos check my.toml --max-memory 500M\n  \
silos check big.toml --force"
    )]
    Check {
        /// Scenario file (TOML).
        scenario: PathBuf,
        /// Override a field before checking (as for `run`).
        #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_set)]
        set: Vec<Override>,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// List every output column with its unit and meaning: a run's files, then every file a
    /// sweep writes. Give a file name to see only that file.
    #[command(
        after_help = "Examples:\n  silos columns                  every file of a run and of a sweep\n  silos columns ticks.csv        the observables, one per line\n  silos columns effects.csv      a sweep's file"
    )]
    Columns {
        /// One file: ticks.csv, agencies.csv, groups.csv, needs.csv, dumping.csv, or a sweep's file
        /// (runs.csv, summary.csv, paired.csv, effects.csv, ...).
        file: Option<String>,
    },
    /// Print a scenario as the model reads it (`silos scenario show [PATH]`).
    #[command(subcommand)]
    Scenario(ScenarioCommand),
    /// List every scenario parameter and lever with its default, allowed values, unit,
    /// meaning and source (from docs/scenarios.md, embedded).
    #[command(
        after_help = "Examples:\n  silos params                    every parameter, grouped by table\n  silos params levers.            the policy levers\n  silos params hop                every path containing 'hop'\n  silos params --format csv > params.csv\n\nA path such as model.hop_limit is what --set takes (silos run --set model.hop_limit=2). Per-item fields are listed as agencies[].income; set them as agencies.NAME.income."
    )]
    Params {
        /// Show only parameters whose path contains this text (case-insensitive).
        filter: Option<String>,
        /// Output format: text (for reading), csv or json (for tools).
        #[arg(long, value_enum, default_value_t = ParamsFormat::Text)]
        format: ParamsFormat,
    },
    /// Run an experiment: many seeded runs of several arms over a design, in parallel.
    #[command(
        after_help = "An experiment file (TOML, docs/experiments.md) names a base scenario, arms (behaviour and overrides), factors (values, range or Latin hypercube, or a design CSV), replicates and a master seed. Each run's seed derives from (master seed, design point, replicate), so the arms at one point share their random draws: compare them pair by pair.\n\nOutputs in --out (default output/<experiment name>/): runs.csv, summary.csv, paired.csv, effects.csv, points.csv, agencies_summary.csv, dumping_summary.csv, agenda_summary.csv, localities_summary.csv, failures.csv, manifest.json; with --plots also plots/ and report.html (or later: silos plot DIR).\n\nInterrupted? Run the same command again: finished runs are kept and not redone. Exit code 3 means some runs failed (see failures.csv); the rest completed.\n\nExample: silos sweep scenarios/experiments/behaviour-comparison.toml --threads 2 --plots"
    )]
    Sweep {
        /// Experiment file (TOML).
        experiment: PathBuf,
        /// Output directory (default: output/<experiment name>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Worker threads (default, or 0: all cores). Outputs are identical whatever the count.
        #[arg(long)]
        threads: Option<usize>,
        /// Run a deterministic slice I/N (0-based I) of the design's (point, replicate) pairs,
        /// cut into N contiguous blocks, so even one design point splits. Defaults to
        /// SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT when those are set. Combine the shards'
        /// directories with `silos merge`.
        #[arg(long, value_name = "I/N", value_parser = parse_shard)]
        shard: Option<(usize, usize)>,
        /// Draw charts and report.html when the sweep completes (off by default: a sweep
        /// writes its CSVs only; `silos plot DIR` draws them at any time).
        #[arg(long)]
        plots: bool,
        /// The default since 0.1 (kept so that older scripts run): draw nothing.
        #[arg(long, hide = true, conflicts_with = "plots")]
        no_plots: bool,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
        /// Each run is checked against the memory limit when it starts; one that does not fit
        /// is a row of failures.csv.
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Draw charts (PNG and SVG) and a self-contained report.html from a run's or a sweep's
    /// output directory.
    #[command(
        after_help = "Charts go to DIR/plots/ (NAME.png and NAME.svg), the report to DIR/report.html. \
From a run: key observables over time, need met by client group and by number of needs, who bears \
coordination costs against who benefits (free riding), the dumping matrix. From a sweep: each key observable \
over time with mean and 95% band per arm, paired differences, dose-response (one factor), heatmaps (two \
factors), distributions across seeds, free riding, dumping and agenda against need. Fonts are embedded: no \
system fonts needed."
    )]
    Plot {
        /// A run's or a sweep's output directory.
        dir: PathBuf,
        /// Charts only, no report.html.
        #[arg(long)]
        no_report: bool,
    },
    /// Rerun one run of a finished sweep alone, with its full per-tick output; or play a
    /// classroom class again from its decision log.
    #[command(
        after_help = "A sweep: `silos replay DIR RUN_ID` reruns that run of the sweep in DIR with its full per-tick \
output (into DIR/replay-RUN_ID/).\n\n\
A class (`silos serve`, a folder with class.json and decisions.csv): `silos replay CLASS_DIR` plays the class \
again from its record (the same lesson, seed, bots, seats and levers, every student's orders in the round they \
were given) into CLASS_DIR/replay/, and checks that every town's run files and rounds.csv come out the same.\n\n\
Examples:\n  silos replay output/sweep-levers 17\n  silos replay output/classes/free-riding-K7QF2M"
    )]
    Replay {
        /// The sweep's output directory, or a class's.
        dir: PathBuf,
        /// The run's run_id (from runs.csv); not for a class.
        run_id: Option<u64>,
        /// Output directory (default: DIR/replay-RUN_ID/, or DIR/replay/ for a class).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run the validation suite: the source studies' stylized facts, each tested against
    /// the removal of the mechanism it is credited to, with effect sizes and robustness.
    #[command(
        after_help = "For every fact in scenarios/validation/facts.toml the suite runs the fact's experiment in the full model and again with the fact's mechanism switched off (its ablation, in every arm), then over a Latin hypercube of the plausible parameter ranges (robustness.toml). Verdicts per fact:\n  holds      the paired 95% interval lies beyond the smallest effect of interest (SESOI)\n  Holm       the same after Holm's adjustment over the scored facts\n  explained  it holds, and under the ablation the effect falls below the SESOI or reverses\n  robust     the share of hypercube points where it holds\nA full run also screens every rule parameter with Morris on the claimed contrasts and computes Sobol indices for the headline ones (scenarios/sensitivity/contrasts.toml).\n\nWrites validation.csv, robustness.csv, sensitivity.csv, sobol.csv, VALIDATION.md and each fact's chart (charts/). Prints the verdict table.\n\nExamples:\n  silos validate --quick                      6 seeds, a small hypercube, no sensitivity (under 2 minutes on 2 cores)\n  silos validate --only V01,V14 --quick       two facts\n  silos validate --doc docs/VALIDATION.md     the report the repository keeps (a few minutes)\n  silos validate --list                       the registered facts"
    )]
    Validate(ValidateArgs),
    /// Global sensitivity: Morris screening of contrasts (or levels) against parameters, and
    /// Sobol indices for the headline contrasts.
    #[command(
        after_help = "The file (TOML) has a [sensitivity] table (name, scenario, replicates, master_seed, ticks, trajectories, levels), [[arms]] (name, behaviour, set), [[contrasts]] (name, output, arm, reference, headline), an optional [sobol] table (base, top, replicates) and [[factors]] (path, from, to, integer). A study of levels may give `behaviour` and `outputs` instead of arms and contrasts. Writes sensitivity.csv (output, factor, mu_star, mu, sigma, n), sobol.csv and prints the Morris table.\n\nExample: silos sensitivity scenarios/sensitivity/contrasts.toml"
    )]
    Sensitivity {
        /// Sensitivity study file (TOML).
        file: PathBuf,
        /// Output directory (default: output/sensitivity-<name>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Worker threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Classroom lessons: free riding, dumping and agenda capture, run side by side under
    /// rational administration and bureaucratic politics with the same random draws.
    #[command(
        after_help = "Without a lesson name, lists the lessons. Each lesson narrates, period by period, \
who hosted and who paid, which clients were passed on and to whom, and whose client group topped the \
agenda, then writes handout.html (a printable A4 page with its charts; two with a lever) and the charts as PNG into --out.\n\n\
--step pauses after each period (Enter to go on, q to stop) when standard input is a terminal.\n\
--set pulls a lever; the lesson then also runs its baseline and says what changed, e.g.\n  \
silos teach free-riding --set levers.host_reimbursement=1\n  \
silos teach dumping --set 'levers.referral_inspection={ detection = 0.8, charge = 3.0 }'\n  \
silos teach capture --set levers.forum_rule=equal_votes\n\n\
Lesson plans: docs/teaching.md. The arenas are scenarios/teaching/*.toml."
    )]
    Teach {
        /// The lesson (free-riding, dumping, capture); omit to list them.
        lesson: Option<String>,
        /// Pause after each period (Enter to go on, q to stop). Needs a terminal.
        #[arg(long)]
        step: bool,
        /// Pull a lever or change any field of the lesson's arena (PATH=VALUE, repeatable).
        #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_set)]
        set: Vec<Override>,
        /// Output directory (default: output/teach/<lesson>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Random seed (default: the lesson's).
        #[arg(long)]
        seed: Option<u64>,
        /// Months to run (default: the lesson's).
        #[arg(long)]
        ticks: Option<u32>,
        /// Use this arena file (an edited copy of scenarios/teaching/LESSON.toml).
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Do not draw charts (the handout is then text only).
        #[arg(long)]
        no_plots: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// The classroom in the browser: lessons live on the projector, and classes where
    /// students play the agencies from their phones.
    #[command(
        after_help = "Starts a web server on this machine and prints the address to open; every page is \
built into silos, so it works offline. Open it on the projector: pick a lesson, press Play, step a month or a \
quarter, and pull the lesson's lever from the next month (the faint lines are the run without it). The numbers \
and narration are those of `silos teach` with the same seed and levers; the page shows that command.\n\n\
Students can play the agencies: open /class, pick a lesson and the bots' family (they take the seats nobody \
takes), and show the join code and QR code. Each student joins from a phone or laptop and is given an agency \
of a town; each round (a quarter) they decide what to do with the cases at their door, whether to host or join \
the shared arrangements, what to pay into the pooled fund, within the round's timer (seats left undecided \
are played by the bot). The projector shows the room live and, at the end, the debrief against the \
all-RA and all-BP arms on the same draws. Every decision is logged to --out.\n\n\
It listens on 127.0.0.1 only; --lan listens on every network interface so others in the room can open it, \
and prints the join address and its QR code.\n\n\
Examples:\n  silos serve --port 8080\n  silos serve --lan --out output/classes\n\nLesson plans: docs/teaching.md."
    )]
    Serve {
        /// Port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Listen on the room's network, not only this machine, and print the address
        /// and QR code students join at.
        #[arg(long)]
        lan: bool,
        /// Where participatory classes write their logs (one folder per class:
        /// decisions.csv, rounds.csv, debrief.json and every town's run files).
        #[arg(long, default_value = "output/classes")]
        out: PathBuf,
    },
    /// Combine the output directories of shards into one sweep's outputs.
    Merge {
        /// The shards' output directories.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where to write the merged outputs.
        #[arg(long)]
        out: PathBuf,
    },
}

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard {s:?}: expected I/N with 0 <= I < N, for example 0/4");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// The memory limit for runs (`limits::admit`), shared by check, run, sweep and teach.
#[derive(clap::Args, Clone, Copy, Default)]
struct LimitArgs {
    /// Refuse a run estimated to need more memory than SIZE (e.g. 4G, 500M; default: half
    /// this machine's memory).
    #[arg(long, value_name = "SIZE", value_parser = silos::limits::parse_size)]
    max_memory: Option<u64>,
    /// Past the memory limit, warn and go on instead of refusing.
    #[arg(long)]
    force: bool,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Scenario file (TOML). Omit to use the embedded default (scenarios/homelessness.toml).
    scenario: Option<PathBuf>,
    /// Random seed (default: the scenario's `scenario.seed`). The run is a pure function of
    /// scenario and seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Number of ticks (months) to run (default: the scenario's `scenario.ticks`).
    #[arg(long)]
    ticks: Option<u32>,
    /// Motives of every agency: ra (rational administration: the shared objective only), bp
    /// (bureaucratic politics: organisational interest weighted by lambda), or mixed (keep
    /// the scenario's own). Both choose by the same procedure; search (synoptic or bounded)
    /// is a separate setting: --set search.mode=bounded.
    #[arg(long, default_value = "mixed", value_parser = parse_behaviour)]
    behaviour: BehaviourChoice,
    /// Output directory. Default: output/<scenario>-seed<SEED>-<BEHAVIOUR>, then -ticks<T>
    /// when --ticks is given and -set<HASH> (8 hex digits of the overrides) when --set is,
    /// so runs that differ never share a folder. A run's files there are replaced; a folder
    /// holding another kind of output (a sweep's, a lesson's) is refused.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Override any scenario field: PATH=VALUE, repeatable. Paths are dotted keys as in the
    /// file; name an agency, group or mechanism by its name or index, e.g.
    /// --set model.hop_limit=2 --set agencies.housing_authority.income=650
    /// --set mechanisms[0].agenda_rule=equal_votes
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_set)]
    set: Vec<Override>,
    /// Do not draw charts and report.html after the run.
    #[arg(long)]
    no_plots: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
    /// Worker threads for a national run's localities (default, or 0: all cores). The output
    /// is the same whatever the count.
    #[arg(long)]
    threads: Option<usize>,
    #[command(flatten)]
    limits: LimitArgs,
}

fn parse_set(s: &str) -> Result<Override, String> {
    Override::parse(s)
}

fn parse_behaviour(s: &str) -> Result<BehaviourChoice, String> {
    silos::api::parse_behaviour(s)
}

fn main() {
    let cli = Cli::parse();
    let limits = match &cli.command {
        Some(Command::Run(a)) => a.limits,
        Some(Command::Check { limits, .. })
        | Some(Command::Sweep { limits, .. })
        | Some(Command::Teach { limits, .. }) => *limits,
        _ => LimitArgs::default(),
    };
    silos::limits::set_policy(limits.max_memory, limits.force);
    let result = match cli.command {
        None => run(RunArgs {
            scenario: None,
            seed: None,
            ticks: None,
            behaviour: BehaviourChoice::Mixed,
            out: None,
            set: Vec::new(),
            no_plots: false,
            quiet: false,
            threads: None,
            limits: LimitArgs::default(),
        }),
        Some(Command::Run(args)) => run(args),
        Some(Command::Check { scenario, set, .. }) => check(&scenario, &set),
        Some(Command::Columns { file }) => columns(file.as_deref()),
        Some(Command::Params { filter, format }) => params(filter.as_deref(), format),
        Some(Command::Scenario(ScenarioCommand::Show { scenario, set })) => {
            scenario_show(scenario.as_deref(), &set)
        }
        Some(Command::Plot { dir, no_report }) => plot(&dir, !no_report, false).map(|_| ()),
        Some(Command::Sweep {
            experiment,
            out,
            threads,
            shard,
            plots,
            no_plots: _,
            quiet,
            limits: _,
        }) => match sweep(&experiment, out, threads, shard, plots, quiet) {
            Ok(0) => Ok(()),
            Ok(failures) => {
                eprintln!(
                    "silos sweep: {failures} run(s) failed; see failures.csv. The other runs completed."
                );
                std::process::exit(3);
            }
            Err(e) => Err(e),
        },
        Some(Command::Replay { dir, run_id, out }) => match run_id {
            _ if dir.join("class.json").is_file() => replay_class(&dir, run_id, out),
            Some(id) => replay(&dir, id, out),
            None => Err(anyhow::anyhow!(
                "{}: give the RUN_ID of the sweep's run to replay (from its runs.csv); a class \
                 folder holds class.json, and this one does not",
                dir.display()
            )),
        },
        Some(Command::Teach {
            lesson,
            step,
            set,
            out,
            seed,
            ticks,
            scenario,
            no_plots,
            limits: _,
        }) => teach(lesson, step, set, out, seed, ticks, scenario, no_plots),
        Some(Command::Serve { port, lan, out }) => serve(port, lan, out),
        Some(Command::Merge { dirs, out }) => merge(&dirs, &out),
        Some(Command::Validate(args)) => {
            if args.list {
                validate_list(args.dir.as_deref(), args.facts.as_deref())
            } else {
                validate(args)
            }
        }
        Some(Command::Sensitivity { file, out, threads }) => sensitivity(&file, out, threads),
    };
    if let Err(e) = result {
        // A reader that closed early (`silos params | head`) is not an error.
        let closed = e.chain().any(|c| {
            c.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
                || c.downcast_ref::<csv::Error>().is_some_and(|ce| {
                    matches!(ce.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
                })
                || c.downcast_ref::<serde_json::Error>()
                    .is_some_and(|je| je.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe))
        });
        if closed {
            return;
        }
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}

/// `silos serve`.
fn serve(port: u16, lan: bool, out: PathBuf) -> Result<()> {
    #[cfg(feature = "serve")]
    {
        silos::serve::run(&silos::serve::ServeOptions { port, lan, out })
            .map_err(anyhow::Error::msg)
    }
    #[cfg(not(feature = "serve"))]
    {
        let _ = (port, lan, out);
        bail!(
            "this silos was built without the `serve` feature; rebuild with default features to serve lessons"
        )
    }
}

/// Shard from the command line, else from a Slurm job array's environment.
fn shard_from_env(cli: Option<(usize, usize)>) -> Result<Option<(usize, usize)>> {
    if cli.is_some() {
        return Ok(cli);
    }
    match (
        std::env::var("SLURM_ARRAY_TASK_ID"),
        std::env::var("SLURM_ARRAY_TASK_COUNT"),
    ) {
        (Ok(i), Ok(n)) => {
            let s = parse_shard(&format!("{i}/{n}")).map_err(|e| {
                anyhow::anyhow!("from SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT: {e}")
            })?;
            Ok(Some(s))
        }
        _ => Ok(None),
    }
}

/// Draw a run's or sweep's charts and report; returns the number of charts.
fn plot(dir: &Path, report: bool, quiet: bool) -> Result<usize> {
    #[cfg(feature = "plots")]
    {
        let opts = silos::plot::PlotOptions {
            report,
            ..Default::default()
        };
        let r = silos::plot::plot_dir(dir, &opts)?;
        if !quiet {
            println!("{r}");
        }
        Ok(r.charts.len())
    }
    #[cfg(not(feature = "plots"))]
    {
        let _ = (dir, report, quiet);
        bail!(
            "this silos was built without the `plots` feature; rebuild with default features to draw charts"
        )
    }
}

fn sweep(
    path: &Path,
    out: Option<PathBuf>,
    threads: Option<usize>,
    shard: Option<(usize, usize)>,
    plots: bool,
    quiet: bool,
) -> Result<u64> {
    let exp = Experiment::from_path(path)?;
    let shard = shard_from_env(shard)?;
    let out = out.unwrap_or_else(|| PathBuf::from("output").join(&exp.name));
    let _lock = silos::outdir::lock(&out)?;
    silos::outdir::claim(&out, OutputKind::Sweep, "silos sweep")?;
    let started = output::now_rfc3339();
    if !quiet {
        eprintln!(
            "silos sweep: {} | {} design point(s) x {} arm(s) x {} replicate(s) = {} runs{}; writing {}",
            exp.name,
            exp.n_points(),
            exp.arms.len(),
            exp.replicates,
            exp.n_runs(),
            shard.map_or(String::new(), |(i, n)| format!(" (shard {i}/{n})")),
            out.display()
        );
    }
    let opts = SweepOptions {
        out: out.clone(),
        threads,
        shard,
        progress: !quiet,
        fail_runs: Vec::new(),
    };
    let report = run_sweep(&exp, &opts)?;
    let manifest = silos::api::sweep_manifest(&exp, &report, shard, &started);
    let text = serde_json::to_string_pretty(&manifest)? + "\n";
    output::write_atomic(&out, "manifest.json", text.as_bytes())?;
    if !quiet {
        eprintln!(
            "silos sweep: {} runs ({} now, {} failed) in {:.1}s on {} thread(s); wrote {}",
            report.runs_total,
            report.runs_done_now,
            report.failures,
            report.secs,
            report.threads,
            out.display()
        );
    }
    if plots && shard.is_none() && cfg!(feature = "plots") {
        let n = plot(&out, true, true)?;
        if !quiet {
            eprintln!(
                "silos sweep: drew {n} charts in {} and {}",
                out.join("plots").display(),
                out.join("report.html").display()
            );
        }
    }
    Ok(report.failures)
}

/// `silos replay CLASS_DIR`: play a class again from its record and compare the files.
fn replay_class(dir: &Path, run_id: Option<u64>, out: Option<PathBuf>) -> Result<()> {
    if let Some(id) = run_id {
        bail!(
            "{}: this is a class, not a sweep; replay it without a run id (got {id})",
            dir.display()
        );
    }
    let out = out.unwrap_or_else(|| dir.join("replay"));
    let _lock = silos::outdir::lock(&out)?;
    let mut class = silos::teach::class::replay(dir, &out)?;
    class.finish()?;
    let mut files = vec!["rounds.csv".to_string()];
    for t in 1..=class.n_towns() {
        for f in [
            "ticks.csv",
            "agencies.csv",
            "groups.csv",
            "flows.csv",
            "mechanisms.csv",
        ] {
            files.push(format!("town-{t}/{f}"));
        }
    }
    println!(
        "silos replay: played {} round(s) of {} town(s) again into {}",
        class.round(),
        class.n_towns(),
        out.display()
    );
    if !files.iter().any(|f| dir.join(f).is_file()) {
        // A record without the original's runs (an edited decisions.csv, say): nothing to
        // compare.
        println!(
            "silos replay: {} holds no original runs to compare with",
            dir.display()
        );
        return Ok(());
    }
    let differ: Vec<&String> = files
        .iter()
        .filter(|f| std::fs::read(dir.join(f)).ok() != std::fs::read(out.join(f)).ok())
        .collect();
    if differ.is_empty() {
        println!(
            "silos replay: every town's run files and rounds.csv are identical to the original's ({} files)",
            files.len()
        );
        Ok(())
    } else {
        bail!(
            "these files differ from the original's: {} (was the class made by another version of silos? see {})",
            differ
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            dir.join("class.json").display()
        )
    }
}

fn replay(dir: &Path, run_id: u64, out: Option<PathBuf>) -> Result<()> {
    let exp = Experiment::from_sweep_dir(dir)?;
    if run_id >= exp.n_runs() {
        bail!(
            "run_id {run_id} is not in this sweep: it has runs 0 to {}",
            exp.n_runs() - 1
        );
    }
    let r = exp.run_ref(run_id);
    let scenario = exp.scenario_for(r.point, r.arm)?;
    let out = out.unwrap_or_else(|| dir.join(format!("replay-{run_id}")));
    let _lock = silos::outdir::lock(&out)?;
    silos::outdir::claim(&out, OutputKind::Run, "silos replay")?;
    let started = output::now_rfc3339();
    let clock = Instant::now();
    let arm = &exp.arms[r.arm];
    match silos::limits::admit(&scenario, exp.ticks) {
        Ok((_, Some(w))) => eprintln!("warning: run {run_id}: {w}"),
        Ok(_) => {}
        Err(m) => bail!("run {run_id}: {m}"),
    }
    let mut sim = Simulation::new(&scenario, r.seed, arm.choice);
    let mut writer = RunWriter::create(&out)
        .with_context(|| format!("{}: cannot create output files", out.display()))?;
    engine::run(&mut sim, exp.ticks, &mut writer)?;
    writer.finish(&sim.world)?;
    let manifest = serde_json::json!({
        "silos_version": env!("CARGO_PKG_VERSION"),
        "build": output::build_info(),
        "replay_of": { "sweep": dir.display().to_string(), "run_id": run_id, "point": r.point,
            "arm": arm.name, "replicate": r.replicate, "settings": exp.point_settings(r.point) },
        "scenario": { "name": scenario.name, "path": exp.scenario_label, "sha256": output::sha256_hex(exp.scenario_text.as_bytes()) },
        "seed": r.seed,
        "ticks": exp.ticks,
        "behaviour": arm.choice.as_str(),
        "overrides": exp.point_overrides(r.point).iter().chain(&arm.overrides).map(|o| o.text.clone()).collect::<Vec<_>>(),
        "agencies": sim.world.agencies.iter().map(|a| serde_json::json!({
            "agency": a.name, "level": a.level.as_str(), "behaviour": a.family.as_str(),
        })).collect::<Vec<_>>(),
        "files": output::RUN_FILES,
        "started": started,
        "finished": output::now_rfc3339(),
    });
    let text = serde_json::to_string_pretty(&manifest)? + "\n";
    output::write_atomic(&out, "manifest.json", text.as_bytes())?;
    summary(
        &sim.world,
        &exp.scenario_label,
        r.seed,
        exp.ticks,
        arm.choice,
        &out,
        clock.elapsed().as_secs_f64(),
    );
    Ok(())
}

fn merge(dirs: &[PathBuf], out: &Path) -> Result<()> {
    let _lock = silos::outdir::lock(out)?;
    silos::outdir::claim(out, OutputKind::Sweep, "silos merge")?;
    let n = silos::sweep::merge::merge(dirs, out)?;
    let exp = Experiment::from_sweep_dir(out)?;
    let mut manifest = silos::sweep::exec::manifest(&exp, env!("CARGO_PKG_VERSION"));
    let extra = serde_json::json!({
        "merged_from": dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>(),
        "shard": "all",
        "finished": output::now_rfc3339(),
    });
    if let (Some(m), Some(e)) = (manifest.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    let text = serde_json::to_string_pretty(&manifest)? + "\n";
    output::write_atomic(out, "manifest.json", text.as_bytes())?;
    eprintln!(
        "silos merge: {} directories, {n} design points; wrote {}",
        dirs.len(),
        out.display()
    );
    Ok(())
}

/// The scenario (validated, overrides applied), its name for messages, and its file bytes.
fn load(path: Option<&Path>, set: &[Override]) -> Result<(Scenario, String, Vec<u8>)> {
    let (name, bytes) = match path {
        None => (
            DEFAULT_SCENARIO_NAME.to_string(),
            DEFAULT_SCENARIO.as_bytes().to_vec(),
        ),
        Some(p) => {
            let bytes = silos::limits::read_bytes(p).map_err(|e| {
                anyhow::anyhow!("{}: cannot read the scenario file: {e}", p.display())
            })?;
            (p.display().to_string(), bytes)
        }
    };
    let text = std::str::from_utf8(&bytes).with_context(|| format!("{name}: not UTF-8 text"))?;
    let s = Scenario::from_toml_str_with(text, &name, set)?;
    Ok((s, name, bytes))
}

fn check(path: &Path, set: &[Override]) -> Result<()> {
    let (s, name, _) = load(Some(path), set)?;
    let (e, warning) = match silos::limits::admit(&s, s.ticks) {
        Ok(x) => x,
        Err(m) => bail!("{name}: {m}"),
    };
    println!(
        "{name}: ok ({} agencies, {} groups, {} dimensions, {} mechanisms, {} ticks, seed {})",
        s.agencies.len(),
        s.groups.len(),
        s.dimensions.len(),
        s.mechanisms.len(),
        s.ticks,
        s.seed
    );
    println!(
        "  estimated peak memory {}, about {} per run on one core (limit {}{})",
        silos::limits::show_bytes(e.bytes),
        silos::limits::show_secs(e.secs),
        silos::limits::show_bytes(silos::limits::memory_limit() as f64),
        if warning.is_some() { ", --force" } else { "" }
    );
    if let Some(w) = warning {
        eprintln!("warning: {name}: {w}");
    }
    if let Some(l) = &s.localities {
        println!(
            "  a national template: {} localities (arrivals x {}-{}, local budgets x {}-{}{}); `silos run` steps them in parallel",
            l.count,
            l.arrivals.low,
            l.arrivals.high,
            l.income.low,
            l.income.high,
            l.bp_share.map_or(String::new(), |b| format!(
                ", bp share {}-{}",
                b.low, b.high
            )) + &if l.levers_share < 1.0 {
                format!(", levers in a share {} of them", l.levers_share)
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

#[derive(Subcommand)]
enum ScenarioCommand {
    /// Print the full resolved scenario as TOML: the file (or the embedded default) with
    /// --set overrides applied and every omitted field at its documented default.
    #[command(
        after_help = "Examples:\n  silos scenario show                                   the embedded default scenario\n  silos scenario show scenarios/local-modernisation.toml\n  silos scenario show --set levers.control=0.5 > mine.toml   a variant to edit and run\n\nThe output loads to exactly the same scenario as its input (tested). Fields whose default depends on something else (an agency's label, its drawn lambda) stay omitted."
    )]
    Show {
        /// Scenario file (TOML); the embedded default when omitted.
        scenario: Option<PathBuf>,
        /// Override a field first (as for `run`).
        #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_set)]
        set: Vec<Override>,
    },
}

fn scenario_show(path: Option<&Path>, set: &[Override]) -> Result<()> {
    let (name, bytes) = match path {
        None => (
            DEFAULT_SCENARIO_NAME.to_string(),
            DEFAULT_SCENARIO.as_bytes().to_vec(),
        ),
        Some(p) => (
            p.display().to_string(),
            silos::limits::read_bytes(p).map_err(|e| {
                anyhow::anyhow!("{}: cannot read the scenario file: {e}", p.display())
            })?,
        ),
    };
    let text = std::str::from_utf8(&bytes).with_context(|| format!("{name}: not UTF-8 text"))?;
    let body = silos::resolve::show(text, &name, set)?;
    let sets: Vec<&str> = set.iter().map(|o| o.text.as_str()).collect();
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "# {name}{}, resolved by silos {}: every omitted field at its default (docs/scenarios.md)",
        if sets.is_empty() {
            String::new()
        } else {
            format!(" with --set {}", sets.join(" --set "))
        },
        env!("CARGO_PKG_VERSION")
    )?;
    write!(out, "{body}")?;
    Ok(())
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ParamsFormat {
    Text,
    Csv,
    Json,
}

fn params(filter: Option<&str>, format: ParamsFormat) -> Result<()> {
    let needle = filter.map(str::to_lowercase);
    let list: Vec<_> = silos::params::all()
        .into_iter()
        .filter(|p| {
            needle
                .as_deref()
                .is_none_or(|n| p.path.to_lowercase().contains(n))
        })
        .collect();
    if list.is_empty() {
        bail!(
            "no parameter path contains {:?}; run `silos params` for the full list",
            filter.unwrap_or("")
        );
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        ParamsFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &list)?;
            writeln!(out)?;
        }
        ParamsFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            for p in &list {
                w.serialize(p)?;
            }
            w.flush()?;
        }
        ParamsFormat::Text => {
            let mut table = "";
            for p in &list {
                if p.table != table {
                    table = &p.table;
                    writeln!(out, "\n{table}")?;
                }
                let unit = if p.unit.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", p.unit)
                };
                writeln!(
                    out,
                    "  {}  = {}{unit}  (allowed: {}; {})",
                    p.path, p.default, p.allowed, p.kind
                )?;
                if !p.meaning.is_empty() {
                    writeln!(out, "      {}", p.meaning)?;
                }
                if !p.source.is_empty() {
                    writeln!(out, "      source: {}", p.source)?;
                }
            }
        }
    }
    Ok(())
}

fn columns(only: Option<&str>) -> Result<()> {
    let sweep = silos::params::sweep_files();
    let run_files = [
        "ticks.csv",
        "agencies.csv",
        "groups.csv",
        "needs.csv",
        "dumping.csv",
    ];
    if let Some(f) = only
        && !run_files.contains(&f)
        && !sweep.iter().any(|s| s.file == f)
    {
        let mut known: Vec<&str> = run_files.to_vec();
        known.extend(sweep.iter().map(|s| s.file.as_str()));
        bail!(
            "no output file is called {f:?}; silos columns knows: {}",
            known.join(", ")
        );
    }
    let want = |f: &str| only.is_none_or(|o| o == f);
    let mut out = std::io::stdout().lock();
    if want("ticks.csv") {
        writeln!(
            out,
            "ticks.csv (one row per tick)\n  tick  [1..]  tick number (month)"
        )?;
        for o in TICK {
            writeln!(out, "  {}  [{}]  {}", o.name, o.unit, o.doc)?;
        }
        writeln!(out)?;
    }
    if want("agencies.csv") {
        writeln!(
            out,
            "agencies.csv (one row per agency per tick)\n  tick, agency, level, behaviour"
        )?;
        for o in AGENCY {
            writeln!(out, "  {}  [{}]  {}", o.name, o.unit, o.doc)?;
        }
        writeln!(out)?;
    }
    if want("groups.csv") {
        writeln!(
            out,
            "groups.csv (one row per client group per tick; a plain sum of a column over groups is the arena's total)\n  \
tick, group, arrivals, need, need_met, share_need_met, served, partly_served, fell_through, referrals, \
bounces, dumped_referrals, referrals_per_case, share_fell_through\n"
        )?;
    }
    if want("needs.csv") {
        writeln!(
            out,
            "needs.csv (one row per number of needs per tick: the same cases by how many needs each has)\n  \
tick, needs (1, 2, ...), and the columns of groups.csv\n"
        )?;
    }
    if want("dumping.csv") {
        writeln!(
            out,
            "dumping.csv (run totals, one row per sender-receiver pair with referrals)\n  sender, receiver, \
referrals, dumped_referrals, dumped_cost [k GBP]\n"
        )?;
    }
    if only.is_none() {
        writeln!(
            out,
            "NA marks a value undefined in that tick (for example a share of zero cases) or one that overflowed (no number is written as inf).\n\n\
A sweep's files (silos sweep; docs/experiments.md, \"Outputs\"):\n"
        )?;
    }
    for f in sweep.iter().filter(|f| want(&f.file)) {
        if f.file.ends_with(".csv") && !f.row.is_empty() {
            writeln!(out, "{} (one row per {}): {}", f.file, f.row, f.holds)?;
        } else {
            writeln!(out, "{}: {}", f.file, f.holds)?;
        }
        for para in f.columns.split("\n\n").filter(|p| !p.is_empty()) {
            for line in para.lines() {
                writeln!(out, "  {line}")?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

fn run(args: RunArgs) -> Result<()> {
    let (scenario, scenario_name, bytes) = load(args.scenario.as_deref(), &args.set)?;
    let seed = args.seed.unwrap_or(scenario.seed);
    let ticks = args.ticks.unwrap_or(scenario.ticks);
    if ticks == 0 {
        bail!("--ticks must be at least 1");
    }
    // Before anything is allocated: the run must fit (ticks, money at this length, memory).
    match silos::limits::admit(&scenario, ticks) {
        Ok((_, Some(w))) => eprintln!("warning: {scenario_name}: {w}"),
        Ok(_) => {}
        Err(m) => bail!("{scenario_name}: {m}"),
    }
    let out = args.out.clone().unwrap_or_else(|| {
        let set: Vec<String> = args.set.iter().map(|o| o.text.clone()).collect();
        silos::outdir::default_run_dir(
            &scenario.name,
            seed,
            args.behaviour.as_str(),
            args.ticks,
            &set,
        )
    });
    let kind = if scenario.localities.is_some() {
        OutputKind::National
    } else {
        OutputKind::Run
    };
    let _lock = silos::outdir::lock(&out)?;
    silos::outdir::claim(&out, kind, "silos run")?;
    let started = output::now_rfc3339();
    let clock = Instant::now();
    if scenario.localities.is_some() {
        return national_run(&args, &scenario, &scenario_name, &bytes, seed, ticks, &out);
    }
    let mut sim = Simulation::new(&scenario, seed, args.behaviour);
    let mut writer = RunWriter::create(&out)
        .with_context(|| format!("{}: cannot create output files", out.display()))?;
    engine::run(&mut sim, ticks, &mut writer)
        .with_context(|| format!("run of {scenario_name} with seed {seed}"))?;
    writer
        .finish(&sim.world)
        .with_context(|| format!("{}: cannot write output", out.display()))?;
    let spec = silos::api::RunSpec {
        scenario: &scenario,
        label: &scenario_name,
        bytes: &bytes,
        seed,
        ticks,
        behaviour: args.behaviour,
        overrides: &args.set,
    };
    let manifest = silos::api::run_manifest(&spec, &sim.world, &started);
    let text = serde_json::to_string_pretty(&manifest)? + "\n";
    output::write_atomic(&out, "manifest.json", text.as_bytes())
        .with_context(|| format!("{}: cannot write manifest.json", out.display()))?;
    if !args.quiet {
        summary(
            &sim.world,
            &scenario_name,
            seed,
            ticks,
            args.behaviour,
            &out,
            clock.elapsed().as_secs_f64(),
        );
    }
    if !args.no_plots && cfg!(feature = "plots") {
        let n = plot(&out, true, true)?;
        if !args.quiet {
            println!(
                "  drew {n} charts in {} and {}",
                out.join("plots").display(),
                out.join("report.html").display()
            );
        }
    }
    Ok(())
}

/// `silos run` on a scenario with `[localities]`: every locality stepped in parallel, then
/// the central phase, tick by tick (`national.rs`).
fn national_run(
    args: &RunArgs,
    scenario: &silos::scenario::Scenario,
    scenario_name: &str,
    bytes: &[u8],
    seed: u64,
    ticks: u32,
    out: &Path,
) -> Result<()> {
    let started = output::now_rfc3339();
    let clock = Instant::now();
    let pool = pool(args.threads)?;
    let n_loc = scenario.localities.as_ref().map_or(1, |l| l.count) as usize;
    if !args.quiet {
        eprintln!(
            "silos run: national, {n_loc} localities x {} agencies, {ticks} ticks, {} threads; writing {}",
            scenario.agencies.len(),
            pool.current_num_threads(),
            out.display()
        );
    }
    let mut writer = output::NationalWriter::create(out, n_loc)
        .with_context(|| format!("{}: cannot create output files", out.display()))?;
    let mut nat = pool.install(|| silos::national::National::new(scenario, seed, args.behaviour));
    let bar = (!args.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr())).then(|| {
        let b = indicatif::ProgressBar::new(ticks as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "silos run: tick {pos}/{len} {bar:30} {elapsed} (eta {eta})",
            )
            .expect("valid template"),
        );
        b
    });
    for _ in 0..ticks {
        pool.install(|| nat.step())
            .with_context(|| format!("national run of {scenario_name} with seed {seed}"))?;
        writer
            .observe(&nat)
            .with_context(|| format!("{}: cannot write ticks.csv", out.display()))?;
        if let Some(b) = &bar {
            b.inc(1);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    writer
        .finish(&nat)
        .with_context(|| format!("{}: cannot write output", out.display()))?;
    let cases: u64 = nat
        .localities
        .iter()
        .map(|s| s.world.tally.run.arrivals)
        .sum();
    let secs = clock.elapsed().as_secs_f64();
    let manifest = serde_json::json!({
        "silos_version": env!("CARGO_PKG_VERSION"),
        "build": output::build_info(),
        "scenario": {
            "name": scenario.name,
            "path": scenario_name,
            "sha256": output::sha256_hex(bytes),
        },
        "seed": seed,
        "ticks": ticks,
        "behaviour": args.behaviour.as_str(),
        "overrides": args.set.iter().map(|o| o.text.clone()).collect::<Vec<_>>(),
        "localities": n_loc,
        "agencies_per_locality": scenario.agencies.len(),
        "seed_rule": "locality k's streams: derive_seed(seed, k + 1, LOCALITY) (src/national.rs); shocks and initiatives: national streams from the seed",
        "files": output::NATIONAL_FILES,
        "started": started,
        "finished": output::now_rfc3339(),
    });
    let text = serde_json::to_string_pretty(&manifest)? + "\n";
    output::write_atomic(out, "manifest.json", text.as_bytes())
        .with_context(|| format!("{}: cannot write manifest.json", out.display()))?;
    #[cfg(feature = "plots")]
    if !args.no_plots {
        plot(out, true, args.quiet)?;
    }
    if !args.quiet {
        println!(
            "silos run: {n_loc} localities, {ticks} ticks, {cases} cases in {secs:.1}s ({:.0} cases/s); wrote {} (ticks.csv per locality with their mean and total, localities.csv)",
            cases as f64 / secs.max(1e-9),
            out.display()
        );
    }
    Ok(())
}

fn pct(x: f64) -> String {
    if x.is_nan() {
        "NA".to_string()
    } else {
        format!("{:.1}%", 100.0 * x)
    }
}

fn summary(
    w: &World,
    name: &str,
    seed: u64,
    ticks: u32,
    b: BehaviourChoice,
    out: &Path,
    secs: f64,
) {
    let r = &w.tally.run;
    let f = &w.tally.run_fell;
    let mut fams = [0usize; 2];
    for a in &w.agencies {
        let k = silos::scenario::Family::ALL
            .iter()
            .position(|x| *x == a.family)
            .unwrap_or(0);
        fams[k] += 1;
    }
    println!(
        "silos {} | {name} | seed {seed} | {ticks} ticks | behaviour {}",
        env!("CARGO_PKG_VERSION"),
        b.as_str()
    );
    println!(
        "  agencies: {} (ra {}, bp {}; bounded search {})",
        w.n_agencies(),
        fams[0],
        fams[1],
        w.agencies
            .iter()
            .filter(|a| a.search == silos::scenario::SearchMode::Bounded)
            .count()
    );
    let share = |x: u64| {
        if r.arrivals > 0 {
            x as f64 / r.arrivals as f64
        } else {
            f64::NAN
        }
    };
    println!(
        "  cases: {} arrived; served {}, partly served {}, fell through {} (refused {}, lost in referral {}, nothing met {})",
        r.arrivals,
        pct(share(r.served)),
        pct(share(r.partly_served)),
        pct(share(r.fell_through)),
        f.refused,
        f.lost,
        f.nothing_met
    );
    println!(
        "  need met: {} of severity-weighted need",
        pct(r.share_met())
    );
    println!(
        "  referrals: {:.2} per case; bounced {}; counted as dumping {}",
        share(r.referrals),
        r.bounces,
        pct(if r.referrals > 0 {
            r.dumped as f64 / r.referrals as f64
        } else {
            f64::NAN
        })
    );
    let last = |name: &str| {
        TICK.iter()
            .find(|o| o.name == name)
            .map(|o| (o.value)(w))
            .unwrap_or(f64::NAN)
    };
    // Undefined values print as NA, as in the CSV files.
    let dec3 = |x: f64| {
        if x.is_finite() {
            format!("{x:.3}")
        } else {
            "NA".to_string()
        }
    };
    println!(
        "  final tick: coordination index {}, mechanisms alive {}, agenda capture {}, free riding {}, budget Gini {}",
        pct(last("coordination_index")),
        last("mechanisms_alive"),
        dec3(last("agenda_capture")),
        dec3(last("free_riding")),
        dec3(last("budget_gini"))
    );
    println!("  wrote {} in {:.2}s", out.display(), secs);
}

fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    Ok(silos::validate::thread_pool(threads)?)
}

#[derive(clap::Args)]
struct ValidateArgs {
    /// 6 replicates per arm instead of 30, a 6-point hypercube with 3 seeds, no sensitivity.
    #[arg(long)]
    quick: bool,
    /// List the registered facts (id, tag, source, statement) and exit.
    #[arg(long)]
    list: bool,
    /// Output directory (default: output/validation/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Only these facts (comma-separated ids, e.g. V01,V09).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Replicates per arm (overrides --quick's and the default).
    #[arg(long)]
    replicates: Option<u32>,
    /// Latin-hypercube points for robustness (default 16; 6 with --quick; 0 skips it).
    #[arg(long)]
    robust_points: Option<u32>,
    /// Replicate seeds per arm at each robustness point (default 5; 3 with --quick).
    #[arg(long)]
    robust_replicates: Option<u32>,
    /// Skip the global sensitivity analysis (a full run does it by default).
    #[arg(long)]
    no_sensitivity: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Read facts and experiments from this folder instead of the embedded copies.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Read the facts from this file (experiments still embedded or from --dir): for
    /// diagnostics that are not part of the registered suite.
    #[arg(long)]
    facts: Option<PathBuf>,
    /// Also write the Markdown report here (charts go beside it in validation/).
    #[arg(long)]
    doc: Option<PathBuf>,
    /// Sensitivity study to run instead of the embedded contrasts study.
    #[arg(long)]
    sensitivity: Option<PathBuf>,
}

fn validate_list(dir: Option<&Path>, facts: Option<&Path>) -> Result<()> {
    use std::io::Write as _;
    let list = match facts {
        Some(f) => silos::validate::load_facts_file(f)?,
        None => silos::validate::load_facts(dir)?,
    };
    let mut out = std::io::stdout().lock();
    for f in list {
        let line = format!(
            "{:<4} {:<9} {:<22} {}",
            f.id,
            silos::validate::tag_str(f.tag),
            f.source,
            f.statement
        );
        // A reader that stops early (`| head`) is not an error.
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    Ok(())
}

fn validate(a: ValidateArgs) -> Result<()> {
    use silos::validate;
    let out = a
        .out
        .unwrap_or_else(|| PathBuf::from("output").join("validation"));
    let _lock = silos::outdir::lock(&out)?;
    silos::outdir::claim(&out, OutputKind::Validation, "silos validate")?;
    let reps = a.replicates.unwrap_or(if a.quick { 6 } else { 30 });
    let rpoints = a.robust_points.unwrap_or(if a.quick { 6 } else { 16 });
    let rreps = a.robust_replicates.unwrap_or(if a.quick { 3 } else { 5 });
    let clock = Instant::now();
    eprintln!(
        "silos validate: {} replicate seeds per arm{}; robustness {}; writing {}",
        reps,
        if a.quick { " (quick)" } else { "" },
        if rpoints == 0 {
            "skipped".to_string()
        } else {
            format!("{rpoints} hypercube points x {rreps} seeds")
        },
        out.display()
    );
    let opts = validate::ValidateOptions {
        replicates: reps,
        only: a.only,
        threads: a.threads,
        dir: a.dir.clone(),
        facts: a.facts.clone(),
        robustness: (rpoints > 0).then_some((rpoints, rreps)),
        progress: true,
    };
    // Ordinal patterns only with the whole suite (they share the behaviour experiment's runs).
    let suite = validate::run_suite(&opts, opts.only.is_empty() && opts.facts.is_none())?;
    let results = &suite.results;
    std::fs::create_dir_all(out.join("charts"))?;
    output::write_atomic(&out, "validation.csv", validate::csv(results).as_bytes())?;
    if suite.robustness.is_some() {
        output::write_atomic(
            &out,
            "robustness.csv",
            validate::report::robustness_csv(&suite).as_bytes(),
        )?;
    }
    for r in results {
        output::write_atomic(
            &out.join("charts"),
            &format!("{}.csv", r.fact.id),
            validate::trajectory_csv(r).as_bytes(),
        )?;
    }
    let chart_ext = draw_fact_charts(results, &out.join("charts"), reps);
    print!("{}", validate::table(results));
    if !suite.patterns.is_empty() {
        print!(
            "\nordinal patterns (not scored):\n{}",
            validate::patterns_text(&suite.patterns, false)
        );
    }
    let pool = pool(a.threads)?;
    let sens = if a.quick && a.sensitivity.is_none() || a.no_sensitivity {
        None
    } else {
        let study = match &a.sensitivity {
            Some(f) => validate::sensitivity::Study::from_path(f)?,
            None => validate::sensitivity::Study::from_str_in(
                validate::CONTRASTS_STUDY,
                "<embedded>/scenarios/sensitivity/contrasts.toml",
                Path::new("."),
            )?,
        };
        eprintln!(
            "silos validate: global sensitivity ({}: {} factors, {} Morris trajectories{})...",
            study.file,
            study.factors.len(),
            study.trajectories,
            if study.sobol.is_some() {
                ", then Sobol"
            } else {
                ""
            }
        );
        let res = study.run_all(&pool);
        output::write_atomic(
            &out,
            "sensitivity.csv",
            validate::sensitivity::csv(&res.morris).as_bytes(),
        )?;
        if let Some((_, _, ix)) = &res.sobol {
            output::write_atomic(
                &out,
                "sobol.csv",
                validate::sensitivity::sobol_csv(ix).as_bytes(),
            )?;
        }
        Some(res)
    };
    let runs = suite.runs + sens.as_ref().map_or(0, |s| s.runs);
    let info = validate::RunInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        date: output::now_rfc3339(),
        replicates: reps,
        ticks: 120,
        quick: a.quick,
        charts: "charts".to_string(),
        chart_ext: chart_ext.clone(),
        seconds: clock.elapsed().as_secs_f64(),
        runs,
    };
    let report = validate::markdown(&suite, &info, sens.as_ref(), None);
    output::write_atomic(&out, "VALIDATION.md", report.as_bytes())?;
    if let Some(doc) = a.doc {
        let doc_dir = doc.parent().map(Path::to_path_buf).unwrap_or_default();
        let charts = doc_dir.join("validation");
        std::fs::create_dir_all(&charts)?;
        if let Some(ext) = &chart_ext {
            for r in results {
                let name = format!("{}.{ext}", r.fact.id);
                // Copied atomically: a failed copy leaves no half-written chart.
                let bytes = std::fs::read(out.join("charts").join(&name))?;
                output::write_atomic(&charts, &name, &bytes)?;
            }
        }
        let discussion = std::fs::read_to_string(doc_dir.join("validation-discussion.md")).ok();
        let info = validate::RunInfo {
            charts: "validation".to_string(),
            ..info
        };
        let text = validate::markdown(&suite, &info, sens.as_ref(), discussion.as_deref());
        output::write_atomic(
            &doc_dir,
            &doc.file_name()
                .map(|f| f.to_string_lossy().to_string())
                .unwrap_or("VALIDATION.md".into()),
            text.as_bytes(),
        )?;
        eprintln!("silos validate: wrote {}", doc.display());
    }
    eprintln!(
        "silos validate: {runs} runs in {:.0}s; wrote {}",
        clock.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

/// Draw each fact's chart (arm and reference over time, with 95% bands); returns the image
/// extension when charts were drawn.
fn draw_fact_charts(
    results: &[silos::validate::FactResult],
    dir: &Path,
    reps: u32,
) -> Option<String> {
    #[cfg(feature = "plots")]
    {
        let mut ok = true;
        for r in results {
            if let Err(e) = silos::plot::fact_chart(r, dir, reps) {
                eprintln!("silos validate: chart for {} not drawn: {e}", r.fact.id);
                ok = false;
            }
        }
        if ok {
            return Some("png".to_string());
        }
        None
    }
    #[cfg(not(feature = "plots"))]
    {
        let _ = (results, dir, reps);
        None
    }
}

fn sensitivity(file: &Path, out: Option<PathBuf>, threads: Option<usize>) -> Result<()> {
    use silos::validate::sensitivity;
    let study = sensitivity::Study::from_path(file)?;
    let out =
        out.unwrap_or_else(|| PathBuf::from("output").join(format!("sensitivity-{}", study.name)));
    let _lock = silos::outdir::lock(&out)?;
    silos::outdir::claim(&out, OutputKind::Sensitivity, "silos sensitivity")?;
    eprintln!(
        "silos sensitivity: {} | {} trajectories x {} points x {} replicates per arm{}; writing {}",
        study.name,
        study.trajectories,
        study.factors.len() + 1,
        study.replicates,
        if study.sobol.is_some() {
            ", then Sobol"
        } else {
            ""
        },
        out.display()
    );
    let clock = Instant::now();
    let res = study.run_all(&pool(threads)?);
    std::fs::create_dir_all(&out)?;
    output::write_atomic(
        &out,
        "sensitivity.csv",
        sensitivity::csv(&res.morris).as_bytes(),
    )?;
    if let Some((_, _, ix)) = &res.sobol {
        output::write_atomic(&out, "sobol.csv", sensitivity::sobol_csv(ix).as_bytes())?;
    }
    println!(
        "{:<36} {:<40} {:>10} {:>10} {:>10}",
        "output", "factor", "mu*", "mu", "sigma"
    );
    for e in &res.morris {
        println!(
            "{:<36} {:<40} {:>10.4} {:>+10.4} {:>10.4}",
            e.output, e.factor, e.mu_star, e.mu, e.sigma
        );
    }
    if let Some((_, _, ix)) = &res.sobol {
        println!("\nSobol (headline contrasts):");
        for e in ix {
            println!(
                "{:<36} {:<40} S1 {:>6.2} [{:.2}, {:.2}]  ST {:>6.2} [{:.2}, {:.2}]",
                e.output,
                e.factor,
                e.first,
                e.first_ci.0,
                e.first_ci.1,
                e.total,
                e.total_ci.0,
                e.total_ci.1
            );
        }
    }
    eprintln!(
        "silos sensitivity: {} runs in {:.0}s; wrote {}",
        res.runs,
        clock.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn teach(
    lesson: Option<String>,
    step: bool,
    set: Vec<Override>,
    out: Option<PathBuf>,
    seed: Option<u64>,
    ticks: Option<u32>,
    scenario: Option<PathBuf>,
    no_plots: bool,
) -> Result<()> {
    use std::io::IsTerminal;
    let Some(name) = lesson else {
        print!("{}", silos::teach::lesson_list());
        return Ok(());
    };
    let stdin = std::io::stdin();
    let interactive = step && stdin.is_terminal();
    if step && !interactive {
        eprintln!(
            "silos teach: standard input is not a terminal, so the lesson runs straight through"
        );
    }
    let out_dir = out.unwrap_or_else(|| silos::teach::default_out_dir(&name));
    let _lock = silos::outdir::lock(&out_dir)?;
    silos::outdir::claim(&out_dir, OutputKind::Lesson, "silos teach")?;
    let opts = silos::teach::TeachOptions {
        overrides: set,
        step: interactive,
        out_dir,
        seed,
        ticks,
        charts: !no_plots,
        scenario,
    };
    let mut input = stdin.lock();
    let mut stdout = std::io::stdout();
    let report = silos::teach::run_lesson(&name, &opts, &mut input, &mut stdout)?;
    eprintln!("silos teach: handout {}", report.handout.display());
    Ok(())
}
