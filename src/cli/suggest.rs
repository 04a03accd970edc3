//! `ei-tune suggest`: per threshold, the value that optimises an objective on the test
//! results, with the figures before and after.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::json;

use super::*;
use crate::api::BlockThresholds;
use crate::api::models::*;
use crate::metrics::sweep::{self, Objective, Parameter};
use crate::metrics::{Summary, Thresholds};
use crate::preview::{PreviewError, load_test_set};
use crate::thresholds::{SWEEP_POINTS, scale_for};

/// One threshold's suggestion.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Suggestion {
    pub block_id: u64,
    pub key: String,
    pub objective: String,
    pub current: f64,
    pub suggested: Option<f64>,
    pub at_current: Figures,
    pub at_suggested: Option<Figures>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    pub accuracy: Option<f64>,
    pub macro_f1: Option<f64>,
    pub uncertain_rate: Option<f64>,
    pub false_positive_rate: Option<f64>,
    pub false_negative_rate: Option<f64>,
}

impl Figures {
    fn of(s: &Summary) -> Self {
        Self {
            accuracy: s.accuracy(),
            macro_f1: s.macro_scores().map(|m| m.2),
            uncertain_rate: s.macro_scores().and_then(|_| s.uncertain_rate()),
            false_positive_rate: s.false_positive_rate(),
            false_negative_rate: s.false_negative_rate(),
        }
    }

    fn describe(&self) -> String {
        let p = |v: Option<f64>| v.map(|v| format!("{:.1} %", v * 100.0));
        let mut parts = Vec::new();
        if let Some(a) = p(self.accuracy) {
            parts.push(format!("accuracy {a}"));
        }
        if let Some(f) = self.macro_f1 {
            parts.push(format!("F1 {f:.3}"));
        }
        if let Some(u) = p(self.uncertain_rate) {
            parts.push(format!("uncertain {u}"));
        }
        if let Some(f) = p(self.false_positive_rate) {
            parts.push(format!("FP {f}"));
        }
        if let Some(f) = p(self.false_negative_rate) {
            parts.push(format!("FN {f}"));
        }
        parts.join(", ")
    }
}

pub fn objective(arg: ObjectiveArg, max_fpr: f64) -> Objective {
    match arg {
        ObjectiveArg::F1 => Objective::MacroF1,
        ObjectiveArg::Accuracy => Objective::Accuracy,
        ObjectiveArg::FewestMissed => Objective::FewestMissedAnomalies { max_fpr },
    }
}

/// For every numeric threshold that moves the metrics, the value that optimises the
/// objective with the others at their current values.
pub fn suggestions(
    set: &crate::metrics::TestSet,
    blocks: &[BlockThresholds],
    wanted: Objective,
) -> Vec<Suggestion> {
    let current = Thresholds::from_blocks(blocks.iter().flat_map(|b| {
        b.thresholds
            .iter()
            .map(|t| (b.block.kind.as_str(), t.key.as_str(), &t.value))
    }));
    let at_current = set.evaluate(&current);
    let mut out = Vec::new();
    for b in blocks {
        for t in &b.thresholds {
            let (Some(parameter), ThresholdValue::Number(value)) =
                (Parameter::of_key(b.block.kind.as_str(), &t.key), &t.value)
            else {
                continue;
            };
            // The whole span of the scores is searched, whatever Studio suggests.
            let span = match parameter {
                Parameter::MinAnomalyScore => set.anomaly_span(),
                Parameter::MinScore => None,
            };
            let scale = scale_for(t, span);
            let objective = wanted.for_parameter(parameter);
            let xs: Vec<f64> = sweep::points(scale.min, scale.max, SWEEP_POINTS)
                .into_iter()
                .map(|x| scale.clean(x))
                .collect();
            let swept = sweep::sweep(set, &current, parameter, &xs, &objective);
            out.push(Suggestion {
                block_id: b.block.id,
                key: t.key.clone(),
                objective: objective.name(),
                current: *value,
                suggested: swept.optimum,
                at_current: Figures::of(&at_current),
                at_suggested: swept
                    .optimum
                    .map(|x| Figures::of(&set.evaluate(&parameter.set(&current, x)))),
            });
        }
    }
    out
}

/// `ei-tune suggest`.
pub async fn suggest(
    args: &ConnectionArgs,
    objective_arg: ObjectiveArg,
    max_fpr: f64,
    as_json: bool,
    apply: bool,
) -> Result<String, CommandError> {
    if !(0.0..=1.0).contains(&max_fpr) {
        return Err(CommandError::usage("--max-fpr takes a rate from 0 to 1"));
    }
    let t = target(args).await?;
    let blocks = t.thresholds().await?;
    let set = load_test_set(&t.client, t.project, &t.impulse, |_, _| {})
        .await
        .map_err(|e| match e {
            PreviewError::Api(e) => CommandError::from(e),
            PreviewError::Unavailable(why) => CommandError::failed(why),
        })?;
    let found = suggestions(&set, &blocks, objective(objective_arg, max_fpr));
    let mut out = if as_json {
        serde_json::to_string_pretty(&found).unwrap_or_default() + "\n"
    } else {
        let mut out = format!(
            "Impulse {} ({})\n",
            t.impulse.id,
            crate::text::clean(&t.impulse.name)
        );
        for s in &found {
            let _ = writeln!(
                out,
                "{}.{} ({})",
                s.block_id,
                crate::text::clean(&s.key),
                s.objective
            );
            let _ = writeln!(
                out,
                "  now        {:<10} {}",
                s.current,
                s.at_current.describe()
            );
            match (&s.suggested, &s.at_suggested) {
                (Some(v), Some(f)) => {
                    let _ = writeln!(out, "  suggested  {v:<10} {}", f.describe());
                }
                _ => {
                    let _ = writeln!(out, "  suggested  none: no value meets the objective");
                }
            }
        }
        out
    };
    if apply {
        let updates: Vec<ThresholdUpdate> = found
            .iter()
            .filter_map(|s| {
                s.suggested.filter(|v| *v != s.current).map(|v| {
                    ThresholdUpdate::new(s.block_id, s.key.clone(), ThresholdValue::Number(v))
                })
            })
            .collect();
        if updates.is_empty() {
            out.push_str("Nothing to apply: every threshold is at its suggested value.\n");
            return Ok(out);
        }
        let request = SetImpulseThresholdsRequest::without_jobs(updates);
        let response = t
            .client
            .set_thresholds(t.project, t.impulse.id, &request)
            .await?;
        if as_json {
            return Ok(serde_json::to_string_pretty(&json!({
                "suggestions": found,
                "applied": response,
            }))
            .unwrap_or_default()
                + "\n");
        }
        out.push_str(&describe_set(&t.impulse, &request, &response));
    }
    Ok(out)
}
