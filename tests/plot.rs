//! Charts and the HTML report (`silos::plot`): every chart type renders from a small run and
//! from hand-written sweep outputs (`tests/fixtures/plot/`); pictures decode at the right
//! size and carry ink, text included; SVGs carry text; the report is self-contained; bad
//! inputs give clear errors; the same inputs give the same bytes.
#![cfg(feature = "plots")]

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use silos::engine::{self, BehaviourChoice, Simulation};
use silos::output::{self, RunWriter};
use silos::plot::{OutputKind, PlotError, PlotOptions, PlotReport, plot_dir};

const SEED: u64 = 4242;

/// A small run's output directory (small.toml, 12 ticks), written through the library as
/// `silos run` writes it.
fn run_dir(dir: &Path) {
    let s = common::fixture("small.toml");
    let mut sim = Simulation::new(&s, SEED, BehaviourChoice::Mixed);
    let mut w = RunWriter::create(dir).expect("create run files");
    engine::run(&mut sim, 12, &mut w).expect("invariants hold");
    w.finish(&sim.world).expect("write run files");
    let manifest = serde_json::json!({
        "silos_version": env!("CARGO_PKG_VERSION"),
        "scenario": { "name": s.name, "path": "tests/fixtures/small.toml", "sha256": "0" },
        "seed": SEED,
        "ticks": 12,
        "behaviour": "mixed",
        "agencies": sim.world.agencies.iter().map(|a| serde_json::json!({
            "agency": a.name, "level": a.level.as_str(), "behaviour": a.family.as_str(),
        })).collect::<Vec<_>>(),
    });
    output::write_atomic(
        dir,
        "manifest.json",
        serde_json::to_string_pretty(&manifest).unwrap().as_bytes(),
    )
    .unwrap();
}

/// Copy a committed fixture directory (its files only) into `dest`, so drawing never writes
/// into the source tree.
fn copy_fixture(name: &str, dest: &Path) {
    let src = common::fixture_path("plot").join(name);
    fs::create_dir_all(dest).unwrap();
    for e in fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            fs::copy(&p, dest.join(p.file_name().unwrap())).unwrap();
        }
    }
}

fn opts(observables: &[&str]) -> PlotOptions {
    PlotOptions {
        observables: observables.iter().map(|s| s.to_string()).collect(),
        ..PlotOptions::default()
    }
}

/// Decode a PNG: (width, height, RGB pixels).
fn decode(path: &Path) -> (u32, u32, Vec<[u8; 3]>) {
    let dec = png::Decoder::new(fs::File::open(path).unwrap());
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size()];
    let info = r.next_frame(&mut buf).unwrap();
    let ch = info.color_type.samples();
    assert!(ch >= 3, "{}: expected colour pixels", path.display());
    let px = buf[..info.buffer_size()]
        .chunks(ch)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    (info.width, info.height, px)
}

fn dark(p: [u8; 3]) -> bool {
    (p[0] as u32 + p[1] as u32 + p[2] as u32) < 200
}

/// The PNG is 1600x1000, has ink over the picture, and text in the title region.
fn check_png(path: &Path) {
    let (w, h, px) = decode(path);
    assert_eq!((w, h), (1600, 1000), "{}", path.display());
    let ink = px.iter().filter(|p| **p != [255, 255, 255]).count();
    assert!(
        ink > (w * h / 50) as usize,
        "{}: only {ink} non-white pixels",
        path.display()
    );
    // The title: dark pixels in the top-left band where it is drawn.
    let title_dark = (10..70)
        .flat_map(|y| (30..700).map(move |x| (x, y)))
        .filter(|&(x, y)| dark(px[(y * w + x) as usize]))
        .count();
    assert!(
        title_dark > 500,
        "{}: the title region is blank ({title_dark} dark pixels): was the font loaded?",
        path.display()
    );
    // Axis labels and tick labels: dark pixels along the left edge and the bottom band.
    let left_dark = (150..900)
        .flat_map(|y| (0..160).map(move |x| (x, y)))
        .filter(|&(x, y)| dark(px[(y * w + x) as usize]))
        .count();
    assert!(left_dark > 200, "{}: no text at the left", path.display());
}

fn check_svg(path: &Path, title: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.starts_with("<svg"), "{}", path.display());
    assert!(text.contains("<text"), "{}: no text", path.display());
    let first_word = title.split(' ').next().unwrap();
    assert!(
        text.contains(first_word),
        "{}: the title is missing",
        path.display()
    );
}

