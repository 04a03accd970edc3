//! The thresholds domain: what a threshold's value may be, and the range it is searched
//! over. The tuner's sliders, the commands and the simulator all follow these rules.

use crate::api::models::{BlockThreshold, ThresholdValue};

/// Points of a sweep across a threshold's range.
pub const SWEEP_POINTS: usize = 101;

/// Keys whose values are probabilities, and so lie within 0..1.
pub fn is_probability_key(key: &str) -> bool {
    key == "min_score" || key.starts_with("min_score_")
}

/// Why a value does not fit a threshold. The words are the simulator's refusals too, so
/// they name no key: callers say which threshold.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvalidValue {
    #[error("`{given}` is not an option (options: {options})")]
    NotAnOption { given: String, options: String },
    #[error("expects one of its options as a string, not a number")]
    OptionNotNumber,
    #[error("expects text, not a number")]
    TextNotNumber,
    #[error("expects a number, not a string")]
    NumberNotText,
    #[error("`{0}` is not a number")]
    NotANumber(String),
    #[error("`{0}` is not a finite number")]
    NotFinite(String),
    #[error("{0} is outside 0..1")]
    OutsideProbability(String),
}

/// Whether `value` fits `threshold`: its type (an option, any text, a number), finite, and
/// within 0..1 for score keys. The one rule the commands, the tuner and the simulator apply.
pub fn check_value(threshold: &BlockThreshold, value: &ThresholdValue) -> Result<(), InvalidValue> {
    match (threshold.options(), value) {
        (Some(options), ThresholdValue::Text(given)) => {
            if options.iter().any(|o| o.value == *given) {
                Ok(())
            } else {
                let names: Vec<&str> = options.iter().map(|o| o.value.as_str()).collect();
                Err(InvalidValue::NotAnOption {
                    given: given.clone(),
                    options: names.join(", "),
                })
            }
        }
        (Some(_), ThresholdValue::Number(_)) => Err(InvalidValue::OptionNotNumber),
        (None, ThresholdValue::Text(_)) if threshold.takes_text() => Ok(()),
        (None, ThresholdValue::Number(_)) if threshold.takes_text() => {
            Err(InvalidValue::TextNotNumber)
        }
        (None, ThresholdValue::Text(_)) => Err(InvalidValue::NumberNotText),
        (None, ThresholdValue::Number(v)) if !v.is_finite() => {
            Err(InvalidValue::NotFinite(v.to_string()))
        }
        (None, ThresholdValue::Number(v))
            if is_probability_key(&threshold.key) && !(0.0..=1.0).contains(v) =>
        {
            Err(InvalidValue::OutsideProbability(v.to_string()))
        }
        (None, ThresholdValue::Number(_)) => Ok(()),
    }
}

/// Reads typed text as a value of `threshold`, and checks it.
pub fn parse_value(threshold: &BlockThreshold, raw: &str) -> Result<ThresholdValue, InvalidValue> {
    // An option is found whatever the case it was typed in, and sent as Studio spells it.
    let option = threshold
        .options()
        .and_then(|options| options.iter().find(|o| o.value.eq_ignore_ascii_case(raw)));
    let value = if let Some(option) = option {
        ThresholdValue::Text(option.value.clone())
    } else if threshold.takes_text() {
        ThresholdValue::Text(raw.to_string())
    } else {
        let number: f64 = raw
            .parse()
            .map_err(|_| InvalidValue::NotANumber(raw.to_string()))?;
        if !number.is_finite() {
            return Err(InvalidValue::NotFinite(raw.to_string()));
        }
        ThresholdValue::Number(number)
    };
    check_value(threshold, &value)?;
    Ok(value)
}

/// The keys of a block's thresholds, for a message: `min_score, min_anomaly_score`.
pub fn keys_of(thresholds: &[BlockThreshold]) -> String {
    let keys: Vec<&str> = thresholds.iter().map(|t| t.key.as_str()).collect();
    keys.join(", ")
}

