//! Scope follows the record (issue 11, item 3), read from raw pull bodies: when a concern is
//! raised to OFFICIAL-SENSITIVE its addenda, linked actions and conflicts leave the team bucket
//! with it (a `remove` entry each, and a colleague pulling the team bucket from 0 sees none of
//! them, and nothing of theirs is served from 0), and enter the sensitive bucket; when its author leaves the team, the author's bucket
//! lets go of the team's sensitive records.

use pocketbook_core::model::{
    ActionDraft, ActionKind, ConcernStatus, ConcernTriageUpdate, Marking,
};
use pocketbook_protocol::wire::{team_bucket, EnrollRequest, EnrollResponse, PROTOCOL_HEADER};
use pocketbook_protocol::Role;
use pocketbook_sync_server::store::Store;
use pocketbook_tests::server::TestServer;
use pocketbook_tests::{concern_draft, person_draft};
use serde_json::{json, Value};
use uuid::Uuid;

/// A device that speaks raw HTTP with a real token, to read pull bodies as the server sent them.
struct RawDevice {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl RawDevice {
    async fn enrolled(server: &TestServer, officer: Uuid) -> RawDevice {
        let http = pocketbook_tests::http_client();
        let answer: EnrollResponse = http
            .post(format!("{}/v1/enroll", server.url))
            .header(PROTOCOL_HEADER, "1")
            .json(&EnrollRequest {
                code: server.code(officer).await,
                device_id: Uuid::now_v7(),
                device_name: "raw reader".into(),
                token: None,
            })
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        RawDevice {
            http,
            url: server.url.clone(),
            token: answer.token,
        }
    }

