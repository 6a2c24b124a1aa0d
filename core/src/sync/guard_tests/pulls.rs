//! Pulls that must not stall or drag the clock, through `apply_page`.

use super::*;

#[test]
fn undecodable_snapshots_are_held_raw_the_rest_applies_and_an_upgrade_reads_them() {
    let d = device();
    let p = person(&d.book);
    let now = pocketbook_protocol::unix_millis(Utc::now());
    let good = Uuid::from_u128(0x600d);
    let mut wrong_type = visit_fields(p, "typed wrongly");
    wrong_type.insert("start".into(), json!(42));
    let wrong = Uuid::from_u128(0xbad);
    let mut homework = Map::new();
    homework.insert("happened_at".into(), json!("2026-11-30T10:00:00Z"));
    homework.insert("risk".into(), json!("high"));
    homework.insert("team_id".into(), json!(TEAM));
    let unknown_kind = Uuid::from_u128(0x404);
    let pulled = pull(
        &d.book,
        vec![
            snapshot(Entity::Visit, wrong, wrong_type, now),
            snapshot(
                Entity::Unknown("homework".into()),
                unknown_kind,
                homework,
                now,
            ),
            snapshot(Entity::Visit, good, visit_fields(p, "fine"), now),
        ],
    );
    assert_eq!(pulled.unreadable, 2);
    let visits = d.book.visits(&VisitFilter::default()).unwrap();
    assert_eq!(visits.iter().map(|v| v.id).collect::<Vec<_>>(), [good]);
    assert_eq!(
        d.book.store.read(store::cursors).unwrap()["team"],
        9,
        "the cursor moved on"
    );
    let held = d.book.unreadable_records().unwrap();
    let homework = held.iter().find(|h| h.id == unknown_kind).unwrap();
    assert_eq!(homework.entity, "homework");
    assert_eq!(homework.risk.as_deref(), Some("high"));
    assert_eq!(homework.date.as_deref(), Some("2026-11-30T10:00:00Z"));
    assert!(held.iter().any(|h| h.id == wrong && h.entity == "visit"));

    // A remove drops a held record.
    pull(
        &d.book,
        vec![PullEntry::Remove {
            bucket: "team".into(),
            entity: Entity::Unknown("homework".into()),
            id: unknown_kind,
        }],
    );
    assert!(d
        .book
        .unreadable_records()
        .unwrap()
        .iter()
        .all(|h| h.id != unknown_kind));

    // A held row of a shape this build reads (as an upgraded app finds an older one's) is
    // read on open and becomes an ordinary record.
    let later = Uuid::from_u128(0x1a7e);
    let raw =
        crate::store::open_connection(&d.path, &StoreKey::from_bytes(&[7u8; 32]).unwrap()).unwrap();
    let versions = crate::store::encode_versions(
        &visit_fields(p, "readable now")
            .keys()
            .map(|k| (k.clone(), v(now)))
            .collect(),
    )
    .unwrap();
    raw.execute(
        "INSERT INTO unreadable (id, entity, deleted, data, versions, held_at)
         VALUES (?1, 'visit', 0, ?2, ?3, '2026-01-01T00:00:00Z')",
        rusqlite::params![
            later.to_string(),
            serde_json::to_string(&visit_fields(p, "readable now")).unwrap(),
            versions
        ],
    )
    .unwrap();
    drop(raw);
    let Device { _dir, path, book } = d;
    drop(book);
    let book = open(&path);
    assert_eq!(book.visit(later).unwrap().narrative, "readable now");
    let held = book.unreadable_records().unwrap();
    assert_eq!(held.iter().map(|h| h.id).collect::<Vec<_>>(), [wrong]);
}

#[test]
fn a_stored_row_that_no_longer_decodes_is_set_aside_not_failing_the_list() {
    let d = device();
    let p = person(&d.book);
    let a = d.book.record_visit(visit_draft(p, "a")).unwrap();
    let b = d.book.record_visit(visit_draft(p, "b")).unwrap();
    d.book
        .store
        .read(|c| {
            c.execute(
                "UPDATE records SET data = '{\"start\": 7}' WHERE id = ?1",
                [b.id.to_string()],
            )?;
            Ok(())
        })
        .unwrap();
    let listed = d.book.visits(&VisitFilter::default()).unwrap();
    assert_eq!(listed.iter().map(|v| v.id).collect::<Vec<_>>(), [a.id]);
    let held = d.book.unreadable_records().unwrap();
    assert_eq!(held.iter().map(|h| h.id).collect::<Vec<_>>(), [b.id]);
    // The chronology reads the same way.
    assert_eq!(d.book.visits(&VisitFilter::default()).unwrap().len(), 1);
}

#[test]
fn a_version_a_year_ahead_applies_but_never_stops_the_device_writing() {
    let d = device();
    let p = person(&d.book);
    let year_ahead = pocketbook_protocol::unix_millis(Utc::now() + Duration::days(365));
    let future = Uuid::from_u128(0xf0);
    let pulled = pull(
        &d.book,
        vec![snapshot(
            Entity::Visit,
            future,
            visit_fields(p, "from the future"),
            year_ahead,
        )],
    );
    assert_eq!(pulled.unreadable, 0);
    assert_eq!(d.book.visit(future).unwrap().narrative, "from the future");
    let clock = d
        .book
        .store
        .read(|c| Ok(store::DeviceState::load(c)?.clock.last()))
        .unwrap();
    let ceiling =
        pocketbook_protocol::unix_millis(Utc::now()) + pocketbook_protocol::wire::MAX_CLOCK_SKEW_MS;
    assert!(clock.millis <= ceiling, "the clock was not dragged ahead");
    let next = d.book.record_visit(visit_draft(p, "today")).unwrap();
    let stamped = d.book.field_versions(Entity::Visit, next.id).unwrap()["narrative"];
    assert!(stamped.hlc.millis <= ceiling);
    assert_eq!(d.book.visits(&VisitFilter::default()).unwrap().len(), 2);
}

#[test]
fn an_edit_of_a_field_pulled_past_the_clock_ceiling_is_stamped_above_it() {
    // Seed 1117: a phone whose clock went two hours back edited a narrative pulled at the
    // true time. Stamped by its own clock, the edit lay below its base.
    let d = device();
    let p = person(&d.book);
    let ahead = pocketbook_protocol::unix_millis(Utc::now() + Duration::hours(2));
    let id = Uuid::from_u128(0xa4ead);
    pull(
        &d.book,
        vec![snapshot(
            Entity::Visit,
            id,
            visit_fields(p, "theirs"),
            ahead,
        )],
    );
    let base = d.book.field_versions(Entity::Visit, id).unwrap()["narrative"];
    assert_eq!(base.hlc.millis, ahead);
    let before = d
        .book
        .store
        .read(|c| Ok(store::DeviceState::load(c)?.clock.last()))
        .unwrap();
    assert!(before < base.hlc, "the pulled version was not adopted");
    d.book
        .update_visit(
            id,
            VisitUpdate {
                narrative: Some("mine".into()),
                ..VisitUpdate::default()
            },
        )
        .unwrap();
    let stamped = d.book.field_versions(Entity::Visit, id).unwrap()["narrative"];
    assert!(stamped > base, "{stamped} is not above its base {base}");
    let queued = d.book.store.read(store::outbox).unwrap();
    let edit = queued.iter().find(|m| m.record_id == id).unwrap();
    assert_eq!(edit.version, stamped);
    assert_eq!(edit.base["narrative"], Some(base));
}
