//! The shell's command line, declared with clap. Names of enumeration values are the core's
//! snake_case names (hyphens also accepted).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Pocketbook: an officer's encrypted pocket notebook for work with schools.
#[derive(Debug, Parser)]
#[command(name = "pocketbook", version, about)]
pub struct Cli {
    /// The store file.
    #[arg(
        long,
        env = "POCKETBOOK_DB",
        default_value = "pocketbook.db",
        global = true
    )]
    pub db: PathBuf,
    /// The key file (64 hex digits). Default: the store path with `.key` appended.
    #[arg(long, env = "POCKETBOOK_KEY_FILE", global = true)]
    pub key_file: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Output choice shared by every listing.
#[derive(Debug, Args, Clone, Copy)]
pub struct Format {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Output choice shared by every command that creates a record.
#[derive(Debug, Args, Clone, Copy)]
pub struct Created {
    /// Print the new record as JSON.
    #[arg(long, conflicts_with = "quiet")]
    pub json: bool,
    /// Print only the new record's id (for scripts).
    #[arg(long, short)]
    pub quiet: bool,
}

/// The shell's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new store (and a key file, if none exists).
    Init {
        /// A name for this device.
        #[arg(long, default_value = "pocketbook terminal")]
        device_name: String,
    },
    /// Load officer, team and establishments from a provisioning file (JSON).
    Provision {
        /// The provisioning file.
        file: PathBuf,
    },
    /// Show who is signed in on this store.
    Session(Format),
    /// List establishments.
    Establishments(Format),
    /// List officers.
    Officers(Format),
    /// Young people.
    #[command(subcommand, name = "young-person")]
    YoungPerson(YoungPersonCommand),
    /// Visits.
    #[command(subcommand)]
    Visit(VisitCommand),
    /// Safeguarding concerns.
    #[command(subcommand)]
    Concern(ConcernCommand),
    /// Referrals and information sharing.
    #[command(subcommand)]
    Action(ActionCommand),
    /// School engagements.
    #[command(subcommand)]
    Engagement(EngagementCommand),
    /// A young person's chronology (logged, with your reason).
    Chronology {
        /// The young person's id.
        young_person: String,
        /// Why you are looking (recorded in the audit trail).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        format: Format,
    },
    /// Changes waiting to be synced.
    Pending(Format),
    /// Trust a certificate authority (PEM file) for the sync server, e.g. the force's own.
    Trust {
        /// The CA certificate, PEM.
        file: PathBuf,
    },
    /// Enrol this device with a server using a one-time code from an admin.
    Enroll {
        /// The server's address, e.g. https://pocketbook.force.example
        url: String,
        /// The one-time code.
        code: String,
    },
    /// Enrol again with the same server (after a lapsed lease), keeping unsynced work.
    Reauthenticate {
        /// A new one-time code.
        code: String,
    },
    /// Push pending changes, then pull everyone else's.
    Sync(Format),
    /// Where sync stands: server, last sync, lease, pending and refused changes.
    Status(Format),
    /// Conflicts waiting to be resolved.
    Conflicts(Format),
    /// Resolve a conflict.
    Resolve {
        /// The conflict's id.
        id: String,
        /// Put the losing value back instead of keeping the current one.
        #[arg(long)]
        take_losing: bool,
    },
    /// Records this device cannot read (made by a newer app): update the app to read them.
    Unreadable(Format),
    /// Submit a refused change again (its number from `status`), with corrections.
    Resubmit {
        /// The refused change's number.
        seq: u64,
        /// A correction, `field=value` (the value as JSON, or plain text); may be repeated.
        #[arg(long = "set")]
        set: Vec<String>,
    },
    /// Discard a refused change (its number from `status`).
    Discard {
        /// The refused change's number.
        seq: u64,
    },
    /// This device's audit trail.
    Audit {
        /// Verify the hash chain instead of listing.
        #[arg(long)]
        verify: bool,
        #[command(flatten)]
        format: Format,
    },
}

