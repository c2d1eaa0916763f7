//! What is recorded about a person in dispersed care (分散供养): enrolment, self-care
//! assessments, care agreements, the care plan and its log, the problem ledger and the
//! township leader's visits. Each event names the person (the household member id) and is
//! written once into the household document ([`super::document`]).
//!
//! [`CareEvent::validate`] checks an event's own fields (lengths, ids, photo hashes, dates in
//! order); whether the event fits the person's record is decided by [`super::record`].

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::frequency::Frequency;
use crate::error::FieldError;
use crate::standards::SelfCareLevel;

/// The longest free text (note, description, care content, name) an event may carry.
pub const MAX_TEXT_CHARS: usize = 500;
/// The most photos (SHA-256 hashes) one event may list.
pub const MAX_PHOTOS: usize = 20;
/// The longest id (person, task, problem, leader), in characters.
pub const MAX_ID_CHARS: usize = 64;
/// The largest monthly amount an agreement may name, in fen.
pub const MAX_MONTHLY_FEN: i64 = 100_000_000;

/// The six activities of daily living of the national self-care assessment; `true` means
/// the person manages the activity on their own (achieved).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfCareActivities {
    /// 吃饭
    pub eating: bool,
    /// 穿衣
    pub dressing: bool,
    /// 上下床
    pub getting_in_out_of_bed: bool,
    /// 如厕
    pub toileting: bool,
    /// 室内行走
    pub walking_indoors: bool,
    /// 洗澡
    pub bathing: bool,
}

impl SelfCareActivities {
    /// Activities not achieved (0–6).
    pub fn not_achieved(&self) -> u32 {
        [
            self.eating,
            self.dressing,
            self.getting_in_out_of_bed,
            self.toileting,
            self.walking_indoors,
            self.bathing,
        ]
        .iter()
        .filter(|achieved| !**achieved)
        .count() as u32
    }

    /// The level by the national rule: all six achieved = self-care; one to three not
    /// achieved = partial loss; four or more not achieved = complete loss.
    pub fn level(&self) -> SelfCareLevel {
        match self.not_achieved() {
            0 => SelfCareLevel::SelfCare,
            1..=3 => SelfCareLevel::PartialLoss,
            _ => SelfCareLevel::CompleteLoss,
        }
    }
}

/// Who looks after the person under a care agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaregiverKind {
    /// A relative (亲属).
    Relative,
    /// The village committee (村委会).
    VillageCommittee,
    /// A care service provider (服务机构).
    ServiceProvider,
}

/// A care agreement (委托照料协议).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CareAgreement {
    pub caregiver_kind: CaregiverKind,
    /// The caregiver's (or provider's) name.
    pub caregiver_name: String,
    /// How to reach the caregiver.
    pub caregiver_phone: String,
    /// What the caregiver does (照料内容).
    pub care_content: String,
    /// How often the caregiver comes, as agreed (e.g. "每日一次").
    pub care_frequency: String,
    /// The care subsidy paid under the agreement, in fen per month.
    pub subsidy_monthly_fen: i64,
    /// First day of the agreement.
    pub valid_from: NaiveDate,
    /// Last day of the agreement.
    pub valid_until: NaiveDate,
}

/// One recurring task of a care plan (the "四个一", or one the county or worker adds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CareTaskDefinition {
    /// Stable id, lower-case letters, digits, `_` and `-` (e.g. `clean_home`).
    pub task_id: String,
    /// Name in Chinese (e.g. 打扫卫生).
    pub label_zh: String,
    /// Name in English.
    pub label_en: String,
    pub frequency: Frequency,
    /// Listed as due soon this many days before its deadline; `None`: the policy's
    /// `due_soon_days`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_soon_days: Option<u32>,
}

/// What a problem of the ledger (问题台账) is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemArea {
    /// 吃饭
    Food,
    /// 穿衣
    Clothing,
    /// 取暖
    Heating,
    /// 用水
    Water,
    /// 用电
    Electricity,
    /// 卫生
    Hygiene,
    /// 居住环境
    LivingEnvironment,
}

