//! Pieces shared by the test binaries that run the real server on TCP: a TCP proxy the test
//! cuts and restores between the server and PostgreSQL or Redis, and URL helpers.

#![allow(dead_code, reason = "each test binary uses a part of it")]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A TCP proxy on a fixed local port that can be cut and restored.
pub struct Proxy {
    pub port: u16,
    upstream: SocketAddr,
    inner: Arc<Mutex<ProxyInner>>,
}

#[derive(Default)]
struct ProxyInner {
    accept: Option<JoinHandle<()>>,
    pipes: Vec<JoinHandle<()>>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy bind");
        let port = listener.local_addr().unwrap().port();
        let proxy = Proxy { port, upstream, inner: Arc::default() };
        proxy.listen(listener);
        proxy
    }

    fn listen(&self, listener: TcpListener) {
        let (inner, upstream) = (self.inner.clone(), self.upstream);
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else { continue };
                let pipe = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                let mut inner = inner.lock().unwrap();
                inner.pipes.retain(|p| !p.is_finished());
                inner.pipes.push(pipe);
            }
        });
        self.inner.lock().unwrap().accept = Some(accept);
    }

    /// Stops listening (new connections are refused) and drops every live connection.
    pub async fn cut(&self) {
        let (accept, pipes) = {
            let mut inner = self.inner.lock().unwrap();
            (inner.accept.take(), std::mem::take(&mut inner.pipes))
        };
        for task in accept.into_iter().chain(pipes) {
            task.abort();
            let _ = task.await;
        }
    }

    /// Listens again on the same port.
    pub async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.expect("proxy rebind");
        self.listen(listener);
    }
}

pub fn host_port(url: &str, default_port: u16) -> SocketAddr {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let host = rest.split(['/', '?']).next().unwrap_or("127.0.0.1:0");
    let host = host.replace("localhost", "127.0.0.1");
    if host.contains(':') {
        host.parse().expect("host:port")
    } else {
        format!("{host}:{default_port}").parse().expect("host")
    }
}

/// `url` with its host and port replaced by the proxy's (and its database by `database`).
pub fn via_proxy(url: &str, port: u16, database: Option<&str>) -> String {
    let (scheme, rest) = url.split_once("://").expect("scheme");
    let (user, rest) = rest.rsplit_once('@').map_or(("", rest), |(u, r)| (u, r));
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    let path = database.map_or(path.to_owned(), |db| format!("/{db}"));
    let user = if user.is_empty() { String::new() } else { format!("{user}@") };
    format!("{scheme}://{user}127.0.0.1:{port}{path}")
}

/// A fresh database for a test on TCP: a SQLite file, or an isolated PostgreSQL database when
/// `DATABASE_URL` names one. Returns its URL and the guard that drops it.
pub async fn fresh_database(tag: &str) -> (String, Option<reelplan_store_postgres::TestDatabase>) {
    match std::env::var("DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            let (_, guard) = reelplan_store_postgres::connect_isolated_for_tests(&base)
                .await
                .expect("PostgreSQL test database");
            let prefix = base.rsplit_once('/').map_or(base.as_str(), |(p, _)| p);
            (format!("{prefix}/{}", guard.name()), Some(guard))
        }
        _ => {
            let path = std::env::temp_dir().join(format!(
                "reelplan-{tag}-{}-{:08x}.db",
                std::process::id(),
                rand::random::<u32>()
            ));
            (format!("sqlite://{}", path.display()), None)
        }
    }
}