/// Young-person commands.
#[derive(Debug, Subcommand)]
pub enum YoungPersonCommand {
    /// Add a young person.
    Add {
        /// Given name(s).
        #[arg(long)]
        first_name: String,
        /// Family name.
        #[arg(long)]
        last_name: String,
        /// Date of birth, YYYY-MM-DD.
        #[arg(long)]
        dob: Option<String>,
        /// Age band when the date of birth is unknown (e.g. from11_to13).
        #[arg(long)]
        age_band: Option<String>,
        /// Establishment, by URN or id.
        #[arg(long)]
        establishment: Option<String>,
        /// Year group (0 = reception).
        #[arg(long)]
        year_group: Option<u8>,
        /// Vulnerability flag (repeatable), e.g. child_in_need, send.
        #[arg(long = "flag")]
        flags: Vec<String>,
        /// Carer as NAME:RELATIONSHIP[:PHONE] (repeatable).
        #[arg(long = "carer")]
        carers: Vec<String>,
        #[command(flatten)]
        out: Created,
    },
    /// Find young people by name (all, without a query).
    List {
        /// Words that must appear in the name.
        query: Option<String>,
        #[command(flatten)]
        format: Format,
    },
    /// Show one young person.
    Show {
        /// Their id.
        id: String,
        #[command(flatten)]
        format: Format,
    },
}

/// The fields of a visit that `record` and `update` share.
#[derive(Debug, Args)]
pub struct VisitFields {
    /// Kind: welfare_check, food_parcel, online_safety_support, signposting, follow_up,
    /// cadet_support, no_access.
    #[arg(long)]
    pub kind: Option<String>,
    /// Who prompted it: school, council, mash, police, parent_or_self.
    #[arg(long)]
    pub prompted_by: Option<String>,
    /// A young person visited (repeatable).
    #[arg(long = "young-person")]
    pub young_people: Vec<String>,
    /// Another officer who attended (repeatable).
    #[arg(long = "officer")]
    pub officers: Vec<String>,
    /// Start: now, RFC 3339 or 'YYYY-MM-DD HH:MM' (local).
    #[arg(long)]
    pub start: Option<String>,
    /// End, as for start.
    #[arg(long)]
    pub end: Option<String>,
    /// Address or ward.
    #[arg(long)]
    pub place: Option<String>,
    /// Someone present, by role (repeatable).
    #[arg(long = "present")]
    pub present: Vec<String>,
    /// Outcome: no_concerns, advice_given, signposted, concern_raised, referral_made.
    #[arg(long)]
    pub outcome: Option<String>,
    /// Support given (repeatable): food, safety_advice, online_safety_advice, ...
    #[arg(long = "support")]
    pub support: Vec<String>,
    /// A service signposted to (repeatable).
    #[arg(long = "signposted")]
    pub signposted: Vec<String>,
    /// What happened.
    #[arg(long)]
    pub narrative: Option<String>,
    /// Follow-up date, YYYY-MM-DD.
    #[arg(long)]
    pub follow_up: Option<String>,
}

/// Visit commands.
#[derive(Debug, Subcommand)]
pub enum VisitCommand {
    /// Record a visit.
    Record {
        #[command(flatten)]
        fields: VisitFields,
        /// Mark it OFFICIAL-SENSITIVE.
        #[arg(long)]
        sensitive: bool,
        #[command(flatten)]
        out: Created,
    },
    /// List visits, most recent first.
    List {
        /// Only visits to this young person.
        #[arg(long)]
        young_person: Option<String>,
        /// Only visits starting at or after this time.
        #[arg(long)]
        since: Option<String>,
        /// Only this kind.
        #[arg(long)]
        kind: Option<String>,
        #[command(flatten)]
        format: Format,
    },
    /// Show one visit.
    Show {
        /// Its id.
        id: String,
        #[command(flatten)]
        format: Format,
    },
    /// Change a visit (only the fields given; repeatable fields replace the whole set).
    Update {
        /// Its id.
        id: String,
        #[command(flatten)]
        fields: VisitFields,
        #[command(flatten)]
        format: Format,
    },
    /// Delete a visit, saying why (kept with the deletion).
    Delete {
        /// Its id.
        id: String,
        /// Why it is deleted (required).
        #[arg(long)]
        reason: String,
    },
}

