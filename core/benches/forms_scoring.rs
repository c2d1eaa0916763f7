//! Forms and scoring benchmark (issue 7).
//!
//! CI size:   `cargo bench -p ruhu-core --bench forms_scoring -- --forms 1000`
//! Full size: `cargo bench -p ruhu-core --bench forms_scoring -- --forms 10000`
//!
//! N filled home-visit forms (template `home-visit` v1: 1–6 members, supporters for some,
//! skip logic, resident ID checks), each as the JSON text a tablet holds. Prints, per form:
//! - the floor: deserializing the answer text into the same `Answers` type;
//! - deserializing + validating against the template;
//! - deserializing + validating + scoring with the sample "3+1" rubric into a decision
//!   record (goal ≤ 5× the floor);
//!
//! each the best of 5 rounds, with the ratio to the floor.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use ruhu_core::forms::condition::Scalar;
use ruhu_core::forms::sample::home_visit_answers;
use ruhu_core::forms::{home_visit_template, Answers};
use ruhu_core::scoring::{sample_rubric, Outcome};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

const ROUNDS: usize = 5;

fn per(d: Duration, n: usize) -> Duration {
    d / u32::try_from(n.max(1)).unwrap_or(u32::MAX)
}

/// Runs `f` over every form `ROUNDS` times; the best round's time per form.
fn best(texts: &[String], mut f: impl FnMut(&str) -> Res<()>) -> Res<Duration> {
    let mut best = Duration::MAX;
    for _ in 0..ROUNDS {
        let started = Instant::now();
        for text in texts {
            f(black_box(text))?;
        }
        best = best.min(started.elapsed());
    }
    Ok(per(best, texts.len()))
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().collect();
    let forms: usize = args
        .iter()
        .position(|a| a == "--forms")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let template = home_visit_template()?;
    let rubric = sample_rubric()?;
    let visit_date = NaiveDate::from_ymd_opt(2024, 5, 6).ok_or("date")?;
    let params: BTreeMap<String, Scalar> = [
        ("standard_fen".to_owned(), Scalar::Integer(526_800)),
        ("appraisal".to_owned(), Scalar::Text("passed".into())),
    ]
    .into_iter()
    .collect();
    let texts: Vec<String> = (0..forms as u64)
        .map(|seed| serde_json::to_string(&home_visit_answers(seed)))
        .collect::<Result<_, _>>()?;
    let bytes: usize = texts.iter().map(String::len).sum();
    println!(
        "forms_scoring benchmark: {forms} filled home-visit forms ({} bytes of answer JSON on average), best of {ROUNDS} rounds",
        bytes / forms.max(1)
    );

    // Every form is valid, and the outcomes are varied (the work is real).
    let mut outcomes = BTreeMap::new();
    let mut flagged = 0usize;
    for text in &texts {
        let answers = Answers::from_json_str(text)?;
        template.validate(&answers, visit_date)?;
        let decision = rubric.score(&answers, &params)?;
        *outcomes
            .entry(format!("{:?}", decision.outcome))
            .or_insert(0usize) += 1;
        flagged += usize::from(decision.needs_verification);
    }

    let floor = best(&texts, |t| {
        black_box(Answers::from_json_str(t)?);
        Ok(())
    })?;
    let validate = best(&texts, |t| {
        let answers = Answers::from_json_str(t)?;
        template.validate(&answers, visit_date)?;
        black_box(answers);
        Ok(())
    })?;
    let full = best(&texts, |t| {
        let answers = Answers::from_json_str(t)?;
        template.validate(&answers, visit_date)?;
        let decision = rubric.score(&answers, &params)?;
        if decision.outcome == Outcome::Eligible && decision.class.is_none() {
            return Err("an eligible decision without a class".into());
        }
        black_box(decision);
        Ok(())
    })?;

    let ratio = |d: Duration| d.as_secs_f64() / floor.as_secs_f64();
    println!();
    println!("| per form | time | floor | ratio |");
    println!("|---|---|---|---|");
    println!("| deserialize answers into `Answers` (the floor) | {floor:?} | {floor:?} | 1.00x |");
    println!(
        "| deserialize + validate | {validate:?} | {floor:?} | {:.2}x |",
        ratio(validate)
    );
    println!(
        "| deserialize + validate + score (decision record) | {full:?} | {floor:?} | {:.2}x (goal <= 5x) |",
        ratio(full)
    );
    println!();
    println!("outcomes: {outcomes:?}; flagged for verification: {flagged}");
    Ok(())
}
