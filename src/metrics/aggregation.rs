//! The visual anomaly aggregation: how an image's patch scores become one score.

/// How a visual anomaly block turns patch scores into one window score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Aggregation {
    Mean,
    #[default]
    Max,
}

impl Aggregation {
    /// The key of the dropdown threshold that chooses it.
    pub const KEY: &str = "anomaly_scoring_aggregation_method";

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "mean" => Some(Self::Mean),
            "max" => Some(Self::Max),
            _ => None,
        }
    }

    /// The options of a dropdown this version can evaluate, once each (the first that
    /// names each aggregation): a server that repeats an option, or offers thousands,
    /// gives at most one point per aggregation.
    pub fn options<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<(String, Self)> {
        let mut options: Vec<(String, Self)> = Vec::new();
        for value in values {
            if let Some(aggregation) = Self::parse(value)
                && options.iter().all(|(_, a)| *a != aggregation)
            {
                options.push((value.to_string(), aggregation));
            }
        }
        options
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mean => "mean",
            Self::Max => "max",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::models::ThresholdValue;
    use crate::metrics::Thresholds;

    /// A hostile dropdown of 100,000 options gives one point per aggregation, the first
    /// spelling of each; options this version does not know are left out.
    #[test]
    fn each_aggregation_is_one_option_whatever_the_dropdown_holds() {
        let many = ["max", "mean", "median", "MAX"].repeat(25_000);
        let options = Aggregation::options(many.iter().copied());
        assert_eq!(
            options,
            [
                ("max".to_string(), Aggregation::Max),
                ("mean".to_string(), Aggregation::Mean)
            ]
        );
        assert!(Aggregation::options(["median", ""]).is_empty());
    }

    /// Figures are refused at a value they cannot be computed at, rather than computed at
    /// another value.
    #[test]
    fn a_value_the_figures_cannot_be_computed_at_is_refused() {
        let text = |v: &str| ThresholdValue::Text(v.into());
        let visual = "keras-visual-anomaly";
        assert!(Thresholds::check(visual, Aggregation::KEY, &text("mean")).is_ok());
        for value in [text("median"), ThresholdValue::Number(0.5)] {
            let refused = Thresholds::check(visual, Aggregation::KEY, &value).unwrap_err();
            assert_eq!(refused.expected, "mean or max", "{value:?}");
        }
        assert!(Thresholds::check("keras", "min_score", &text("high")).is_err());
        assert!(Thresholds::check("anomaly", "min_anomaly_score", &text("x")).is_err());
        // A key that does not move the figures takes anything.
        assert!(Thresholds::check("keras", "other", &text("x")).is_ok());
    }
}
