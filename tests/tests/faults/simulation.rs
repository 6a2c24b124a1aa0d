//! The seeded fault simulation's slice for the test command: a run replays exactly from its
//! seed, a few hundred seeds hold every invariant, and every seed that once failed is a named
//! regression test. The full run is `cargo run -p pocketbook-tests --release --bin simulate --
//! --seeds 10000` (RELIABILITY.md).

use std::sync::mpsc;
use std::time::Duration;

use pocketbook_tests::sim::{run_seed, Options, Outcome};

/// Seeds each slice test runs (two slices, so both cores work).
const SLICE: u64 = 50;

/// Runs `seed` on its own thread; a run that has not ended after a generous deadline (a hang,
/// as seed 11 once was) fails instead of blocking the suite.
fn run(seed: u64) -> Outcome {
    run_with(seed, Options::default())
}

/// A seed as it was found: without restores (the default).
fn as_found(seed: u64) -> Outcome {
    run(seed)
}

/// A seed with the server or phones restored from backups, as its plan says.
fn with_restores(seed: u64) -> Outcome {
    run_with(
        seed,
        Options {
            restores: true,
            ..Options::default()
        },
    )
}

fn run_with(seed: u64, options: Options) -> Outcome {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(run_seed(seed, options));
    });
    rx.recv_timeout(Duration::from_secs(300))
        .unwrap_or_else(|_| panic!("seed {seed} did not finish: a hang"))
}

fn assert_passes(outcome: &Outcome) {
    assert!(
        outcome.passed(),
        "seed {} failed: {:#?}\nreplay: cargo run -p pocketbook-tests --release --bin simulate -- --seed {} --verbose",
        outcome.seed,
        outcome.failures,
        outcome.seed
    );
}

fn slice(seeds: std::ops::RangeInclusive<u64>) {
    let mut failed = Vec::new();
    for seed in seeds {
        let outcome = run(seed);
        if !outcome.passed() {
            failed.push((seed, outcome.failures));
        }
    }
    assert!(
        failed.is_empty(),
        "failing seeds (replay each with `cargo run -p pocketbook-tests --release --bin simulate -- --seed S --verbose`): {failed:#?}"
    );
}

#[test]
fn the_same_seed_replays_the_same_trace() {
    let first = run(3);
    let again = run(3);
    assert_eq!(first.digest, again.digest, "seed 3 is not deterministic");
    assert_eq!(first.faults, again.faults);
    assert_ne!(
        first.digest,
        run(4).digest,
        "different seeds ran the same trace"
    );
    assert!(
        first.faults.values().sum::<u64>() > 0,
        "a run injected no fault"
    );
}

#[test]
fn a_slice_of_seeds_holds_every_invariant() {
    slice(1..=SLICE);
}

#[test]
fn a_second_slice_of_seeds_holds_every_invariant() {
    slice(SLICE + 1..=2 * SLICE);
}

/// Seed 11: an officer resolved a conflict the server's table does not let them resolve; the
/// server kept it open without acknowledging, and the device's sync pushed the resolution
/// again for ever (a hang). Now the device reopens it.
#[test]
fn seed_11_a_refused_resolution_is_reopened_not_resent_for_ever() {
    assert_passes(&as_found(11));
}

/// Seed 19: a push's answer was lost after the server committed, then a `clock_skew` answer
/// re-stamped the unacknowledged mutations and they were resent with other versions; the
/// server holds the first sending. The ledger accepts either sending.
#[test]
fn seed_19_a_restamp_after_a_lost_answer_loses_nothing() {
    assert_passes(&as_found(19));
}

/// Seed 7: a triage entry the server refused was still in the device's whole triage history
/// when its next triage was sent; the set merges by the delta, so the refused entry stays out.
#[test]
fn seed_7_a_refused_triage_entry_stays_out_of_the_merged_history() {
    assert_passes(&as_found(7));
}

/// Seed 42: a create was refused (its device clock 3 h ahead) and the answer lost; the resend
/// was answered `applied` unread, so the device kept a visit the server never took and the
/// officer never saw the refusal. The server now answers a resend with the outcome it stored.
#[test]
fn seed_42_a_refusal_whose_answer_was_lost_stays_a_refusal() {
    assert_passes(&as_found(42));
}

/// Seeds 51 and 226: a device ended without a visit the server serves, a pull page having
/// ended inside a change (a record and the conflict its merge made share one change number).
#[test]
fn seeds_51_and_226_a_page_never_ends_inside_a_change() {
    assert_passes(&as_found(51));
    assert_passes(&as_found(226));
}

/// Seeds 231 and 264: a device held records its buckets on the server lacked (refusals
/// whose answers were lost, answered `applied` on resend; as seed 42).
#[test]
fn seeds_231_and_264_a_device_holds_nothing_the_server_refused() {
    assert_passes(&as_found(231));
    assert_passes(&as_found(264));
}

/// Seeds 4, 34 and 37 (server restores): the restored server lacked the conflicts made since
/// its backup, which the devices still showed. A reconciling device now carries each open
/// conflict the server did not return back with its record's restore, and the server opens it
/// again if it is one the server made and its value really lost. (Seed 34 also showed the
/// ledger reading a restore at its highest version instead of each field's own.)
#[test]
fn seeds_4_34_37_a_server_restore_brings_back_the_open_conflicts() {
    assert_passes(&with_restores(4));
    assert_passes(&with_restores(34));
    assert_passes(&with_restores(37));
}

/// Seeds 16 and 19 (server restores): changes refused after the backup lost their quarantine
/// rows in the restore. A reconciling device now sends its refusals after the server's
/// position again, and the server quarantines each again (once).
#[test]
fn seeds_16_19_a_server_restore_brings_back_the_quarantine() {
    assert_passes(&with_restores(16));
    assert_passes(&with_restores(19));
}

/// Seeds 2 and 3: phones put back to copies of their stores (forks, one phone twice in seed
/// 2): each is detected, the phone enrols its new identity with a fresh code, nothing is lost
/// that reached the server or doubled.
#[test]
fn seeds_2_3_phones_restored_from_their_backups_fork_and_lose_nothing() {
    for seed in [2, 3] {
        let outcome = with_restores(seed);
        assert!(outcome
            .faults
            .contains_key(&pocketbook_tests::sim::Fault::DeviceRestore));
        assert_passes(&outcome);
    }
}

/// The same seed with restores replays the same trace (the restored server's epoch and the
/// phones' copies come from the seed too).
#[test]
fn a_seed_with_restores_replays_the_same_trace() {
    let (first, again) = (with_restores(4), with_restores(4));
    assert_eq!(
        first.digest, again.digest,
        "seed 4 with restores is not deterministic"
    );
    assert!(first
        .faults
        .contains_key(&pocketbook_tests::sim::Fault::ServerRestore));
}