fn names(r: &PlotReport) -> Vec<&str> {
    r.charts.iter().map(|c| c.name.as_str()).collect()
}

fn check_all(r: &PlotReport) {
    for c in &r.charts {
        check_png(&c.png);
        check_svg(&c.svg, &c.title);
        assert!(c.png.starts_with(&r.plots_dir) && c.svg.starts_with(&r.plots_dir));
    }
}

fn skipped_reason<'a>(r: &'a PlotReport, chart: &str) -> &'a str {
    r.skipped
        .iter()
        .find(|s| s.chart.starts_with(chart))
        .map(|s| s.reason.as_str())
        .unwrap_or_else(|| panic!("{chart} not in skipped: {:?}", r.skipped))
}

#[test]
fn a_run_draws_every_run_chart_with_ink_and_a_report() {
    let tmp = tempfile::tempdir().unwrap();
    run_dir(tmp.path());
    let r = plot_dir(tmp.path(), &PlotOptions::default()).expect("plots");
    assert_eq!(r.kind, OutputKind::Run);
    let got = names(&r);
    for want in [
        "time_share_need_met",
        "time_share_need_met_multi_vs_single",
        "time_share_fell_through",
        "time_dumped_share",
        "time_budget_gini",
        "groups_need_met",
        "needs_need_met",
        "needs_need_met_total",
        "free_riding_agencies",
        "dumping_matrix",
    ] {
        assert!(got.contains(&want), "{want} missing from {got:?}");
    }
    check_all(&r);
    assert!(skipped_reason(&r, "agenda_vs_need").contains("agenda"));

    let html = fs::read_to_string(r.report.as_ref().expect("report written")).unwrap();
    assert!(html.contains("data:image/png;base64,"));
    assert_eq!(
        html.matches("data:image/png;base64,").count(),
        r.charts.len()
    );
    assert!(html.contains("Settings") && html.contains(&SEED.to_string()));
    assert!(html.contains("small") && html.contains("day_centre"));
    assert!(html.contains("Key observables"));
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));
}

#[test]
fn a_two_factor_sweep_draws_time_paired_heatmap_distribution_and_structure_charts() {
    let tmp = tempfile::tempdir().unwrap();
    copy_fixture("sweep", tmp.path());
    let r = plot_dir(
        tmp.path(),
        &opts(&[
            "share_need_met",
            "share_need_met_multi",
            "share_fell_through",
        ]),
    )
    .expect("plots");
    assert_eq!(r.kind, OutputKind::Sweep);
    let got = names(&r);
    for want in [
        "time_share_need_met",
        "time_share_need_met_multi_vs_single",
        "paired_share_need_met",
        "heatmap_share_need_met",
        // Derived per run from total_fell_through / total_arrivals in runs.csv.
        "heatmap_share_fell_through",
        "dist_share_fell_through",
        "dist_share_need_met",
    ] {
        assert!(got.contains(&want), "{want} missing from {got:?}");
    }
    // As `silos sweep` writes them, summary.csv and paired.csv hold no fell-through share.
    assert!(skipped_reason(&r, "time_share_fell_through").contains("per-tick"));
    // Per-point structure charts: 4 points, drawn for first, middle and last.
    for prefix in [
        "free_riding_agencies_ra_p",
        "free_riding_agencies_bp_p",
        "dumping_matrix_ra_p",
        "dumping_matrix_bp_p",
        "agenda_vs_need_p",
    ] {
        let n = got.iter().filter(|n| n.starts_with(prefix)).count();
        assert_eq!(n, 3, "{prefix}: {got:?}");
    }
    assert!(skipped_reason(&r, "dose_").contains("exactly one"));
    check_all(&r);

    let html = fs::read_to_string(r.report.as_ref().unwrap()).unwrap();
    assert!(html.contains("data:image/png;base64,"));
    assert!(html.contains("master_seed") && html.contains("pool_share"));
    assert!(
        html.contains("<h1>silos sweep: sweep</h1>"),
        "experiment name from the object"
    );
    assert!(html.contains("Outcomes by arm") && html.contains("Paired differences from ra"));
}

