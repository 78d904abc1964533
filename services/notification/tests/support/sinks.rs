//! Real servers for delivery to reach: an SMTP server that speaks SMTP over TCP and keeps what
//! it accepts, and an HTTP/1.1 server (hyper) that keeps the requests it answers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// One email the SMTP server accepted.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The envelope sender.
    pub from: String,
    /// The envelope recipients.
    pub to: Vec<String>,
    /// The message as sent, dot-unstuffed.
    pub data: String,
    /// When the server accepted it.
    pub at: Instant,
}

impl Mail {
    /// The value of header `name` (unfolded, encoded words decoded).
    pub fn header(&self, name: &str) -> Option<String> {
        header(&self.data, name)
    }

    /// The decoded text of the first part with media type `kind` (`text/plain`, `text/html`).
    pub fn part(&self, kind: &str) -> Option<String> {
        part(&self.data, kind)
    }
}

/// How the SMTP server behaves.
#[derive(Debug, Clone, Default)]
pub struct SmtpBehaviour {
    /// Recipients refused with `550 no such user` when their address contains this.
    pub refuse: Option<String>,
    /// How long to wait before accepting each message's data.
    pub accept_delay: Duration,
}

/// A real SMTP server on 127.0.0.1.
pub struct SmtpSink {
    /// Where it listens.
    pub addr: SocketAddr,
    mails: Arc<Mutex<Vec<Mail>>>,
    behaviour: Arc<Mutex<SmtpBehaviour>>,
    stop: CancellationToken,
}

impl SmtpSink {
    /// Starts a server on a free port.
    pub async fn start(behaviour: SmtpBehaviour) -> Self {
        Self::start_on(0, behaviour).await
    }

    /// Starts a server on `port` (0 for a free one).
    pub async fn start_on(port: u16, behaviour: SmtpBehaviour) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind the SMTP sink");
        let addr = listener.local_addr().expect("addr");
        let mails = Arc::new(Mutex::new(Vec::new()));
        let behaviour = Arc::new(Mutex::new(behaviour));
        let stop = CancellationToken::new();
        let (m, b, s) = (mails.clone(), behaviour.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = s.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((stream, _)) = accepted else { continue };
                let (m, b, s) = (m.clone(), b.clone(), s.clone());
                tokio::spawn(async move {
                    tokio::select! {
                        () = s.cancelled() => {}
                        _ = session(stream, m, b) => {}
                    }
                });
            }
        });
        Self { addr, mails, behaviour, stop }
    }

    /// `smtp://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Everything accepted so far.
    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().expect("lock").clone()
    }

    /// How many messages were accepted.
    pub fn count(&self) -> usize {
        self.mails.lock().expect("lock").len()
    }

    /// Changes how the server behaves from the next command.
    pub fn set(&self, behaviour: SmtpBehaviour) {
        *self.behaviour.lock().expect("lock") = behaviour;
    }

    /// Stops listening and drops every connection.
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// Waits until `n` messages were accepted, or `timeout`; returns them.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Mail> {
        wait_for(&self.mails, n, timeout).await
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn session(
    stream: tokio::net::TcpStream,
    mails: Arc<Mutex<Vec<Mail>>>,
    behaviour: Arc<Mutex<SmtpBehaviour>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let verb = command.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => {
                write.write_all(b"250-sink.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n").await?
            }
            "HELO" => write.write_all(b"250 sink.test\r\n").await?,
            "MAIL" => {
                from = address(&command);
                to.clear();
                write.write_all(b"250 ok\r\n").await?;
            }
            "RCPT" => {
                let rcpt = address(&command);
                let refuse = behaviour.lock().expect("lock").refuse.clone();
                if refuse.is_some_and(|r| rcpt.contains(&r)) {
                    write.write_all(b"550 5.1.1 no such user here\r\n").await?;
                } else {
                    to.push(rcpt);
                    write.write_all(b"250 ok\r\n").await?;
                }
            }
            "DATA" => {
                write.write_all(b"354 go ahead\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').filter(|_| line.starts_with("..")).unwrap_or(&line));
                }
                let delay = behaviour.lock().expect("lock").accept_delay;
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                mails.lock().expect("lock").push(Mail { from: from.clone(), to: to.clone(), data, at: Instant::now() });
                write.write_all(b"250 2.0.0 queued\r\n").await?;
            }
            "RSET" => {
                from.clear();
                to.clear();
                write.write_all(b"250 ok\r\n").await?;
            }
            "NOOP" => write.write_all(b"250 ok\r\n").await?,
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => write.write_all(b"502 command not implemented\r\n").await?,
        }
    }
}

/// The address in `MAIL FROM:<a@b>` or `RCPT TO:<a@b>`.
fn address(command: &str) -> String {
    match (command.find('<'), command.find('>')) {
        (Some(open), Some(close)) if open < close => command[open + 1..close].to_string(),
        _ => String::new(),
    }
}

/// The header block and body of a message or part.
fn split(message: &str) -> (&str, &str) {
    message.split_once("\r\n\r\n").or_else(|| message.split_once("\n\n")).unwrap_or((message, ""))
}

