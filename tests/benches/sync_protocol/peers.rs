//! A byte-counting TCP proxy (the same measurement bench/pouchdb/replicate.js makes for (c):
//! every byte of HTTP, headers and bodies, both ways) and an HTTP echo endpoint for (b).

use super::*;

pub(crate) struct Event {
    pub(crate) at: Instant,
    pub(crate) up: bool,
}

#[derive(Default)]
pub(crate) struct ProxyCounters {
    pub(crate) up: AtomicU64,
    pub(crate) down: AtomicU64,
    pub(crate) events: Mutex<Vec<Event>>,
    /// `Server-Timing` header values of the responses, in order.
    pub(crate) server_timings: Mutex<Vec<String>>,
}

pub(crate) struct ProxySnapshot {
    pub(crate) up: u64,
    pub(crate) down: u64,
    pub(crate) events: Vec<Event>,
    pub(crate) server_timings: Vec<String>,
}

pub(crate) struct Proxy {
    pub(crate) port: u16,
    pub(crate) counters: Arc<ProxyCounters>,
}

impl Proxy {
    pub(crate) fn start(target: u16) -> Res<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let counters = Arc::new(ProxyCounters::default());
        let shared = counters.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(upstream) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = upstream.set_nodelay(true);
                let (Ok(c2), Ok(u2)) = (client.try_clone(), upstream.try_clone()) else {
                    continue;
                };
                let (a, b) = (shared.clone(), shared.clone());
                std::thread::spawn(move || pump(client, upstream, true, &a));
                std::thread::spawn(move || pump(u2, c2, false, &b));
            }
        });
        Ok(Self { port, counters })
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(crate) fn reset(&self) {
        self.counters.up.store(0, Ordering::SeqCst);
        self.counters.down.store(0, Ordering::SeqCst);
        if let Ok(mut e) = self.counters.events.lock() {
            e.clear();
        }
        if let Ok(mut t) = self.counters.server_timings.lock() {
            t.clear();
        }
    }

    pub(crate) fn snapshot(&self) -> ProxySnapshot {
        let events = self
            .counters
            .events
            .lock()
            .map(|mut e| std::mem::take(&mut *e))
            .unwrap_or_default();
        let server_timings = self
            .counters
            .server_timings
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        ProxySnapshot {
            up: self.counters.up.load(Ordering::SeqCst),
            down: self.counters.down.load(Ordering::SeqCst),
            events,
            server_timings,
        }
    }
}

pub(crate) fn pump(mut from: TcpStream, mut to: TcpStream, up: bool, counters: &ProxyCounters) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let at = Instant::now();
                let counter = if up { &counters.up } else { &counters.down };
                counter.fetch_add(n as u64, Ordering::SeqCst);
                if let Ok(mut events) = counters.events.lock() {
                    events.push(Event { at, up });
                }
                if !up {
                    if let Some(value) = server_timing(&buf[..n]) {
                        if let Ok(mut t) = counters.server_timings.lock() {
                            t.push(value);
                        }
                    }
                }
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// The `Server-Timing` header value in a chunk holding a response head, if any.
fn server_timing(chunk: &[u8]) -> Option<String> {
    let head_end = chunk.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&chunk[..head_end]).ok()?;
    head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("server-timing")
            .then(|| value.trim().to_owned())
    })
}

/// HTTP/1.1 endpoint answering every request with its own body.
pub(crate) struct EchoServer {
    pub(crate) port: u16,
}

impl EchoServer {
    pub(crate) fn start() -> Res<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || {
                    let _ = echo(stream);
                });
            }
        });
        Ok(Self { port })
    }
}

pub(crate) fn echo(stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut length = 0usize;
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 || line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body)?;
        write!(
            out,
            "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )?;
        out.write_all(&body)?;
        out.flush()?;
    }
}

// ---------------------------------------------------------------------------------------
// (c) PouchDB -> pouchdb-server.

pub(crate) struct PouchPeer {
    pub(crate) root: PathBuf,
}

pub(crate) struct Pouch {
    pub(crate) seconds: f64,
    pub(crate) up: u64,
    pub(crate) down: u64,
    pub(crate) requests: u64,
    pub(crate) docs_written: u64,
}

impl PouchPeer {
    pub(crate) fn prepare(root: &Path) -> Res<Self> {
        let node = Command::new("node").arg("--version").output();
        if !node.as_ref().is_ok_and(|o| o.status.success()) {
            return Err(
                "(c) needs Node.js (`node`) and npm for the PouchDB comparison; install \
                 them (Node 18 or newer) — the benchmark does not skip (c)"
                    .into(),
            );
        }
        let modules = root.join(".tools/pouchdb/node_modules");
        if !modules.join("pouchdb").is_dir() || !modules.join("pouchdb-server").is_dir() {
            println!("(c) installing pouchdb + pouchdb-server: bash bench/pouchdb/install.sh");
            let status = Command::new("bash")
                .arg(root.join("bench/pouchdb/install.sh"))
                .status()?;
            if !status.success() {
                return Err(format!("bench/pouchdb/install.sh failed: {status}").into());
            }
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    pub(crate) fn run(&self, households: usize, changed: usize) -> Res<Pouch> {
        let output = Command::new("node")
            .arg(self.root.join("bench/pouchdb/replicate.js"))
            .arg(households.to_string())
            .arg(changed.to_string())
            .env("NODE_PATH", self.root.join(".tools/pouchdb/node_modules"))
            .current_dir(&self.root)
            .output()?;
        if !output.status.success() {
            return Err(format!(
                "bench/pouchdb/replicate.js failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )
            .into());
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with('{'))
            .ok_or_else(|| format!("replicate.js printed no JSON: {stdout}"))?;
        let v: Json = serde_json::from_str(line)?;
        let num = |k: &str| v[k].as_u64().ok_or_else(|| format!("replicate.js: no {k}"));
        Ok(Pouch {
            seconds: v["seconds"].as_f64().ok_or("replicate.js: no seconds")?,
            up: num("bytes_up")?,
            down: num("bytes_down")?,
            requests: num("requests")?,
            docs_written: num("docs_written")?,
        })
    }
}