#[test]
fn a_one_factor_sweep_draws_dose_response_and_lists_what_it_cannot_draw() {
    let tmp = tempfile::tempdir().unwrap();
    copy_fixture("sweep_one_factor", tmp.path());
    let r = plot_dir(tmp.path(), &PlotOptions::default()).expect("plots");
    let got = names(&r);
    for want in [
        "dose_share_need_met",
        "dose_dumped_share",
        "time_coordination_index",
        "paired_dumped_share",
        "dist_share_need_met",
    ] {
        assert!(got.contains(&want), "{want} missing from {got:?}");
    }
    check_all(&r);
    assert!(skipped_reason(&r, "heatmap_").contains("exactly two"));
    assert!(skipped_reason(&r, "free_riding_agencies").contains("agencies_summary.csv"));
    assert!(skipped_reason(&r, "dumping_matrix").contains("dumping_summary.csv"));
    assert!(skipped_reason(&r, "agenda_vs_need").contains("agenda_summary.csv"));
    assert!(skipped_reason(&r, "time_mean_trust").contains("mean_trust"));
}

#[test]
fn the_same_inputs_give_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    copy_fixture("sweep_one_factor", &a);
    copy_fixture("sweep_one_factor", &b);
    let o = opts(&["share_need_met", "dumped_share"]);
    let ra = plot_dir(&a, &o).unwrap();
    let rb = plot_dir(&b, &o).unwrap();
    assert_eq!(names(&ra), names(&rb));
    assert!(!ra.charts.is_empty());
    for (x, y) in ra.charts.iter().zip(&rb.charts) {
        assert_eq!(
            fs::read(&x.png).unwrap(),
            fs::read(&y.png).unwrap(),
            "{}",
            x.name
        );
        assert_eq!(
            fs::read(&x.svg).unwrap(),
            fs::read(&y.svg).unwrap(),
            "{}",
            x.name
        );
    }
    assert_eq!(
        fs::read(a.join("report.html")).unwrap(),
        fs::read(b.join("report.html")).unwrap()
    );
    // Drawing again over existing plots gives the same bytes too.
    let first = fs::read(&ra.charts[0].png).unwrap();
    plot_dir(&a, &o).unwrap();
    assert_eq!(fs::read(&ra.charts[0].png).unwrap(), first);
}