impl ProblemArea {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemArea::Food => "food",
            ProblemArea::Clothing => "clothing",
            ProblemArea::Heating => "heating",
            ProblemArea::Water => "water",
            ProblemArea::Electricity => "electricity",
            ProblemArea::Hygiene => "hygiene",
            ProblemArea::LivingEnvironment => "living_environment",
        }
    }

    /// The area of a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        [
            ProblemArea::Food,
            ProblemArea::Clothing,
            ProblemArea::Heating,
            ProblemArea::Water,
            ProblemArea::Electricity,
            ProblemArea::Hygiene,
            ProblemArea::LivingEnvironment,
        ]
        .into_iter()
        .find(|a| a.as_str() == name)
    }
}

/// How a problem was put right (整改记录): the only way to close it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rectification {
    /// Who put it right (a name: a caregiver, a cadre, a provider).
    pub rectified_by: String,
    /// When.
    pub rectified_on: NaiveDate,
    /// What was done.
    pub action: String,
    /// Evidence: photo hashes (SHA-256, hex), at least one.
    pub evidence: Vec<String>,
}

/// One thing recorded about a person in care.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CareEvent {
    /// The person enters dispersed care on `since`. Recorded through the store, the
    /// policy's default tasks ("四个一") are planned from the same day.
    Enrolled { person_id: String, since: NaiveDate },
    /// The person leaves care from `on` (death, moved into a care home, …): the plan stops.
    Left {
        person_id: String,
        on: NaiveDate,
        reason: String,
    },
    /// A self-care assessment on `on`; reassessments add to the history.
    Assessed {
        person_id: String,
        on: NaiveDate,
        activities: SelfCareActivities,
    },
    /// A care agreement signed (a renewal is a new agreement).
    AgreementSigned {
        person_id: String,
        agreement: CareAgreement,
    },
    /// A task planned from `from`.
    TaskAdded {
        person_id: String,
        task: CareTaskDefinition,
        from: NaiveDate,
    },
    /// A task no longer planned from `on`.
    TaskRemoved {
        person_id: String,
        task_id: String,
        on: NaiveDate,
    },
    /// A task done at `done_at` (which may be earlier than the recording: yesterday's task
    /// logged today).
    TaskDone {
        person_id: String,
        task_id: String,
        done_at: DateTime<Utc>,
        note: String,
        /// Photo hashes (SHA-256, hex).
        photos: Vec<String>,
    },
    /// A problem found, with what it is and evidence.
    ProblemOpened {
        person_id: String,
        /// New id of the problem (see [`super::new_id`]).
        problem_id: String,
        area: ProblemArea,
        description: String,
        /// Photo hashes (SHA-256, hex); may be empty.
        evidence: Vec<String>,
    },
    /// Who must put the problem right.
    ProblemAssigned {
        person_id: String,
        problem_id: String,
        assignee: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        due_on: Option<NaiveDate>,
    },
    /// The problem was put right: closes it.
    ProblemRectified {
        person_id: String,
        problem_id: String,
        rectification: Rectification,
    },
    /// A closed problem is open again (the history is kept).
    ProblemReopened {
        person_id: String,
        problem_id: String,
        reason: String,
    },
    /// A township leader looks after the person (包户包人) from `from`, replacing any
    /// earlier assignment.
    LeaderAssigned {
        person_id: String,
        /// The leader's worker id.
        leader_id: String,
        leader_name: String,
        from: NaiveDate,
    },
    /// A leader's visit on `visited_on`.
    LeaderVisited {
        person_id: String,
        leader_id: String,
        visited_on: NaiveDate,
        note: String,
        /// Photo hashes (SHA-256, hex).
        photos: Vec<String>,
    },
}

