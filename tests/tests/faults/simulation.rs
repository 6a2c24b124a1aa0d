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

/// A seed found before team moves and restores were on: run as it was found.
fn as_found(seed: u64) -> Outcome {
    run_with(
        seed,
        Options {
            moves: false,
            restores: false,
            ..Options::default()
        },
    )
}

/// A seed with the server or phones restored from backups, as its plan says (no team moves).
fn with_restores(seed: u64) -> Outcome {
    run_with(
        seed,
        Options {
            moves: false,
            ..Options::default()
        },
    )
}

/// A seed with an admin moving an officer between teams (no restores).
fn with_moves(seed: u64) -> Outcome {
    run_with(
        seed,
        Options {
            restores: false,
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
        "seed {} failed: {:#?}\nreplay: cargo run -p pocketbook-tests --release --bin simulate -- --seed {} --verbose (plus --no-moves or --no-restores where this test turns them off)",
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

/// Seeds 1 and 2: phones put back to copies of their stores (forks; two phones in seed 2):
/// each is detected, the phone enrols its new identity with a fresh code, nothing is lost
/// that reached the server or doubled.
#[test]
fn seeds_1_2_phones_restored_from_their_backups_fork_and_lose_nothing() {
    for seed in [1, 2] {
        let outcome = with_restores(seed);
        assert!(outcome
            .faults
            .contains_key(&pocketbook_tests::sim::Fault::DeviceRestore));
        assert_passes(&outcome);
    }
}

/// Seeds 41, 88 and 119 (server restores): a resolution made since the backup was lost (the
/// device held the conflict resolved, the restored server open), and a conflict the restored
/// server made again against another winner kept its old winner on the device. A device now
/// tells the server again a resolution it holds when a pull sends the conflict open, and
/// keeps each conflict as the server sends it.
#[test]
fn seeds_41_88_119_a_server_restore_loses_no_resolution() {
    for seed in [41, 88, 119] {
        assert_passes(&with_restores(seed));
    }
}

/// Seed 99 (a phone restore): the forked phone's enrolment of its new id was delivered
/// twice; the first enrolled it, the second's `code used` was the answer the phone got, and
/// every later code met `device_taken`. An enrolment whose token was never used may now be
/// taken again with a code of the same officer (`tests/tests/trust/takeover.rs`).
#[test]
fn seed_99_a_forked_phone_whose_enrolment_answer_was_lost_enrols() {
    assert_passes(&with_restores(99));
}

/// Seed 268 (a phone restore): the changes the server held as sent at a fork were all taken
/// as accepted, a refused create among them; and the server's high-water mark (the other
/// copy's) acknowledged a change only this copy made, which was then lost. The phone now asks
/// the server for the outcomes of just the held changes, and takes nothing above them as
/// acknowledged.
#[test]
fn seed_268_a_fork_learns_what_the_server_refused_and_loses_nothing_above_it() {
    assert_passes(&with_restores(268));
}

/// Seeds 38, 68, 73 and 108 (team moves): a phone kept a record of its officer's old team
/// that it had created and never pulled back (the create's answer lost before the move): no
/// bucket was noted for it, so dropping the old team's bucket missed it. A dropped bucket now
/// takes the phone's own unplaced records its team and marking put in it.
#[test]
fn seeds_38_68_73_108_a_moved_officer_keeps_nothing_of_the_old_team() {
    for seed in [38, 68, 73, 108] {
        assert_passes(&with_moves(seed));
    }
}

/// Seeds 41, 165, 186 and 200 (a team move, then a server restore): the moved officer's phone
/// reconciled with the restored server, which dropped every cursor, so the old team's bucket
/// was no longer known as held and never dropped: the phone kept its records. Every bucket
/// the phone holds records of now counts as held.
#[test]
fn seeds_41_165_186_200_a_restore_after_a_move_drops_the_old_team() {
    for seed in [41, 165, 186, 200] {
        assert_passes(&run(seed));
    }
}

/// Seed 61 (a team move between the server's backup and its restore): only the moved
/// officer's phone held her record, and the restored server refused its restore since she no
/// longer saw the old team. A restore is now taken for what the officer could see at the
/// backup or since (`faults/restore_lost.rs` attacks it).
#[test]
fn seed_61_a_move_between_backup_and_restore_loses_nothing() {
    assert_passes(&run(61));
}

/// Seed 294: records the server took after its backup that no phone held at its restore (a
/// moved officer's phone had let them go, no colleague had pulled them) have no copy left
/// anywhere: the ledger leaves out exactly those, and still finds everything else.
#[test]
fn seed_294_only_what_no_phone_held_at_a_restore_is_left_out() {
    assert_passes(&run(294));
}

/// Seeds 1117, 1565 and 924 (found in the full run): a phone whose clock had gone back hours
/// edited a field it had pulled at the true time. Its clock had not taken that version in (it
/// lay past the clock's ceiling), so the edit was stamped below its base, and the server's
/// version of the field went down. An edit is now stamped above its base, and the server
/// merges one stamped below as concurrent.
#[test]
fn seeds_924_1117_1565_a_field_version_never_goes_down() {
    for seed in [924, 1117, 1565] {
        assert_passes(&run(seed));
    }
}

/// Seed 904 (checker): a phone put back to its backup forgets what its last identity sent and
/// the server never took; the ledger counted those sendings acknowledged once they were no
/// longer in the restored outbox.
#[test]
fn seed_904_a_restored_phone_forgets_what_the_server_never_took() {
    assert_passes(&run(904));
}

/// Seed 1131: a concern an officer had pulled became sensitive while the server was being
/// restored. Her phone's restore of it was refused (she can no longer see it), and the phone
/// kept the copy for ever. A refused restore of a record the reconciling pull did not return
/// now takes the phone's copy away (the server keeps the refused one in quarantine).
#[test]
fn seed_1131_a_refused_restore_of_an_unserved_record_leaves_the_phone() {
    assert_passes(&run(1131));
}

/// Seed 1282: a restored conflict on a concern's risk was refused as "did not lose": a higher
/// risk beats a later version, so the winner was the older version. Whether a restored value
/// lost is now judged by the field's own rule.
#[test]
fn seed_1282_a_lost_risk_conflict_is_restored() {
    assert_passes(&run(1282));
}

/// Seeds 2037, 3165, 4498 (the checker): an officer's edit reached the server after its
/// backup, then she was moved to another team and her phone rightly let the record go; no
/// colleague had pulled the edit, so the restore left no copy of it anywhere. The ledger now also leaves out field
/// edits no phone and no backup held at the restore, as it does whole records (seed 294).
#[test]
fn seeds_2037_3165_4498_an_edit_no_phone_held_at_a_restore_is_left_out() {
    for seed in [2037, 3165, 4498] {
        assert_passes(&run(seed));
    }
}

/// Seed 2907: after a server restore one of an officer's phones raised a colleague's concern
/// to sensitive; her other phone's restore of a status it had set before the restore was then
/// refused, since she no longer sees the concern. A restore is now judged on where the record
/// stood when the restore window opened (`restore_places`), for its content only.
#[test]
fn seed_2907_a_record_raised_after_the_restore_takes_back_an_earlier_edit() {
    assert_passes(&run(2907));
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
