//! `pocketbook-server`: serve the sync API, or administer teams, officers, establishments,
//! enrolment codes, devices, the quarantine and the audit log. The storage backend is chosen
//! here, once; everything below is generic over it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pocketbook_protocol::{Establishment, EstablishmentKind, Role};
use pocketbook_sync_server::error::StoreError;
use pocketbook_sync_server::secrets::{code_hash, new_code_from};
use pocketbook_sync_server::store::{PostgresOptions, PostgresStore, SqliteStore, Store};
use uuid::Uuid;

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
    },
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
    /// List refused mutations (JSON lines).
    Quarantine,
    /// Export the server audit log (JSON lines).
    Audit,
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
}

#[derive(Debug, Subcommand)]
enum TeamCommand {
    /// Add a team; prints its id.
    Add {
        /// Its name.
        name: String,
    },
    /// List teams.
    List,
}

#[derive(Debug, Subcommand)]
enum OfficerCommand {
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
enum EstablishmentCommand {
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
    /// schools, updates known ones by URN, marks closed ones closed, never deletes.
    ImportGias {
        /// The extract (Windows-1252 or UTF-8 CSV).
        file: PathBuf,
    },
    /// List establishments (JSON lines).
    List,
}

#[derive(Debug, Subcommand)]
enum ConflictCommand {
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
enum DeviceCommand {
    /// List devices (JSON lines).
    List,
    /// Revoke a device: its next sync wipes it.
    Revoke {
        /// The device id.
        id: Uuid,
    },
}

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

fn name<T: serde::de::DeserializeOwned>(flag: &str, text: &str) -> Result<T, CliError> {
    serde_json::from_value(serde_json::Value::String(
        text.replace('-', "_").to_lowercase(),
    ))
    .map_err(|e| CliError::Usage(format!("--{flag}: {e}")))
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
    if cli.db.starts_with("postgres://") || cli.db.starts_with("postgresql://") {
        let options = PostgresOptions {
            pool_size: cli.db_pool,
            ..Default::default()
        };
        let url = cli.db.clone();
        let store = tokio::task::spawn_blocking(move || PostgresStore::connect(&url, options))
            .await
            .map_err(|_| CliError::Store(StoreError::Task))??;
        run_on(
            store.with_enrol_limit(cli.enrol_limit_per_minute),
            cli.command,
        )
        .await
    } else {
        let store = SqliteStore::open(Path::new(&cli.db))?;
        run_on(
            store.with_enrol_limit(cli.enrol_limit_per_minute),
            cli.command,
        )
        .await
    }
}

async fn run_on<S: Store>(store: S, command: Command) -> Result<(), CliError> {
    match command {
        Command::Serve {
            listen,
            lease_days,
            tls_cert,
            tls_key,
        } => {
            if !(1..=365).contains(&lease_days) {
                return Err(CliError::Usage(
                    "--lease-days must be between 1 and 365".into(),
                ));
            }
            let config = pocketbook_sync_server::api::Config {
                lease_seconds: lease_days * 24 * 3600,
                ..Default::default()
            };
            let listener = tokio::net::TcpListener::bind(&listen).await?;
            let addr = listener.local_addr()?;
            tracing::info!(%addr, "serving");
            let shutdown = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            // Scripts read this line to find a port picked with --listen 127.0.0.1:0.
            match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => {
                    let tls = pocketbook_sync_server::tls::config_from_pem(&cert, &key)
                        .map_err(|e| CliError::Usage(e.to_string()))?;
                    println!("listening on https://{addr}");
                    pocketbook_sync_server::tls::serve_tls(listener, store, config, tls, shutdown)
                        .await?;
                }
                _ => {
                    println!("listening on http://{addr}");
                    pocketbook_sync_server::serve(listener, store, config, shutdown).await?;
                }
            }
        }
        Command::Team(TeamCommand::Add { name }) => println!("{}", store.add_team(name).await?.id),
        Command::Team(TeamCommand::List) => print_lines(&store.teams().await?)?,
        Command::Officer(OfficerCommand::Add {
            name: full,
            number,
            role,
            teams,
        }) => {
            let role: Role = name("role", &role)?;
            println!("{}", store.add_officer(full, number, role, teams).await?.id);
        }
        Command::Officer(OfficerCommand::Update { id, teams, role }) => {
            let mut officer = store
                .officers()
                .await?
                .into_iter()
                .find(|o| o.id == id)
                .ok_or_else(|| CliError::Usage("no officer with that id".into()))?;
            if !teams.is_empty() {
                officer.team_ids = teams;
            }
            if let Some(role) = role {
                officer.role = name("role", &role)?;
            }
            store.update_officer(officer).await?;
        }
        Command::Officer(OfficerCommand::List) => print_lines(&store.officers().await?)?,
        Command::Establishment(EstablishmentCommand::Add {
            urn,
            name: title,
            kind,
            ward,
        }) => {
            let kind: EstablishmentKind = name("kind", &kind)?;
            let e = Establishment {
                id: store.sources().new_id(),
                urn,
                name: title,
                kind,
                ward,
                dsl_contact: None,
                dedicated_officer: None,
                priority: 0,
                closed: false,
            };
            let (added, updated) = store.put_establishments(vec![e]).await?;
            println!("added {added}, updated {updated}");
        }
        Command::Establishment(EstablishmentCommand::ImportGias { file }) => {
            let bytes = std::fs::read(&file)?;
            let import = pocketbook_sync_server::gias::parse(&bytes, store.sources().as_ref())
                .map_err(|e| CliError::Usage(e.to_string()))?;
            let closed = import.establishments.iter().filter(|e| e.closed).count();
            let (added, updated) = store.put_establishments(import.establishments).await?;
            println!(
                "added {added}, updated {updated} ({closed} closed), skipped {} of other kinds",
                import.skipped
            );
        }
        Command::Establishment(EstablishmentCommand::List) => {
            print_lines(&store.establishments().await?)?
        }
        Command::Code { officer, ttl_hours } => {
            if !(1..=24 * 14).contains(&ttl_hours) {
                return Err(CliError::Usage(
                    "--ttl-hours must be between 1 and 336".into(),
                ));
            }
            let code = new_code_from(store.sources().as_ref());
            store
                .add_code(officer, code_hash(&code), ttl_hours * 3600)
                .await?;
            println!("{code}");
        }
        Command::Provision {
            teams,
            officers_per_team,
            prefix,
            ttl_hours,
        } => {
            if !(1..=10_000).contains(&teams) || !(1..=1_000).contains(&officers_per_team) {
                return Err(CliError::Usage(
                    "--teams must be 1..=10000 and --officers-per-team 1..=1000".into(),
                ));
            }
            if !(1..=24 * 14).contains(&ttl_hours) {
                return Err(CliError::Usage(
                    "--ttl-hours must be between 1 and 336".into(),
                ));
            }
            for t in 0..teams {
                let team = store.add_team(format!("{prefix} {}", t + 1)).await?;
                for n in 0..officers_per_team {
                    let officer = store
                        .add_officer(
                            format!("Officer {}-{}", t + 1, n + 1),
                            format!("{}", 10_000 + t * officers_per_team + n),
                            Role::Officer,
                            vec![team.id],
                        )
                        .await?;
                    let code = new_code_from(store.sources().as_ref());
                    store
                        .add_code(officer.id, code_hash(&code), ttl_hours * 3600)
                        .await?;
                    println!(
                        "{}",
                        serde_json::json!({ "team_id": team.id, "officer_id": officer.id, "code": code })
                    );
                }
            }
        }
        Command::Device(DeviceCommand::List) => print_lines(&store.devices().await?)?,
        Command::Device(DeviceCommand::Revoke { id }) => {
            if !store.revoke(id).await? {
                return Err(CliError::Usage("no live device with that id".into()));
            }
            println!("revoked {id}");
        }
        Command::Conflict(ConflictCommand::List { all }) => {
            let list: Vec<serde_json::Value> = store
                .conflicts(all)
                .await?
                .into_iter()
                .map(|(c, resolved)| serde_json::json!({ "conflict": c, "resolved": resolved }))
                .collect();
            print_lines(&list)?
        }
        Command::Conflict(ConflictCommand::Resolve { id }) => {
            if !store.resolve_conflict(id.clone()).await? {
                return Err(CliError::Usage("no open conflict with that id".into()));
            }
            println!("resolved {id}");
        }
        Command::Quarantine => print_lines(&store.quarantine().await?)?,
        Command::Audit => {
            for line in store.audit_lines().await? {
                println!("{line}");
            }
        }
    }
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