#[test]
fn an_empty_or_missing_directory_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let e = plot_dir(tmp.path(), &PlotOptions::default()).unwrap_err();
    assert!(matches!(e, PlotError::NotAnOutputDir { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("not a silos output directory") && msg.contains("ticks.csv"));
    assert!(!tmp.path().join("plots").exists());

    let e = plot_dir(&tmp.path().join("nope"), &PlotOptions::default()).unwrap_err();
    assert!(matches!(e, PlotError::Read { .. }), "{e:?}");
    assert!(e.to_string().contains("nope"));
}

fn replace_in(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(
        text.contains(from),
        "{}: {from:?} not found",
        path.display()
    );
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn malformed_files_are_clear_errors_not_panics() {
    let tmp = tempfile::tempdir().unwrap();
    let fresh = |name: &str| -> PathBuf {
        let d = tmp.path().join(name);
        run_dir(&d);
        d
    };

    // Wrong header: ticks.csv without its tick column.
    let d = fresh("header");
    replace_in(&d.join("ticks.csv"), "tick,", "tock,");
    let e = plot_dir(&d, &PlotOptions::default()).unwrap_err();
    assert!(matches!(e, PlotError::Header { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("ticks.csv") && msg.contains("`tick`"), "{msg}");
    assert!(
        !d.join("plots").exists(),
        "nothing is drawn from a bad directory"
    );

    // A non-numeric value.
    let d = fresh("value");
    let text = fs::read_to_string(d.join("ticks.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut fields: Vec<String> = lines[2].split(',').map(String::from).collect();
    fields[1] = "lots".into();
    lines[2] = fields.join(",");
    fs::write(d.join("ticks.csv"), lines.join("\n") + "\n").unwrap();
    let e = plot_dir(&d, &PlotOptions::default()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, PlotError::Value { line: 3, .. }), "{e:?}");
    assert!(
        msg.contains("ticks.csv")
            && msg.contains("line 3")
            && msg.contains("`arrivals`")
            && msg.contains("`lots`")
            && msg.contains("a number or NA"),
        "{msg}"
    );

    // A row with a missing field.
    let d = fresh("ragged");
    let text = fs::read_to_string(d.join("dumping.csv")).unwrap();
    let cut: Vec<&str> = text.lines().collect();
    let short = cut[1].rsplit_once(',').unwrap().0;
    fs::write(d.join("dumping.csv"), format!("{}\n{short}\n", cut[0])).unwrap();
    let e = plot_dir(&d, &PlotOptions::default()).unwrap_err();
    assert!(matches!(e, PlotError::Malformed { line: 2, .. }), "{e:?}");
    assert!(e.to_string().contains("dumping.csv"));

    // A malformed manifest.
    let d = fresh("manifest");
    fs::write(d.join("manifest.json"), "{ not json").unwrap();
    let e = plot_dir(&d, &PlotOptions::default()).unwrap_err();
    assert!(matches!(e, PlotError::Json { .. }), "{e:?}");
    assert!(e.to_string().contains("manifest.json"));

    // A sweep summary with a word where a mean belongs, and one without its mean column.
    let d = tmp.path().join("sweep-value");
    copy_fixture("sweep_one_factor", &d);
    let text = fs::read_to_string(d.join("summary.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut fields: Vec<String> = lines[1].split(',').map(String::from).collect();
    fields[5] = "high".into();
    lines[1] = fields.join(",");
    fs::write(d.join("summary.csv"), lines.join("\n") + "\n").unwrap();
    let e = plot_dir(&d, &PlotOptions::default()).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("summary.csv") && msg.contains("`mean`") && msg.contains("`high`"),
        "{msg}"
    );

    let d = tmp.path().join("sweep-header");
    copy_fixture("sweep_one_factor", &d);
    replace_in(&d.join("summary.csv"), ",mean,", ",average,");
    let e = plot_dir(&d, &PlotOptions::default()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, PlotError::Header { .. }), "{e:?}");
    assert!(
        msg.contains("summary.csv") && msg.contains("`mean`"),
        "{msg}"
    );
}

/// Set column `col` of data row `row` (0-based, after the header) of a CSV file.
fn set_cell(path: &Path, row: usize, col: &str, value: &str) {
    let text = fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let c = lines[0].split(',').position(|h| h == col).unwrap();
    let mut fields: Vec<String> = lines[row + 1].split(',').map(String::from).collect();
    fields[c] = value.into();
    lines[row + 1] = fields.join(",");
    fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// Tick labels of an SVG chart (the text elements that parse as numbers).
fn svg_numbers(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = t.split_once('>')?.1.split_once("</text>")?.0.trim();
            let plain = body.replace(',', "");
            plain.parse::<f64>().is_ok().then(|| body.to_string())
        })
        .collect()
}

/// One column holding both +1e308 and -1e308 (an axis span beyond f64) and an infinity:
/// `silos plot` took minutes walking ticks over that range. Now the axis is limited to
/// +-1e300 with a handful of ticks in scientific form (a bounded observable keeps its 0-1
/// axis), and the infinity is reported.
#[test]
fn a_column_spanning_plus_and_minus_1e308_draws_with_a_sane_axis() {
    let tmp = tempfile::tempdir().unwrap();
    run_dir(tmp.path());
    let ticks = tmp.path().join("ticks.csv");
    for col in ["referrals", "budget_gini"] {
        set_cell(&ticks, 2, col, "1e308");
        set_cell(&ticks, 4, col, "-1e308");
        set_cell(&ticks, 5, col, "inf");
    }
    let r = plot_dir(tmp.path(), &opts(&["referrals", "budget_gini"])).unwrap();
    assert_eq!(names(&r)[..2], ["time_referrals", "time_budget_gini"]);
    check_all(&r);
    let unbounded = svg_numbers(&fs::read_to_string(&r.charts[0].svg).unwrap());
    let y_labels: Vec<&String> = unbounded.iter().filter(|l| l.contains('e')).collect();
    assert!((3..=12).contains(&y_labels.len()), "{unbounded:?}");
    assert!(unbounded.iter().any(|l| l == "1e300"), "{unbounded:?}");
    assert!(unbounded.iter().any(|l| l == "-1e300"), "{unbounded:?}");
    assert!(unbounded.iter().any(|l| l == "0"), "{unbounded:?}");
    assert!(unbounded.iter().all(|l| l.len() < 12), "{unbounded:?}");
    let bounded = svg_numbers(&fs::read_to_string(&r.charts[1].svg).unwrap());
    assert!(bounded.iter().all(|l| !l.contains('e')), "{bounded:?}");
    for svg in [&r.charts[0].svg, &r.charts[1].svg] {
        let text = fs::read_to_string(svg).unwrap();
        assert!(!text.contains("NaN") && !text.contains("inf"), "{svg:?}");
    }
    assert_eq!(
        r.warnings,
        [
            "ticks.csv, column `referrals`: 1 infinite value (first on line 7) drawn as missing",
            "ticks.csv, column `budget_gini`: 1 infinite value (first on line 7) drawn as missing",
        ]
    );
}

/// A file cut short mid-line: the partial row is skipped and reported, and so is the missing
/// line end; a file cut at a line end is reported against the manifest's tick count.
#[test]
fn a_truncated_csv_is_drawn_with_its_skipped_rows_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("mid-line");
    run_dir(&d);
    let text = fs::read_to_string(d.join("ticks.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // Header, ten whole rows, then half of the eleventh.
    let cut = lines[..11].join("\n") + "\n" + &lines[11][..lines[11].len() / 2];
    fs::write(d.join("ticks.csv"), &cut).unwrap();
    let r = plot_dir(&d, &opts(&["share_need_met"])).unwrap();
    assert_eq!(names(&r)[0], "time_share_need_met");
    let n_fields = lines[0].split(',').count();
    let got = cut.lines().last().unwrap().split(',').count();
    assert_eq!(r.warnings.len(), 3, "{:?}", r.warnings);
    assert_eq!(
        r.warnings[0],
        format!(
            "skipped 1 row of ticks.csv (line 12: {got} fields; expected {n_fields} fields like the header)"
        )
    );
    assert!(r.warnings[1].contains("ticks.csv does not end with a line end"));
    assert!(r.warnings[1].contains("line, 12,"), "{}", r.warnings[1]);
    assert_eq!(
        r.warnings[2],
        "ticks.csv ends at tick 10 but manifest.json records 12 ticks: the file may be cut short"
    );
    let shown = r.to_string();
    assert!(
        shown.contains("warning: skipped 1 row of ticks.csv"),
        "{shown}"
    );

    // Several short rows in the middle are listed by line.
    let d = tmp.path().join("ragged");
    run_dir(&d);
    let text = fs::read_to_string(d.join("agencies.csv")).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    for l in [3, 4, 5, 9] {
        lines[l] = lines[l].split(',').take(3).collect::<Vec<_>>().join(",");
    }
    fs::write(d.join("agencies.csv"), lines.join("\n") + "\n").unwrap();
    let r = plot_dir(&d, &opts(&["share_need_met"])).unwrap();
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(
        r.warnings[0].starts_with(
            "skipped 4 rows of agencies.csv (lines 4-6: 3 fields; line 10: 3 fields; expected"
        ),
        "{}",
        r.warnings[0]
    );
    check_all(&r);
}

/// Bytes that are not a CSV table at all fail with an error naming the file.
#[test]
fn a_garbage_csv_is_an_error_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let garbage: [&[u8]; 4] = [
        b"\xff\xfe\x00garbage\x00\n\x01\x02",
        b"lorem ipsum dolor\nsit amet, consectetur\n",
        b"tick,arrivals\n\"unclosed,1\n2,3\n",
        b"tick,tick\n1,2\n",
    ];
    for (i, bytes) in garbage.iter().enumerate() {
        let d = tmp.path().join(format!("g{i}"));
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("ticks.csv"), bytes).unwrap();
        match plot_dir(&d, &PlotOptions::default()) {
            Err(e) => assert!(e.to_string().contains("ticks.csv"), "{i}: {e}"),
            Ok(r) => panic!("{i}: drew {:?}", names(&r)),
        }
    }
}

#[test]
fn absent_files_are_skipped_with_reasons() {
    let tmp = tempfile::tempdir().unwrap();
    run_dir(tmp.path());
    for f in [
        "agencies.csv",
        "groups.csv",
        "needs.csv",
        "dumping.csv",
        "manifest.json",
    ] {
        fs::remove_file(tmp.path().join(f)).unwrap();
    }
    let r = plot_dir(tmp.path(), &opts(&["share_need_met", "no_such_observable"])).unwrap();
    assert_eq!(names(&r), ["time_share_need_met"]);
    assert!(skipped_reason(&r, "time_no_such_observable").contains("no_such_observable"));
    assert!(skipped_reason(&r, "free_riding_agencies").contains("agencies.csv"));
    assert!(skipped_reason(&r, "dumping_matrix").contains("dumping.csv"));
    assert!(skipped_reason(&r, "groups_need_met").contains("groups.csv"));
    check_all(&r);
    let html = fs::read_to_string(tmp.path().join("report.html")).unwrap();
    assert!(html.contains("No <code>manifest.json</code>"));
}

#[test]
fn a_validation_fact_chart_renders() {
    let tmp = tempfile::tempdir().unwrap();
    let fact = silos::validate::load_facts(None)
        .expect("the embedded facts load")
        .into_iter()
        .next()
        .expect("at least one fact");
    let trajectory: Vec<[f64; 7]> = (1..=24)
        .map(|t| {
            let t = t as f64;
            [t, 0.3 + 0.01 * t, 0.28, 0.35, 0.5, 0.47, 0.53]
        })
        .collect();
    let c = silos::validate::Contrast {
        n: 6,
        mean: -0.2,
        sd: 0.05,
        ci: (-0.25, -0.15),
        failed: false,
    };
    let r = silos::validate::FactResult {
        fact,
        full: c,
        verdict: silos::validate::Verdict::Holds,
        p: 0.001,
        holm_p: Some(0.01),
        ablated: Some(c),
        explained: silos::validate::Explained::No,
        information: None,
        robust: None,
        ablated_trajectory: Some(trajectory.clone()),
        trajectory,
    };
    let c = silos::plot::fact_chart(&r, tmp.path(), 6).expect("chart");
    check_png(&c.png);
    check_svg(&c.svg, &c.title);
}

/// The charts need no system fonts: run the binary with fontconfig pointed at a
/// configuration that lists no font directory and no data directories, and check the chart's
/// title was still drawn (an unloadable font leaves the title band blank).
#[test]
fn charts_render_without_system_fonts() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("fonts.conf");
    fs::write(&conf, "<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"fonts.dtd\">\n<fontconfig></fontconfig>\n").unwrap();
    let out = dir.path().join("run");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_silos"))
        .args([
            "run",
            "--ticks",
            "6",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ])
        .env("FONTCONFIG_FILE", &conf)
        .env("FONTCONFIG_PATH", dir.path())
        .env("XDG_DATA_HOME", dir.path())
        .env("XDG_DATA_DIRS", dir.path())
        .env("HOME", dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    check_png(&out.join("plots").join("time_share_need_met.png"));
    // And the binary does not link fontconfig or freetype at all (where ldd exists).
    if let Ok(o) = std::process::Command::new("ldd")
        .arg(env!("CARGO_BIN_EXE_silos"))
        .output()
    {
        let libs = String::from_utf8_lossy(&o.stdout);
        assert!(
            !libs.contains("fontconfig") && !libs.contains("freetype"),
            "{libs}"
        );
    }
}

/// A national run draws its spread and localities charts and a report whose tables show the
/// spread, the most and least joined-up localities, and what distinguishes them.
#[test]
fn a_national_run_draws_its_localities_charts() {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_silos"))
        .args([
            "run",
            "scenarios/national.toml",
            "--set",
            "localities.count=5",
            "--ticks",
            "4",
            "--quiet",
            "--out",
        ])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    for name in [
        "localities_spread",
        "localities_coordination",
        "localities_need_met",
    ] {
        check_png(&dir.path().join("plots").join(format!("{name}.png")));
    }
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    for heading in [
        "How far localities spread",
        "Which localities join up, and which do not",
        "What distinguishes them",
        "rho with coordination index",
        "data:image/png;base64,",
    ] {
        assert!(html.contains(heading), "report lacks {heading:?}");
    }
    // Five localities: the two most and two least joined up are listed, each once.
    let listed = |which: &str| html.matches(&format!("<td>{which}</td>")).count();
    assert_eq!((listed("most"), listed("least")), (2, 2));
    // `silos plot DIR` recognises a national run's directory and redraws them.
    std::fs::remove_dir_all(dir.path().join("plots")).unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_silos"))
        .arg("plot")
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    check_png(&dir.path().join("plots/localities_coordination.png"));
    assert!(dir.path().join("report.html").is_file());
}
