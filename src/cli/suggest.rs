//! `ei-tune suggest`: per threshold (or all together), the value that optimises an
//! objective on the test results, every headline figure before and after, and a warning
//! where one gets much worse.

use std::fmt::Write as _;

use serde_json::json;

use super::*;
use crate::api::models::*;
use crate::metrics::ScoresFrom;
use crate::metrics::suggest::{
    Figures, HEADLINES, Joint, JointValue, Request, Suggestion, combined, joint, suggestions,
};

#[derive(Debug, Clone)]
pub struct SuggestOptions {
    pub request: Request,
    pub joint: bool,
    pub json: bool,
    pub apply: bool,
    pub force: bool,
}

/// `ei-tune suggest`.
pub async fn suggest(
    args: &ConnectionArgs,
    options: &SuggestOptions,
) -> Result<String, CommandError> {
    let t = target(args).await?;
    refuse_objectives_of_detection(&t.impulse, &options.request)?;
    let blocks = t.evaluable_thresholds().await?;
    let scores = t.scores("", false).await?;
    let set = &*scores.set;
    let found = suggestions(set, &blocks, &options.request);
    let together = options
        .joint
        .then(|| joint(set, &blocks, &options.request))
        .flatten();
    let all = combined(set, &blocks, &found, &options.request);
    let mut out = if options.json {
        String::new()
    } else {
        let floor = set.detection.as_ref().and_then(|d| d.floor);
        describe(&t.impulse, &found, all.as_ref(), together.as_ref(), floor)
    };
    let json = |applied: Option<&SetImpulseThresholdsResponse>| {
        as_json(
            &found,
            all.as_ref(),
            together.as_ref(),
            &scores.from,
            applied,
        )
    };
    if !options.apply {
        return Ok(if options.json { json(None) } else { out });
    }
    let (updates, warnings) = to_apply(&found, together.as_ref(), all.as_ref());
    if updates.is_empty() {
        out.push_str("Nothing to apply: every threshold is at its suggested value.\n");
        return Ok(if options.json { json(None) } else { out });
    }
    if !warnings.is_empty() && !options.force {
        return Err(refused(
            &warnings,
            if options.json { json(None) } else { out },
        ));
    }
    let request = SetImpulseThresholdsRequest::without_jobs(updates);
    // The figures at the values it sets: what the history writes down with the call.
    let after = connect::saved_thresholds(&connect::with_values(&blocks, &request.thresholds));
    let figures = Figures::of(&set.evaluate(&after), options.request.costs.as_ref()).named();
    let outcome =
        connect::write_thresholds(args, &t, &blocks, request.clone(), "suggest", figures).await;
    let response = connect::applied(outcome, &request)?;
    if options.json {
        return Ok(json(response.as_ref()));
    }
    out.push_str(&match response {
        Some(response) => describe_set(&t.impulse, &request, &response),
        None => {
            "The call's outcome was unknown, but read back, Studio holds every value: applied.\n"
                .into()
        }
    });
    Ok(out)
}

/// `--apply` held back by `warnings`: what would have been applied is the output, so that
/// it can be weighed; the refusal is the last line on stderr.
fn refused(warnings: &[String], report: String) -> CommandError {
    CommandError::Refused {
        report,
        reason: format!(
            "not applied: {}; pass --force to apply anyway",
            warnings.join("; ")
        ),
    }
}

/// `--json`: the suggestions, together and joint, where the scores came from, and
/// Studio's answer when applied.
fn as_json(
    found: &[Suggestion],
    all: Option<&(Figures, Figures, Vec<String>)>,
    together: Option<&Joint>,
    scores: &ScoresFrom,
    applied: Option<&SetImpulseThresholdsResponse>,
) -> String {
    serde_json::to_string_pretty(&json!({
        "suggestions": found,
        "together": all.map(|(before, after, warnings)| json!({
            "atCurrent": before, "atSuggested": after, "warnings": warnings,
        })),
        "joint": together,
        "scores": scores.to_json(),
        "applied": applied,
    }))
    .unwrap_or_default()
        + "\n"
}

/// What `--apply` sends (the joint values when tuned together), and the warnings of what
/// it sends.
fn to_apply(
    found: &[Suggestion],
    together: Option<&Joint>,
    all: Option<&(Figures, Figures, Vec<String>)>,
) -> (Vec<ThresholdUpdate>, Vec<String>) {
    let update =
        |v: &JointValue| ThresholdUpdate::new(v.block_id, v.key.clone(), v.suggested.clone());
    let (updates, mut warnings) = match together {
        Some(j) => (
            j.values
                .iter()
                .filter(|v| v.suggested != v.current)
                .map(update)
                .collect(),
            j.warnings.clone(),
        ),
        None => {
            let changing: Vec<&Suggestion> = found.iter().filter(|s| s.changes()).collect();
            // An option's suggestion comes with the anomaly threshold it was judged at,
            // which then replaces that threshold's own suggestion: one value per key.
            let mut updates: Vec<ThresholdUpdate> = Vec::new();
            for s in &changing {
                let own = s
                    .suggested
                    .clone()
                    .map(|v| ThresholdUpdate::new(s.block_id, s.key.clone(), v));
                for u in own.into_iter().chain(s.with.iter().map(update)) {
                    updates.retain(|k| (k.block_id, &k.key) != (u.block_id, &u.key));
                    updates.push(u);
                }
            }
            let warnings = changing
                .iter()
                .flat_map(|s| {
                    s.warnings
                        .iter()
                        .map(move |w| format!("{}.{}: {w}", s.block_id, s.key))
                })
                .collect();
            (updates, warnings)
        }
    };
    if together.is_none()
        && let Some((_, _, whole)) = all
    {
        warnings.extend(whole.iter().map(|w| format!("all together: {w}")));
    }
    (updates, warnings)
}

