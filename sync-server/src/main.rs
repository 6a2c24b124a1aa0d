//! `pocketbook-server`: serve the sync API, or administer teams, officers, establishments,
//! enrolment codes, devices, the quarantine and the audit log. The storage backend is chosen
//! here, once; everything below is generic over it. This file only parses arguments and
//! prints: the administration itself is `pocketbook_sync_server::admin`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pocketbook_sync_server::admin::{
    self, codes, conflicts, devices, establishments, export, provision, teams, AdminError,
};
use pocketbook_sync_server::error::StoreError;
use pocketbook_sync_server::journal::Journal;
use pocketbook_sync_server::serve_cli::{self, GuardArgs, NetArgs};
use pocketbook_sync_server::state::{Config, LeaseOutOfRange};
use pocketbook_sync_server::store::{
    Compaction, Epochs, JournalStore, PostgresOptions, PostgresStore, RecordErasure, SqliteStore,
    Store,
};
use uuid::Uuid;

mod commands;
use commands::{
    AuditCommand, ConflictCommand, DeviceCommand, EstablishmentCommand, OfficerCommand, TeamCommand,
};

/// Pocketbook sync server.
#[derive(Debug, Parser)]
#[command(name = "pocketbook-server", version, about)]
struct Cli {
    /// The database: a SQLite file path, or a PostgreSQL URL (`postgres://user@host/db`);
    /// created or migrated on first use.
    #[arg(
        long,
        env = "POCKETBOOK_SERVER_DB",
        default_value = "pocketbook-server.db",
        global = true
    )]
    db: String,
    /// Enrolment attempts allowed per client address per minute.
    #[arg(
        long,
        env = "POCKETBOOK_ENROL_LIMIT",
        default_value_t = 10,
        global = true
    )]
    enrol_limit_per_minute: u32,
    /// Most PostgreSQL connections this process opens (ignored for SQLite).
    #[arg(
        long,
        env = "POCKETBOOK_SERVER_DB_POOL",
        default_value_t = 16,
        global = true
    )]
    db_pool: u32,
    /// The admin acting, recorded in the server audit log (default: the OS user).
    #[arg(long = "as", global = true)]
    actor: Option<String>,
    /// The admin journal: every admin action (API enrolments too) is also appended here, so a
    /// restored server can replay them (README "Backup and restore").
    #[arg(long, env = "POCKETBOOK_ADMIN_JOURNAL", global = true)]
    admin_journal: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the sync API.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8787")]
        listen: String,
        /// Days a device may go without syncing before it must re-authenticate.
        #[arg(long, default_value_t = 28)]
        lease_days: u64,
        /// Serve TLS with this certificate chain (PEM); needs --tls-key.
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key (PEM).
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        #[command(flatten)]
        guard: GuardArgs,
        #[command(flatten)]
        net: NetArgs,
        #[command(flatten)]
        compaction: admin::compact::ScheduleArgs,
    },
    /// Drop the history devices no longer need (remove entries, tombstone entries, resolved
    /// conflicts older than the horizon), keeping a minimal tombstone of each deleted record.
    /// Prints counts only. `serve` also runs it on a schedule.
    Compact(admin::compact::CompactArgs),
    /// Teams.
    #[command(subcommand)]
    Team(TeamCommand),
    /// Officers.
    #[command(subcommand)]
    Officer(OfficerCommand),
    /// Establishments.
    #[command(subcommand)]
    Establishment(EstablishmentCommand),
    /// Issue a one-time enrolment code for an officer.
    Code {
        /// The officer's id.
        #[arg(long)]
        officer: Uuid,
        /// Hours until the code expires.
        #[arg(long, default_value_t = 24)]
        ttl_hours: i64,
    },
    /// Devices.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Conflicts.
    #[command(subcommand)]
    Conflict(ConflictCommand),
    #[command(flatten)]
    Erasure(admin::erase::ErasureCommand),
    #[command(flatten)]
    Backup(admin::backup::BackupCommand),
    /// List refused mutations (JSON lines).
    Quarantine,
    /// Check every stored record with the model; quarantine (and remove from devices) each one
    /// it refuses. Also run at start-up. Prints counts only.
    ValidateStore,
    /// Export the server audit log (JSON lines), or verify its hash chain.
    Audit {
        #[command(subcommand)]
        action: Option<AuditCommand>,
    },
    /// Bulk-provision teams of officers with one enrolment code each, for load tests and
    /// rehearsals: prints one JSON line per officer (`team_id`, `officer_id`, `code`).
    Provision {
        /// Teams to add.
        #[arg(long)]
        teams: u32,
        /// Officers in each team.
        #[arg(long)]
        officers_per_team: u32,
        /// Name prefix of the teams (team names are unique).
        #[arg(long, default_value = "Load team")]
        prefix: String,
        /// Hours until the codes expire.
        #[arg(long, default_value_t = 24)]
        ttl_hours: i64,
    },
    #[command(flatten)]
    Journal(admin::journal::JournalCommand),
}

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("{0}")]
    Admin(#[from] AdminError),
    #[error("{0}")]
    Lease(#[from] LeaseOutOfRange),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl From<StoreError> for CliError {
    fn from(e: StoreError) -> Self {
        CliError::Admin(AdminError::Store(e))
    }
}

fn print_lines<T: serde::Serialize>(items: &[T]) -> Result<(), CliError> {
    for item in items {
        println!(
            "{}",
            serde_json::to_string(item).map_err(|e| CliError::Usage(e.to_string()))?
        );
    }
    Ok(())
}

/// Opens the backend `cli.db` names, then runs the command over it.
async fn run(cli: Cli) -> Result<(), CliError> {
    // Admin commands act as someone; a serving process's rows name their devices instead.
    let actor = match cli.command {
        Command::Serve { .. } => None,
        _ => Some(cli.actor.clone().unwrap_or_else(serve_cli::default_actor)),
    };
    let journal = cli.admin_journal.clone();
    if let Command::Backup(file_command) = &cli.command {
        if let Some(done) =
            admin::backup::run_file_command(&cli.db, file_command, actor.clone(), journal.clone())
                .await?
        {
            println!("{done}");
            return Ok(());
        }
    }
    if admin::backup::is_postgres(&cli.db) {
        let options = PostgresOptions {
            pool_size: cli.db_pool,
            ..Default::default()
        };
        let url = cli.db.clone();
        let store = tokio::task::spawn_blocking(move || PostgresStore::connect(&url, options))
            .await
            .map_err(|_| StoreError::Task)??;
        run_on(
            store
                .with_enrol_limit(cli.enrol_limit_per_minute)
                .acting_as(actor.as_deref())
                .with_journal(journal.clone().map(Journal::at)),
            cli.command,
            cli.enrol_limit_per_minute,
            journal,
        )
        .await
    } else {
        let store = SqliteStore::open(Path::new(&cli.db))?;
        run_on(
            store
                .with_enrol_limit(cli.enrol_limit_per_minute)
                .acting_as(actor.as_deref())
                .with_journal(journal.clone().map(Journal::at)),
            cli.command,
            cli.enrol_limit_per_minute,
            journal,
        )
        .await
    }
}

async fn run_on<S: Store + RecordErasure + Epochs + JournalStore + Compaction>(
    store: S,
    command: Command,
    enrol_per_minute: u32,
    journal: Option<PathBuf>,
) -> Result<(), CliError> {
    match command {
        Command::Serve {
            listen,
            lease_days,
            tls_cert,
            tls_key,
            guard,
            net,
            compaction,
        } => {
            let config = guard.apply(Config::with_lease_days(lease_days)?, enrol_per_minute);
            let config = net.apply(config);
            if journal.is_none() {
                tracing::warn!("no --admin-journal: a restore could not replay admin actions");
            }
            let grace_days = config.lease_grace_seconds / (24 * 3600);
            let _compaction =
                admin::compact::schedule(store.clone(), &compaction, lease_days, grace_days)?;
            serve_cli::serve(store, listen, config, net, tls_cert.zip(tls_key))
                .await
                .map_err(|e| CliError::Usage(e.to_string()))?;
            return Ok(());
        }
        Command::Team(TeamCommand::Add { name }) => {
            println!("{}", teams::add_team(&store, name).await?.id)
        }
        Command::Team(TeamCommand::List) => print_lines(&teams::teams(&store).await?)?,
        Command::Officer(OfficerCommand::Add {
            name,
            number,
            role,
            teams: team_ids,
        }) => {
            let new = teams::NewOfficer {
                name,
                shoulder_number: number,
                role: admin::choice("role", &role)?,
                team_ids,
            };
            println!("{}", teams::add_officer(&store, new).await?.id);
        }
        Command::Officer(OfficerCommand::Update {
            id,
            teams: team_ids,
            role,
        }) => {
            let role = role.map(|r| admin::choice("role", &r)).transpose()?;
            teams::update_officer(&store, id, team_ids, role).await?;
        }
        Command::Officer(OfficerCommand::List) => print_lines(&teams::officers(&store).await?)?,
        Command::Establishment(EstablishmentCommand::Add {
            urn,
            name,
            kind,
            ward,
        }) => {
            let new = establishments::NewEstablishment {
                urn,
                name,
                kind: admin::choice("kind", &kind)?,
                ward,
            };
            let done = establishments::add_establishment(&store, new).await?;
            println!("added {}, updated {}", done.added, done.updated);
        }
        Command::Establishment(EstablishmentCommand::ImportGias { file }) => {
            let done = establishments::import_gias_file(&store, &file).await?;
            println!(
                "added {}, updated {} ({} closed), skipped {} of other kinds",
                done.upserted.added, done.upserted.updated, done.closed, done.skipped
            );
        }
        Command::Establishment(EstablishmentCommand::List) => {
            print_lines(&establishments::establishments(&store).await?)?
        }
        Command::Code { officer, ttl_hours } => {
            println!("{}", codes::issue_code(&store, officer, ttl_hours).await?)
        }
        Command::Provision {
            teams,
            officers_per_team,
            prefix,
            ttl_hours,
        } => {
            let plan = provision::ProvisionPlan {
                teams,
                officers_per_team,
                prefix,
                ttl_hours,
            };
            provision::provision(&store, &plan, |p| {
                println!(
                    "{}",
                    serde_json::json!({ "team_id": p.team_id, "officer_id": p.officer_id, "code": p.code })
                );
            })
            .await?;
        }
        Command::Journal(command) => {
            println!("{}", admin::journal::run(&store, command, journal).await?)
        }
        Command::Device(DeviceCommand::List) => print_lines(&devices::devices(&store).await?)?,
        Command::Device(DeviceCommand::Revoke { id }) => {
            devices::revoke_device(&store, id).await?;
            println!("revoked {id}");
        }
        Command::Device(DeviceCommand::Lift { id }) => {
            devices::lift_suspension(&store, id).await?;
            println!("lifted the suspension of {id}");
        }
        Command::ValidateStore => println!("{}", export::validate_store(&store).await?),
        Command::Conflict(ConflictCommand::List { all }) => {
            let list: Vec<serde_json::Value> = conflicts::conflicts(&store, all)
                .await?
                .into_iter()
                .map(|(c, resolved)| serde_json::json!({ "conflict": c, "resolved": resolved }))
                .collect();
            print_lines(&list)?
        }
        Command::Conflict(ConflictCommand::Resolve { id }) => {
            conflicts::resolve_conflict(&store, id.clone()).await?;
            println!("resolved {id}");
        }
        Command::Compact(args) => println!("{}", admin::compact::compact(&store, &args).await?),
        Command::Erasure(command) => println!("{}", admin::erase::run(&store, command).await?),
        Command::Backup(_) => println!("{}", admin::backup::new_epoch(&store).await?),
        Command::Quarantine => print_lines(&export::quarantine(&store).await?)?,
        Command::Audit { action: None } => {
            for line in export::audit_lines(&store).await? {
                println!("{line}");
            }
        }
        Command::Audit {
            action: Some(AuditCommand::Verify { head }),
        } => match serve_cli::verify_audit(&store, head.as_deref()).await? {
            serve_cli::Verdict::Holds(report) => println!(
                "audit chain holds: {} rows chained ({} from before the chain), head {}",
                report.checked, report.unchained, report.head
            ),
            serve_cli::Verdict::Broken(why) => return Err(CliError::Usage(why)),
        },
    }
    // Every admin command leaves the chain's head in the log, to be kept elsewhere.
    tracing::info!(head = %store.audit_head().await?, "server audit chain head");
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pocketbook-server: {e}");
            ExitCode::FAILURE
        }
    }
}
