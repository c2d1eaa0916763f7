//! The workload as plain data: who is in care, in which household, and every event written
//! for them over the years (task log with misses, leader visits, a few problems), from a
//! fixed seed. The flat rows of the floor are derived from the same events.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use ruhu_core::care::{
    CareAgreement, CareEvent, CaregiverKind, ProblemArea, Rectification, SelfCareActivities,
};

/// The county's offset from UTC (the store's default clock, China Standard Time).
pub const UTC_OFFSET_HOURS: i64 = 8;
/// Per mille of periods missed at random over the years.
pub const MISSED_PER_MILLE: u64 = 30;
/// Per mille of periods logged twice (two workers, or a second visit).
pub const TWICE_PER_MILLE: u64 = 20;
/// One person in this many stopped logging one of their tasks 1 to 3 periods ago.
pub const STOPPED_ONE_IN: usize = 10;
/// One person in this many has a problem in the ledger; every other one of them is rectified.
pub const PROBLEM_ONE_IN: usize = 25;
/// One person in this many has had no leader visit for the last two months.
pub const UNVISITED_ONE_IN: usize = 10;
/// One task entry in this many names a photo (the person's stored photo).
pub const PHOTO_ONE_IN: u64 = 10;

/// How often a task of the default plan is due: calendar-aligned periods in the local date.
/// Computed here on its own (not with the core's periods), so the floor checks the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    Week,
    HalfMonth,
    Month,
    HalfYear,
}

/// The default "四个一" plan: task ids of the county's default policy and their frequency.
pub const PLAN: [(&str, Every); 4] = [
    ("clean_home", Every::Week),
    ("wash_clothes_bedding", Every::HalfMonth),
    ("haircut", Every::Month),
    ("buy_daily_necessities", Every::HalfYear),
];

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

impl Every {
    /// The first day of the period holding `date`.
    pub fn period_start(self, date: NaiveDate) -> NaiveDate {
        match self {
            Every::Week => date.week(Weekday::Mon).first_day(),
            Every::HalfMonth if date.day() <= 15 => ymd(date.year(), date.month(), 1),
            Every::HalfMonth => ymd(date.year(), date.month(), 16),
            Every::Month => ymd(date.year(), date.month(), 1),
            Every::HalfYear if date.month() <= 6 => ymd(date.year(), 1, 1),
            Every::HalfYear => ymd(date.year(), 7, 1),
        }
    }

    /// The first day of the period after the one holding `date`.
    pub fn next_start(self, date: NaiveDate) -> NaiveDate {
        let start = self.period_start(date);
        let next_month = |d: NaiveDate| {
            if d.month() == 12 {
                ymd(d.year() + 1, 1, 1)
            } else {
                ymd(d.year(), d.month() + 1, 1)
            }
        };
        match self {
            Every::Week => start + Duration::days(7),
            Every::HalfMonth if start.day() == 1 => ymd(start.year(), start.month(), 16),
            Every::HalfMonth | Every::Month => next_month(start),
            Every::HalfYear if start.month() == 1 => ymd(start.year(), 7, 1),
            Every::HalfYear => ymd(start.year() + 1, 1, 1),
        }
    }

    /// The first day of the period before the one holding `date`: the overdue cutoff (a task
    /// whose last entry is older was not done in the last whole period nor since).
    pub fn previous_start(self, date: NaiveDate) -> NaiveDate {
        self.period_start(self.period_start(date) - Duration::days(1))
    }

    /// The name the core stores.
    pub fn name(self) -> &'static str {
        match self {
            Every::Week => "week",
            Every::HalfMonth => "half_month",
            Every::Month => "month",
            Every::HalfYear => "half_year",
        }
    }
}

/// A small deterministic generator (splitmix64).
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with probability `per_mille` / 1000.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    /// A day from `first` to `last` inclusive.
    pub fn day(&mut self, first: NaiveDate, last: NaiveDate) -> NaiveDate {
        let span = (last - first).num_days().max(0) + 1;
        first + Duration::days(self.below(span as u64) as i64)
    }
}