impl CareEvent {
    /// The stored kind, e.g. `"task_done"`.
    pub fn kind(&self) -> &'static str {
        match self {
            CareEvent::Enrolled { .. } => "enrolled",
            CareEvent::Left { .. } => "left",
            CareEvent::Assessed { .. } => "assessed",
            CareEvent::AgreementSigned { .. } => "agreement_signed",
            CareEvent::TaskAdded { .. } => "task_added",
            CareEvent::TaskRemoved { .. } => "task_removed",
            CareEvent::TaskDone { .. } => "task_done",
            CareEvent::ProblemOpened { .. } => "problem_opened",
            CareEvent::ProblemAssigned { .. } => "problem_assigned",
            CareEvent::ProblemRectified { .. } => "problem_rectified",
            CareEvent::ProblemReopened { .. } => "problem_reopened",
            CareEvent::LeaderAssigned { .. } => "leader_assigned",
            CareEvent::LeaderVisited { .. } => "leader_visited",
        }
    }

    /// The person the event is about (a household member id).
    pub fn person_id(&self) -> &str {
        match self {
            CareEvent::Enrolled { person_id, .. }
            | CareEvent::Left { person_id, .. }
            | CareEvent::Assessed { person_id, .. }
            | CareEvent::AgreementSigned { person_id, .. }
            | CareEvent::TaskAdded { person_id, .. }
            | CareEvent::TaskRemoved { person_id, .. }
            | CareEvent::TaskDone { person_id, .. }
            | CareEvent::ProblemOpened { person_id, .. }
            | CareEvent::ProblemAssigned { person_id, .. }
            | CareEvent::ProblemRectified { person_id, .. }
            | CareEvent::ProblemReopened { person_id, .. }
            | CareEvent::LeaderAssigned { person_id, .. }
            | CareEvent::LeaderVisited { person_id, .. } => person_id,
        }
    }

    /// Every problem of the event's own fields, each naming its field (codes
    /// `care.required`, `care.too_long`, `care.id`, `care.photo_hash`, `care.too_many`,
    /// `care.range`, `care.date_order`, `care.rectification_incomplete`).
    pub fn validate(&self) -> Vec<FieldError> {
        let mut v = Check::default();
        v.id("person_id", self.person_id());
        match self {
            CareEvent::Enrolled { .. } | CareEvent::Assessed { .. } => {}
            CareEvent::Left { reason, .. } => v.text("reason", reason, true),
            CareEvent::AgreementSigned { agreement: a, .. } => {
                v.text("agreement.caregiver_name", &a.caregiver_name, true);
                v.text("agreement.caregiver_phone", &a.caregiver_phone, true);
                v.text("agreement.care_content", &a.care_content, true);
                v.text("agreement.care_frequency", &a.care_frequency, true);
                if !(0..=MAX_MONTHLY_FEN).contains(&a.subsidy_monthly_fen) {
                    v.push(
                        FieldError::new(
                            "agreement.subsidy_monthly_fen",
                            "care.range",
                            "amount out of range",
                        )
                        .with("value", a.subsidy_monthly_fen)
                        .with("min", 0)
                        .with("max", MAX_MONTHLY_FEN),
                    );
                }
                if a.valid_until < a.valid_from {
                    v.push(
                        FieldError::new(
                            "agreement.valid_until",
                            "care.date_order",
                            "the agreement cannot end before it starts",
                        )
                        .with("valid_from", a.valid_from),
                    );
                }
            }
            CareEvent::TaskAdded { task, .. } => v.task(task),
            CareEvent::TaskRemoved { task_id, .. } => v.id("task_id", task_id),
            CareEvent::TaskDone {
                task_id,
                note,
                photos,
                ..
            } => {
                v.id("task_id", task_id);
                v.text("note", note, false);
                v.photos("photos", photos, false);
            }
            CareEvent::ProblemOpened {
                problem_id,
                description,
                evidence,
                ..
            } => {
                v.id("problem_id", problem_id);
                v.text("description", description, true);
                v.photos("evidence", evidence, false);
            }
            CareEvent::ProblemAssigned {
                problem_id,
                assignee,
                ..
            } => {
                v.id("problem_id", problem_id);
                v.text("assignee", assignee, true);
            }
            CareEvent::ProblemRectified {
                problem_id,
                rectification: r,
                ..
            } => {
                v.id("problem_id", problem_id);
                v.rectification(r);
            }
            CareEvent::ProblemReopened {
                problem_id, reason, ..
            } => {
                v.id("problem_id", problem_id);
                v.text("reason", reason, true);
            }
            CareEvent::LeaderAssigned {
                leader_id,
                leader_name,
                ..
            } => {
                v.id("leader_id", leader_id);
                v.text("leader_name", leader_name, true);
            }
            CareEvent::LeaderVisited {
                leader_id,
                note,
                photos,
                ..
            } => {
                v.id("leader_id", leader_id);
                v.text("note", note, false);
                v.photos("photos", photos, false);
            }
        }
        v.0
    }
}

