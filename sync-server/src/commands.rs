//! The administration subcommands of `pocketbook-server` (teams, officers, establishments,
//! conflicts, devices, the audit log), apart from `main.rs`, which parses the top level and
//! runs them.

use std::path::PathBuf;

use clap::Subcommand;
use uuid::Uuid;

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Walk the audit log's hash chain: report the first row that breaks it, and compare its
    /// head with one kept elsewhere (logged at every admin action).
    Verify {
        /// The head kept elsewhere; a different head fails.
        #[arg(long)]
        head: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TeamCommand {
    /// Add a team; prints its id.
    Add {
        /// Its name.
        name: String,
    },
    /// List teams.
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum OfficerCommand {
    /// Add an officer; prints their id.
    Add {
        /// Full name.
        #[arg(long)]
        name: String,
        /// Shoulder / warrant number.
        #[arg(long)]
        number: String,
        /// Role: officer, supervisor, safeguarding_lead, auditor, admin.
        #[arg(long, default_value = "officer")]
        role: String,
        /// A team id (repeatable).
        #[arg(long = "team")]
        teams: Vec<Uuid>,
    },
    /// Move an officer to other teams and/or another role.
    Update {
        /// The officer's id.
        id: Uuid,
        /// New team ids (replacing the old ones).
        #[arg(long = "team")]
        teams: Vec<Uuid>,
        /// New role.
        #[arg(long)]
        role: Option<String>,
    },
    /// List officers (JSON lines).
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum EstablishmentCommand {
    /// Add or update an establishment by URN.
    Add {
        /// DfE URN.
        #[arg(long)]
        urn: String,
        /// Name.
        #[arg(long)]
        name: String,
        /// Kind: primary, secondary, all_through, special, pupil_referral_unit,
        /// further_education, independent.
        #[arg(long)]
        kind: String,
        /// Ward.
        #[arg(long)]
        ward: Option<String>,
    },
    /// Import (or re-import) the DfE "Get Information about Schools" CSV extract: adds new
    /// schools, updates known ones by URN, marks closed ones closed, never deletes. Devices are
    /// offered only open ones (`Open`, `Open, but proposed to close`).
    ImportGias {
        /// The extract (Windows-1252 or UTF-8 CSV).
        file: PathBuf,
    },
    /// List establishments (JSON lines).
    List,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConflictCommand {
    /// List conflicts (JSON lines): open ones, or all with --all.
    List {
        /// Include resolved conflicts.
        #[arg(long)]
        all: bool,
    },
    /// Resolve a conflict, keeping the value that won; devices learn at their next sync.
    Resolve {
        /// The conflict's id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum DeviceCommand {
    /// List devices (JSON lines).
    List,
    /// Revoke a device: its next sync wipes it.
    Revoke {
        /// The device id.
        id: Uuid,
    },
    /// Lift a device's suspension (it passed a cap of refused changes or audit events).
    Lift {
        /// The device id.
        id: Uuid,
    },
}
