//! Uploads and downloads stream: the real server on TCP port 0 takes a 512 MiB body generated
//! on the fly (chunked, no length known up front) and serves it back, while this process's
//! resident memory grows by less than 64 MiB; a checksum computed while streaming each way
//! proves the bytes are the same. An over-limit chunked upload is cut off with 413 and leaves
//! no object (nor staging file) and no row.
//!
//! Memory is measured on the whole test process (server and client): `VmRSS` sampled every
//! 2 ms by a plain thread (not a task, so a busy runtime cannot starve it), and `VmHWM` after
//! resetting it by writing `5` to `/proc/self/clear_refs`; the larger of the two counts.
//! The figures are printed: `cargo test -p reelplan-server --test upload_memory -- --nocapture`.
//!
//! SQLite by default; PostgreSQL when `DATABASE_URL` is a postgres URL (Redis as L2 when
//! `REDIS_URL` is set), like the behaviour suite.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use reelplan_domain::ProjectId;
use reelplan_server::config::PasswordCost;
use reelplan_server::config::Secret;
use reelplan_server::{AppState, Config};
use reelplan_store_postgres::TestDatabase;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

const MIB: u64 = 1024 * 1024;
/// The body of the big round trip.
const BIG: u64 = 512 * MIB;
/// What the server may add to the process's resident memory while streaming it.
const MAX_GROWTH: u64 = 64 * MIB;
/// Size of the pieces the client sends (each one HTTP chunk).
const CHUNK: usize = 256 * 1024;

/// The tests measure one process's memory, so they must not run at the same time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

// ---------------------------------------------------------------------------------------------
// The server.

/// A fresh database for one server, dropped by [`Server::stop`].
enum Db {
    /// In the server's data folder, removed with it.
    Sqlite,
    Postgres(Box<TestDatabase>),
}

