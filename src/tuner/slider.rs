//! One threshold as a slider: its kind, its value and where it stands with Studio.

use crate::api::models::{BlockThreshold, DropdownOption, ImpulseLearnBlock, ThresholdValue};
pub use crate::thresholds::Scale;
use crate::thresholds::{InvalidValue, parse_value, scale_for};

/// How a slider moves.
#[derive(Debug, Clone, PartialEq)]
pub enum SliderKind {
    Numeric(Scale),
    /// A dropdown: the value is one of the options.
    Options(Vec<DropdownOption>),
    /// A string threshold without options: any text, typed.
    Text,
}

/// Where a slider stands with the server.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncState {
    /// The displayed value is the server's.
    Saved,
    /// Changed and not sent yet.
    Edited,
    /// In the request in flight.
    Sending,
    /// A transient failure: it goes again by itself after `delay`.
    Retrying {
        attempt: u32,
        delay: std::time::Duration,
    },
    /// The answer to the call with it was lost: what Studio holds is being read back.
    Unconfirmed,
    /// The last request with it failed; the next edit or `r` sends it again.
    Failed(String),
    /// Someone else changed it on Studio since it was read: not sent until the user keeps
    /// theirs or takes this.
    ChangedElsewhere { theirs: ThresholdValue },
}

/// One (learn block, threshold key).
#[derive(Debug, Clone, PartialEq)]
pub struct Slider {
    pub block_id: u64,
    pub block_title: String,
    pub block_type: String,
    pub key: String,
    pub description: String,
    pub help_text: String,
    pub kind: SliderKind,
    /// What the user sees and last chose.
    pub value: ThresholdValue,
    /// The last value the server confirmed.
    pub saved: ThresholdValue,
    pub suggested: Option<f64>,
    pub sync: SyncState,
    /// Counts edits, so that a response can tell whether the user moved the slider since
    /// its request went out.
    pub edits: u64,
    /// Values this tuner sent (the last few): Studio may hold any of them, applied late
    /// or read back early, without anyone else having written.
    pub sent: Vec<ThresholdValue>,
    /// The threshold as Studio described it: what typed values are checked against.
    pub threshold: BlockThreshold,
    /// How many calls had been answered when `saved` was confirmed by one: a reload asked
    /// for before then holds an older value.
    pub confirmed_at: u64,
}

/// Why text typed into a slider is not a value it takes.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TypedValueError {
    #[error("type a value")]
    Empty,
    /// The range as the slider shows it.
    #[error("{key} takes values from {min} to {max}")]
    OutsideRange {
        key: String,
        min: String,
        max: String,
    },
    #[error(transparent)]
    Invalid(#[from] InvalidValue),
}

impl Slider {
    pub fn new(block: &ImpulseLearnBlock, threshold: &BlockThreshold) -> Self {
        let kind = match (threshold.options(), &threshold.value) {
            (Some(options), _) => SliderKind::Options(options.to_vec()),
            (None, ThresholdValue::Text(_)) => SliderKind::Text,
            _ => SliderKind::Numeric(scale_for(threshold, None)),
        };
        Self {
            block_id: block.id,
            // Server text, made safe to draw: no control characters, one line.
            block_title: crate::text::clean(&block.title),
            block_type: crate::text::clean(block.kind.as_str()),
            key: threshold.key.clone(),
            description: crate::text::clean(&threshold.description),
            help_text: crate::text::clean(&threshold.help_text),
            kind,
            value: threshold.value.clone(),
            saved: threshold.value.clone(),
            suggested: threshold.suggested_value,
            sync: SyncState::Saved,
            threshold: threshold.clone(),
            confirmed_at: 0,
            edits: 0,
            sent: Vec::new(),
        }
    }

    /// `BLOCK.KEY`, the runner's name for it.
    pub fn id(&self) -> String {
        format!("{}.{}", self.block_id, self.key)
    }