/// Whether `id` may name a person, task, problem or leader: 1 to [`MAX_ID_CHARS`] of
/// lower-case letters, digits, `_`, `-` and `.`.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_CHARS
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.".contains(&b))
}

/// Whether `hash` is a SHA-256 in lower-case hex.
pub fn is_photo_hash(hash: &str) -> bool {
    hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Collects field problems.
#[derive(Default)]
struct Check(Vec<FieldError>);

impl Check {
    fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }

    fn id(&mut self, field: &str, id: &str) {
        if !is_valid_id(id) {
            self.push(
                FieldError::new(
                    field,
                    "care.id",
                    "an id is 1 to 64 lower-case letters, digits, '_', '-' or '.'",
                )
                .with("max", MAX_ID_CHARS),
            );
        }
    }

    fn text(&mut self, field: &str, text: &str, required: bool) {
        let chars = text.chars().count();
        if required && text.trim().is_empty() {
            self.push(FieldError::new(field, "care.required", "must not be empty"));
        } else if chars > MAX_TEXT_CHARS {
            self.push(
                FieldError::new(field, "care.too_long", "text too long")
                    .with("max", MAX_TEXT_CHARS)
                    .with("value", chars),
            );
        }
    }

    fn photos(&mut self, field: &str, photos: &[String], required: bool) {
        if required && photos.is_empty() {
            self.push(FieldError::new(
                field,
                "care.rectification_incomplete",
                "at least one photo is required as evidence",
            ));
        }
        if photos.len() > MAX_PHOTOS {
            self.push(
                FieldError::new(field, "care.too_many", "too many photos")
                    .with("max", MAX_PHOTOS)
                    .with("value", photos.len()),
            );
        }
        for (i, photo) in photos.iter().enumerate() {
            if !is_photo_hash(photo) {
                self.push(FieldError::new(
                    format!("{field}[{i}]"),
                    "care.photo_hash",
                    "a photo is named by its SHA-256 in lower-case hex (64 characters)",
                ));
            }
        }
    }

    fn task(&mut self, task: &CareTaskDefinition) {
        self.id("task.task_id", &task.task_id);
        self.text("task.label_zh", &task.label_zh, true);
        self.text("task.label_en", &task.label_en, true);
        if !task.frequency.is_valid() {
            self.push(
                FieldError::new("task.frequency", "care.range", "every_days out of range")
                    .with("min", 1)
                    .with("max", super::frequency::MAX_EVERY_DAYS),
            );
        }
        if let Some(days) = task.due_soon_days.filter(|d| *d > 366) {
            self.push(
                FieldError::new("task.due_soon_days", "care.range", "value out of range")
                    .with("value", days)
                    .with("min", 0)
                    .with("max", 366),
            );
        }
    }

    fn rectification(&mut self, r: &Rectification) {
        let mut missing = |field: &str, empty: bool, why: &str| {
            if empty {
                self.0.push(FieldError::new(
                    format!("rectification.{field}"),
                    "care.rectification_incomplete",
                    why,
                ));
            }
        };
        missing(
            "rectified_by",
            r.rectified_by.trim().is_empty(),
            "a rectification names who put the problem right",
        );
        missing(
            "action",
            r.action.trim().is_empty(),
            "a rectification says what was done",
        );
        self.text("rectification.rectified_by", &r.rectified_by, false);
        self.text("rectification.action", &r.action, false);
        self.photos("rectification.evidence", &r.evidence, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activities(not_achieved: u32) -> SelfCareActivities {
        let a = |i: u32| i >= not_achieved;
        SelfCareActivities {
            eating: a(0),
            dressing: a(1),
            getting_in_out_of_bed: a(2),
            toileting: a(3),
            walking_indoors: a(4),
            bathing: a(5),
        }
    }

    #[test]
    fn the_level_follows_the_national_rule_for_every_count_not_achieved() {
        let expected = [
            SelfCareLevel::SelfCare,
            SelfCareLevel::PartialLoss,
            SelfCareLevel::PartialLoss,
            SelfCareLevel::PartialLoss,
            SelfCareLevel::CompleteLoss,
            SelfCareLevel::CompleteLoss,
            SelfCareLevel::CompleteLoss,
        ];
        for (n, level) in expected.into_iter().enumerate() {
            let a = activities(n as u32);
            assert_eq!(a.not_achieved(), n as u32);
            assert_eq!(a.level(), level, "{n} not achieved");
        }
        // Which activities are missed does not matter, only how many.
        let bathing_only = SelfCareActivities {
            bathing: false,
            ..activities(0)
        };
        assert_eq!(bathing_only.level(), SelfCareLevel::PartialLoss);
    }

    #[test]
    fn a_rectification_without_who_what_or_evidence_is_named_field_by_field() {
        let event = CareEvent::ProblemRectified {
            person_id: "p1".into(),
            problem_id: "pr1".into(),
            rectification: Rectification {
                rectified_by: " ".into(),
                rectified_on: NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
                action: String::new(),
                evidence: vec![],
            },
        };
        let found: Vec<(String, &str)> = event
            .validate()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect();
        assert_eq!(
            found,
            vec![
                (
                    "rectification.rectified_by".to_owned(),
                    "care.rectification_incomplete"
                ),
                (
                    "rectification.action".to_owned(),
                    "care.rectification_incomplete"
                ),
                (
                    "rectification.evidence".to_owned(),
                    "care.rectification_incomplete"
                ),
            ]
        );
    }

    #[test]
    fn ids_photos_texts_and_agreement_dates_are_checked() {
        let event = CareEvent::TaskDone {
            person_id: "P 1".into(),
            task_id: "clean_home".into(),
            done_at: Utc::now(),
            note: "x".repeat(MAX_TEXT_CHARS + 1),
            photos: vec!["ab".into(), "a".repeat(64)],
        };
        let fields: Vec<String> = event.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["person_id", "note", "photos[0]"]);
        let day = |d| NaiveDate::from_ymd_opt(2025, 1, d).unwrap();
        let agreement = CareEvent::AgreementSigned {
            person_id: "p1".into(),
            agreement: CareAgreement {
                caregiver_kind: CaregiverKind::Relative,
                caregiver_name: "王芳".into(),
                caregiver_phone: "13800000000".into(),
                care_content: "做饭、洗衣".into(),
                care_frequency: "每日".into(),
                subsidy_monthly_fen: -1,
                valid_from: day(10),
                valid_until: day(9),
            },
        };
        let codes: Vec<&str> = agreement.validate().into_iter().map(|e| e.code).collect();
        assert_eq!(codes, vec!["care.range", "care.date_order"]);
    }

    #[test]
    fn events_travel_as_tagged_json_and_unknown_fields_are_refused() {
        let event = CareEvent::Enrolled {
            person_id: "p1".into(),
            since: NaiveDate::from_ymd_opt(2025, 1, 2).unwrap(),
        };
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"enrolled","person_id":"p1","since":"2025-01-02"}"#
        );
        assert_eq!(serde_json::from_str::<CareEvent>(&json).unwrap(), event);
        assert!(serde_json::from_str::<CareEvent>(
            r#"{"kind":"enrolled","person_id":"p1","since":"2025-01-02","x":1}"#
        )
        .is_err());
        assert_eq!(
            ProblemArea::parse("living_environment"),
            Some(ProblemArea::LivingEnvironment)
        );
    }
}
