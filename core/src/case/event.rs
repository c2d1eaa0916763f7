//! What can happen to a case: the events workers record, each stored with who recorded it
//! and when. Events are checked against the case's stage by [`super::state`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::household::Program;

/// The longest free text (reason, note, material name) an event may carry, in characters.
pub const MAX_TEXT_CHARS: usize = 500;
/// The most missing materials one event may list.
pub const MAX_MATERIALS: usize = 50;
/// The largest monthly household amount an event may propose, in fen.
pub const MAX_MONTHLY_FEN: i64 = 100_000_000;

/// The proposed or decided benefit: what publicity shows besides the head's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    /// Household amount per month, in fen.
    pub monthly_fen: i64,
    /// Persons covered (保障人数).
    pub household_size: u32,
    /// Rural dibao class 1–4, when classes apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<u8>,
}

/// What the township does with an objection raised during publicity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectionResolution {
    /// Investigate the household again (重新调查).
    Reinvestigation,
    /// Put the case to a democratic appraisal (民主评议).
    DemocraticAppraisal,
}

/// Why a household leaves (or starts leaving) the programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitCause {
    /// Income above the standard after employment: gradual exit up to 6 months.
    Employment,
    /// Income above the standard after industry support or dividends: 6–12 months.
    IndustrySupport,
    /// Income or property above the limits for another reason: no gradual exit.
    NoLongerEligible,
    /// The beneficiary died: no gradual exit.
    Death,
    /// The household asked to leave: no gradual exit.
    Voluntary,
    /// Income or property was concealed (隐瞒): no gradual exit.
    Concealment,
}

impl ExitCause {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ExitCause::Employment => "employment",
            ExitCause::IndustrySupport => "industry_support",
            ExitCause::NoLongerEligible => "no_longer_eligible",
            ExitCause::Death => "death",
            ExitCause::Voluntary => "voluntary",
            ExitCause::Concealment => "concealment",
        }
    }
}

/// One thing that happened to a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CaseEvent {
    /// The household applies (申请); opens the case.
    Apply { program: Program },
    /// The township accepts the application (受理), listing at once every missing material.
    Accept { missing_materials: Vec<String> },
    /// Missing materials handed in (removed from the list).
    SupplyMaterials { items: Vec<String> },
    /// The case is special (特殊情况): the total limit becomes the special one.
    MarkSpecial { reason: String },
    /// The investigation starts (调查核实).
    StartInvestigation,
    /// Home visit and scoring are done; the township's opinion is next.
    CompleteInvestigation {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        visit_id: Option<String>,
    },
    /// The township's opinion (审核意见): eligible ones go to publicity with the proposal,
    /// others straight to the county.
    TownshipOpinion {
        eligible: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        proposal: Option<Proposal>,
        reason: String,
    },
    /// An objection during publicity, and what the township does about it.
    Objection {
        note: String,
        resolution: ObjectionResolution,
    },
    /// The democratic appraisal has met; the township gives its opinion again.
    RecordAppraisal { note: String },
    /// Publicity is over without objection; the case goes to the county.
    EndPublicity,
    /// The county's decision (审批确认).
    CountyDecision {
        approved: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        benefit: Option<Proposal>,
        /// Whether income is stable (yearly review) or not (half-yearly).
        income_stable: bool,
        reason: String,
    },
    /// A periodic or gradual-exit review that keeps (or returns) the household on the
    /// benefit, optionally with a new amount.
    Review {
        income_stable: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        benefit: Option<Proposal>,
    },
    /// Income rose above the standard: the benefit continues for `months` (渐退期).
    StartGradualExit { cause: ExitCause, months: u32 },
    /// The household leaves the programme now.
    Exit { cause: ExitCause },
    /// The applicant withdraws before the decision.
    Withdraw { reason: String },
}

impl CaseEvent {
    /// The stored kind, e.g. `"start_investigation"`.
    pub fn kind(&self) -> &'static str {
        match self {
            CaseEvent::Apply { .. } => "apply",
            CaseEvent::Accept { .. } => "accept",
            CaseEvent::SupplyMaterials { .. } => "supply_materials",
            CaseEvent::MarkSpecial { .. } => "mark_special",
            CaseEvent::StartInvestigation => "start_investigation",
            CaseEvent::CompleteInvestigation { .. } => "complete_investigation",
            CaseEvent::TownshipOpinion { .. } => "township_opinion",
            CaseEvent::Objection { .. } => "objection",
            CaseEvent::RecordAppraisal { .. } => "record_appraisal",
            CaseEvent::EndPublicity => "end_publicity",
            CaseEvent::CountyDecision { .. } => "county_decision",
            CaseEvent::Review { .. } => "review",
            CaseEvent::StartGradualExit { .. } => "start_gradual_exit",
            CaseEvent::Exit { .. } => "exit",
            CaseEvent::Withdraw { .. } => "withdraw",
        }
    }
}

/// An event as recorded: its id, who recorded it and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    /// Unique id of the entry in the household document.
    pub id: String,
    /// Worker id of whoever recorded it.
    pub by: String,
    /// When it happened (device time when recorded on a tablet).
    pub at: DateTime<Utc>,
    pub event: CaseEvent,
}
