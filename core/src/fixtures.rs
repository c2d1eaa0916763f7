//! Deterministic sample households for tests, examples and benchmarks (never real people).

use chrono::NaiveDate;

use crate::household::*;
use crate::resident_id::with_check_char;

const SURNAMES: [&str; 12] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "马", "何",
];
const GIVEN: [&str; 16] = [
    "秀英", "桂兰", "建国", "志强", "海燕", "玉梅", "国庆", "春生", "丽娟", "文军", "小红", "金花",
    "德福", "永平", "淑芬", "学文",
];

/// A sample county (Lanzhou Chengguan district codes).
pub const COUNTY: &str = "620102";
/// A sample township of [`COUNTY`].
pub const TOWNSHIP: &str = "620102001";

/// The 12-digit code of sample village `n` (0–999) of [`TOWNSHIP`].
pub fn village(n: u32) -> String {
    format!("{TOWNSHIP}{:03}", n % 1000)
}

/// A valid sample member; `seed` picks the name, birth date and ID number.
#[allow(clippy::manual_is_multiple_of)] // `is_multiple_of` needs Rust 1.87; the MSRV is 1.85
pub fn member(seed: u64, relation: Relation) -> Member {
    let birth = NaiveDate::from_ymd_opt(
        1940 + (seed % 70) as i32,
        1 + (seed % 12) as u32,
        1 + (seed % 28) as u32,
    )
    .unwrap_or_default();
    let id = with_check_char(&format!(
        "{COUNTY}{}{:03}",
        birth.format("%Y%m%d"),
        seed % 1000
    ));
    let disabled = seed % 7 == 0;
    Member {
        name: format!(
            "{}{}",
            SURNAMES[(seed / 3 % SURNAMES.len() as u64) as usize],
            GIVEN[(seed / 5 % GIVEN.len() as u64) as usize]
        ),
        id_number: id,
        relation,
        birth_date: birth,
        health: if seed % 3 == 0 {
            Health::ChronicIllness
        } else {
            Health::Healthy
        },
        disability: if disabled {
            Disability::Physical
        } else {
            Disability::None
        },
        disability_grade: disabled.then_some(2),
        labour_ability: if seed % 4 == 0 {
            LabourAbility::None
        } else {
            LabourAbility::Full
        },
        extra: Default::default(),
    }
}

/// A valid sample household of `members` members (at least 1) in `village_code`.
pub fn household(seed: u64, village_code: &str, members: usize) -> NewHousehold {
    let relations = [
        Relation::Spouse,
        Relation::Child,
        Relation::Parent,
        Relation::Grandchild,
        Relation::Child,
    ];
    let mut list = vec![member(seed * 31, Relation::Head)];
    for i in 1..members.max(1) {
        list.push(member(
            seed * 31 + i as u64,
            relations[(i - 1) % relations.len()],
        ));
    }
    NewHousehold {
        county_code: village_code.get(..6).unwrap_or(COUNTY).to_owned(),
        township_code: village_code.get(..9).unwrap_or(TOWNSHIP).to_owned(),
        village_code: village_code.to_owned(),
        address: format!("{}组{}号", seed % 9 + 1, seed % 97 + 1),
        status: HouseholdStatus::Active,
        status_since: NaiveDate::from_ymd_opt(2023, 1 + (seed % 12) as u32, 1).unwrap_or_default(),
        phone: Some(format!("139{:08}", seed % 100_000_000)),
        enrollment: Enrollment {
            program: Program::RuralDibao,
            dibao_class: Some(1 + (seed % 4) as u8),
            start_date: NaiveDate::from_ymd_opt(2023, 1, 1),
            end_date: None,
            extra: Default::default(),
        },
        members: list,
    }
}
