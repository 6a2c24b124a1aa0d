//! Why a draft or update was refused: one variant per rule, each naming the field at fault and
//! never the value that was in it.

/// Why a draft or update was refused. Each variant names the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// A required text field is empty or only whitespace.
    #[error("{field} must not be empty")]
    Empty {
        /// The field at fault.
        field: &'static str,
    },
    /// A text field is longer than the store accepts.
    #[error("{field} is longer than {max} characters")]
    TooLong {
        /// The field at fault.
        field: &'static str,
        /// The limit.
        max: usize,
    },
    /// A period ends before it starts.
    #[error("{field} is before the start")]
    EndBeforeStart {
        /// The field at fault (the end).
        field: &'static str,
    },
    /// A time lies in the future where only the past makes sense.
    #[error("{field} is in the future")]
    InFuture {
        /// The field at fault.
        field: &'static str,
    },
    /// A list that needs at least one entry is empty.
    #[error("{field} needs at least one entry")]
    NoneGiven {
        /// The field at fault.
        field: &'static str,
    },
    /// A reference to an establishment this device does not know.
    #[error("{field} names an unknown establishment")]
    UnknownEstablishment {
        /// The field at fault.
        field: &'static str,
    },
    /// A reference to a young person this device does not know (or who was deleted).
    #[error("{field} names an unknown young person")]
    UnknownYoungPerson {
        /// The field at fault.
        field: &'static str,
    },
    /// A reference to an officer this device does not know.
    #[error("{field} names an unknown officer")]
    UnknownOfficer {
        /// The field at fault.
        field: &'static str,
    },
    /// A reference to a concern that does not exist (or was deleted).
    #[error("{field} names an unknown concern")]
    UnknownConcern {
        /// The field at fault.
        field: &'static str,
    },
    /// A reference to a team the officer does not belong to.
    #[error("{field} names a team the officer is not in")]
    UnknownTeam {
        /// The field at fault.
        field: &'static str,
    },
    /// A concern was raised without a risk level.
    #[error("risk must be given")]
    MissingRisk,
    /// A THRIVE element has no rationale.
    #[error("thrive.{element} needs a rationale")]
    MissingThriveRationale {
        /// The THRIVE element at fault (threat, harm, risk, investigation, vulnerability,
        /// engagement).
        element: &'static str,
    },
    /// A number is outside the range the field allows.
    #[error("{field} is out of range")]
    OutOfRange {
        /// The field at fault.
        field: &'static str,
    },
    /// Neither of two alternatives was given (e.g. date of birth or age band).
    #[error("{field} needs one of its alternatives")]
    Missing {
        /// The field at fault.
        field: &'static str,
    },
    /// A list holds more entries than the store accepts.
    #[error("{field} has more than {max} entries")]
    TooMany {
        /// The field at fault.
        field: &'static str,
        /// The limit.
        max: usize,
    },
    /// An update that changes nothing the caller may change.
    #[error("{field} cannot be changed")]
    Immutable {
        /// The field at fault.
        field: &'static str,
    },
}

impl ValidationError {
    /// The field (dotted path) the error is about.
    pub fn field(&self) -> String {
        match self {
            ValidationError::Empty { field }
            | ValidationError::TooLong { field, .. }
            | ValidationError::TooMany { field, .. }
            | ValidationError::EndBeforeStart { field }
            | ValidationError::InFuture { field }
            | ValidationError::NoneGiven { field }
            | ValidationError::UnknownEstablishment { field }
            | ValidationError::UnknownYoungPerson { field }
            | ValidationError::UnknownOfficer { field }
            | ValidationError::UnknownConcern { field }
            | ValidationError::UnknownTeam { field }
            | ValidationError::OutOfRange { field }
            | ValidationError::Missing { field }
            | ValidationError::Immutable { field } => (*field).to_string(),
            ValidationError::MissingRisk => "risk".to_string(),
            ValidationError::MissingThriveRationale { element } => format!("thrive.{element}"),
        }
    }
}
