//! `pocketbook`: a terminal shell over the Pocketbook core, for officers at a desk, for demos
//! and for scripting. It holds no rules of its own: every check happens in the core.

mod args;
mod commands;
mod keyfile;
mod output;
mod parse;

use std::process::ExitCode;

use clap::Parser;

/// Errors the shell reports: the core's, and the shell's own about files and arguments.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The core refused or failed.
    #[error("{0}")]
    Core(#[from] pocketbook_core::Error),
    /// An argument could not be understood.
    #[error("{0}")]
    Usage(String),
    /// A file could not be read or written.
    #[error("{what}: {source}")]
    File {
        /// Which file, in words.
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pocketbook: {e}");
            if matches!(e, CliError::Core(pocketbook_core::Error::DeviceForked)) {
                eprintln!("pocketbook: ask an admin for a code, then `pocketbook reauthenticate CODE` and sync again");
            }
            ExitCode::FAILURE
        }
    }
}
