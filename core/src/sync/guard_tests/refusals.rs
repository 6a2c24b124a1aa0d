//! Refusals and held `server_too_old` changes, through `apply_answer`.

use super::*;

#[test]
fn a_refused_edit_leaves_the_view_and_is_kept_to_correct_and_resubmit() {
    let d = device();
    let p = person(&d.book);
    let v = d.book.record_visit(visit_draft(p, "first")).unwrap();
    answer(&d.book, |_| None, None);
    d.book.update_visit(v.id, narrate("second")).unwrap();
    let edit = outbox(&d.book)[0].seq;
    let tally = answer(
        &d.book,
        |s| (s == edit).then(|| refused(RejectCode::InvalidRecord)),
        None,
    );
    assert_eq!(tally.rejected, 1);
    assert_eq!(d.book.visit(v.id).unwrap().narrative, "first");
    let kept = refusals(&d.book, false);
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].seq, edit);
    assert_eq!(kept[0].code, "invalid_record");
    assert_eq!(kept[0].fields["narrative"], json!("second"));

    // Corrected and resubmitted: a new change with the next seq, checked like any edit.
    let too_long = BTreeMap::from([("narrative".to_string(), json!("x".repeat(20_001)))]);
    assert!(matches!(
        d.book.resubmit_refused(edit, too_long),
        Err(crate::Error::Invalid(_))
    ));
    let fixed = BTreeMap::from([("narrative".to_string(), json!("third"))]);
    d.book.resubmit_refused(edit, fixed).unwrap();
    assert_eq!(d.book.visit(v.id).unwrap().narrative, "third");
    let pending = outbox(&d.book);
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].seq, edit + 1);
    assert_eq!(pending[0].fields["narrative"], json!("third"));
    assert!(refusals(&d.book, false).is_empty());
    assert!(matches!(
        d.book.discard_refused(edit),
        Err(crate::Error::RefusalNotFound)
    ));
}

#[test]
fn a_refused_edit_under_a_later_pending_edit_keeps_the_later_one() {
    let d = device();
    let p = person(&d.book);
    let v = d.book.record_visit(visit_draft(p, "first")).unwrap();
    answer(&d.book, |_| None, None);
    d.book
        .update_visit(
            v.id,
            VisitUpdate {
                place: Some("School".into()),
                ..VisitUpdate::default()
            },
        )
        .unwrap();
    d.book.update_visit(v.id, narrate("second")).unwrap();
    let [place_edit, narrative_edit] = [outbox(&d.book)[0].seq, outbox(&d.book)[1].seq];
    // Only the first edit is sent and refused; the second waits in the outbox.
    let sent = vec![outbox(&d.book)[0].clone()];
    let reply = PushResponse {
        results: vec![PushResult {
            seq: place_edit,
            outcome: refused(RejectCode::Forbidden),
        }],
        acked_seq: place_edit,
        audit_acked_seq: 0,
        resolved: vec![],
        model_generation: None,
        server_time_ms: 0,
    };
    d.book
        .store
        .write(|tx| apply_answer(tx, &sent, &reply, Utc::now()))
        .unwrap();
    let shown = d.book.visit(v.id).unwrap();
    assert_eq!(shown.place, "Home", "the refused edit is gone");
    assert_eq!(shown.narrative, "second", "the pending edit stays");
    assert_eq!(outbox(&d.book)[0].seq, narrative_edit);
}

#[test]
fn a_refused_create_leaves_no_record_and_can_be_discarded() {
    let d = device();
    let p = person(&d.book);
    answer(&d.book, |_| None, None);
    let v = d.book.record_visit(visit_draft(p, "first")).unwrap();
    let create = outbox(&d.book)[0].seq;
    answer(
        &d.book,
        |_| Some(refused(RejectCode::ForbiddenBucket)),
        None,
    );
    assert!(matches!(
        d.book.visit(v.id),
        Err(crate::Error::NotFound { .. })
    ));
    assert!(d.book.visits(&VisitFilter::default()).unwrap().is_empty());
    assert_eq!(
        refusals(&d.book, false)[0].fields["narrative"],
        json!("first")
    );
    d.book.discard_refused(create).unwrap();
    assert!(refusals(&d.book, false).is_empty());
    assert!(outbox(&d.book).is_empty());
}

#[test]
fn server_too_old_is_held_in_the_view_and_resent_with_the_next_seq_after_an_upgrade() {
    let d = device();
    let p = person(&d.book);
    let v = d.book.record_visit(visit_draft(p, "first")).unwrap();
    answer(&d.book, |_| None, Some(1));
    d.book.update_visit(v.id, narrate("second")).unwrap();
    let edit = outbox(&d.book)[0].clone();
    let tally = answer(
        &d.book,
        |_| Some(refused(RejectCode::ServerTooOld)),
        Some(1),
    );
    assert_eq!((tally.rejected, tally.held), (0, 1));
    assert!(outbox(&d.book).is_empty());
    assert!(
        refusals(&d.book, false).is_empty(),
        "not the officer's to fix"
    );
    assert_eq!(refusals(&d.book, true)[0].seq, edit.seq);
    assert_eq!(d.book.visit(v.id).unwrap().narrative, "second");

    // A pull of the record meanwhile still shows the held edit over the server's state.
    let mut server_fields: Map<String, Value> = match serde_json::to_value(&v).unwrap() {
        Value::Object(m) => m,
        _ => unreachable!(),
    };
    server_fields.remove("id");
    let old = d.book.field_versions(Entity::Visit, v.id).unwrap()["place"];
    let snapshot = PullEntry::Snapshot {
        bucket: "team".into(),
        entity: Entity::Visit,
        id: v.id,
        versions: server_fields.keys().map(|k| (k.clone(), old)).collect(),
        fields: server_fields,
        deleted: false,
    };
    pull(&d.book, vec![snapshot]);
    assert_eq!(d.book.visit(v.id).unwrap().narrative, "second");

    // An answer of the same generation releases nothing; a higher one resends it last, with
    // the next seq, its version and bases unchanged.
    answer(&d.book, |_| None, Some(1));
    assert!(outbox(&d.book).is_empty());
    answer(&d.book, |_| None, Some(2));
    let resent = outbox(&d.book);
    assert_eq!(resent.len(), 1);
    assert_eq!(resent[0].seq, edit.seq + 1);
    assert_eq!(
        (resent[0].version, &resent[0].base, &resent[0].fields),
        (edit.version, &edit.base, &edit.fields)
    );
    assert!(refusals(&d.book, true).is_empty());
    d.book.update_visit(v.id, narrate("third")).unwrap();
    assert_eq!(outbox(&d.book)[1].seq, edit.seq + 2, "no gap");
}