/// A key that is a plain word (letters, digits, `_`, `-`): safe in the runner's
/// `--thresholds` list and in a shell.
pub fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The range of a numeric threshold: 0..1 for score keys; for open-ended ones, one that
/// holds the value and Studio's suggested value, widened to the span of the scores the
/// threshold is compared with when they are known.
pub fn scale_for(threshold: &BlockThreshold, score_span: Option<(f64, f64)>) -> Scale {
    if is_probability_key(&threshold.key) {
        return Scale::probability();
    }
    let mut points = vec![threshold.value.as_number().unwrap_or(0.0)];
    points.extend(threshold.suggested_value);
    let scale = Scale::open(&points);
    match score_span {
        Some((lo, hi)) => scale.covering(lo, hi),
        None => scale,
    }
}

/// A numeric slider's range and steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub min: f64,
    pub max: f64,
    pub fine: f64,
    pub coarse: f64,
    /// Decimal places of a value on this scale.
    pub decimals: u32,
    /// Probability keys stay within 0..1; open-ended ones widen for typed values.
    pub bounded: bool,
}

impl Scale {
    /// 0..1 in steps of 0.01 and 0.1.
    pub fn probability() -> Self {
        Self {
            min: 0.0,
            max: 1.0,
            fine: 0.01,
            coarse: 0.1,
            decimals: 2,
            bounded: true,
        }
    }

    /// A range that holds every one of `points` (value, suggested value, scores seen),
    /// from 0 (or below, for negative points) to a round number, in steps of 1 % and 10 %.
    pub fn open(points: &[f64]) -> Self {
        let finite = points.iter().copied().filter(|p| p.is_finite());
        let (lo, hi) = finite.fold((0.0f64, 0.0f64), |(lo, hi), p| (lo.min(p), hi.max(p)));
        // Headroom above the largest point, so that the value is not pinned to the end.
        let hi = if hi <= 0.0 { 1.0 } else { hi * 1.5 };
        let span = nice_ceil(hi - lo);
        let fine = nice_step(span / 100.0);
        let min = if lo < 0.0 { -nice_ceil(-lo) } else { 0.0 };
        let max = round_to(
            min + nice_ceil_multiple(span, fine * 10.0),
            decimals_of(fine),
        );
        Self::from_parts(min, max, fine, false)
    }

    fn from_parts(min: f64, max: f64, fine: f64, bounded: bool) -> Self {
        Self {
            min,
            max,
            fine,
            coarse: fine * 10.0,
            decimals: decimals_of(fine),
            bounded,
        }
    }

    /// Widens an open range so that it covers `lo..=hi` (the scores a threshold is compared
    /// with: beyond them every value decides alike), in steps of 1 % of the whole.
    pub fn covering(self, lo: f64, hi: f64) -> Self {
        if self.bounded || !(lo.is_finite() && hi.is_finite()) || (self.min <= lo && hi <= self.max)
        {
            return self;
        }
        let (lo, hi) = (lo.min(self.min), hi.max(self.max));
        let fine = nice_step((hi - lo) / 100.0);
        let coarse = fine * 10.0;
        let decimals = decimals_of(fine);
        let min = round_to((lo / coarse).floor() * coarse, decimals);
        let max = round_to((hi / coarse).ceil() * coarse, decimals);
        Self::from_parts(min, max, fine, false)
    }

    /// Widens an open range so that it holds `value`; a bounded one stays as it is.
    pub fn widened_to(self, value: f64) -> Self {
        if self.bounded || (self.min..=self.max).contains(&value) {
            return self;
        }
        let mut points = vec![self.min, self.max, value];
        points.retain(|p| p.is_finite());
        let wider = Scale::open(&points);
        Self {
            min: wider.min.min(self.min),
            ..wider
        }
    }

    pub fn clamp(&self, v: f64) -> f64 {
        v.clamp(self.min, self.max)
    }

    /// `v` rounded to the scale's decimals: 0.61, not 0.6100000000000001.
    pub fn clean(&self, v: f64) -> f64 {
        round_to(v, self.decimals)
    }