    pub fn scale(&self) -> Option<&Scale> {
        match &self.kind {
            SliderKind::Numeric(scale) => Some(scale),
            SliderKind::Options(_) | SliderKind::Text => None,
        }
    }

    /// The value as shown: with the scale's decimals, or the option's name.
    pub fn display(&self, value: &ThresholdValue) -> String {
        match (&self.kind, value) {
            (SliderKind::Numeric(scale), ThresholdValue::Number(v)) => scale.format(*v),
            (_, v) => v.to_string(),
        }
    }

    /// The description of the selected option, for dropdowns.
    pub fn option_description(&self) -> Option<&str> {
        match (&self.kind, &self.value) {
            (SliderKind::Options(options), ThresholdValue::Text(v)) => options
                .iter()
                .find(|o| o.value == *v)
                .map(|o| o.description.as_str()),
            _ => None,
        }
    }

    pub fn is_dirty(&self) -> bool {
        self.value != self.saved
    }

    /// The value `steps` fine (or coarse) steps away; for dropdowns, `steps` options away.
    pub fn stepped(&self, steps: i32, coarse: bool) -> ThresholdValue {
        match (&self.kind, &self.value) {
            (SliderKind::Numeric(scale), ThresholdValue::Number(v)) => {
                let step = if coarse { scale.coarse } else { scale.fine };
                ThresholdValue::Number(scale.step(*v, step, steps))
            }
            (SliderKind::Options(options), value) => {
                let n = options.len() as i32;
                let current = options
                    .iter()
                    .position(|o| value.as_text() == Some(o.value.as_str()))
                    .unwrap_or(0) as i32;
                let next = (current + steps).rem_euclid(n.max(1)) as usize;
                options
                    .get(next)
                    .map(|o| ThresholdValue::Text(o.value.clone()))
                    .unwrap_or_else(|| value.clone())
            }
            (_, value) => value.clone(),
        }
    }

    /// The value at `fraction` of the range (for a dropdown, the option there).
    pub fn at_fraction(&self, fraction: f64) -> ThresholdValue {
        match &self.kind {
            SliderKind::Numeric(scale) => ThresholdValue::Number(scale.at_fraction(fraction)),
            SliderKind::Options(options) => {
                let n = options.len();
                let i = ((fraction.clamp(0.0, 1.0) * n as f64) as usize).min(n.saturating_sub(1));
                options
                    .get(i)
                    .map(|o| ThresholdValue::Text(o.value.clone()))
                    .unwrap_or_else(|| self.value.clone())
            }
            SliderKind::Text => self.value.clone(),
        }
    }

    /// Checks typed text; on success the value to set (and the range is widened to hold
    /// it where the key allows).
    pub fn parse_input(&self, text: &str) -> Result<ThresholdValue, TypedValueError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(TypedValueError::Empty);
        }
        let value = parse_value(&self.threshold, text);
        // Outside the slider's range: say the range, as the slider shows it.
        if let SliderKind::Numeric(scale) = &self.kind
            && scale.bounded
            && match &value {
                Ok(ThresholdValue::Number(v)) => !(scale.min..=scale.max).contains(v),
                Err(e) => matches!(e, InvalidValue::OutsideProbability(_)),
                Ok(_) => false,
            }
        {
            return Err(TypedValueError::OutsideRange {
                key: self.key.clone(),
                min: scale.format(scale.min),
                max: scale.format(scale.max),
            });
        }
        Ok(value?)
    }

    /// Notes the displayed value as sent.
    pub fn remember_sent(&mut self) {
        const KEPT: usize = 32;
        let value = self.value.clone();
        self.sent.retain(|v| *v != value);
        if self.sent.len() >= KEPT {
            self.sent.remove(0);
        }
        self.sent.push(value);
    }

    /// Sets the displayed value, widening an open range to hold it.
    pub fn set_value(&mut self, value: ThresholdValue) {
        if let (SliderKind::Numeric(scale), ThresholdValue::Number(v)) = (&mut self.kind, &value) {
            *scale = scale.widened_to(*v);
        }
        self.value = value;
    }
}
