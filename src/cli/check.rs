//! `ei-tune check`: whether the figures at the saved thresholds meet a pipeline's bounds.
//!
//! The figures are computed from Studio's per-window results at the thresholds Studio holds,
//! with the same metrics Studio reports (the preview equals them), so that every figure the
//! tuner shows can be bounded, not only those Studio's summary carries.

use std::fmt::Write as _;

use serde_json::json;

use super::*;
use crate::api::models::Impulse;
use crate::metrics::ScoresFrom;
use crate::metrics::suggest::{Figures, HEADLINES};

/// One bound: `--min NAME=VALUE` or `--max NAME=VALUE`.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    pub figure: String,
    pub at_least: bool,
    pub limit: f64,
}

/// Parses `NAME=VALUE` for `--min` (`at_least`) or `--max`.
pub fn parse_bound(text: &str, at_least: bool) -> Result<Bound, String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}`: expected FIGURE=VALUE (e.g. accuracy=0.9)"))?;
    let name = name.trim().to_ascii_lowercase();
    if !HEADLINES.iter().any(|h| h.slug == name) {
        let names: Vec<&str> = HEADLINES.iter().map(|h| h.slug).collect();
        return Err(format!(
            "`{name}` is not a figure ei-tune checks; one of: {}",
            names.join(", ")
        ));
    }
    let limit = bound_value(value.trim()).ok_or_else(|| {
        format!(
            "`{value}`: the bound of {name} is a fraction from 0 to 1 or a percentage \
             (e.g. {name}=0.05 or {name}=5%)"
        )
    })?;
    Ok(Bound {
        figure: name,
        at_least,
        limit,
    })
}

/// A bound as a fraction: `0.05` or `5%`. Every figure `check` bounds is a rate or a
/// score from 0 to 1, so a number outside that (a `5` meant as 5 %) could never fail, or
/// never pass, and is refused.
fn bound_value(text: &str) -> Option<f64> {
    let value = match text.strip_suffix('%') {
        Some(percent) => percent.trim_end().parse::<f64>().ok()? / 100.0,
        None => text.parse::<f64>().ok()?,
    };
    (0.0..=1.0).contains(&value).then_some(value)
}

/// What one bound found.
#[derive(Debug, Clone)]
struct Outcome {
    bound: Bound,
    value: Option<f64>,
}

impl Outcome {
    /// A figure the impulse does not have fails: a pipeline cannot be sure of it.
    fn passed(&self) -> bool {
        self.value.is_some_and(|v| {
            if self.bound.at_least {
                v >= self.bound.limit
            } else {
                v <= self.bound.limit
            }
        })
    }
}

/// `ei-tune check`.
pub async fn check(
    args: &ConnectionArgs,
    bounds: &[Bound],
    options: &CheckArgs,
) -> Result<String, CommandError> {
    if bounds.is_empty() {
        return Err(CommandError::usage(
            "nothing to check: give --min FIGURE=VALUE or --max FIGURE=VALUE",
        ));
    }
    if let Some(path) = &options.junit {
        crate::text::check_writable(path).map_err(|e| CommandError::cannot_write(path, &e))?;
    }
    let checked = run_checks(args, bounds, options).await;
    if let Some(path) = &options.junit {
        let xml = match &checked {
            Ok((impulse, outcomes, _)) => junit_xml(impulse, outcomes),
            Err(why) => junit_error(why),
        };
        // A pipeline reads the file whatever the exit code: one left from an earlier
        // run that passed must not stand for this one.
        let written = crate::text::write_whole(path, xml.as_bytes())
            .map_err(|e| CommandError::cannot_write(path, &e));
        if checked.is_ok() {
            written?;
        }
    }
    let (impulse, outcomes, from) = checked?;
    let passed = outcomes.iter().all(Outcome::passed);
    let text = if options.json {
        json_report(&impulse, &outcomes, passed, from)
    } else {
        table(&impulse, &outcomes, passed)
    };
    if passed {
        Ok(text)
    } else {
        Err(CommandError::Unmet(text))
    }
}

/// The figures at the saved thresholds held against each bound.
async fn run_checks(
    args: &ConnectionArgs,
    bounds: &[Bound],
    options: &CheckArgs,
) -> Result<(Impulse, Vec<Outcome>, ScoresFrom), CommandError> {
    let t = target(args).await?;
    let blocks = t.evaluable_thresholds().await?;
    let scores = t
        .scores(
            "nothing to check (ei-tune regenerate brings results back): ",
            options.fresh,
        )
        .await?;
    let saved = connect::saved_thresholds(&blocks);
    let figures = Figures::of(&scores.set.evaluate(&saved), None);
    let outcomes: Vec<Outcome> = bounds
        .iter()
        .map(|bound| {
            let get = HEADLINES
                .iter()
                .find(|h| h.slug == bound.figure)
                .map(|h| h.get);
            Outcome {
                bound: bound.clone(),
                value: get.and_then(|g| g(&figures)),
            }
        })
        .collect();
    Ok((t.impulse, outcomes, scores.from))
}

fn shown(value: Option<f64>) -> String {
    value.map_or_else(|| "not reported".into(), |v| format!("{v:.4}"))
}

fn table(impulse: &Impulse, outcomes: &[Outcome], passed: bool) -> String {
    let mut out = format!(
        "Impulse {} ({}) at its saved thresholds: {}\n",
        impulse.id,
        crate::text::clean(&impulse.name),
        if passed {
            "every bound met"
        } else {
            "bounds missed"
        }
    );
    for o in outcomes {
        let _ = writeln!(
            out,
            "  {:<18} {} {:<8} {:>12}  {}",
            o.bound.figure,
            if o.bound.at_least { "≥" } else { "≤" },
            o.bound.limit,
            shown(o.value),
            if o.passed() { "ok" } else { "FAILED" }
        );
    }
    out
}

fn json_report(impulse: &Impulse, outcomes: &[Outcome], passed: bool, from: ScoresFrom) -> String {
    let checks: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| {
            json!({
                "figure": o.bound.figure,
                "bound": if o.bound.at_least { "min" } else { "max" },
                "limit": o.bound.limit,
                "value": o.value,
                "passed": o.passed(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&json!({
        "impulseId": impulse.id,
        "passed": passed,
        "scores": from.to_json(),
        "checks": checks,
    }))
    .unwrap_or_default()
        + "\n"
}

/// A JUnit report: one test case a bound, a failure where it is missed.
/// A check that could not run, as one test in error: a pipeline that reads the report
/// sees it failed, and why.
fn junit_error(why: &CommandError) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"ei-tune check\" \
         tests=\"1\" failures=\"0\" errors=\"1\">\n  <testcase name=\"check\">\n    \
         <error message=\"{}\"/>\n  </testcase>\n</testsuite>\n",
        xml_escape(&format!("the check could not run: {why}"))
    )
}

fn junit_xml(impulse: &Impulse, outcomes: &[Outcome]) -> String {
    let failures = outcomes.iter().filter(|o| !o.passed()).count();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"{}\" tests=\"{}\" \
         failures=\"{failures}\">\n",
        xml_escape(&format!("ei-tune check, impulse {}", impulse.id)),
        outcomes.len()
    );
    for o in outcomes {
        let name = format!(
            "{} {} {}",
            o.bound.figure,
            if o.bound.at_least { ">=" } else { "<=" },
            o.bound.limit
        );
        let _ = write!(out, "  <testcase name=\"{}\"", xml_escape(&name));
        if o.passed() {
            out.push_str("/>\n");
        } else {
            let _ = write!(
                out,
                ">\n    <failure message=\"{}\"/>\n  </testcase>\n",
                xml_escape(&format!("{} is {}", o.bound.figure, shown(o.value)))
            );
        }
    }
    out.push_str("</testsuite>\n");
    out
}

/// Text as XML attribute content: markup escaped, control characters dropped (XML 1.0
/// cannot carry them).
fn xml_escape(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\t' | '\n'))
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c if crate::text::is_noncharacter(c) => '\u{fffd}'.to_string(),
            c => c.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_name_a_known_figure_and_a_number() {
        assert_eq!(
            parse_bound("Accuracy=0.9", true),
            Ok(Bound {
                figure: "accuracy".into(),
                at_least: true,
                limit: 0.9
            })
        );
        assert!(
            parse_bound("accuracy", true)
                .unwrap_err()
                .contains("FIGURE=VALUE")
        );
        assert!(parse_bound("speed=1", true).unwrap_err().contains("one of"));
        assert!(
            parse_bound("accuracy=NaN", false)
                .unwrap_err()
                .contains("from 0 to 1")
        );
    }

    /// A percentage typed where a fraction goes could never fail (`--max
    /// false-alarms=5`) or never pass (`--min accuracy=90`): refused, with the forms
    /// that are taken.
    #[test]
    fn bounds_are_fractions_or_percentages() {
        let limit = |text: &str| parse_bound(text, false).map(|b| b.limit);
        assert_eq!(limit("false-alarms=0.05"), Ok(0.05));
        assert_eq!(limit("false-alarms=5%"), Ok(0.05));
        assert_eq!(limit("accuracy=90 %"), Ok(0.9));
        assert_eq!(limit("accuracy=0"), Ok(0.0));
        assert_eq!(limit("accuracy=100%"), Ok(1.0));
        for wrong in [
            "false-alarms=5",
            "accuracy=90",
            "accuracy=-0.1",
            "accuracy=101%",
            "f1=1.5",
        ] {
            let why = limit(wrong).unwrap_err();
            assert!(
                why.contains("from 0 to 1") && why.contains("%"),
                "{wrong}: {why}"
            );
        }
    }

    #[test]
    fn junit_escapes_what_it_quotes() {
        assert_eq!(
            xml_escape("a<b & \"c\"\u{1b}"),
            "a&lt;b &amp; &quot;c&quot;"
        );
    }
}

