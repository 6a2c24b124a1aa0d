//! The server's logs carry no personal data: a whole officer flow with distinctive names and
//! text runs against an in-process server while every log line, at debug level, is captured.

use std::io::Write;
use std::sync::{Arc, Mutex};

use pocketbook_core::model::{VisitFilter, VisitUpdate};
use pocketbook_protocol::Role;
use pocketbook_tests::server::TestServer;
use pocketbook_tests::{concern_draft, person_draft, visit_draft};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn server_logs_hold_no_personal_data() {
    let captured = Captured::default();
    let sink = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .init();

    let server = TestServer::start().await;
    let alice = server
        .officer("Alice Quaternion", Role::Officer, &[server.team_a])
        .await;
    let sue = server
        .officer("Sue Zephyrine", Role::Supervisor, &[server.team_a])
        .await;
    let a = server.device(alice.id).await;
    let s = server.device(sue.id).await;
    let mut draft = person_draft();
    draft.first_name = "Xanthippe".into();
    draft.last_name = "Worthingtonshire".into();
    draft.establishment_id = Some(server.school);
    let child = a.book.add_young_person(draft).unwrap().id;
    let mut visit = visit_draft(child, 2);
    visit.narrative = "Marmalade-coloured bruise disclosed near the canal".into();
    let visit = a.book.record_visit(visit).unwrap();
    let mut concern = concern_draft(child, 1);
    concern.assigned_lead = None;
    concern.childs_words = Some("Uncle Bartholomew hurts me".into());
    a.book.raise_concern(concern).unwrap();
    a.book.sync().await.unwrap();
    s.book.sync().await.unwrap();
    s.book
        .update_visit(
            visit.id,
            VisitUpdate {
                narrative: Some("Quokka follow-up planned".into()),
                ..Default::default()
            },
        )
        .unwrap();
    s.book.sync().await.unwrap();
    a.book.sync().await.unwrap();
    assert_eq!(a.book.visits(&VisitFilter::default()).unwrap().len(), 1);

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("push") && logs.contains("pull"),
        "the server did log:\n{logs}"
    );
    for secret in [
        "Quaternion",
        "Zephyrine",
        "Xanthippe",
        "Worthingtonshire",
        "Marmalade",
        "Bartholomew",
        "Quokka",
        "Northfield Academy",
    ] {
        assert!(!logs.contains(secret), "{secret} appears in the server log");
    }
}