/// The real server on a random port, with its own data and object folders.
struct Server {
    base: String,
    state: AppState,
    objects: PathBuf,
    data: PathBuf,
    db: Db,
    stop: tokio::sync::oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(max_upload_bytes: u64) -> Server {
        let data = std::env::temp_dir().join(format!(
            "reelplan-upload-memory-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&data).unwrap();
        let mut config = Config::embedded(data.clone());
        let db = match std::env::var("DATABASE_URL") {
            Ok(base) if base.starts_with("postgres") => {
                let (_, guard) = reelplan_store_postgres::connect_isolated_for_tests(&base)
                    .await
                    .expect("PostgreSQL test database");
                let prefix = base.rsplit_once('/').map_or(base.as_str(), |(p, _)| p);
                config.database.url = format!("{prefix}/{}", guard.name());
                Db::Postgres(Box::new(guard))
            }
            _ => Db::Sqlite,
        };
        config.auth.jwt_secret = Some(Secret("upload-memory-secret-0123456789abcdef".into()));
        config.auth.password_cost = PasswordCost { memory_kib: 64, iterations: 1, parallelism: 1 };
        config.cache.redis_url = std::env::var("REDIS_URL").ok();
        config.cache.namespace = format!("rpupmem{:08x}", rand::random::<u32>());
        let objects = data.join("objects");
        config.objects.url = Some(format!("file://{}", objects.display()));
        config.objects.max_upload_bytes = max_upload_bytes;

        let state = reelplan_server::build_state(&config).await.expect("state");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = tokio::spawn(reelplan_server::serve(listener, state.clone(), shutdown));
        Server { base, state, objects, data, db, stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("serve task").expect("serve result");
        drop(self.state);
        if let Db::Postgres(guard) = self.db {
            guard.drop_database().await;
        }
        let _ = std::fs::remove_dir_all(&self.data);
    }

    /// A user and a project of theirs: (token, project id).
    async fn owner_and_project(&self, client: &reqwest::Client) -> (String, i64) {
        let body =
            json!({"email": "ann@example.com", "password": "password-ann", "nickname": "ann"});
        let resp = client.post(format!("{}/api/auth/signup", self.base)).json(&body).send().await;
        let signup: Value = resp.unwrap().json().await.unwrap();
        let token = signup["result"]["token"].as_str().expect("token").to_owned();
        let resp = client
            .post(format!("{}/api/projects", self.base))
            .bearer_auth(&token)
            .json(&json!({"name": "Big"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let project: Value = resp.json().await.unwrap();
        (token, project["result"]["id"].as_i64().unwrap())
    }

    async fn row_keys(&self, project: i64) -> Vec<String> {
        self.state.store.project_file_keys(ProjectId(project)).await.unwrap()
    }
}

/// Every regular file under `dir`: objects and any staging leftovers.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The body, its checksum and the memory meter.

/// An order-sensitive checksum over 64-bit words, fed in pieces of any size (so the client
/// computes it on the chunks it sends and on the chunks it receives, however they are cut).
/// Cheap enough for an unoptimised build: a multiply per 8 bytes.
#[derive(Default)]
struct Checksum {
    hash: u64,
    pending: Vec<u8>,
    len: u64,
}

impl Checksum {
    fn word(&mut self, word: u64) {
        self.hash = (self.hash ^ word).wrapping_mul(0x0000_0100_0000_01B3).rotate_left(29);
    }

    fn update(&mut self, mut data: &[u8]) {
        self.len += data.len() as u64;
        if !self.pending.is_empty() {
            let take = (8 - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() < 8 {
                return;
            }
            let word = u64::from_le_bytes(self.pending[..].try_into().unwrap());
            self.pending.clear();
            self.word(word);
        }
        let words = data.chunks_exact(8);
        self.pending.extend_from_slice(words.remainder());
        for word in words {
            self.word(u64::from_le_bytes(word.try_into().unwrap()));
        }
    }

    fn finish(mut self) -> (u64, u64) {
        let mut last = [0u8; 8];
        last[..self.pending.len()].copy_from_slice(&self.pending);
        self.word(u64::from_le_bytes(last) ^ self.len);
        (self.hash, self.len)
    }
}

/// `total` bytes in [`CHUNK`] pieces, made only when the HTTP client asks for the next one:
/// a random block with the piece's index stamped in, so no two pieces are alike. Feeds
/// `checksum` with what it sends.
fn generated(
    total: u64,
    checksum: Arc<std::sync::Mutex<Checksum>>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let block: Arc<Vec<u8>> = Arc::new((0..CHUNK).map(|_| rand::random::<u8>()).collect());
    futures::stream::unfold(0u64, move |sent| {
        let (block, checksum) = (block.clone(), checksum.clone());
        async move {
            if sent >= total {
                return None;
            }
            let size = (total - sent).min(CHUNK as u64) as usize;
            let mut piece = block[..size].to_vec();
            let stamp = (sent / CHUNK as u64).to_le_bytes();
            let stamped = stamp.len().min(size);
            piece[..stamped].copy_from_slice(&stamp[..stamped]);
            checksum.lock().unwrap().update(&piece);
            Some((Ok(Bytes::from(piece)), sent + size as u64))
        }
    })
}

/// A field of `/proc/self/status`, in bytes.
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// Samples `VmRSS` every 2 ms on a thread of its own until stopped; also resets `VmHWM`.
struct Meter {
    baseline: u64,
    hwm_reset: bool,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<u64>,
}

impl Meter {
    fn start() -> Meter {
        // Resetting the high-water mark is a kernel feature (clear_refs 5, Linux 4.0+); when
        // it is refused, the sampled peak alone counts.
        let hwm_reset = std::fs::write("/proc/self/clear_refs", "5").is_ok()
            && status_bytes("VmHWM") <= status_bytes("VmRSS") + 4 * MIB;
        let baseline = status_bytes("VmRSS");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peak = 0;
            while !flag.load(Ordering::Relaxed) {
                peak = peak.max(status_bytes("VmRSS"));
                std::thread::sleep(Duration::from_millis(2));
            }
            peak.max(status_bytes("VmRSS"))
        });
        Meter { baseline, hwm_reset, stop, thread }
    }

    /// (baseline, sampled peak, high-water mark if it could be reset).
    fn finish(self) -> (u64, u64, Option<u64>) {
        self.stop.store(true, Ordering::Relaxed);
        let sampled = self.thread.join().expect("meter thread");
        let hwm = self.hwm_reset.then(|| status_bytes("VmHWM"));
        (self.baseline, sampled, hwm)
    }
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / MIB as f64
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(600)).build().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Tests.

/// 512 MiB up and back down: 201 with the right size, a byte-identical download (length and
/// checksum computed while streaming), and less than 64 MiB of resident memory growth.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_512_mib_round_trip_streams_in_bounded_memory() {
    let _serial = SERIAL.lock().await;
    let server = Server::start(2 * 1024 * MIB).await;
    let client = client();
    let (token, project) = server.owner_and_project(&client).await;
    let url = format!("{}/api/projects/{project}/files?name=big.bin", server.base);

    let meter = Meter::start();
    let sent = Arc::new(std::sync::Mutex::new(Checksum::default()));
    let started = Instant::now();
    let resp = client
        .post(&url)
        .bearer_auth(&token)
        .header("content-type", "application/octet-stream")
        .body(reqwest::Body::wrap_stream(generated(BIG, sent.clone())))
        .send()
        .await
        .expect("upload");
    let status = resp.status();
    let file: Value = resp.json().await.unwrap();
    let upload_took = started.elapsed();
    assert_eq!(status, 201, "{file}");
    assert_eq!(file["result"]["size"].as_u64(), Some(BIG));
    let file_url = format!("{}{}", server.base, file["result"]["url"].as_str().unwrap());
    let sent = std::mem::take(&mut *sent.lock().unwrap()).finish();
    assert_eq!(sent.1, BIG);

    let started = Instant::now();
    let resp = client.get(&file_url).bearer_auth(&token).send().await.expect("download");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.content_length(), Some(BIG), "Content-Length");
    let mut received = Checksum::default();
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        received.update(&chunk.expect("download chunk"));
    }
    let download_took = started.elapsed();
    let (baseline, sampled, hwm) = meter.finish();

    assert_eq!(received.finish(), sent, "the download is the upload: (checksum, length)");
    let peak = sampled.max(hwm.unwrap_or(0));
    let growth = peak.saturating_sub(baseline);
    println!(
        "upload_memory: 512 MiB round trip: peak RSS growth {:.1} MiB (baseline {:.1} MiB, \
         sampled peak {:.1} MiB, VmHWM {}); upload {:.1} MB/s ({:.2} s), download {:.1} MB/s \
         ({:.2} s)",
        mib(growth),
        mib(baseline),
        mib(sampled),
        hwm.map_or("not resettable".to_owned(), |h| format!("{:.1} MiB", mib(h))),
        BIG as f64 / 1e6 / upload_took.as_secs_f64(),
        upload_took.as_secs_f64(),
        BIG as f64 / 1e6 / download_took.as_secs_f64(),
        download_took.as_secs_f64(),
    );
    assert!(growth < MAX_GROWTH, "RSS grew {:.1} MiB while streaming 512 MiB", mib(growth));

    // The one object, the one row.
    assert_eq!(files_in(&server.objects).len(), 1);
    assert_eq!(server.row_keys(project).await.len(), 1);
    server.stop().await;
}

/// A chunked upload (no `Content-Length`) that runs past the limit is answered 413
/// `payload_too_large` as soon as it passes it, not after the whole body; no object, staging
/// file or row is left. The same with a `Content-Length` over the limit, before any byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_limit_streamed_upload_is_cut_off_with_413_leaving_nothing() {
    let _serial = SERIAL.lock().await;
    const LIMIT: u64 = 24 * MIB;
    let server = Server::start(LIMIT).await;
    let client = client();
    let (token, project) = server.owner_and_project(&client).await;
    let url = format!("{}/api/projects/{project}/files?name=too-big.bin", server.base);

    // The client would send 1 GiB, chunked, over raw TCP (an HTTP client may report the
    // server's early answer as a failed send): it writes until the server stops reading,
    // while the answer is read on the other half of the socket.
    let addr = server.base.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST /api/projects/{project}/files?name=too-big.bin HTTP/1.1\r\nHost: {addr}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    );
    let started = Instant::now();
    let sending = tokio::spawn(async move {
        let mut sent = 0u64;
        let mut body = std::pin::pin!(generated(1024 * MIB, Arc::default()));
        if writer.write_all(head.as_bytes()).await.is_err() {
            return sent;
        }
        while let Some(Ok(piece)) = body.next().await {
            let framed = [format!("{:x}\r\n", piece.len()).as_bytes(), &piece, b"\r\n"].concat();
            if writer.write_all(&framed).await.is_err() {
                return sent;
            }
            sent += piece.len() as u64;
        }
        let _ = writer.write_all(b"0\r\n\r\n").await;
        sent
    });
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match reader.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
        }
        if String::from_utf8_lossy(&answer).contains("payload_too_large") {
            break;
        }
    }
    let took = started.elapsed();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert!(answer.starts_with("HTTP/1.1 413"), "answer: {answer:?}");
    assert!(answer.contains("\"code\":\"payload_too_large\""), "answer: {answer:?}");
    let sent_bytes = sending.await.unwrap();
    println!(
        "upload_memory: over-limit upload answered 413 in {:.2} s; the client got {:.1} MiB \
         into the socket before the server stopped reading (limit {} MiB)",
        took.as_secs_f64(),
        mib(sent_bytes),
        LIMIT / MIB,
    );
    assert!(sent_bytes < LIMIT + 64 * MIB, "cut off near the limit, not after the whole body");

    // A declared length over the limit: refused at once.
    let resp = client
        .post(&url)
        .bearer_auth(&token)
        .header("content-length", (LIMIT + 1).to_string())
        .body(vec![0u8; (LIMIT + 1) as usize])
        .send()
        .await;
    if let Ok(resp) = resp {
        assert_eq!(resp.status(), 413);
    }

    // Nothing left: no object or staging file, no row. The abort runs before the 413 is
    // sent, so there is nothing to wait for.
    let left = files_in(&server.objects);
    assert!(left.is_empty(), "left behind: {left:?}");
    assert!(server.row_keys(project).await.is_empty(), "no row for a refused upload");
    let resp = client
        .get(format!("{}/api/projects/{project}", server.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let detail: Value = resp.json().await.unwrap();
    assert_eq!(detail["result"]["files"], json!([]));
    server.stop().await;
}
