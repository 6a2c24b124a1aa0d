//! Turning argument text into core values: enumeration names, ids, times and dates.

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone, Utc};
use pocketbook_core::OpenEnum;
use uuid::Uuid;

use crate::CliError;

/// An enumeration value from its name; `welfare-check` and `welfare_check` both work. A name
/// this build does not know is refused with the list of those it does.
pub fn name<T: OpenEnum>(flag: &str, text: &str) -> Result<T, CliError> {
    let value = T::from_wire_name(&text.trim().replace('-', "_").to_lowercase());
    if value.is_known_value() {
        return Ok(value);
    }
    let choices: Vec<&str> = T::known().iter().map(T::wire_name).collect();
    Err(CliError::Usage(format!(
        "--{flag}: expected one of {}",
        choices.join(", ")
    )))
}

/// A marking name (OFFICIAL or OFFICIAL-SENSITIVE).
pub fn marking(text: &str) -> Result<pocketbook_core::model::Marking, CliError> {
    text.trim()
        .to_uppercase()
        .replace('_', "-")
        .parse()
        .map_err(|_| CliError::Usage("--marking: expected OFFICIAL or OFFICIAL-SENSITIVE".into()))
}

/// A record id.
pub fn id(flag: &str, text: &str) -> Result<Uuid, CliError> {
    Uuid::parse_str(text.trim())
        .map_err(|_| CliError::Usage(format!("--{flag}: not a record id (a UUID)")))
}

/// A time: `now`, RFC 3339 (`2026-11-25T09:30:00Z`), or local `YYYY-MM-DD HH:MM`.
pub fn time(flag: &str, text: &str) -> Result<DateTime<Utc>, CliError> {
    let text = text.trim();
    if text == "now" {
        return Ok(Utc::now());
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            if let Some(local) = Local.from_local_datetime(&naive).earliest() {
                return Ok(local.with_timezone(&Utc));
            }
        }
    }
    Err(CliError::Usage(format!(
        "--{flag}: expected 'now', RFC 3339 or 'YYYY-MM-DD HH:MM'"
    )))
}

/// A date, `YYYY-MM-DD`.
pub fn date(flag: &str, text: &str) -> Result<NaiveDate, CliError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| CliError::Usage(format!("--{flag}: expected a date YYYY-MM-DD")))
}

/// Applies `f` to every value of a repeated flag.
pub fn all<T>(
    values: &[String],
    f: impl Fn(&str) -> Result<T, CliError>,
) -> Result<Vec<T>, CliError> {
    values.iter().map(|v| f(v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pocketbook_core::model::VisitKind;

    #[test]
    fn enumeration_names_accept_hyphens_and_report_the_choices() {
        assert_eq!(
            name::<VisitKind>("kind", "welfare-check").unwrap(),
            VisitKind::WelfareCheck
        );
        let err = name::<VisitKind>("kind", "party").unwrap_err().to_string();
        assert!(err.contains("welfare_check"), "{err}");
    }

    #[test]
    fn times_accept_rfc3339_and_refuse_nonsense() {
        let t = time("start", "2026-11-25T09:30:00Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-25T09:30:00+00:00");
        assert!(time("start", "yesterday-ish").is_err());
        assert!(date("dob", "2012-02-30").is_err());
    }
}
