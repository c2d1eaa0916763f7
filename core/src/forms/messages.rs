//! Answer errors: which question, which roster row, why — with a stable code, parameters,
//! and messages in Chinese and English.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::{Error, FieldError};
use crate::forms::template::Label;

/// One problem with one answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerError {
    /// The question id (a roster's own id for problems with the roster as a whole).
    pub question: String,
    /// The roster and 0-based row the question was answered in, for sub-questions.
    pub row: Option<(String, usize)>,
    /// Stable code, e.g. `form.required` or `resident_id.check_digit`.
    pub code: &'static str,
    /// Parameters of the message, e.g. `{"min": "0", "max": "130"}`.
    pub params: BTreeMap<String, String>,
    /// Chinese message (row numbers counted from 1).
    pub message_zh: String,
    /// English message (row numbers counted from 1).
    pub message_en: String,
}

impl AnswerError {
    /// An error with its messages rendered from the code and parameters; the messages
    /// name the question by its label when given, else by its id.
    pub fn new(
        question: &str,
        label: Option<&Label>,
        row: Option<(&str, usize)>,
        code: &'static str,
        params: BTreeMap<String, String>,
    ) -> Self {
        let (zh, en) = render(code, &params);
        let (name_zh, name_en) = label.map_or((question, question), |l| (&l.zh, &l.en));
        let (message_zh, message_en) = match row {
            Some((roster, i)) => (
                format!("第 {} 行「{name_zh}」：{zh}", i + 1),
                format!("{roster} row {}, {name_en}: {en}", i + 1),
            ),
            None => (format!("「{name_zh}」：{zh}"), format!("{name_en}: {en}")),
        };
        Self {
            question: question.to_owned(),
            row: row.map(|(r, i)| (r.to_owned(), i)),
            code,
            params,
            message_zh,
            message_en,
        }
    }

    /// Path of the answer: `income_wages_fen`, or `members[2].id_number` (0-based row).
    pub fn path(&self) -> String {
        match &self.row {
            Some((roster, i)) => format!("{roster}[{i}].{}", self.question),
            None => self.question.clone(),
        }
    }

    /// As the core's [`FieldError`] (the path as field, the English message).
    pub fn to_field_error(&self) -> FieldError {
        FieldError {
            field: self.path(),
            code: self.code,
            params: self.params.clone(),
            message: self.message_en.clone(),
        }
    }
}

/// Every problem found in a set of answers (never empty when returned as an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerErrors(pub Vec<AnswerError>);

impl fmt::Display for AnswerErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let texts: Vec<&str> = self.0.iter().map(|e| e.message_en.as_str()).collect();
        write!(f, "invalid answers: {}", texts.join("; "))
    }
}

impl std::error::Error for AnswerErrors {}

impl From<AnswerErrors> for Error {
    fn from(e: AnswerErrors) -> Self {
        Error::Invalid(e.0.iter().map(AnswerError::to_field_error).collect())
    }
}

