//! Schema migrations of both backends, run by one runner: numbered SQL files under
//! `sync-server/migrations/<backend>/`, embedded at build time, applied forward only, each in
//! its own transaction that also records the new version, so a database is always at a whole
//! step. The two folders describe one schema and number their steps alike. Blocking IO: run
//! before serving, or on the blocking pool.

use pocketbook_protocol::sources::{Sources, SystemSources};

use crate::error::StoreError;

/// One forward-only schema step of one backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// The database's version once this step is applied: 1, 2, … without gaps.
    pub version: u32,
    /// Its file under `sync-server/migrations/<backend>/`, `NNNN_short_name.sql`.
    pub file: &'static str,
    /// The step's SQL, in the backend's dialect.
    pub sql: &'static str,
}

/// Embeds a backend's steps from `migrations/<dir>/`, oldest first.
macro_rules! steps {
    ($dir:literal: $($version:literal => $file:literal),* $(,)?) => {
        &[$(Migration {
            version: $version,
            file: $file,
            sql: include_str!(concat!("../../migrations/", $dir, "/", $file)),
        }),*]
    };
}

/// The SQLite steps; the database's `user_version` is the last applied.
pub const SQLITE: &[Migration] = steps!("sqlite":
    1 => "0001_initial.sql",
    2 => "0002_bucket_entries_by_item.sql",
    3 => "0003_enrol_attempts_by_at.sql",
    4 => "0004_drop_change_seq.sql",
    5 => "0005_device_guard.sql",
    6 => "0006_retained_content.sql",
    7 => "0007_identity_lease_audit_chain.sql",
    8 => "0008_record_parent.sql",
    9 => "0009_mutation_digests.sql",
    10 => "0010_compaction.sql",
    11 => "0011_restore_teams.sql",
    12 => "0012_restore_places.sql",
    13 => "0013_officer_teams.sql",
    14 => "0014_bucket_entries_covering.sql",
);

/// The PostgreSQL steps; the table `schema_migrations` holds a row for each applied.
pub const POSTGRES: &[Migration] = steps!("postgres":
    1 => "0001_initial.sql",
    2 => "0002_bucket_entries_by_item.sql",
    3 => "0003_enrol_attempts_by_at.sql",
    4 => "0004_drop_change_seq.sql",
    5 => "0005_device_guard.sql",
    6 => "0006_retained_content.sql",
    7 => "0007_identity_lease_audit_chain.sql",
    8 => "0008_record_parent.sql",
    9 => "0009_mutation_digests.sql",
    10 => "0010_compaction.sql",
    11 => "0011_restore_teams.sql",
    12 => "0012_restore_places.sql",
    13 => "0013_officer_teams.sql",
    14 => "0014_bucket_entries_covering.sql",
);

/// A database connection the runner can migrate: the small glue each backend provides. The
/// order of steps, the refusal of a newer database and when to finish live in the runner.
pub trait Migrate {
    /// This backend's steps, oldest first.
    const STEPS: &'static [Migration];

    /// Takes what a run needs before the version is read (PostgreSQL: the migration lock and
    /// the version table). Nothing by default.
    fn begin(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Gives back what [`Migrate::begin`] took; called after every run, failed or not.
    fn end(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// The version recorded in the database: 0 for an empty one.
    fn version(&mut self) -> Result<u32, StoreError>;

    /// Applies `step` in one transaction that also records `step.version`, unless the
    /// database already reached it (another process migrating at the same time).
    fn apply(&mut self, step: &Migration) -> Result<(), StoreError>;

    /// What follows a migration to the latest version every time a server opens the
    /// database (seeding the server's id and epoch in `meta`, drawn from `sources`).
    fn finish(&mut self, sources: &dyn Sources) -> Result<(), StoreError>;
}

/// The latest version a backend's steps reach.
pub fn latest<M: Migrate>() -> u32 {
    M::STEPS.last().map_or(0, |step| step.version)
}

/// The version a database is at, read without migrating.
pub fn current_version<M: Migrate>(db: &mut M) -> Result<u32, StoreError> {
    db.version()
}

/// Migrates a database to the latest version and finishes it for serving; the version it is
/// at. Refuses a database made by a newer server. A new server's id and epoch come from the
/// system's random source.
pub fn migrate<M: Migrate>(db: &mut M) -> Result<u32, StoreError> {
    migrate_with(db, &SystemSources)
}

/// [`migrate`], drawing a new server's id and epoch from `sources`.
pub fn migrate_with<M: Migrate>(db: &mut M, sources: &dyn Sources) -> Result<u32, StoreError> {
    migrate_to_with(db, latest::<M>(), sources)
}

/// Migrates a database up to `target` (never down); the version it is at afterwards. For tests
/// and tools that need a database as an older server left it: a server always calls
/// [`migrate`]. Refuses a database made by a newer server and a target no step reaches.
pub fn migrate_to<M: Migrate>(db: &mut M, target: u32) -> Result<u32, StoreError> {
    migrate_to_with(db, target, &SystemSources)
}

fn migrate_to_with<M: Migrate>(
    db: &mut M,
    target: u32,
    sources: &dyn Sources,
) -> Result<u32, StoreError> {
    if target > latest::<M>() {
        return Err(StoreError::Invalid(format!(
            "no migration reaches version {target}"
        )));
    }
    let result = db.begin().and_then(|()| run(db, target, sources));
    let ended = db.end();
    let version = result?;
    ended?;
    Ok(version)
}

/// Applies the steps between the version found and `target`, then finishes at the latest.
fn run<M: Migrate>(db: &mut M, target: u32, sources: &dyn Sources) -> Result<u32, StoreError> {
    let found = db.version()?;
    if found > latest::<M>() {
        return Err(StoreError::Invalid(
            "the database was made by a newer server".into(),
        ));
    }
    for step in M::STEPS
        .iter()
        .filter(|step| step.version > found && step.version <= target)
    {
        db.apply(step)?;
    }
    let now = found.max(target);
    if now == latest::<M>() {
        db.finish(sources)?;
    }
    Ok(now)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::{Migration, POSTGRES, SQLITE};

    /// Every file of a backend's folder is listed, numbered in its name, without gaps.
    fn check_listing(dir: &str, steps: &[Migration]) {
        for (i, step) in steps.iter().enumerate() {
            let version = u32::try_from(i + 1).expect("few steps");
            assert_eq!(step.version, version, "{dir}: steps numbered 1, 2, …");
            assert!(
                step.file.starts_with(&format!("{version:04}_")) && step.file.ends_with(".sql"),
                "{dir}/{}: named NNNN_short_name.sql after its version",
                step.file
            );
        }
        let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(dir);
        let on_disk: BTreeSet<String> = std::fs::read_dir(&folder)
            .expect("migrations folder")
            .map(|entry| {
                entry
                    .expect("folder entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        let listed: BTreeSet<String> = steps.iter().map(|s| s.file.to_string()).collect();
        assert_eq!(on_disk, listed, "{dir}: every file is listed and no more");
    }

    #[test]
    fn every_migration_file_is_listed_in_order() {
        check_listing("sqlite", SQLITE);
        check_listing("postgres", POSTGRES);
    }

    #[test]
    fn both_backends_number_the_same_steps_alike() {
        let names = |steps: &[Migration]| steps.iter().map(|s| s.file).collect::<Vec<_>>();
        assert_eq!(names(SQLITE), names(POSTGRES));
    }
}
