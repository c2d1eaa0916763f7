//! Why a case event was refused. Nothing is written when an event is refused.

use chrono::{DateTime, NaiveDate, Utc};

use super::event::ExitCause;
use super::state::CaseStage;
use crate::calendar::CalendarError;
use crate::error::{Error, FieldError};

/// A refused case event, with a stable [`CaseError::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    /// The event cannot happen in the case's current stage.
    #[error("{event} is not allowed while the case is {}", .stage.as_str())]
    NotAllowed {
        stage: CaseStage,
        event: &'static str,
    },
    /// Only an application opens a case.
    #[error("the household has no case; {event} needs an application first")]
    NoCase { event: &'static str },
    /// The household already has a case.
    #[error("the household already has a case")]
    AlreadyOpen,
    /// Publicity lasts until its last day; it cannot be closed earlier.
    #[error("publicity runs until {last_day}; it cannot end before")]
    PublicityNotOver { last_day: NaiveDate },
    /// Death, voluntary exit, concealment and other ineligibility get no gradual exit.
    #[error("{} gets no gradual exit", .cause.as_str())]
    NoGradualExit { cause: ExitCause },
    /// The gradual exit's length is outside what the policy allows for its cause.
    #[error("a gradual exit after {} lasts {min} to {max} months, not {months}", .cause.as_str())]
    GradualExitLength {
        cause: ExitCause,
        months: u32,
        min: u32,
        max: u32,
    },
    /// An event dated before the case's latest event.
    #[error("the event at {at} is earlier than the case's latest event at {latest}")]
    BeforeLatest {
        at: DateTime<Utc>,
        latest: DateTime<Utc>,
    },
    /// A field of the event is invalid.
    #[error("{field}: {reason}")]
    InvalidField {
        field: &'static str,
        reason: &'static str,
    },
    /// A date could not be computed with the calendar.
    #[error(transparent)]
    Calendar(#[from] CalendarError),
}

impl CaseError {
    /// Stable code for localized messages.
    pub fn code(&self) -> &'static str {
        match self {
            CaseError::NotAllowed { .. } => "case.transition_not_allowed",
            CaseError::NoCase { .. } => "case.no_case",
            CaseError::AlreadyOpen => "case.already_open",
            CaseError::PublicityNotOver { .. } => "case.publicity_not_over",
            CaseError::NoGradualExit { .. } => "case.no_gradual_exit",
            CaseError::GradualExitLength { .. } => "case.gradual_exit_length",
            CaseError::BeforeLatest { .. } => "case.before_latest",
            CaseError::InvalidField { .. } => "case.invalid_field",
            CaseError::Calendar(e) => e.code(),
        }
    }
}

impl From<CaseError> for Error {
    fn from(e: CaseError) -> Self {
        if let CaseError::Calendar(c) = e {
            return c.into();
        }
        let message = e.to_string();
        let base = |field: &str| FieldError::new(field, e.code(), message.clone());
        Error::invalid(match &e {
            CaseError::NotAllowed { stage, event } => base("event")
                .with("stage", stage.as_str())
                .with("event", event),
            CaseError::NoCase { event } => base("event").with("event", event),
            CaseError::AlreadyOpen => base("event"),
            CaseError::PublicityNotOver { last_day } => base("event").with("last_day", last_day),
            CaseError::NoGradualExit { cause } => base("cause").with("cause", cause.as_str()),
            CaseError::GradualExitLength {
                cause,
                months,
                min,
                max,
            } => base("months")
                .with("cause", cause.as_str())
                .with("value", months)
                .with("min", min)
                .with("max", max),
            CaseError::BeforeLatest { at, latest } => base("at")
                .with("at", at.to_rfc3339())
                .with("latest", latest.to_rfc3339()),
            CaseError::InvalidField { field, .. } => base(field),
            CaseError::Calendar(_) => base("calendar"),
        })
    }
}