fn describe(
    impulse: &Impulse,
    found: &[Suggestion],
    all: Option<&(Figures, Figures, Vec<String>)>,
    together: Option<&Joint>,
    floor: Option<f64>,
) -> String {
    let mut out = format!(
        "Impulse {} ({})\n",
        impulse.id,
        crate::text::clean(&impulse.name)
    );
    let detection = impulse
        .learn_blocks
        .iter()
        .any(|b| b.kind.is_object_detection());
    for s in found {
        describe_one(&mut out, s, detection, floor);
        note_replaced(&mut out, s, found);
    }
    if let Some((before, after, warnings)) = all {
        let heading = if together.is_some() {
            "These suggestions together, each as tuned alone (--apply sends the joint \
             values below):"
        } else {
            "These suggestions together, as --apply sends them:"
        };
        let _ = writeln!(out, "\n{heading}");
        table(&mut out, before, after);
        warn(&mut out, warnings);
    }
    if let Some(j) = together {
        describe_joint(&mut out, j);
    }
    out
}

/// One threshold's suggestion: its objective and why, the values and figures, warnings.
fn describe_one(out: &mut String, s: &Suggestion, detection: bool, floor: Option<f64>) {
    let (name, why) = objective_said(s);
    let _ = writeln!(
        out,
        "\n{}.{}: objective {name}, because {why}",
        s.block_id,
        crate::text::clean(&s.key),
    );
    let objective = &s.objective.objective;
    let shown = |score: Option<f64>| {
        score.map_or_else(
            || "(now outside the objective's bound)".into(),
            |v| {
                if detection {
                    format!("F1 {v:.3}")
                } else {
                    objective.shown(v)
                }
            },
        )
    };
    match (&s.suggested, &s.at_suggested) {
        (Some(v), Some(after)) if s.changes() => {
            let _ = writeln!(
                out,
                "  {} → {}: {} → {}",
                said(&s.current),
                said(v),
                shown(s.score_current),
                shown(s.score_suggested)
            );
            describe_with(out, s, v);
            table(out, &s.at_current, after);
        }
        (Some(_), _) => {
            let _ = writeln!(
                out,
                "  {} is already the best value ({})",
                said(&s.current),
                shown(s.score_current)
            );
        }
        _ => {
            let _ = writeln!(
                out,
                "  no value meets the objective; {} stays",
                said(&s.current)
            );
        }
    }
    note_floor(out, s, floor);
    warn(out, &s.warnings);
}

/// A threshold whose own suggestion an option's replaces (the value the option is judged
/// at): says what `--apply` sends for it.
fn note_replaced(out: &mut String, s: &Suggestion, found: &[Suggestion]) {
    let replaced = found
        .iter()
        .filter(|o| o.changes())
        .flat_map(|o| o.with.iter().map(move |w| (o, w)))
        .find(|(_, w)| (w.block_id, &w.key) == (s.block_id, &s.key));
    if let (Some((option, w)), true) = (replaced, s.changes()) {
        let _ = writeln!(
            out,
            "  note: --apply sends {} instead, with {}.{} at {}",
            said(&w.suggested),
            option.block_id,
            crate::text::clean(&option.key),
            option.suggested.as_ref().map(said).unwrap_or_default()
        );
    }
}

/// Object detection: no detection below the lowest score stored is known.
fn note_floor(out: &mut String, s: &Suggestion, floor: Option<f64>) {
    if let Some(floor) = floor
        && [Some(&s.current), s.suggested.as_ref()]
            .into_iter()
            .flatten()
            .any(|v| v.as_number().is_some_and(|v| v < floor))
    {
        let _ = writeln!(
            out,
            "  note: figures below {floor}, the lowest score stored, are incomplete"
        );
    }
}

/// What an option comes with: the anomaly threshold it is judged at, and sent with.
fn describe_with(out: &mut String, s: &Suggestion, option: &ThresholdValue) {
    for w in &s.with {
        let _ = writeln!(
            out,
            "  with {} (its best for {}; --apply sends it)",
            change_said(w),
            said(option)
        );
    }
}

/// `BLOCK.KEY: current → suggested`.
fn change_said(v: &JointValue) -> String {
    format!(
        "{}.{}: {} → {}",
        v.block_id,
        crate::text::clean(&v.key),
        said(&v.current),
        said(&v.suggested)
    )
}

