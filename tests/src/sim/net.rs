//! The simulated network and the server behind it. Every device's core sends its exact wire
//! request through a [`Link`]; the [`Net`] decides by the seed what happens to it — lost on
//! the way, delivered late (after the device gave up, between later steps), delivered twice,
//! answered, its answer lost after the server committed, or the server crashing between the
//! commit and the answer (the store dropped and rebuilt from its file) — and calls the real
//! server router in-process. The server can be restored from a backup (a new file, a new
//! epoch, the admin journal replayed). It also notes every mutation a device sent, for the
//! ledger, by the device's identity at the time (a fork gives it a new one).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::extract::ConnectInfo;
use axum::Router;
use http_body_util::BodyExt;
use pocketbook_core::transport::{
    NoAnswer, Sending, Transport, Waiting, WireRequest, WireResponse,
};
use pocketbook_core::Mutation;
use pocketbook_protocol::wire::PushRequest;
use pocketbook_sync_server::api::Config;
use pocketbook_sync_server::guard::rate::Rate;
use pocketbook_sync_server::journal::Journal;
use pocketbook_sync_server::journal::RestoreGate;
use pocketbook_sync_server::state::Transport as ServerTransport;
use pocketbook_sync_server::store::{Epochs, SqliteStore};
use tower::ServiceExt;

use super::clock::{Rng, SimSources};
use super::{Fault, Tally, Trace};

/// The real server store over its file, and the router in front of it.
pub struct Server {
    path: PathBuf,
    journal: PathBuf,
    sources: Arc<SimSources>,
    /// The store (for admin actions and checks).
    pub store: SqliteStore,
    router: Router,
    /// Closed while a restore waits for its journal, as `serve` keeps it.
    gate: RestoreGate,
}

impl Server {
    /// Opens (creating) the server's store at `path`, writing its admin journal at `journal`.
    pub fn open(path: PathBuf, journal: PathBuf, sources: Arc<SimSources>) -> Server {
        let store = SqliteStore::open_with_sources(&path, sources.clone())
            .expect("the server store opens")
            .with_enrol_limit(10_000)
            .with_journal(Some(Journal::at(&journal)));
        let gate = RestoreGate::default();
        let transport = ServerTransport {
            restore_gate: gate.clone(),
            ..ServerTransport::default()
        };
        let router = pocketbook_sync_server::api::routers(store.clone(), config(), transport).0;
        let server = Server {
            path,
            journal,
            sources,
            store,
            router,
            gate,
        };
        server.read_gate();
        server
    }

    /// Sets the gate from the file's `restore_pending`, as `serve` does at its start and every
    /// few seconds after.
    fn read_gate(&self) {
        let pending = rusqlite::Connection::open(&self.path)
            .and_then(|conn| {
                conn.query_row(
                    "SELECT value FROM meta WHERE key = 'restore_pending'",
                    [],
                    |r| r.get::<_, String>(0),
                )
            })
            .ok();
        self.gate.set(pending);
    }

    /// A crash and restart: everything in memory is gone; the store is rebuilt from its file.
    pub fn restart(&mut self) {
        let fresh = Server::open(
            self.path.clone(),
            self.journal.clone(),
            self.sources.clone(),
        );
        *self = fresh;
    }

    /// Restored from `backup` onto `path` (a new disk), as `pocketbook-server restore` does:
    /// the copy migrated, given a new epoch from the seeded sources (so it replays) and
    /// waiting for the admin journal before it serves.
    pub async fn restored(
        backup: &std::path::Path,
        path: PathBuf,
        journal: PathBuf,
        sources: Arc<SimSources>,
    ) -> Server {
        std::fs::copy(backup, &path).expect("the backup copies");
        let server = Server::open(path, journal, sources);
        server
            .store
            .new_epoch()
            .await
            .expect("the restored store takes a new epoch");
        server.read_gate();
        server
    }

