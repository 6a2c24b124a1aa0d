//! The administration the `pocketbook-server` commands perform, as library functions over any
//! [`Store`](crate::store::Store) that return values, so the binary only parses arguments and
//! prints, and tests call them directly. One concern a file; every action is audited by the
//! store. Errors name what was wrong, never personal data.

pub mod backup;
pub mod codes;
pub mod compact;
pub mod conflicts;
pub mod devices;
pub mod erase;
pub mod establishments;
pub mod export;
pub mod journal;
pub mod provision;
pub mod teams;

use serde::de::DeserializeOwned;

use crate::error::StoreError;
use crate::gias::GiasError;

/// Why an admin action failed. The messages are the ones the command line prints.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The store refused or failed (an unknown team, a taken name, a database error…).
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A named choice (a role, an establishment kind) is not one the server knows.
    #[error("--{flag}: {reason}")]
    InvalidChoice {
        /// The option it was given to.
        flag: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A code's lifetime outside 1 to 336 hours.
    #[error("--ttl-hours must be between 1 and 336")]
    TtlOutOfRange,
    /// A bulk provisioning larger than the server makes at once.
    #[error("--teams must be 1..=10000 and --officers-per-team 1..=1000")]
    ProvisionOutOfRange,
    /// No officer has the id given.
    #[error("no officer with that id")]
    UnknownOfficer,
    /// No device that is not already revoked has the id given.
    #[error("no live device with that id")]
    UnknownDevice,
    /// No open conflict has the id given.
    #[error("no open conflict with that id")]
    UnknownConflict,
    /// A GIAS extract could not be read.
    #[error("{0}")]
    Gias(#[from] GiasError),
    /// A file could not be read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// No record has the id given.
    #[error("no record with that id")]
    UnknownRecord,
    /// The admin journal could not be read, or does not hold (issue 12).
    #[error("{0}")]
    Journal(#[from] crate::journal::JournalError),
}

/// A named choice given on the command line (`safeguarding-lead`, `pupil_referral_unit`…),
/// read as its wire name: case and dashes do not matter.
pub fn choice<T: DeserializeOwned>(flag: &'static str, text: &str) -> Result<T, AdminError> {
    serde_json::from_value(serde_json::Value::String(
        text.replace('-', "_").to_lowercase(),
    ))
    .map_err(|e| AdminError::InvalidChoice {
        flag,
        reason: e.to_string(),
    })
}

/// Checks a code lifetime in hours (1 to 14 days).
fn check_ttl_hours(ttl_hours: i64) -> Result<(), AdminError> {
    if (1..=24 * 14).contains(&ttl_hours) {
        Ok(())
    } else {
        Err(AdminError::TtlOutOfRange)
    }
}

#[cfg(test)]
mod tests {
    use pocketbook_protocol::{EstablishmentKind, Role};

    use super::*;

    #[test]
    fn choices_read_wire_names_loosely_and_name_the_flag_when_wrong() {
        assert_eq!(
            choice::<Role>("role", "Safeguarding-Lead").ok(),
            Some(Role::SafeguardingLead)
        );
        assert_eq!(
            choice::<EstablishmentKind>("kind", "pupil_referral_unit").ok(),
            Some(EstablishmentKind::PupilReferralUnit)
        );
        let err = choice::<Role>("role", "chief").err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.starts_with("--role: ")));
    }

    #[test]
    fn code_lifetimes_are_one_hour_to_two_weeks() {
        assert!(check_ttl_hours(1).is_ok());
        assert!(check_ttl_hours(336).is_ok());
        assert!(matches!(check_ttl_hours(0), Err(AdminError::TtlOutOfRange)));
        assert!(matches!(
            check_ttl_hours(337),
            Err(AdminError::TtlOutOfRange)
        ));
    }
}