/// Concern commands.
#[derive(Debug, Subcommand)]
pub enum ConcernCommand {
    /// Raise a concern. Its account cannot be changed afterwards; add addenda instead.
    Raise {
        /// A young person involved (repeatable).
        #[arg(long = "young-person", required = true)]
        young_people: Vec<String>,
        /// When it happened (default now).
        #[arg(long, default_value = "now")]
        happened_at: String,
        /// Main category, e.g. neglect, online_harm, criminal_exploitation.
        #[arg(long)]
        category: String,
        /// Sub-category (repeatable).
        #[arg(long = "sub-category")]
        sub_categories: Vec<String>,
        /// What happened.
        #[arg(long)]
        account: String,
        /// The child's own words.
        #[arg(long)]
        childs_words: Option<String>,
        /// The risk, in words.
        #[arg(long)]
        risk_text: String,
        /// Action taken or proposed.
        #[arg(long, default_value = "")]
        action_text: String,
        /// A THRIVE element: ELEMENT FINDING RATIONALE (six times: threat, harm, risk,
        /// investigation, vulnerability, engagement).
        #[arg(long, num_args = 3, value_names = ["ELEMENT", "FINDING", "RATIONALE"])]
        thrive: Vec<String>,
        /// Risk level: low, medium, high.
        #[arg(long)]
        risk: Option<String>,
        /// Lead officer's id.
        #[arg(long)]
        lead: Option<String>,
        /// Marking (default OFFICIAL-SENSITIVE).
        #[arg(long)]
        marking: Option<String>,
        #[command(flatten)]
        out: Created,
    },
    /// List concerns, most recent first.
    List {
        /// Only concerns involving this young person.
        #[arg(long)]
        young_person: Option<String>,
        /// Only at this risk or above.
        #[arg(long)]
        min_risk: Option<String>,
        /// Only in this status.
        #[arg(long)]
        status: Option<String>,
        #[command(flatten)]
        format: Format,
    },
    /// Show a concern with its addenda and triage history.
    Show {
        /// Its id.
        id: String,
        #[command(flatten)]
        format: Format,
    },
    /// Add a dated addendum.
    Addendum {
        /// The concern's id.
        id: String,
        /// The addendum text.
        text: String,
        #[command(flatten)]
        out: Created,
    },
    /// Correct which young people a concern is about (supervisor or safeguarding lead); the
    /// reason is kept as an addendum with the link before and after.
    CorrectChild {
        /// The concern's id.
        id: String,
        /// The young people it is about, by id (repeat for several).
        #[arg(long = "young-person", required = true)]
        young_people: Vec<String>,
        /// Why the link is corrected (required).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        format: Format,
    },
    /// Change risk, status, lead or marking (kept in the history).
    Triage {
        /// The concern's id.
        id: String,
        /// New risk.
        #[arg(long)]
        risk: Option<String>,
        /// New status: new, open, monitoring, closed, nfa.
        #[arg(long)]
        status: Option<String>,
        /// New lead officer's id.
        #[arg(long, conflicts_with = "unassign")]
        lead: Option<String>,
        /// Remove the lead.
        #[arg(long)]
        unassign: bool,
        /// New marking.
        #[arg(long)]
        marking: Option<String>,
        /// Why.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        format: Format,
    },
}

/// Action commands.
#[derive(Debug, Subcommand)]
pub enum ActionCommand {
    /// Add a referral or information share.
    Add {
        /// Kind: ppn, mash, early_help, social_care, school_dsl, camhs, ...
        #[arg(long)]
        kind: String,
        /// The young person.
        #[arg(long)]
        young_person: String,
        /// The concern it follows from.
        #[arg(long)]
        concern: Option<String>,
        /// Who receives it.
        #[arg(long)]
        recipient: String,
        /// Why sharing is justified.
        #[arg(long)]
        justification: String,
        /// Due date, YYYY-MM-DD.
        #[arg(long)]
        due: Option<String>,
        #[command(flatten)]
        out: Created,
    },
    /// Change an action's status.
    Update {
        /// Its id.
        id: String,
        /// New status: draft, sent, acknowledged, overdue, done.
        #[arg(long)]
        status: Option<String>,
        /// New due date.
        #[arg(long)]
        due: Option<String>,
        #[command(flatten)]
        format: Format,
    },
    /// List actions.
    List {
        /// Only for this young person.
        #[arg(long)]
        young_person: Option<String>,
        #[command(flatten)]
        format: Format,
    },
}

/// Engagement commands.
#[derive(Debug, Subcommand)]
pub enum EngagementCommand {
    /// Record an engagement.
    Record {
        /// Kind: assembly, lesson, weapons_sweep, patrol, drop_in, parent_session,
        /// staff_training.
        #[arg(long)]
        kind: String,
        /// Establishment, by URN or id.
        #[arg(long)]
        establishment: String,
        /// Topic (repeatable).
        #[arg(long = "topic")]
        topics: Vec<String>,
        /// Year group present (repeatable).
        #[arg(long = "year-group")]
        year_groups: Vec<u8>,
        /// Audience size.
        #[arg(long, default_value_t = 0)]
        audience: u32,
        /// When (default now).
        #[arg(long, default_value = "now")]
        at: String,
        /// Sweep result (for weapons sweeps): nothing_found, weapon_found, other_item_found.
        #[arg(long)]
        sweep_result: Option<String>,
        /// Concerns arising, in general terms.
        #[arg(long, default_value = "")]
        concerns_arising: String,
        #[command(flatten)]
        out: Created,
    },
    /// List engagements.
    List(Format),
}