/// The household index of care person `i`: village `i % villages` (households are placed
/// in villages round-robin by index), spread over the township.
pub fn household_of(i: usize, households: usize, persons: usize, villages: usize) -> usize {
    let stride = (households / persons.max(1)).max(1);
    (i / villages) * villages * stride + i % villages
}

/// The instant of `local` minutes past midnight of local `day`.
fn instant(day: NaiveDate, minutes: i64) -> DateTime<Utc> {
    let local = day.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::minutes(minutes);
    DateTime::from_naive_utc_and_offset(local - Duration::hours(UTC_OFFSET_HOURS), Utc)
}

/// Enrolment day of person `i`: `years` before `today`, up to 27 days earlier.
pub fn since(i: usize, today: NaiveDate, years: u32) -> NaiveDate {
    let back = i32::try_from(years).unwrap_or(0);
    ymd(today.year() - back, today.month(), today.day().min(28)) - Duration::days((i % 28) as i64)
}

/// The task person `i` stopped logging and how many whole periods ago, if any.
pub fn stopped(i: usize) -> Option<(usize, u32)> {
    (i % STOPPED_ONE_IN == 3).then(|| ((i / STOPPED_ONE_IN) % PLAN.len(), 1 + (i / 40 % 3) as u32))
}

/// When person `i` did task `task` (index in [`PLAN`]) from `since` to `today`. The period
/// of enrolment is always logged, so every (person, task) has at least one entry; later
/// periods are missed at random, logged twice at random, and not logged from the stop on.
/// Local times are 08:00–17:59, and one entry in twenty is at 07:30 local (the previous
/// day in UTC).
pub fn done_times(i: usize, task: usize, since: NaiveDate, today: NaiveDate) -> Vec<DateTime<Utc>> {
    let every = PLAN[task].1;
    let mut rng = Rng::new(((i as u64) << 8) | task as u64);
    let stop_from = stopped(i).and_then(|(t, periods)| {
        (t == task)
            .then(|| (0..periods).fold(every.period_start(today), |s, _| every.previous_start(s)))
    });
    let first_period = every.period_start(since);
    let mut out = Vec::new();
    let mut start = first_period;
    while start <= today {
        let first = start.max(since);
        let last = (every.next_start(start) - Duration::days(1)).min(today);
        let entries = if start == first_period {
            1
        } else if stop_from.is_some_and(|s| start >= s) || rng.chance(MISSED_PER_MILLE) {
            0
        } else if rng.chance(TWICE_PER_MILLE) {
            2
        } else {
            1
        };
        for _ in 0..entries {
            let day = rng.day(first, last);
            // The current period: done so far only on about half of its days.
            if last == today && start != first_period && rng.below(2) == 0 {
                continue;
            }
            let minutes = if rng.below(20) == 0 {
                7 * 60 + 30
            } else {
                8 * 60 + rng.below(10 * 60) as i64
            };
            out.push(instant(day, minutes));
        }
        start = every.next_start(start);
    }
    out.sort();
    out
}

/// The local date of an instant (UTC+8).
pub fn local_date(t: DateTime<Utc>) -> NaiveDate {
    (t + Duration::hours(UTC_OFFSET_HOURS)).date_naive()
}

const NOTES: [&str; 4] = [
    "已完成",
    "老人在家，情况良好",
    "照料人上门完成",
    "已完成，老人满意",
];

