//! Deterministic filled home-visit forms for tests, examples and benchmarks.

use serde_json::{json, Value as Json};

use crate::resident_id::with_check_char;

/// A filled default home-visit form (template `home-visit` v1) as JSON, varied by `seed`:
/// 1–6 members, incomes, property, a vehicle or an enterprise now and then, supporters
/// for some households. Valid for a visit on or after 2024-05-06.
pub fn home_visit_answers(seed: u64) -> Json {
    let pick = |n: u64, salt: u64| mix(seed.wrapping_mul(0x9E37_79B9).wrapping_add(salt)) % n;
    let size = 1 + pick(6, 1);
    let relations = ["head", "spouse", "child", "parent", "grandchild", "other"];
    let health = ["healthy", "chronic_illness", "serious_illness"];
    let disabilities = ["none", "none", "physical", "visual", "intellectual"];
    let labour = ["full", "partial", "none"];
    let members: Vec<Json> = (0..size)
        .map(|i| {
            let born = 1940 + pick(80, 10 + i);
            let id = with_check_char(&format!(
                "620102{born}0{}1{}{:03}",
                1 + pick(9, 20 + i),
                pick(9, 25 + i),
                i
            ));
            let disability = disabilities[pick(5, 30 + i) as usize];
            let mut m = json!({
                "name": format!("成员{seed}-{i}"),
                "id_number": id,
                "relation": relations[i.min(5) as usize],
                "age": 2024 - born,
                "health": health[pick(3, 40 + i) as usize],
                "disability_type": disability,
                "labour_ability": labour[pick(3, 50 + i) as usize],
                "occupation": "务农",
                "public_payroll": pick(40, 60 + i) == 0,
                "income_fen": pick(800_000, 70 + i),
            });
            if disability != "none" {
                m["disability_grade"] = json!(format!("grade_{}", 1 + pick(4, 80 + i)));
            }
            m
        })
        .collect();
    let has_vehicle = pick(5, 2) == 0;
    let has_enterprise = pick(30, 3) == 0;
    let has_supporters = pick(3, 4) == 0;
    let housing = ["self_built", "dilapidated", "rented", "public_rental"];
    let living = ["adequate", "difficult", "severe"];
    let mut a = json!({
        "visit_date": "2024-05-06",
        "visit_place": "一组 12 号",
        "visit_mode": "in_person",
        "visit_gps": {"lat_e7": 360_000_000 + pick(100_000, 5) as i64, "lon_e7": 1_038_000_000},
        "household_photo": format!("{:064x}", seed + 1),
        "members": members,
        "income_wages_fen": pick(1_500_000, 6),
        "income_business_net_fen": pick(600_000, 7),
        "income_property_net_fen": pick(50_000, 8),
        "income_transfer_net_fen": pick(300_000, 9),
        "deposits_fen": pick(5_000_000, 11),
        "securities_fen": 0,
        "has_vehicle": has_vehicle,
        "housing_type": housing[pick(4, 12) as usize],
        "housing_area_m2": format!("{}.{}", 20 + pick(100, 13), pick(10, 14)),
        "owns_commercial_housing": pick(50, 15) == 0,
        "livestock": "羊 5 只",
        "livestock_value_fen": pick(500_000, 16),
        "machinery_value_fen": pick(300_000, 17),
        "has_enterprise": has_enterprise,
        "spending_illness_fen": pick(2_000_000, 18),
        "spending_schooling_fen": pick(500_000, 19),
        "living_food": "difficult",
        "living_clothing": "adequate",
        "living_housing": living[pick(3, 21) as usize],
        "living_daily_goods": "adequate",
        "hardship_causes": ["illness", "lack_of_labour"],
        "hardship_note": "户主长期患病",
        "has_supporters": has_supporters,
        "conclusion": "eligible",
        "reason": "家庭人均收入低于当地低保标准",
        "member_present_name": format!("成员{seed}-0"),
        "household_signature": format!("{:064x}", seed + 2),
    });
    if has_vehicle {
        let kinds = ["consumer", "farm", "motorcycle"];
        a["vehicle_kind"] = json!(kinds[pick(3, 22) as usize]);
        a["vehicle_value_fen"] = json!(pick(6_000_000, 23));
    }
    if has_enterprise {
        a["enterprise_name"] = json!("某某农业合作社");
    }
    if has_supporters {
        a["supporters"] = json!([{
            "supporter_name": "赡养人",
            "supporter_id_number": with_check_char("62010219700101123"),
            "supporter_relation": "child",
            "support_fen": pick(300_000, 24),
        }]);
    }
    a
}

/// SplitMix64's finalizer: a well-spread 64-bit value from any input.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