    /// The database file.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

/// Settings under which only the simulated faults fail a request (no rate limit is met).
fn config() -> Config {
    let plenty = Rate {
        burst: 1_000_000,
        per_second: 1_000_000.0,
    };
    Config {
        push_rate: plenty,
        pull_rate: plenty,
        enrol_per_minute: 10_000,
        ..Config::default()
    }
}

/// How likely each network fault is, per request (per mille); all zero once faults stop.
#[derive(Debug, Clone, Copy, Default)]
pub struct Odds {
    /// The request is lost.
    pub drop_request: u64,
    /// The server commits, the answer is lost.
    pub drop_answer: u64,
    /// The request arrives twice.
    pub duplicate: u64,
    /// The request arrives late, after the device gave up.
    pub delay: u64,
    /// The server crashes between commit and answer.
    pub crash: u64,
}

/// What happens to one request.
enum Fate {
    Lost,
    Late,
    Delivered {
        twice: bool,
        answer_lost: bool,
        crash: bool,
    },
}

struct NetState {
    rng: Rng,
    odds: Odds,
    server: Server,
    late: Vec<(usize, WireRequest)>,
    /// Every mutation each device sent, by (device, identity, sequence number): each distinct
    /// sending (a re-stamp after `clock_skew` resends a sequence number with another version,
    /// and the server may hold either). A device's identity counts its forks.
    sent: BTreeMap<(usize, u32, u64), Vec<Mutation>>,
    /// Each device's identity (0 until its first fork).
    identities: BTreeMap<usize, u32>,
}

/// The network every device's core talks through.
pub struct Net {
    state: Mutex<NetState>,
    tally: Arc<Tally>,
    trace: Arc<Trace>,
    /// The run's virtual clock (a device waiting out `Retry-After` moves it on).
    clock: Arc<super::clock::Clock>,
}

impl Net {
    /// A network in front of `server`, choosing fates from `rng`.
    pub fn new(
        server: Server,
        rng: Rng,
        (tally, trace): (Arc<Tally>, Arc<Trace>),
        clock: Arc<super::clock::Clock>,
    ) -> Arc<Net> {
        Arc::new(Net {
            state: Mutex::new(NetState {
                rng,
                odds: Odds::default(),
                server,
                late: Vec::new(),
                sent: BTreeMap::new(),
                identities: BTreeMap::new(),
            }),
            tally,
            trace,
            clock,
        })
    }

    fn lock(&self) -> MutexGuard<'_, NetState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets the fault odds (zero: a perfect network).
    pub fn set_odds(&self, odds: Odds) {
        self.lock().odds = odds;
    }

    /// The server's store (a handle that stays valid until the next restart).
    pub fn store(&self) -> SqliteStore {
        self.lock().server.store.clone()
    }

    /// The server's database file.
    pub fn server_path(&self) -> PathBuf {
        self.lock().server.path().to_path_buf()
    }

    /// Crashes and restarts the server now (between requests).
    pub fn restart_server(&self) {
        self.lock().server.restart();
        self.tally.count(Fault::ServerCrash);
        self.trace.line("server restarted");
    }

    /// Restores the server from `backup` onto a new file at `path` (requests held back
    /// arrive at the restored server); it waits for [`Net::replay_journal`] before serving.
    pub async fn restore_server(&self, backup: &std::path::Path, path: PathBuf) {
        let (journal, sources) = {
            let state = self.lock();
            (state.server.journal.clone(), state.server.sources.clone())
        };
        let restored = Server::restored(backup, path, journal, sources).await;
        self.lock().server = restored;
        self.tally.count(Fault::ServerRestore);
        self.trace.line("server restored from its backup");
    }

    /// The admin replays the journal into the restored server, which serves again.
    pub async fn replay_journal(&self) {
        let (store, journal) = {
            let state = self.lock();
            (state.server.store.clone(), state.server.journal.clone())
        };
        let report = pocketbook_sync_server::admin::journal::replay_journal(&store, &journal)
            .await
            .expect("the admin journal replays");
        self.lock().server.read_gate();
        self.trace.line(&format!(
            "journal replayed: {} applied, {} held",
            report.applied, report.unchanged
        ));
    }

    /// Adds a line to the run's trace.
    pub fn trace_line(&self, text: &str) {
        self.trace.line(text);
    }

    /// The mutations each device sent, by (device, identity, seq): every distinct sending.
    pub fn sent(&self) -> BTreeMap<(usize, u32, u64), Vec<Mutation>> {
        self.lock().sent.clone()
    }

    /// Device `device`'s identity now (how many times it forked).
    pub fn identity(&self, device: usize) -> u32 {
        self.lock().identities.get(&device).copied().unwrap_or(0)
    }

    /// Device `device` forked: what it sends from now on is under its next identity.
    pub fn fork(&self, device: usize) -> u32 {
        let mut state = self.lock();
        let identity = state.identities.entry(device).or_default();
        *identity += 1;
        *identity
    }

    /// A phone put back to its backup: what its current identity sent that the server never
    /// took (`held`: the sequence numbers the server stores) is gone with the phone's state,
    /// so the ledger must not count it as acknowledged when it leaves the restored outbox.
    pub fn forget_unheld(&self, device: usize, held: &BTreeSet<u64>) {
        let mut state = self.lock();
        let identity = state.identities.get(&device).copied().unwrap_or(0);
        state
            .sent
            .retain(|(d, i, seq), _| *d != device || *i != identity || held.contains(seq));
    }

