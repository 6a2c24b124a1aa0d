//! The seeded fault simulation's command line: runs seeds `1..=N` (`--seeds N`, from
//! `--from F`), or one (`--seed S`, with `--verbose` printing its trace), prints the faults
//! injected by kind and every failing seed with the command that replays it, and exits
//! non-zero if any failed. A seed's run depends only on the seed and the commit.

use std::collections::BTreeMap;
use std::process::ExitCode;

use pocketbook_tests::sim::{run_seed, Fault, Options};

fn usage() -> ExitCode {
    eprintln!(
        "usage: simulate [--seeds N] [--from F] [--seed S] [--steps K] [--no-moves] [--no-restores] \
         [--verbose]\n\
         runs seeds F..F+N-1 (default 1..=100), or one seed S"
    );
    ExitCode::from(2)
}

/// The flags that make a replay run as this one did.
fn replay_flags(options: &Options) -> String {
    let mut flags = String::new();
    if options.steps != Options::default().steps {
        flags.push_str(&format!(" --steps {}", options.steps));
    }
    if !options.moves {
        flags.push_str(" --no-moves");
    }
    if !options.restores {
        flags.push_str(" --no-restores");
    }
    flags
}

fn main() -> ExitCode {
    let mut seeds: u64 = 100;
    let mut from: u64 = 1;
    let mut one: Option<u64> = None;
    let mut options = Options::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = || args.next().and_then(|v| v.parse::<u64>().ok());
        match arg.as_str() {
            "--seeds" => match number() {
                Some(n) => seeds = n,
                None => return usage(),
            },
            "--from" => match number() {
                Some(n) => from = n,
                None => return usage(),
            },
            "--seed" => match number() {
                Some(n) => one = Some(n),
                None => return usage(),
            },
            "--steps" => match number().and_then(|n| u32::try_from(n).ok()) {
                Some(n) => options.steps = n,
                None => return usage(),
            },
            "--verbose" => options.verbose = true,
            "--no-moves" => options.moves = false,
            "--no-restores" => options.restores = false,
            _ => return usage(),
        }
    }
    let list: Vec<u64> = match one {
        Some(seed) => vec![seed],
        None => (from..from.saturating_add(seeds)).collect(),
    };
    let started = std::time::Instant::now();
    let mut faults: BTreeMap<Fault, u64> = BTreeMap::new();
    let mut failed = Vec::new();
    let mut actions = 0;
    for (done, seed) in list.iter().enumerate() {
        let outcome = run_seed(*seed, options);
        for (fault, n) in &outcome.faults {
            *faults.entry(*fault).or_default() += n;
        }
        actions += outcome.actions;
        if one.is_some() {
            println!("seed {seed}: digest {:016x}", outcome.digest);
        }
        if !outcome.passed() {
            println!("seed {seed} FAILED:");
            for failure in &outcome.failures {
                println!("  {failure}");
            }
            println!(
                "  replay: cargo run -p pocketbook-tests --release --bin simulate -- --seed {seed}{} --verbose",
                replay_flags(&options)
            );
            failed.push(*seed);
        }
        if (done + 1) % 500 == 0 {
            eprintln!("{} seeds run, {} failed", done + 1, failed.len());
        }
    }
    println!(
        "{} seeds, {} officer actions, {} failed, {:.1} s",
        list.len(),
        actions,
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    println!("faults injected:");
    for fault in Fault::ALL {
        println!("  {fault:?}: {}", faults.get(&fault).copied().unwrap_or(0));
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        println!("failing seeds: {failed:?}");
        ExitCode::FAILURE
    }
}
