//! The suite's outputs: `validation.csv`, the terminal table, the chart data and the
//! `VALIDATION.md` report.

use super::judge::{Contrast, Verdict};
use super::robust::Design;
use super::{Expect, FactResult, Suite, patterns_text, score, tag_str};
use crate::output::CsvBuf;

/// |rho| at or above which a factor is listed as one a fact's verdict depends on (with 16
/// or more hypercube points, |rho| >= 0.5 is beyond what chance gives at the 5% level).
pub const DEPENDS_RHO: f64 = 0.5;

fn expect_str(e: Expect) -> &'static str {
    match e {
        Expect::Greater => "greater",
        Expect::Less => "less",
    }
}

fn eff(c: &Contrast) -> String {
    format!("{:+.4} [{:+.4}, {:+.4}]", c.mean, c.ci.0, c.ci.1)
}

fn robust_str(r: &FactResult) -> String {
    match &r.robust {
        Some(x) if x.errors > 0 => format!("{} of {} ({} errors)", x.holds, x.points, x.errors),
        Some(x) => format!("{:.0}% ({} of {})", x.share() * 100.0, x.holds, x.points),
        None => "not run".into(),
    }
}

fn depends_str(r: &FactResult, d: Option<&Design>) -> String {
    match (&r.robust, d) {
        (Some(x), Some(d)) => {
            let v = x.depends(d, DEPENDS_RHO);
            if v.is_empty() {
                "none".into()
            } else {
                v.iter()
                    .map(|(n, rho)| format!("{n} ({rho:+.2})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        }
        _ => "-".into(),
    }
}

/// `validation.csv`: one row per fact with every verdict.
pub fn csv(results: &[FactResult]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "id",
        "source",
        "tag",
        "experiment",
        "measure",
        "expect",
        "sesoi",
        "n",
        "mean_diff",
        "ci_low",
        "ci_high",
        "p_beyond_sesoi",
        "verdict",
        "holm_p",
        "holds_holm",
        "ablation",
        "ablated_mean",
        "ablated_ci_low",
        "ablated_ci_high",
        "explained",
        "information_mean",
        "information_ci_low",
        "information_ci_high",
        "robust_points",
        "robust_holds",
        "robust_share",
        "statement",
    ]);
    let mut num = String::new();
    let mut push = |row: &mut Vec<String>, v: f64| {
        crate::output::fmt_num(&mut num, v);
        row.push(num.clone());
    };
    for r in results {
        let f = &r.fact;
        let mut row: Vec<String> = vec![
            f.id.clone(),
            f.source.clone(),
            tag_str(f.tag).to_string(),
            f.experiment.clone(),
            r.what(),
            expect_str(f.expect).into(),
        ];
        push(&mut row, f.sesoi);
        row.push(r.full.n.to_string());
        for v in [r.full.mean, r.full.ci.0, r.full.ci.1, r.p] {
            push(&mut row, v);
        }
        row.push(r.verdict.as_str().to_string());
        push(&mut row, r.holm_p.unwrap_or(f64::NAN));
        row.push(if r.holm_p.is_some() {
            r.holds_holm().to_string()
        } else {
            "NA".into()
        });
        row.push(f.ablation_text());
        let a = r.ablated.unwrap_or(Contrast {
            n: 0,
            mean: f64::NAN,
            sd: f64::NAN,
            ci: (f64::NAN, f64::NAN),
            failed: false,
        });
        for v in [a.mean, a.ci.0, a.ci.1] {
            push(&mut row, v);
        }
        row.push(r.explained.as_str().to_string());
        let i = r
            .information
            .map_or((f64::NAN, f64::NAN, f64::NAN), |c| (c.mean, c.ci.0, c.ci.1));
        for v in [i.0, i.1, i.2] {
            push(&mut row, v);
        }
        match &r.robust {
            Some(x) => {
                row.push(x.points.to_string());
                row.push(x.holds.to_string());
                push(&mut row, x.share());
            }
            None => {
                row.push("NA".into());
                row.push("NA".into());
                row.push("NA".into());
            }
        }
        row.push(f.statement.clone());
        let _ = w.write_record(&row);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// A plain-text table for the terminal.
pub fn table(results: &[FactResult]) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "{:<4} {:<9} {:<8} {:>9} {:>30} {:<13} {:<5} {:>30} {:<14} {}\n",
        "fact",
        "tag",
        "expect",
        "SESOI",
        "effect [95% CI]",
        "verdict",
        "Holm",
        "ablated effect [95% CI]",
        "explained",
        "robust"
    ));
    for r in results {
        let f = &r.fact;
        s.push_str(&format!(
            "{:<4} {:<9} {:<8} {:>9.4} {:>30} {:<13} {:<5} {:>30} {:<14} {}\n",
            f.id,
            tag_str(f.tag),
            expect_str(f.expect),
            f.sesoi,
            eff(&r.full),
            r.verdict.as_str(),
            match r.holm_p {
                Some(_) if r.holds_holm() => "yes",
                Some(_) => "no",
                None => "-",
            },
            r.ablated.as_ref().map_or("-".into(), eff),
            r.explained.as_str(),
            robust_str(r)
        ));
    }
    let (h, hh, e, n) = score(results);
    s.push_str(&format!(
        "\nscored (emergent) facts: {n}; hold {h} ({hh} after Holm); explained by their mechanism {e}\n\
         built-in facts verify code and are not scored\n"
    ));
    s
}

/// `charts/VNN.csv`: the trajectories behind a fact's chart, full and ablated.
pub fn trajectory_csv(r: &FactResult) -> String {
    let (a, b) = (&r.fact.arm, &r.fact.reference);
    let mut c = CsvBuf::new();
    c.field("tick");
    for prefix in ["", "ablated_"] {
        for arm in [a, b] {
            for col in ["mean", "ci_low", "ci_high"] {
                c.field(format!("{prefix}{arm}_{col}"));
            }
        }
    }
    c.end();
    for (t, row) in r.trajectory.iter().enumerate() {
        let ab = r
            .ablated_trajectory
            .as_ref()
            .and_then(|x| x.get(t))
            .copied()
            .unwrap_or([f64::NAN; 7]);
        for v in row.iter().chain(ab[1..].iter()) {
            c.num(*v);
        }
        c.end();
    }
    c.into_string()
}

/// Facts about the run, for the report's header.
pub struct RunInfo {
    pub version: String,
    pub date: String,
    pub replicates: u32,
    pub ticks: u32,
    pub quick: bool,
    /// Relative path from the report to the charts folder.
    pub charts: String,
    pub chart_ext: Option<String>,
    /// Seconds the suite took, and the runs it made.
    pub seconds: f64,
    pub runs: u64,
}

fn verdict_cell(v: Verdict) -> String {
    match v {
        Verdict::Holds => "**holds**".into(),
        v => v.as_str().into(),
    }
}

/// `VALIDATION.md`: the verdict tables, the motive-against-information lines, one section
/// per fact with its chart, the ordinal patterns, robustness, sensitivity, and the
/// hand-written discussion (`discussion`, inserted verbatim).
pub fn markdown(
    suite: &Suite,
    info: &RunInfo,
    sensitivity: Option<&super::sensitivity::Results>,
    discussion: Option<&str>,
) -> String {
    let results = &suite.results;
    let design = suite.robustness.as_ref();
    let (h, hh, e, n) = score(results);
    let mut s = String::new();
    s.push_str("# Validation\n\n");
    s.push_str(&format!(
        "Generated by `silos validate{}` (silos {}) on {}: {} runs in {:.0} s. Every experiment ran **{} replicate seeds** per arm for {} \
ticks, with common random numbers across arms, in the full model and once more with each fact's mechanism switched off \
(its ablation). The facts, their mechanisms, ablations, smallest effects of interest and criteria are in \
`scenarios/validation/` and were committed before the suite's first run on this model; `git log -- scenarios/validation` \
shows it.\n\n",
        if info.quick { " --quick" } else { "" },
        info.version,
        info.date,
        info.runs,
        info.seconds,
        info.replicates,
        info.ticks
    ));
    s.push_str(&format!(
        "**{n} scored (emergent) facts: {h} hold, {hh} after Holm's adjustment; {e} are explained by the mechanism they name.** \
Built-in facts (a rule states them) verify the code and are listed apart, unscored.\n\n"
    ));
    s.push_str("How to read the verdicts (the head of `scenarios/validation/facts.toml` has the detail):\n\n\
- **holds**: the 95% Student-t interval of the mean paired difference (arm minus reference, seed by seed) lies wholly beyond the fact's smallest effect of interest (SESOI), in the expected direction. *below SESOI*: the interval lies below the SESOI (any effect is too small to matter); *opposite*: wholly on the other side of 0; *unclear*: neither.\n\
- **Holm**: the one-sided p-value of \"effect <= SESOI\" adjusted by Holm's step-down method over all scored facts of the run, at 0.025 (the level matching the raw interval).\n\
- **explained**: the fact holds, and with its mechanism switched off (the ablation, applied to every arm) the interval lies below the SESOI or on the other side of 0. *not explained*: the effect may survive the ablation, so the model shows the fact, at least partly, for another reason.\n\
- **robust**: the share of Latin-hypercube points over the plausible parameter ranges (`robustness.toml`) at which the fact holds, each point judged by the same criterion with fewer seeds; **depends on** lists the factors whose Spearman correlation with the effect across the points is at least 0.5 in size (sign: + means the effect grows in the expected direction with the factor).\n\n");
    s.push_str("## Scored facts\n\n| fact | source | measure | expect | SESOI | effect [95% CI] | verdict | Holm | ablation | ablated effect [95% CI] | explained | robust | depends on |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for r in results.iter().filter(|r| r.fact.scored()) {
        let f = &r.fact;
        s.push_str(&format!(
            "| [{}](#{}) | {} | {} | {} | {} | {} | {} | {} | `{}` | {} | {} | {} | {} |\n",
            f.id,
            f.id.to_lowercase(),
            f.source,
            r.what(),
            expect_str(f.expect),
            f.sesoi,
            eff(&r.full),
            verdict_cell(r.verdict),
            if r.holds_holm() { "yes" } else { "no" },
            f.ablation_text(),
            r.ablated.as_ref().map_or("-".into(), eff),
            r.explained.as_str(),
            robust_str(r),
            depends_str(r, design)
        ));
    }
    let info_rows: Vec<&FactResult> = results.iter().filter(|r| r.information.is_some()).collect();
    if !info_rows.is_empty() {
        s.push_str("\n## Motive against information\n\nThe behaviour facts compare bureaucratic politics with rational administration under the same choice procedure and the same information (the lambda dial: only the weight on organisational interest differs). The second column is the effect of information and search alone: rational administration with bounded search minus rational administration with synoptic search, on the same measure and seeds. A reader sees which part of a gap comes from motive and which from knowledge.\n\n| fact | measure | motive: bp - ra [95% CI] | information: bounded - synoptic RA [95% CI] |\n|---|---|---|---|\n");
        for r in info_rows {
            s.push_str(&format!(
                "| [{}](#{}) | {} | {} | {} |\n",
                r.fact.id,
                r.fact.id.to_lowercase(),
                r.what(),
                eff(&r.full),
                r.information.as_ref().map_or("-".into(), eff)
            ));
        }
    }
    let built: Vec<&FactResult> = results.iter().filter(|r| !r.fact.scored()).collect();
    if !built.is_empty() {
        s.push_str("\n## Built-in facts (not scored)\n\nA rule states each of these directly, so they verify the code, not the model's explanations.\n\n| fact | source | measure | expect | SESOI | effect [95% CI] | verdict | ablation | ablated effect [95% CI] |\n|---|---|---|---|---|---|---|---|---|\n");
        for r in built {
            let f = &r.fact;
            s.push_str(&format!(
                "| [{}](#{}) | {} | {} | {} | {} | {} | {} | `{}` | {} |\n",
                f.id,
                f.id.to_lowercase(),
                f.source,
                r.what(),
                expect_str(f.expect),
                f.sesoi,
                eff(&r.full),
                verdict_cell(r.verdict),
                f.ablation_text(),
                r.ablated.as_ref().map_or("-".into(), eff)
            ));
        }
    }
    s.push_str("\n## The facts\n\n");
    for r in results {
        let f = &r.fact;
        s.push_str(&format!("### {}\n\n{}\n\n", f.id, f.statement));
        s.push_str(&format!(
            "- Source: {}. Tag: {} ({}).\n- Mechanism: {}\n- Ablation: {}.\n- Experiment: `scenarios/validation/{}`; measured: {}; expected: {} by at least {} ({}).\n- Full model: {}, n = {} pairs: **{}**{}.\n",
            f.source,
            tag_str(f.tag),
            f.tag_reason,
            f.mechanism.as_deref().unwrap_or("(none named)"),
            if f.ablation.is_empty() {
                "none".to_string()
            } else {
                format!("`{}`", f.ablation_text())
            },
            f.experiment,
            r.what(),
            expect_str(f.expect),
            f.sesoi,
            f.sesoi_reason,
            eff(&r.full),
            r.full.n,
            r.verdict.as_str(),
            match r.holm_p {
                Some(p) => format!(
                    "; Holm-adjusted p = {p:.3} ({})",
                    if r.holds_holm() { "holds" } else { "does not hold" }
                ),
                None => String::new(),
            }
        ));
        if let Some(a) = &r.ablated {
            s.push_str(&format!(
                "- Ablated: {} ({}): **{}**.\n",
                eff(a),
                a.verdict(f.expect, f.sesoi).as_str(),
                r.explained.as_str()
            ));
        }
        if let (Some(c), Some([a, b])) = (&r.information, &f.information) {
            s.push_str(&format!(
                "- Information and search ({a} - {b}): {}.\n",
                eff(c)
            ));
        }
        if r.robust.is_some() {
            s.push_str(&format!(
                "- Robust: holds at {}; depends on: {}.\n",
                robust_str(r),
                depends_str(r, design)
            ));
        }
        s.push('\n');
        if let Some(ext) = &info.chart_ext {
            s.push_str(&format!("![{}]({}/{}.{ext})\n\n", f.id, info.charts, f.id));
        }
    }
    if !suite.patterns.is_empty() {
        s.push_str(&patterns_text(&suite.patterns, true));
    }
    if let Some(d) = design {
        s.push_str(&format!(
            "## Robustness design\n\nA Latin hypercube of {} points over the plausible ranges below (`scenarios/validation/robustness.toml`, ranges from `docs/ODD.md`), {} replicate seeds per arm at each point. Each fact's own experiment runs at every point; `robustness.csv` has each fact's effect and verdict per point.\n\n| factor | path | from | to |\n|---|---|---|---|\n",
            d.points.len(),
            d.replicates
        ));
        for ((n, p), (a, b)) in d.factor_names.iter().zip(&d.factor_paths).zip(&d.ranges) {
            s.push_str(&format!("| {n} | `{p}` | {a} | {b} |\n"));
        }
        s.push('\n');
    }
    if let Some(sens) = sensitivity {
        s.push_str(&sens.markdown());
    }
    if let Some(d) = discussion {
        s.push_str(d);
        if !d.ends_with('\n') {
            s.push('\n');
        }
    }
    s
}

/// `robustness.csv`: per fact and design point, the factor values, the oriented mean effect
/// and whether the fact held there.
pub fn robustness_csv(suite: &Suite) -> String {
    let Some(d) = &suite.robustness else {
        return String::new();
    };
    let mut c = CsvBuf::new();
    c.fields(&["fact", "point"]);
    for n in &d.factor_names {
        c.field(n);
    }
    c.fields(&["oriented_effect", "sesoi"]).end();
    for r in &suite.results {
        let Some(x) = &r.robust else { continue };
        for (p, e) in x.effects.iter().enumerate() {
            c.fields(&[&r.fact.id, &p.to_string()]);
            for v in &d.points[p] {
                c.field(crate::sweep::exec::value_text(v));
            }
            c.num(*e).num(r.fact.sesoi).end();
        }
    }
    c.into_string()
}