/// A value as said on the terminal: an option is the server's text.
fn said(value: &ThresholdValue) -> String {
    crate::text::clean(&value.to_string())
}

/// Object detection has one objective: one asked for (or costs) would be ignored.
fn refuse_objectives_of_detection(
    impulse: &Impulse,
    request: &Request,
) -> Result<(), CommandError> {
    if impulse
        .learn_blocks
        .iter()
        .any(|b| b.kind.is_object_detection())
        && (request.objective.is_some() || request.costs.is_some())
    {
        return Err(CommandError::usage(format!(
            "impulse {} is object detection: its one objective is F1 over the objects \
             (found against false and missed); --objective and --cost do not apply",
            impulse.id
        )));
    }
    Ok(())
}

/// The objective a suggestion optimises, and why, as said to the user.
fn objective_said(s: &Suggestion) -> (String, String) {
    (s.objective.name.clone(), s.objective.why.clone())
}

/// Every numeric threshold tuned together, and what that gains.
fn describe_joint(out: &mut String, j: &Joint) {
    let objective = &j.objective.objective;
    let shown = |score: Option<f64>| score.map_or("–".into(), |v| objective.shown(v));
    let _ = writeln!(
        out,
        "\nAll together ({}): objective {}, because {}",
        j.method, j.objective.name, j.objective.why
    );
    for v in &j.values {
        let _ = writeln!(out, "  {}", change_said(v));
    }
    let _ = writeln!(
        out,
        "  now {}; each tuned alone on this objective, then set together: {}; tuned together: {}",
        shown(j.score_current),
        shown(j.score_one_at_a_time),
        shown(j.score_suggested)
    );
    table(out, &j.at_current, &j.at_suggested);
    warn(out, &j.warnings);
}

/// Every headline figure, before and after, with the difference.
fn table(out: &mut String, before: &Figures, after: &Figures) {
    let _ = writeln!(
        out,
        "  {:<18} {:>9} {:>9} {:>8}",
        "", "now", "suggested", "Δ"
    );
    for h in HEADLINES {
        let (Some(b), Some(a)) = ((h.get)(before), (h.get)(after)) else {
            continue;
        };
        let (b_text, a_text) = (h.show(b), h.show(a));
        let d_text = if h.percent {
            format!("{:+.1}", (a - b) * 100.0)
        } else {
            format!("{:+.3}", a - b)
        };
        let _ = writeln!(out, "  {:<18} {b_text:>9} {a_text:>9} {d_text:>8}", h.name);
    }
    if let (Some(b), Some(a)) = (before.cost_per_window, after.cost_per_window) {
        let _ = writeln!(
            out,
            "  {:<18} {b:>9.3} {a:>9.3} {:>+8.3}",
            "cost per window",
            a - b
        );
    }
}

fn warn(out: &mut String, warnings: &[String]) {
    for w in warnings {
        let _ = writeln!(out, "  warning: {w}");
    }
}

/// For each threshold, the value that optimises an objective, from the test results
#[derive(Debug, Clone, clap::Args)]
pub struct SuggestArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// What to optimise [default: per threshold, see README]
    #[arg(long, value_enum)]
    pub objective: Option<ObjectiveArg>,
    /// Highest false-alarm rate for --objective fewest-missed, 0..1 [default: 0.05]
    #[arg(long, value_name = "RATE", allow_negative_numbers = true)]
    pub max_fpr: Option<f64>,
    /// Highest missed-anomaly rate for --objective fewest-false-alarms, 0..1 [default: 0.10]
    #[arg(long, value_name = "RATE", allow_negative_numbers = true)]
    pub max_fnr: Option<f64>,
    /// What each mistake costs (missed-anomaly, false-alarm, uncertain, misclassified;
    /// 1 each unless given): the objective becomes the lowest expected cost per window
    #[arg(long, value_name = "COSTS", value_parser = super::args::parse_costs)]
    pub cost: Option<crate::metrics::objective::Costs>,
    /// Tune every numeric threshold together, and say what that gains
    #[arg(long)]
    pub joint: bool,
    /// Print as JSON
    #[arg(long)]
    pub json: bool,
    /// Set the suggested values (the joint ones with --joint), in one call
    #[arg(long)]
    pub apply: bool,
    /// Apply even when a headline figure gets more than 10 points worse
    #[arg(long, requires = "apply")]
    pub force: bool,
}

impl SuggestArgs {
    pub async fn run(self, context: &Context) -> Result<String, CommandError> {
        // The tuner's options given before the subcommand count as suggest's own.
        let bounds = context.tui.bounds().map_err(CommandError::usage)?;
        let options = SuggestOptions {
            request: Request {
                objective: self.objective.map(|o| o.objective(bounds)),
                costs: context.tui.cost,
                bounds,
            },
            joint: self.joint,
            json: self.json,
            apply: self.apply,
            force: self.force,
        };
        suggest(&context.connection, &options).await
    }
}
