//! A resync after `410 resync_required` (issue 12), driven through `apply_page` with hand-made
//! pages: what the pass was not sent goes after its last page unless an edit of it is
//! pending; nothing is proposed to the server; and a pass a crash interrupted is resumed by
//! the next sync from the store.

use super::*;

fn page(entries: Vec<PullEntry>, cursor: u64, remaining: u64) -> PullResponse {
    PullResponse {
        epoch: "e1".into(),
        buckets: vec!["team".into()],
        entries,
        cursors: BTreeMap::from([("team".to_string(), cursor)]),
        remaining,
        reference: None,
    }
}

fn apply(book: &Pocketbook, page: PullResponse) -> store::Pulled {
    book.store
        .write(|tx| apply_page(tx, page.try_into()?, Utc::now()))
        .unwrap()
}

fn held(book: &Pocketbook) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = book
        .visits(&VisitFilter::default())
        .unwrap()
        .into_iter()
        .map(|v| v.id)
        .collect();
    ids.sort();
    ids
}

#[test]
fn a_resync_interrupted_by_a_crash_is_resumed_and_sweeps_only_what_no_edit_names() {
    let d = device();
    let p = person(&d.book);
    answer(&d.book, |_| None, None);
    d.book
        .store
        .write(|tx| store::save_enrolment(tx, Utc::now(), "http://s", "t", Uuid::nil(), 86_400))
        .unwrap();
    let (kept, gone, edited) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
    let snap = |id| snapshot(Entity::Visit, id, visit_fields(p, "theirs"), 10);
    apply(
        &d.book,
        page(vec![snap(kept), snap(gone), snap(edited)], 30, 0),
    );
    assert_eq!(held(&d.book), [kept, gone, edited]);
    d.book.update_visit(edited, narrate("my edit")).unwrap();
    let outbox_before = outbox(&d.book);

    // The server answers 410 for the team bucket: the sync starts a pass from 0.
    d.book
        .store
        .write(|tx| store::resync::begin(tx, &["team".to_string()]))
        .unwrap();
    assert_eq!(d.book.store.read(store::cursors).unwrap()["team"], 0);
    // Its first page brings `kept`; then the device dies before the next page.
    apply(&d.book, page(vec![snap(kept)], 12, 5));
    assert_eq!(
        held(&d.book),
        [kept, gone, edited],
        "no sweep before the last page"
    );
    let path = d.path.clone();
    let Device { _dir, book, .. } = d;
    drop(book);
    let book = open(&path);

    // The next sync goes on from where the pass stopped and sweeps after its last page.
    let resyncing = book.store.read(store::resync::resyncing).unwrap();
    assert_eq!(resyncing.into_iter().collect::<Vec<_>>(), ["team"]);
    assert_eq!(book.store.read(store::cursors).unwrap()["team"], 12);
    let pulled = apply(&book, page(vec![], 40, 0));
    assert_eq!(
        pulled.removed, 2,
        "`gone` dropped; `edited` left the bucket"
    );
    assert_eq!(
        held(&book),
        [kept, edited],
        "the pending edit keeps its record"
    );
    assert!(book
        .store
        .read(store::resync::resyncing)
        .unwrap()
        .is_empty());
    assert_eq!(
        outbox(&book),
        outbox_before,
        "nothing proposed to the server"
    );

    // Once the edit is answered (refused record_deleted, kept in the refused list), the
    // record the server no longer holds goes.
    answer(&book, |_| Some(refused(RejectCode::RecordDeleted)), None);
    assert_eq!(held(&book), [kept]);
    let refusals = refusals(&book, false);
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].record_id, edited);
    assert_eq!(refusals[0].code, "record_deleted");
}