    /// Delivers some of the requests held back (all, with `all`), dropping their answers.
    pub async fn deliver_late(&self, all: bool) {
        loop {
            let next = {
                let mut state = self.lock();
                if state.late.is_empty() || (!all && state.rng.chance(500)) {
                    None
                } else {
                    let len = state.late.len();
                    let at = state.rng.index(len);
                    let (device, request) = state.late.remove(at);
                    Some((device, request, state.server.router.clone()))
                }
            };
            let Some((device, request, router)) = next else {
                return;
            };
            let answer = call(router, device, &request).await;
            self.trace.line(&format!(
                "late d{device} {} -> {}",
                request.path, answer.status
            ));
        }
    }

    fn choose(&self, device: usize, request: &WireRequest) -> (Fate, Router) {
        let mut state = self.lock();
        if request.path == "/v1/sync/push" {
            if let Some(push) = decode_push(request) {
                let identity = state.identities.get(&device).copied().unwrap_or(0);
                for m in push.mutations {
                    let sendings = state.sent.entry((device, identity, m.seq)).or_default();
                    if !sendings.contains(&m) {
                        sendings.push(m);
                    }
                }
            }
        }
        let odds = state.odds;
        let rng = &mut state.rng;
        let fate = if rng.chance(odds.drop_request) {
            Fate::Lost
        } else if rng.chance(odds.delay) {
            Fate::Late
        } else {
            Fate::Delivered {
                twice: rng.chance(odds.duplicate),
                answer_lost: rng.chance(odds.drop_answer),
                crash: rng.chance(odds.crash),
            }
        };
        (fate, state.server.router.clone())
    }

    async fn send_from(
        &self,
        device: usize,
        request: WireRequest,
    ) -> Result<WireResponse, NoAnswer> {
        let (fate, router) = self.choose(device, &request);
        let path = request.path.clone();
        match fate {
            Fate::Lost => {
                self.tally.count(Fault::DropRequest);
                self.trace.line(&format!("d{device} {path} lost"));
                Err(NoAnswer)
            }
            Fate::Late => {
                self.tally.count(Fault::Delay);
                self.trace.line(&format!("d{device} {path} held back"));
                self.lock().late.push((device, request));
                Err(NoAnswer)
            }
            Fate::Delivered {
                twice,
                answer_lost,
                crash,
            } => {
                let mut answer = call(router.clone(), device, &request).await;
                if twice {
                    self.tally.count(Fault::Duplicate);
                    let first = answer.status;
                    answer = call(router, device, &request).await;
                    self.trace
                        .line(&format!("d{device} {path} twice {first} {}", answer.status));
                }
                self.trace.answer(device, &path, &answer);
                if crash {
                    self.lock().server.restart();
                    self.tally.count(Fault::ServerCrash);
                    self.trace.line("server crashed before answering");
                    Err(NoAnswer)
                } else if answer_lost {
                    self.tally.count(Fault::DropAnswer);
                    self.trace.line(&format!("d{device} {path} answer lost"));
                    Err(NoAnswer)
                } else {
                    Ok(answer)
                }
            }
        }
    }
}

/// One device's end of the network.
pub struct Link {
    /// The network.
    pub net: Arc<Net>,
    /// Which device this is.
    pub device: usize,
}

impl Transport for Link {
    fn send(&self, request: WireRequest) -> Sending<'_> {
        Box::pin(self.net.send_from(self.device, request))
    }

    /// Waiting out a `Retry-After` moves the virtual clock on (no real sleep: a run stays a
    /// function of its seed, and fast).
    fn wait(&self, how_long: std::time::Duration) -> Waiting<'_> {
        let clock = self.net.clock.clone();
        Box::pin(async move {
            clock.advance(chrono::Duration::from_std(how_long).unwrap_or_default());
        })
    }
}

/// Calls the router with `request` as device `device` (each device has its own address).
async fn call(router: Router, device: usize, request: &WireRequest) -> WireResponse {
    let mut builder = axum::http::Request::builder()
        .method(request.method.as_str())
        .uri(request.path.as_str());
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let mut http = builder
        .body(axum::body::Body::from(request.body.clone()))
        .expect("the core's request is valid HTTP");
    let host = u8::try_from(device % 250).unwrap_or(0) + 1;
    http.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, host], 40_000))));
    let response = match router.oneshot(http).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map(|c| c.to_bytes().to_vec())
        .unwrap_or_default();
    WireResponse {
        status: parts.status.as_u16(),
        headers: parts
            .headers
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
        body,
    }
}

/// A push body as the core sent it (decompressed), or `None` if it cannot be read.
fn decode_push(request: &WireRequest) -> Option<PushRequest> {
    use std::io::Read;
    let encoding = request
        .headers
        .iter()
        .find(|(n, _)| n == "content-encoding")
        .map(|(_, v)| v.as_str());
    let json = match encoding {
        Some("gzip") => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(request.body.as_slice())
                .read_to_end(&mut out)
                .ok()?;
            out
        }
        Some("zstd") => zstd::stream::decode_all(request.body.as_slice()).ok()?,
        _ => request.body.clone(),
    };
    serde_json::from_slice(&json).ok()
}