/// Builds message parameters.
pub fn params<const N: usize>(pairs: [(&str, String); N]) -> BTreeMap<String, String> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The Chinese and English message of a code.
pub fn render(code: &str, params: &BTreeMap<String, String>) -> (String, String) {
    let p = |k: &str| params.get(k).map_or("?", String::as_str);
    let (zh, en) = match code {
        "form.not_object" => (
            "答案须为以题目编号为键的对象".into(),
            "answers must be an object keyed by question id".into(),
        ),
        "form.unknown_question" => (
            "表中没有这道题".into(),
            "the template has no such question".into(),
        ),
        "form.required" => ("必填".into(), "required".into()),
        "form.not_relevant" => (
            "按前面的回答应跳过此题，不应填写".into(),
            "skipped by the earlier answers; leave it out".into(),
        ),
        "form.wrong_type" => (
            format!("应为{}", type_zh(p("expected"))),
            format!("expected {}", p("expected").replace('_', " ")),
        ),
        "form.text_too_long" => (
            format!("不能超过 {} 个字", p("max")),
            format!("at most {} characters", p("max")),
        ),
        "form.integer_range" => (
            format!("须在 {} 至 {} 之间", p("min"), p("max")),
            format!("must be from {} to {}", p("min"), p("max")),
        ),
        "form.money_range" => (
            format!("金额须在 {} 至 {} 分之间", p("min"), p("max")),
            format!("amount must be from {} to {} fen", p("min"), p("max")),
        ),
        "form.decimal_format" => (
            format!("须为小数，小数点后最多 {} 位", p("scale")),
            format!(
                "expected a decimal with at most {} digits after the point",
                p("scale")
            ),
        ),
        "form.decimal_range" => (
            format!("须在 {} 至 {} 之间", p("min"), p("max")),
            format!("must be from {} to {}", p("min"), p("max")),
        ),
        "form.date_format" => (
            "日期格式应为 YYYY-MM-DD".into(),
            "expected a date written YYYY-MM-DD".into(),
        ),
        "form.date_range" => (
            format!("日期须在 {} 至 {} 之间", p("min"), p("max")),
            format!("date must be from {} to {}", p("min"), p("max")),
        ),
        "form.date_after_visit" => (
            format!("不能晚于调查日期 {}", p("visit_date")),
            format!("cannot be after the visit date {}", p("visit_date")),
        ),
        "form.choice_unknown" => (
            format!("「{}」不是可选项", p("value")),
            format!("{} is not one of the options", p("value")),
        ),
        "form.choice_repeated" => (
            format!("「{}」选了两次", p("value")),
            format!("{} is chosen twice", p("value")),
        ),
        "form.choice_count" => (
            format!("须选 {} 至 {} 项", p("min"), p("max")),
            format!("choose {} to {} options", p("min"), p("max")),
        ),
        "form.rows" => (
            format!("须填 {} 至 {} 行", p("min"), p("max")),
            format!("needs {} to {} rows", p("min"), p("max")),
        ),
        "form.attachment_hash" => (
            "附件须为 64 位小写十六进制 SHA-256".into(),
            "expected the attachment's SHA-256 as 64 lower-case hex digits".into(),
        ),
        "form.gps_range" => (
            "经纬度超出范围".into(),
            "latitude or longitude out of range".into(),
        ),
        "form.mobile_phone" => (
            "手机号须为以 1 开头的 11 位数字".into(),
            "expected an 11-digit mobile number starting with 1".into(),
        ),
        "form.digits" => ("只能填数字".into(), "digits only".into()),
        "resident_id.length" => (
            format!("身份证号应为 18 位，此处为 {} 位", p("length")),
            format!(
                "a resident ID number has 18 characters, this one has {}",
                p("length")
            ),
        ),
        "resident_id.not_digit" => (
            format!("身份证号第 {} 位应为数字", p("position")),
            format!(
                "character {} of the ID number must be a digit",
                p("position")
            ),
        ),
        "resident_id.check_digit" => (
            format!("身份证号校验码应为 {}", p("expected")),
            format!(
                "the ID number's check character should be {}",
                p("expected")
            ),
        ),
        "resident_id.birth_date" => (
            "身份证号中的出生日期无效".into(),
            "the ID number's birth date is not a calendar date".into(),
        ),
        "resident_id.birth_date_implausible" => (
            format!("身份证号中的出生日期 {} 不合理", p("birth_date")),
            format!(
                "the ID number's birth date {} is not plausible",
                p("birth_date")
            ),
        ),
        "form.template_mismatch" => (
            "答案所用的表格版本与记录不符".into(),
            "the answers name another template version than the one given".into(),
        ),
        "form.flat_key" => (
            "无法识别的答案键".into(),
            "answer key does not belong to the template".into(),
        ),
        other => (format!("无效（{other}）"), format!("invalid ({other})")),
    };
    (zh, en)
}

fn type_zh(expected: &str) -> &'static str {
    match expected {
        "text" => "文字",
        "integer" => "整数",
        "money" => "以分计的整数金额",
        "decimal" => "小数（文字形式）",
        "date" => "日期",
        "single_choice" => "单选项",
        "multi_choice" => "多选项列表",
        "yes_no" => "是或否",
        "roster" => "若干行",
        "attachment" => "附件",
        "gps" => "定位",
        _ => "其他类型",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_in_both_languages_name_question_and_row() {
        let label = Label {
            zh: "年龄".into(),
            en: "age".into(),
        };
        let e = AnswerError::new(
            "age",
            Some(&label),
            Some(("members", 1)),
            "form.integer_range",
            params([("min", "0".into()), ("max", "130".into())]),
        );
        assert_eq!(e.path(), "members[1].age");
        assert_eq!(e.message_en, "members row 2, age: must be from 0 to 130");
        assert_eq!(e.message_zh, "第 2 行「年龄」：须在 0 至 130 之间");
        let f = e.to_field_error();
        assert_eq!(
            (f.field.as_str(), f.code),
            ("members[1].age", "form.integer_range")
        );
    }
}