/// Header `name` of a message or part, unfolded, with encoded words decoded.
pub fn header(message: &str, name: &str) -> Option<String> {
    let (headers, _) = split(message);
    let unfolded = headers.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| decode_words(value.trim()))
    })
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`).
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("=?") {
        let Some(end) = rest[start + 2..].find("?=").map(|e| start + 2 + e) else { break };
        let between = rest[..start].to_string();
        if !between.trim().is_empty() || out.is_empty() {
            out.push_str(&between);
        }
        let word = &rest[start + 2..end];
        let mut parts = word.splitn(3, '?');
        let (_charset, encoding, text) = (parts.next(), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let bytes = if encoding.eq_ignore_ascii_case("b") {
            base64::engine::general_purpose::STANDARD.decode(text).unwrap_or_default()
        } else {
            quoted_printable(&text.replace('_', " "))
        };
        out.push_str(&String::from_utf8_lossy(&bytes));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Decodes quoted-printable text.
fn quoted_printable(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'=' {
            out.push(bytes[i]);
            i += 1;
        } else if bytes[i + 1..].starts_with(b"\r\n") {
            i += 3;
        } else if bytes[i + 1..].starts_with(b"\n") {
            i += 2;
        } else if let Some(b) =
            bytes.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(b'=');
            i += 1;
        }
    }
    out
}

/// The decoded body of a single part.
fn body_of(part: &str) -> String {
    let (_, body) = split(part);
    let encoding = header(part, "Content-Transfer-Encoding").unwrap_or_default().to_ascii_lowercase();
    match encoding.as_str() {
        "base64" => {
            let joined: String = body.split_whitespace().collect();
            String::from_utf8_lossy(&base64::engine::general_purpose::STANDARD.decode(joined).unwrap_or_default())
                .into_owned()
        }
        "quoted-printable" => String::from_utf8_lossy(&quoted_printable(body)).into_owned(),
        _ => body.to_string(),
    }
    .replace("\r\n", "\n")
}

/// The decoded text of the first part of media type `kind` in a message.
pub fn part(message: &str, kind: &str) -> Option<String> {
    let content_type = header(message, "Content-Type").unwrap_or_else(|| "text/plain".into());
    if content_type.to_ascii_lowercase().starts_with(kind) {
        return Some(body_of(message));
    }
    let boundary =
        content_type.split(';').find_map(|p| p.trim().strip_prefix("boundary="))?.trim_matches('"').to_string();
    let (_, body) = split(message);
    body.split(&format!("--{boundary}")).skip(1).find_map(|section| {
        let section = section.trim_start_matches("\r\n").trim_start_matches('\n');
        if section.starts_with("--") {
            return None;
        }
        part(section, kind)
    })
}

/// One request the HTTP server answered.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The method.
    pub method: String,
    /// The path and query.
    pub path: String,
    /// The headers, names lower-case.
    pub headers: HashMap<String, String>,
    /// The body.
    pub body: Vec<u8>,
    /// When it arrived.
    pub at: Instant,
}

/// A real HTTP/1.1 server on 127.0.0.1 that answers with the statuses it is given, in turn
/// (the last one repeated), and keeps every request.
pub struct HttpSink {
    /// Where it listens.
    pub addr: SocketAddr,
    hits: Arc<Mutex<Vec<Hit>>>,
    stop: CancellationToken,
}

impl HttpSink {
    /// Starts a server answering `statuses` in turn (200 when empty).
    pub async fn start(statuses: Vec<u16>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the HTTP sink");
        let addr = listener.local_addr().expect("addr");
        let hits = Arc::new(Mutex::new(Vec::new()));
        let statuses = Arc::new(statuses);
        let stop = CancellationToken::new();
        let (h, s) = (hits.clone(), stop.clone());
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = s.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((stream, _)) = accepted else { continue };
                let (h, statuses) = (h.clone(), statuses.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                        let (h, statuses) = (h.clone(), statuses.clone());
                        async move {
                            let method = request.method().to_string();
                            let path = request.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
                            let headers = request
                                .headers()
                                .iter()
                                .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
                                .collect();
                            let body =
                                request.into_body().collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
                            let n = {
                                let mut hits = h.lock().expect("lock");
                                hits.push(Hit { method, path, headers, body, at: Instant::now() });
                                hits.len()
                            };
                            let status = statuses.get(n - 1).or(statuses.last()).copied().unwrap_or(200);
                            let response = hyper::Response::builder()
                                .status(status)
                                .body(Full::new(Bytes::from_static(b"{}")))
                                .expect("response");
                            Ok::<_, std::convert::Infallible>(response)
                        }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        Self { addr, hits, stop }
    }

    /// `http://127.0.0.1:{port}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request so far.
    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().expect("lock").clone()
    }

    /// Waits until `n` requests arrived, or `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Hit> {
        wait_for(&self.hits, n, timeout).await
    }
}

impl Drop for HttpSink {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Waits until `kept` holds `n` items, or `timeout`; returns them.
async fn wait_for<T: Clone>(kept: &Mutex<Vec<T>>, n: usize, timeout: Duration) -> Vec<T> {
    let deadline = Instant::now() + timeout;
    loop {
        let items = kept.lock().expect("lock").clone();
        if items.len() >= n || Instant::now() > deadline {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn mime_parts_and_encoded_words_decode() {
    let message = "Subject: =?utf-8?b?VG91dGVzIG5vcyBleGN1c2Vz?=\r\nContent-Type: multipart/alternative;\r\n boundary=\"XYZ\"\r\n\r\n--XYZ\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nd=C3=A9sol=\r\n=C3=A9s\r\n--XYZ\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nPHA+aGk8L3A+\r\n--XYZ--\r\n";
    assert_eq!(header(message, "subject").as_deref(), Some("Toutes nos excuses"));
    assert_eq!(part(message, "text/plain").as_deref().map(str::trim), Some("désolés"));
    assert_eq!(part(message, "text/html").as_deref().map(str::trim), Some("<p>hi</p>"));
}