/// Every event of person `i` (member `person`) in one list, as one `record_care_events`
/// call writes it: enrolment (which plans the "四个一"), an assessment, an agreement, a
/// leader, the task log and the leader's monthly visits in time order, then problems.
/// `photo` is the SHA-256 (hex) of an attachment stored for the household: photos name
/// stored attachments, and for seeding speed every photo of a person is that one.
pub fn events(i: usize, person: &str, today: NaiveDate, years: u32, photo: &str) -> Vec<CareEvent> {
    let since = since(i, today, years);
    let p = || person.to_owned();
    let mut rng = Rng::new(0xCA7E_0000 + i as u64);
    let not_achieved = i % 7;
    let mut out = vec![
        CareEvent::Enrolled {
            person_id: p(),
            since,
        },
        CareEvent::Assessed {
            person_id: p(),
            on: since,
            // 0 to 6 activities not achieved: every self-care level occurs.
            activities: SelfCareActivities {
                eating: not_achieved < 1,
                dressing: not_achieved < 2,
                getting_in_out_of_bed: not_achieved < 3,
                toileting: not_achieved < 4,
                walking_indoors: not_achieved < 5,
                bathing: not_achieved < 6,
            },
        },
        CareEvent::AgreementSigned {
            person_id: p(),
            agreement: CareAgreement {
                caregiver_kind: CaregiverKind::Relative,
                caregiver_name: format!("照料人{i}"),
                caregiver_phone: format!("139{:08}", i),
                care_content: "打扫卫生、清洗衣被、理发、代购生活用品".into(),
                care_frequency: "每周上门一次".into(),
                subsidy_monthly_fen: 15_000,
                valid_from: since,
                valid_until: since + Duration::days(365 * i64::from(years) + 365),
            },
        },
        CareEvent::LeaderAssigned {
            person_id: p(),
            leader_id: format!("leader-{}", i % 4),
            leader_name: format!("乡镇干部{}", i % 4),
            from: since,
        },
    ];
    let mut logged: Vec<(DateTime<Utc>, CareEvent)> = Vec::new();
    for (task, (task_id, _)) in PLAN.iter().enumerate() {
        for done_at in done_times(i, task, since, today) {
            let photos = if rng.below(PHOTO_ONE_IN) == 0 {
                vec![photo.to_owned()]
            } else {
                Vec::new()
            };
            logged.push((
                done_at,
                CareEvent::TaskDone {
                    person_id: p(),
                    task_id: (*task_id).to_owned(),
                    done_at,
                    note: NOTES[rng.below(NOTES.len() as u64) as usize].to_owned(),
                    photos,
                },
            ));
        }
    }
    // The leader visits once a month (a few months missed; some not for the last two).
    let unvisited_from = (i % UNVISITED_ONE_IN == 7)
        .then(|| Every::Month.previous_start(Every::Month.period_start(today)));
    let mut month = Every::Month.period_start(since);
    while month <= today {
        let skip = unvisited_from.is_some_and(|u| month >= u) || rng.chance(MISSED_PER_MILLE);
        let day = rng.day(
            month.max(since),
            (Every::Month.next_start(month) - Duration::days(1)).min(today),
        );
        if !skip {
            logged.push((
                instant(day, 10 * 60),
                CareEvent::LeaderVisited {
                    person_id: p(),
                    leader_id: format!("leader-{}", i % 4),
                    visited_on: day,
                    note: "走访慰问".into(),
                    photos: Vec::new(),
                },
            ));
        }
        month = Every::Month.next_start(month);
    }
    logged.sort_by_key(|(t, _)| *t);
    out.extend(logged.into_iter().map(|(_, e)| e));
    if i % PROBLEM_ONE_IN == 5 {
        let problem_id = format!("problem-{i}");
        out.push(CareEvent::ProblemOpened {
            person_id: p(),
            problem_id: problem_id.clone(),
            area: ProblemArea::Heating,
            description: "冬季取暖煤不足".into(),
            evidence: vec![photo.to_owned()],
        });
        out.push(CareEvent::ProblemAssigned {
            person_id: p(),
            problem_id: problem_id.clone(),
            assignee: "村委会".into(),
            due_on: Some(today + Duration::days(10)),
        });
        if i % (2 * PROBLEM_ONE_IN) == 5 {
            out.push(CareEvent::ProblemRectified {
                person_id: p(),
                problem_id,
                rectification: Rectification {
                    rectified_by: "村委会".into(),
                    rectified_on: today - Duration::days(2),
                    action: "已送煤 500 公斤".into(),
                    evidence: vec![photo.to_owned()],
                },
            });
        }
    }
    out
}