    /// One step up (positive `steps`) or down, snapped to the step grid and clamped.
    pub fn step(&self, v: f64, step: f64, steps: i32) -> f64 {
        let k = v / step;
        let k = if (k - k.round()).abs() < 1e-6 {
            k.round()
        } else if steps > 0 {
            k.floor()
        } else {
            k.ceil()
        };
        self.clean(self.clamp((k + f64::from(steps)) * step))
    }

    /// The value at `fraction` (0..1) of the range.
    pub fn at_fraction(&self, fraction: f64) -> f64 {
        let v = self.min + fraction.clamp(0.0, 1.0) * (self.max - self.min);
        self.clean((v / self.fine).round() * self.fine)
    }

    /// Where `v` sits in the range, 0..1.
    pub fn fraction_of(&self, v: f64) -> f64 {
        if self.max > self.min {
            ((v - self.min) / (self.max - self.min)).clamp(0.0, 1.0)
        } else {
            0.0
        }
    }

    /// The value at the scale's decimals; one that needs more (a typed 0.555) is shown
    /// whole, so that what is shown is what is sent.
    pub fn format(&self, v: f64) -> String {
        let places = (self.decimals..=9)
            .find(|&d| round_to(v, d) == v)
            .unwrap_or(9);
        format!("{v:.*}", places as usize)
    }
}

/// `v` rounded to `decimals` places, as the nearest double to that decimal.
pub fn round_to(v: f64, decimals: u32) -> f64 {
    let factor = 10f64.powi(decimals as i32);
    let rounded = (v * factor).round() / factor;
    if rounded == 0.0 { 0.0 } else { rounded }
}

fn decimals_of(step: f64) -> u32 {
    if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil().max(0.0) as u32
    }
}

/// The smallest of 1, 2, 5 × 10^k at or above `x`.
pub fn nice_ceil(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(x.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        let candidate = m * magnitude;
        if candidate >= x * (1.0 - 1e-12) {
            return round_sig(candidate);
        }
    }
    round_sig(10.0 * magnitude)
}

/// The largest of 1, 2, 5 × 10^k at or below `x` (a step that splits a range cleanly).
fn nice_step(x: f64) -> f64 {
    // A subnormal span (scores 5e-324 apart) has no step a double can write.
    if x <= 0.0 || !x.is_normal() {
        return 0.01;
    }
    let magnitude = 10f64.powf(x.log10().floor());
    let mut best = magnitude;
    for m in [1.0, 2.0, 5.0] {
        if m * magnitude <= x * (1.0 + 1e-12) {
            best = m * magnitude;
        }
    }
    round_sig(best)
}

fn nice_ceil_multiple(x: f64, step: f64) -> f64 {
    (x / step).ceil() * step
}