/// Exit 0 when the figures at the saved thresholds meet every bound, 1 with what
/// failed otherwise (for pipelines)
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// A lowest allowed value, a fraction or a percentage: accuracy=0.9 or accuracy=90%
    /// (figures: accuracy, balanced-accuracy, macro-f1, uncertain, missed-anomalies,
    /// false-alarms, precision, recall, f1, map50)
    #[arg(long = "min", value_name = "FIGURE=VALUE", value_parser = |s: &str| parse_bound(s, true))]
    pub min: Vec<Bound>,
    /// A highest allowed value: false-alarms=0.05 or false-alarms=5%
    #[arg(long = "max", value_name = "FIGURE=VALUE", value_parser = |s: &str| parse_bound(s, false))]
    pub max: Vec<Bound>,
    /// Print the outcome as JSON
    #[arg(long)]
    pub json: bool,
    /// Also write a JUnit report there, for CI systems
    #[arg(long, value_name = "FILE")]
    pub junit: Option<std::path::PathBuf>,
    /// Only Studio's own results: fail (exit 1) rather than use the scores kept from
    /// the same model while Studio's results are stale
    #[arg(long)]
    pub fresh: bool,
}

impl CheckArgs {
    pub async fn run(self, context: &Context) -> Result<String, CommandError> {
        let bounds: Vec<Bound> = self.min.iter().chain(&self.max).cloned().collect();
        check(&context.connection, &bounds, &self).await
    }
}
