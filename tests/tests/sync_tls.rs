//! Sync over TLS: the server serves rustls with a certificate from a force's private CA; a
//! device that trusts that CA enrols and syncs, one that does not is refused.

use pocketbook_core::model::VisitFilter;
use pocketbook_core::Error;
use pocketbook_protocol::Role;
use pocketbook_sync_server::api::Config;
use pocketbook_sync_server::store::Store;
use pocketbook_tests::server::{TestDevice, TestServer};
use pocketbook_tests::{person_draft, visit_draft};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

struct Pki {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

fn private_ca() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "Test Constabulary Root CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let leaf =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn devices_that_trust_the_forces_ca_sync_over_tls_and_others_are_refused() {
    // The teams, officers and store come from a plain server; a TLS server shares the store.
    let plain = TestServer::start().await;
    let alice = plain.officer("Alice", Role::Officer, &[plain.team_a]).await;
    let pki = private_ca();
    let dir = plain.dir();
    let (cert, key) = (dir.join("server.crt"), dir.join("server.key"));
    std::fs::write(&cert, &pki.cert_pem).unwrap();
    std::fs::write(&key, &pki.key_pem).unwrap();
    let tls = pocketbook_sync_server::tls::config_from_pem(&cert, &key).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://localhost:{}",
        listener.local_addr().unwrap().port()
    );
    tokio::spawn(pocketbook_sync_server::tls::serve_tls(
        listener,
        plain.store.clone(),
        Config::default(),
        tls,
        std::future::pending(),
    ));

    let stranger = TestDevice::new();
    let refused = stranger
        .book
        .enroll(&url, &plain.code(alice.id).await)
        .await;
    assert!(matches!(refused, Err(Error::Network { .. })), "{refused:?}");
    assert!(stranger
        .book
        .trust_certificate("not a certificate")
        .is_err());

    let device = TestDevice::new();
    device.book.trust_certificate(&pki.ca_pem).unwrap();
    device
        .book
        .enroll(&url, &plain.code(alice.id).await)
        .await
        .unwrap();
    let mut draft = person_draft();
    draft.establishment_id = Some(plain.school);
    let child = device.book.add_young_person(draft).unwrap().id;
    device.book.record_visit(visit_draft(child, 2)).unwrap();
    let report = device.book.sync().await.unwrap();
    assert_eq!(report.pushed, 2);
    // A device on the plain listener sees the same data.
    let other = plain.device(alice.id).await;
    other.book.sync().await.unwrap();
    assert_eq!(other.book.visits(&VisitFilter::default()).unwrap().len(), 1);
    assert_eq!(plain.store.devices().await.unwrap().len(), 2);
}

#[test]
fn a_key_that_is_not_pem_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let pki = private_ca();
    let cert = dir.path().join("c.pem");
    let key = dir.path().join("k.pem");
    std::fs::write(&cert, &pki.cert_pem).unwrap();
    std::fs::write(&key, "not a key").unwrap();
    let err = pocketbook_sync_server::tls::config_from_pem(&cert, &key).unwrap_err();
    assert!(
        err.to_string().starts_with("cannot read the private key"),
        "{err}"
    );
    std::fs::write(&cert, "").unwrap();
    let err = pocketbook_sync_server::tls::config_from_pem(&cert, &key).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cannot read the certificate chain"),
        "{err}"
    );
}