/// Removes the float noise of `powf` (2.0000000000000004 → 2).
fn round_sig(x: f64) -> f64 {
    if !x.is_normal() {
        return x;
    }
    // Within what a double's exponent reaches: no factor overflows.
    let digits = (12 - x.abs().log10().floor() as i32).clamp(-290, 290);
    let factor = 10f64.powi(digits);
    let rounded = (x * factor).round() / factor;
    if rounded.is_finite() { rounded } else { x }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores a subnormal apart, or at the ends of the doubles, give a range, not a panic.
    #[test]
    fn ranges_of_extreme_scores_are_finite() {
        for points in [
            [0.0, 5e-324],
            [-5e-324, 5e-324],
            [1e-300, 2e-300],
            [-f64::MAX, f64::MAX],
        ] {
            let scale = Scale::open(&points);
            assert!(
                scale.fine > 0.0 && !scale.fine.is_nan(),
                "{points:?}: {scale:?}"
            );
        }
        assert_eq!(round_sig(0.0), 0.0);
        assert_eq!(round_sig(2.0000000000000004), 2.0);
        assert_eq!(nice_step(5e-326), 0.01);
    }

    #[test]
    fn a_value_off_the_step_grid_is_shown_whole() {
        let s = Scale::probability();
        assert_eq!(s.format(0.6), "0.60");
        assert_eq!(s.format(0.555), "0.555");
        assert_eq!(s.format(0.1234567), "0.1234567");
    }

    #[test]
    fn options_are_found_whatever_the_case() {
        let threshold: BlockThreshold = serde_json::from_value(serde_json::json!({
            "key": "anomaly_scoring_aggregation_method",
            "description": "How patch scores become one",
            "helpText": "",
            "value": "max",
            "dropdownOptions": [
                {"value": "mean", "description": "Mean"},
                {"value": "max", "description": "Max"}
            ]
        }))
        .unwrap();
        assert_eq!(
            parse_value(&threshold, "MEAN"),
            Ok(ThresholdValue::Text("mean".into()))
        );
        assert!(matches!(
            parse_value(&threshold, "median"),
            Err(InvalidValue::NotAnOption { .. })
        ));
    }

    #[test]
    fn steps_give_clean_decimals() {
        let s = Scale::probability();
        let mut v = 0.6;
        v = s.step(v, s.fine, 1);
        assert_eq!(v, 0.61);
        assert_eq!(v.to_string(), "0.61");
        for _ in 0..7 {
            v = s.step(v, s.fine, 1);
        }
        assert_eq!(v.to_string(), "0.68");
        assert_eq!(s.step(0.95, s.coarse, 1), 1.0);
        assert_eq!(s.step(0.05, s.coarse, -1), 0.0);
        // off-grid values move to the next grid point in the step's direction
        assert_eq!(s.step(0.613, s.fine, 1), 0.62);
        assert_eq!(s.step(0.613, s.fine, -1), 0.61);
    }

    #[test]
    fn open_ranges_hold_the_value_and_the_suggestion() {
        let s = Scale::open(&[0.3, 0.53]);
        assert!(s.min <= 0.0 && s.max >= 0.53 * 1.2, "{s:?}");
        assert_eq!(((s.max - s.min) / s.fine).round(), 100.0);
        let big = Scale::open(&[35.0, 40.0]);
        assert!(big.max >= 40.0 && big.fine >= 0.5, "{big:?}");
        assert_eq!(big.decimals, 0);
        let negative = Scale::open(&[-0.4, 0.2]);
        assert!(negative.min <= -0.4, "{negative:?}");
    }

    #[test]
    fn open_ranges_cover_the_scores_they_are_compared_with() {
        let open = Scale::open(&[0.3]);
        let wide = open.covering(-0.5485, 1.1345);
        assert_eq!((wide.min, wide.max, wide.fine), (-0.6, 1.2, 0.01));
        assert_eq!(wide.covering(0.0, 1.0), wide, "already covered");
        let p = Scale::probability();
        assert_eq!(p.covering(-3.0, 9.0), p);
    }

    #[test]
    fn typed_values_widen_open_ranges_only() {
        let open = Scale::open(&[0.3]);
        let wide = open.widened_to(12.0);
        assert!(wide.max >= 12.0 && wide.min <= open.min, "{wide:?}");
        let p = Scale::probability();
        assert_eq!(p.widened_to(3.0), p);
    }

    #[test]
    fn fractions_map_to_clean_values() {
        let s = Scale::probability();
        assert_eq!(s.at_fraction(0.5), 0.5);
        assert_eq!(s.at_fraction(0.333), 0.33);
        assert_eq!(s.at_fraction(2.0), 1.0);
        assert_eq!(s.fraction_of(0.25), 0.25);
    }

    #[test]
    fn nice_numbers() {
        assert_eq!(nice_ceil(0.8), 1.0);
        assert_eq!(nice_ceil(1.2), 2.0);
        assert_eq!(nice_ceil(3.0), 5.0);
        assert_eq!(nice_ceil(60.0), 100.0);
        assert_eq!(nice_step(0.012), 0.01);
        assert_eq!(nice_step(0.6), 0.5);
    }
}
