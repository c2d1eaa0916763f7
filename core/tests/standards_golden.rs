//! Golden figures from the domain notes (`shared/domain.md` §2, §4): the Gansu 2017 class
//! amounts and urban standard, the Lanzhou 2022 standards and care subsidy, and the 2017
//! county example (19,110 people × 153 yuan × 12 = 35,085,960 yuan).
#![allow(clippy::unwrap_used)]

use ruhu_core::standards::*;

fn sample() -> Standards {
    Standards::from_json(SAMPLE_STANDARDS_JSON).unwrap()
}

#[test]
fn the_sample_file_says_it_is_a_sample() {
    let s = sample();
    assert!(s.label.as_deref().unwrap().starts_with("SAMPLE"));
    assert!(s.regions.iter().all(|r| r.region_name.contains("SAMPLE")));
}

#[test]
fn gansu_2017_class_amounts_and_urban_standard() {
    let s = sample();
    let gansu = s.find("620000", 2017).unwrap();
    let classes = gansu.rural_classes.unwrap();
    let yearly: Vec<i64> = (1..=4)
        .map(|c| classes.class(c).unwrap().yearly_fen().unwrap())
        .collect();
    assert_eq!(yearly, vec![350_000, 330_000, 100_800, 69_600]);
    assert_eq!(gansu.urban_dibao, Some(Amount::monthly(45_100)));
    // Monthly per person, rounded half up to the fen.
    let monthly: Vec<i64> = (1..=4)
        .map(|c| classes.class(c).unwrap().monthly_fen().unwrap())
        .collect();
    assert_eq!(monthly, vec![29_167, 27_500, 8_400, 5_800]);
    // A county in Gansu without its own entry uses the province's.
    assert_eq!(s.find("620521", 2017).unwrap(), gansu);
}

#[test]
fn lanzhou_2022_standards_and_care_subsidy() {
    let s = sample();
    let lanzhou = s.find("620102", 2022).unwrap();
    assert_eq!(lanzhou.region_code, "620100");
    assert_eq!(
        lanzhou.dibao_standard(Area::Urban),
        Some(Amount::monthly(91_400))
    );
    assert_eq!(
        lanzhou.dibao_standard(Area::Rural),
        Some(Amount::yearly(526_800))
    );
    assert_eq!(lanzhou.rural_dibao.unwrap().monthly_fen(), Some(43_900));
    let care = lanzhou.care_subsidy.unwrap();
    let yearly: Vec<i64> = [
        SelfCareLevel::SelfCare,
        SelfCareLevel::PartialLoss,
        SelfCareLevel::CompleteLoss,
    ]
    .into_iter()
    .map(|l| care.for_level(l).yearly_fen().unwrap())
    .collect();
    assert_eq!(yearly, vec![180_000, 361_200, 541_200]);
    // 3,612 / 12 = 301 yuan a month exactly; 5,412 / 12 = 451 yuan.
    assert_eq!(care.partial_loss.monthly_fen(), Some(30_100));
    assert_eq!(care.complete_loss.monthly_fen(), Some(45_100));
}

#[test]
fn the_2017_county_example_is_exactly_35_085_960_yuan() {
    let counts = ClassCounts {
        class_1: 3_725,
        class_2: 15_385,
        class_3: 31_817,
        class_4: 17_715,
    };
    assert_eq!(counts.total(), 68_642); // the speech rounds to "68,600"
    let kept = counts.in_classes(&[1, 2]); // classes 3–4 dropped
    assert_eq!(kept, 19_110);
    let fen = allocation_fen(kept, 153 * 100, 12).unwrap();
    assert_eq!(fen, 3_508_596_000);
    assert_eq!(fen / 100, 35_085_960); // yuan; the speech says 3,509 万
    assert_eq!(fen % 100, 0);
}

#[test]
fn the_2017_county_classes_cost_their_class_amounts() {
    let s = sample();
    let classes = s.find("620000", 2017).unwrap().rural_classes.unwrap();
    let counts = ClassCounts {
        class_1: 3_725,
        class_2: 15_385,
        class_3: 31_817,
        class_4: 17_715,
    };
    let expected_yuan: i64 = 3_725 * 3_500 + 15_385 * 3_300 + 31_817 * 1_008 + 17_715 * 696;
    assert_eq!(
        counts.yearly_cost_fen(&classes).unwrap(),
        expected_yuan * 100
    );
}

#[test]
fn a_lanzhou_household_in_both_modes() {
    let s = sample();
    let lanzhou = s.find("620100", 2022).unwrap();
    // Gap mode, rural: 3 people with 9,000 yuan a year: per capita 250 yuan a month,
    // gap 189 yuan, household 567 yuan a month.
    let b = gap_benefit(&lanzhou.rural_dibao.unwrap(), &Amount::yearly(900_000), 3).unwrap();
    assert_eq!(b.per_capita_income_monthly_fen, Some(25_000));
    assert_eq!(b.monthly_fen, 56_700);
    // Class mode with the Gansu 2017 class 2 amount: 275 yuan a month per person.
    let gansu = s.find("620000", 2017).unwrap().rural_classes.unwrap();
    assert_eq!(class_benefit(&gansu, 2, 3).unwrap().monthly_fen, 82_500);
}