    /// Pulls every page from `from` (a previous answer whose epoch and cursors to go on from;
    /// `None`: from 0), returning every entry and the last answer.
    async fn pull(&self, from: Option<&Value>) -> (Vec<Value>, Value) {
        let mut body = match from {
            Some(last) => json!({ "epoch": last["epoch"], "cursors": last["cursors"] }),
            None => json!({ "cursors": {} }),
        };
        let mut entries = Vec::new();
        loop {
            let answer: Value = self
                .http
                .post(format!("{}/v1/sync/pull", self.url))
                .header(PROTOCOL_HEADER, "1")
                .bearer_auth(&self.token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            entries.extend(answer["entries"].as_array().cloned().unwrap_or_default());
            body = json!({ "epoch": answer["epoch"], "cursors": answer["cursors"] });
            if answer["remaining"].as_u64() == Some(0) {
                return (entries, answer);
            }
        }
    }
}

/// The entries of type `kind` naming `id` (a record id, or a conflict's record id).
fn entries_for<'a>(entries: &'a [Value], kind: &str, id: Uuid) -> Vec<&'a Value> {
    let id = id.to_string();
    entries
        .iter()
        .filter(|e| e["type"] == kind)
        .filter(|e| e["id"] == id.as_str() || e["conflict"]["record_id"] == id.as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_raised_concern_takes_its_addenda_actions_and_conflicts_out_of_the_team_bucket() {
    let server = TestServer::start().await;
    let team = server.team_a;
    let author = server.officer("Author", Role::Officer, &[team]).await;
    let sup = server.officer("Sup", Role::Supervisor, &[team]).await;
    let lead = server
        .officer("Lead", Role::SafeguardingLead, &[team])
        .await;
    let peer = server.officer("Peer", Role::Officer, &[team]).await;

    // The author raises an OFFICIAL concern with an addendum and a linked action.
    let phone = server.device(author.id).await;
    let mut person = person_draft();
    person.establishment_id = Some(server.school);
    let child = phone.book.add_young_person(person).unwrap().id;
    let mut draft = concern_draft(child, 3);
    draft.assigned_lead = None;
    draft.marking = Some(Marking::Official);
    let concern = phone.book.raise_concern(draft).unwrap().id;
    let addendum = phone
        .book
        .add_addendum(concern, "School confirmed the dates.")
        .unwrap()
        .id;
    let action = phone
        .book
        .add_action(ActionDraft {
            kind: ActionKind::Mash,
            young_person_id: child,
            concern_id: Some(concern),
            recipient: "MASH".into(),
            justification: "Ongoing neglect.".into(),
            due: None,
            marking: Some(Marking::Official),
        })
        .unwrap()
        .id;
    phone.book.sync().await.unwrap();

    // Two supervisors change its status at once: the server makes a conflict.
    let sup_phone = server.device(sup.id).await;
    let lead_phone = server.device(lead.id).await;
    sup_phone.book.sync().await.unwrap();
    lead_phone.book.sync().await.unwrap();
    let status = |s| ConcernTriageUpdate {
        status: Some(s),
        ..Default::default()
    };
    sup_phone
        .book
        .update_concern_triage(concern, status(ConcernStatus::Open))
        .unwrap();
    lead_phone
        .book
        .update_concern_triage(concern, status(ConcernStatus::Monitoring))
        .unwrap();
    sup_phone.book.sync().await.unwrap();
    let report = lead_phone.book.sync().await.unwrap();
    assert_eq!(report.conflicts, 1, "{report:?}");

    // A colleague sees all of it in the team bucket.
    let colleague = RawDevice::enrolled(&server, peer.id).await;
    let (before, last) = colleague.pull(None).await;
    for id in [concern, addendum, action] {
        assert_eq!(entries_for(&before, "snapshot", id).len(), 1, "{id}");
    }
    assert_eq!(entries_for(&before, "conflict", concern).len(), 1);

    // The supervisor raises the concern to OFFICIAL-SENSITIVE.
    sup_phone.book.sync().await.unwrap();
    sup_phone
        .book
        .update_concern_triage(
            concern,
            ConcernTriageUpdate {
                marking: Some(Marking::OfficialSensitive),
                ..Default::default()
            },
        )
        .unwrap();
    sup_phone.book.sync().await.unwrap();

    // The colleague's next pull removes the concern, its addendum and its action.
    let (after, _) = colleague.pull(Some(&last)).await;
    let bucket = team_bucket(team);
    for id in [concern, addendum, action] {
        let removes = entries_for(&after, "remove", id);
        assert_eq!(removes.len(), 1, "a remove for {id}: {after:?}");
        assert_eq!(removes[0]["bucket"], bucket.as_str());
        assert!(entries_for(&after, "snapshot", id).is_empty());
    }
    // Pulled from 0, the team bucket holds none of them, nor the conflict.
    let (fresh, _) = colleague.pull(None).await;
    for id in [concern, addendum, action] {
        assert!(entries_for(&fresh, "snapshot", id).is_empty(), "{id}");
    }
    assert!(entries_for(&fresh, "conflict", concern).is_empty());
    assert!(fresh
        .iter()
        .all(|e| e["type"] != "remove" || e.get("fields").is_none()));

    // A new supervisor's device finds all of it, sensitive now, in the sensitive bucket.
    let sup_reader = RawDevice::enrolled(&server, sup.id).await;
    let (sensitive, _) = sup_reader.pull(None).await;
    for id in [concern, addendum, action] {
        let snaps = entries_for(&sensitive, "snapshot", id);
        assert!(!snaps.is_empty(), "{id}");
        for s in snaps {
            assert_eq!(s["fields"]["marking"], "OFFICIAL-SENSITIVE", "{id}");
            assert!(s["bucket"].as_str().unwrap().starts_with("sensitive:"));
        }
    }
    assert!(!entries_for(&sensitive, "conflict", concern).is_empty());

    // The colleague's real app drops them; the author's still shows them.
    let peer_phone = server.device(peer.id).await;
    peer_phone.book.sync().await.unwrap();
    assert!(peer_phone.book.concern(concern).is_err());
    phone.book.sync().await.unwrap();
    let mine = phone.book.concern(concern).unwrap();
    assert_eq!(mine.meta.marking, Marking::OfficialSensitive);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_author_who_leaves_the_team_loses_its_sensitive_records() {
    let server = TestServer::start().await;
    let author = server
        .officer("Author", Role::Officer, &[server.team_a])
        .await;
    let phone = server.device(author.id).await;
    let mut person = person_draft();
    person.establishment_id = Some(server.school);
    let child = phone.book.add_young_person(person).unwrap().id;
    let mut draft = concern_draft(child, 2);
    draft.assigned_lead = None;
    let concern = phone.book.raise_concern(draft).unwrap().id;
    let addendum = phone.book.add_addendum(concern, "Later note.").unwrap().id;
    phone.book.sync().await.unwrap();

    let reader = RawDevice::enrolled(&server, author.id).await;
    let (mine, last) = reader.pull(None).await;
    let author_bucket = format!("author:{}", author.id);
    for id in [concern, addendum] {
        let snaps = entries_for(&mine, "snapshot", id);
        assert!(snaps.iter().any(|s| s["bucket"] == author_bucket.as_str()));
    }

    // An admin moves the author to another team.
    let mut moved = author.clone();
    moved.team_ids = vec![server.team_b];
    server.store.update_officer(moved.clone()).await.unwrap();
    let (after, _) = reader.pull(Some(&last)).await;
    for id in [concern, addendum] {
        let removes = entries_for(&after, "remove", id);
        assert_eq!(removes.len(), 1, "{id}: {after:?}");
        assert_eq!(removes[0]["bucket"], author_bucket.as_str());
    }
    let (fresh, _) = reader.pull(None).await;
    for id in [concern, addendum] {
        assert!(entries_for(&fresh, "snapshot", id).is_empty(), "{id}");
    }
    phone.book.sync().await.unwrap();
    assert!(phone.book.concern(concern).is_err());

    // Moved back, the author sees them again.
    moved.team_ids = vec![server.team_a];
    server.store.update_officer(moved).await.unwrap();
    let (back, _) = reader.pull(None).await;
    assert_eq!(entries_for(&back, "snapshot", concern).len(), 1);
}
