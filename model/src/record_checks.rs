//! The rules a whole record must keep, whichever way it was made: the drafts' rules restated
//! over the stored record, the bounds on every list, the choices this build knows and the
//! establishments it names. The server checks every pushed record (and its whole store) with
//! these; the device's drafts keep the same rules, so an honest device never makes what the
//! server refuses. Pure; does no IO.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use uuid::Uuid;

use crate::common::{check_count, check_len, check_text, MAX_NARRATIVE};
use crate::error::ValidationError;
use crate::{
    Action, Addendum, Concern, Engagement, EngagementKind, Visit, YoungPerson, YoungPersonDraft,
};

/// How far ahead of `now` a time may lie and still count as "not in the future" (the drafts'
/// allowance for a clock a little fast).
fn allowance() -> Duration {
    Duration::minutes(5)
}

/// The rules of a whole record.
pub trait RecordRules {
    /// Checks every rule that needs no store. `now` is the checker's time: the server passes
    /// its own time plus the clock skew it allows, so it is never stricter than a device.
    fn check(&self, now: DateTime<Utc>) -> Result<(), ValidationError>;
    /// The first field holding a choice this build does not know (a newer app's), if any.
    fn unknown_choice(&self) -> Option<&'static str>;
    /// The establishments the record names (each must be one the server has held).
    fn establishment_ids(&self) -> Vec<Uuid> {
        Vec::new()
    }
}

/// The first field named in `fields` whose flag is set.
fn first(fields: &[(&'static str, bool)]) -> Option<&'static str> {
    fields.iter().find(|(_, unknown)| *unknown).map(|(f, _)| *f)
}

impl RecordRules for Visit {
    fn check(&self, now: DateTime<Utc>) -> Result<(), ValidationError> {
        self.validate(now)
    }

    fn unknown_choice(&self) -> Option<&'static str> {
        first(&[
            ("kind", !self.kind.is_known()),
            ("prompted_by", !self.prompted_by.is_known()),
            ("outcome", !self.outcome.is_known()),
            (
                "support_given",
                self.support_given.iter().any(|s| !s.is_known()),
            ),
        ])
    }
}

impl RecordRules for Concern {
    fn check(&self, now: DateTime<Utc>) -> Result<(), ValidationError> {
        if self.young_person_ids.is_empty() {
            return Err(ValidationError::NoneGiven {
                field: "young_person_ids",
            });
        }
        check_count("young_person_ids", self.young_person_ids.len())?;
        check_count("sub_categories", self.sub_categories.len())?;
        check_count("triage_history", self.triage_history.len())?;
        if self.happened_at > now + allowance() {
            return Err(ValidationError::InFuture {
                field: "happened_at",
            });
        }
        if self.recorded_at > now + allowance() {
            return Err(ValidationError::InFuture {
                field: "recorded_at",
            });
        }
        check_text("account", &self.account, MAX_NARRATIVE)?;
        if let Some(words) = &self.childs_words {
            check_len("childs_words", words, MAX_NARRATIVE)?;
        }
        check_text("risk_text", &self.risk_text, MAX_NARRATIVE)?;
        check_len("action_text", &self.action_text, MAX_NARRATIVE)?;
        self.thrive.validate()?;
        for change in &self.triage_history {
            if let Some(note) = &change.note {
                check_len("triage_history.note", note, MAX_NARRATIVE)?;
            }
        }
        Ok(())
    }

    fn unknown_choice(&self) -> Option<&'static str> {
        first(&[
            ("category", !self.category.is_known()),
            (
                "sub_categories",
                self.sub_categories.iter().any(|c| !c.is_known()),
            ),
            ("risk", !self.risk.is_known()),
            ("status", !self.status.is_known()),
            (
                "triage_history",
                self.triage_history
                    .iter()
                    .any(|t| !t.risk.is_known() || !t.status.is_known()),
            ),
        ])
    }
}

impl RecordRules for Addendum {
    fn check(&self, _now: DateTime<Utc>) -> Result<(), ValidationError> {
        check_count("young_person_ids", self.young_person_ids.len())?;
        Addendum::validate_text(&self.text)
    }

    fn unknown_choice(&self) -> Option<&'static str> {
        None
    }
}

impl RecordRules for YoungPerson {
    fn check(&self, now: DateTime<Utc>) -> Result<(), ValidationError> {
        let draft = YoungPersonDraft {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            date_of_birth: self.date_of_birth,
            age_band: self.age_band.clone(),
            establishment_id: self.establishment_id,
            year_group: self.year_group,
            carers: self.carers.clone(),
            flags: self.flags.clone(),
        };
        let today: NaiveDate = (now + allowance()).date_naive();
        draft.validate(today)
    }

    fn unknown_choice(&self) -> Option<&'static str> {
        first(&[
            (
                "age_band",
                self.age_band.as_ref().is_some_and(|a| !a.is_known()),
            ),
            ("flags", self.flags.iter().any(|f| !f.is_known())),
        ])
    }

    fn establishment_ids(&self) -> Vec<Uuid> {
        self.establishment_id.into_iter().collect()
    }
}

impl RecordRules for Action {
    fn check(&self, _now: DateTime<Utc>) -> Result<(), ValidationError> {
        self.validate()
    }

    fn unknown_choice(&self) -> Option<&'static str> {
        first(&[
            ("kind", !self.kind.is_known()),
            ("status", !self.status.is_known()),
        ])
    }
}

impl RecordRules for Engagement {
    fn check(&self, now: DateTime<Utc>) -> Result<(), ValidationError> {
        if self.at > now + allowance() {
            return Err(ValidationError::InFuture { field: "at" });
        }
        check_count("topics", self.topics.len())?;
        check_count("year_groups", self.year_groups.len())?;
        if self.year_groups.iter().any(|y| *y > 14) {
            return Err(ValidationError::OutOfRange {
                field: "year_groups",
            });
        }
        match (&self.kind, &self.sweep_result) {
            (EngagementKind::WeaponsSweep, None) => {
                return Err(ValidationError::Missing {
                    field: "sweep_result",
                })
            }
            (k, Some(_)) if *k != EngagementKind::WeaponsSweep => {
                return Err(ValidationError::OutOfRange {
                    field: "sweep_result",
                })
            }
            _ => {}
        }
        check_len("concerns_arising", &self.concerns_arising, MAX_NARRATIVE)
    }

    fn unknown_choice(&self) -> Option<&'static str> {
        first(&[
            ("kind", !self.kind.is_known()),
            ("topics", self.topics.iter().any(|t| !t.is_known())),
            (
                "sweep_result",
                self.sweep_result.as_ref().is_some_and(|s| !s.is_known()),
            ),
        ])
    }

    fn establishment_ids(&self) -> Vec<Uuid> {
        vec![self.establishment_id]
    }
}
