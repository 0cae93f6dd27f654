//! A loopback TCP proxy the tests own, between the tool and a lab DC, for fault tests: it forwards bytes both
//! ways, and on demand stalls (stops forwarding while keeping every socket open), adds latency, or cuts every
//! connection it carries (as a DC does when it drops an idle connection).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Default)]
struct Faults {
    /// The next answer from the server is cut in half and the connection closed.
    half_answer: AtomicBool,
    stalled: AtomicBool,
    latency_ms: AtomicU64,
    accepted: AtomicUsize,
}

pub struct Proxy {
    pub addr: SocketAddr,
    faults: Arc<Faults>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
    listener: JoinHandle<()>,
}

/// Copies one direction, holding each chunk while the proxy is stalled and delaying it by the latency.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    faults: Arc<Faults>,
    from_server: bool,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let latency = faults.latency_ms.load(Ordering::SeqCst);
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
        while faults.stalled.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if from_server && faults.half_answer.swap(false, Ordering::SeqCst) {
            let _ = to.write_all(&buf[..n.div_ceil(2)]).await;
            break;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

impl Proxy {
    /// Listens on 127.0.0.1 (a free port) and forwards each connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        Self::start_on("127.0.0.1:0", upstream).await
    }

    /// Listens on `bind` (e.g. another loopback address, where a certificate for 127.0.0.1 does not fit) and
    /// forwards each connection to `upstream`.
    pub async fn start_on(bind: &str, upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind(bind).await.expect("bind proxy");
        let addr = listener.local_addr().unwrap();
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let faults: Arc<Faults> = Arc::default();
        let (l, f) = (links.clone(), faults.clone());
        let listener = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                f.accepted.fetch_add(1, Ordering::SeqCst);
                let f = f.clone();
                let link = tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    let up = tokio::spawn(pump(cr, sw, f.clone(), false));
                    let down = tokio::spawn(pump(sr, cw, f, true));
                    // When either way ends, or this task is aborted (cut), both pumps go, and with them
                    // both sockets.
                    struct Both(JoinHandle<()>, JoinHandle<()>);
                    impl Drop for Both {
                        fn drop(&mut self) {
                            self.0.abort();
                            self.1.abort();
                        }
                    }
                    let mut both = Both(up, down);
                    tokio::select! {
                        _ = &mut both.0 => {}
                        _ = &mut both.1 => {}
                    }
                });
                l.lock().unwrap().push(link);
            }
        });
        Self {
            addr,
            faults,
            links,
            listener,
        }
    }

    /// The proxy's URL for an LDAPS DC.
    pub fn ldaps_url(&self) -> String {
        format!("ldaps://127.0.0.1:{}", self.addr.port())
    }

    /// Closes every connection carried so far (both sockets are dropped); new ones are still accepted.
    pub fn cut(&self) {
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    /// Stops forwarding (or starts again): sockets stay open, bytes wait.
    pub fn stall(&self, on: bool) {
        self.faults.stalled.store(on, Ordering::SeqCst);
    }

    /// Cuts the next answer from the server in half and closes that connection.
    pub fn half_answer(&self) {
        self.faults.half_answer.store(true, Ordering::SeqCst);
    }

    /// Delays every chunk by `ms` milliseconds, each way.
    pub fn latency(&self, ms: u64) {
        self.faults.latency_ms.store(ms, Ordering::SeqCst);
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.faults.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.listener.abort();
        self.cut();
    }
}
