//! An upstream that misbehaves below HTTP: a raw TCP listener on 127.0.0.1
//! that reads one request and answers in a scripted wrong way, and reports
//! when the service closed the connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How the upstream answers.
#[derive(Debug, Clone, Copy)]
pub enum Misbehaviour {
    /// Bytes that are not HTTP.
    NotHttp,
    /// A 200 promising 1000 bytes, 20 of them, then the connection closes.
    CutBody,
    /// A chunked 200 body of this many bytes, sent as fast as it is read.
    Huge(usize),
    /// Nothing: waits for the service to close the connection.
    Hang,
}

/// See the module documentation.
pub struct RawUpstream {
    pub addr: SocketAddr,
    /// Requests received (connections that sent a request head).
    pub requests: Arc<AtomicUsize>,
    closed: mpsc::UnboundedReceiver<()>,
    task: JoinHandle<()>,
}

impl RawUpstream {
    pub async fn start(misbehaviour: Misbehaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let (tx, closed) = mpsc::unbounded_channel();
        let counter = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (counter, tx) = (counter.clone(), tx.clone());
                tokio::spawn(async move {
                    if answer(stream, misbehaviour, &counter).await {
                        let _ = tx.send(());
                    }
                });
            }
        });
        Self {
            addr,
            requests,
            closed,
            task,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits until a hanging connection was closed by the service.
    pub async fn closed_within(&mut self, limit: Duration) -> bool {
        tokio::time::timeout(limit, self.closed.recv())
            .await
            .is_ok()
    }
}

impl Drop for RawUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads the request head, then misbehaves. True when the peer closed a
/// hanging connection.
async fn answer(mut stream: TcpStream, misbehaviour: Misbehaviour, requests: &AtomicUsize) -> bool {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    requests.fetch_add(1, Ordering::SeqCst);
    match misbehaviour {
        Misbehaviour::NotHttp => {
            let _ = stream
                .write_all(b"SSH-2.0-OpenSSH_9.6\r\nnot http at all\r\n")
                .await;
            false
        }
        Misbehaviour::CutBody => {
            let head =
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n";
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(br#"{"resultCode":"A1","#).await;
            let _ = stream.flush().await;
            false
        }
        Misbehaviour::Huge(total) => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
            if stream.write_all(head.as_bytes()).await.is_err() {
                return false;
            }
            let chunk = vec![b' '; 64 * 1024];
            let mut sent = 0;
            while sent < total {
                let frame = format!("{:x}\r\n", chunk.len());
                let ok = stream.write_all(frame.as_bytes()).await.is_ok()
                    && stream.write_all(&chunk).await.is_ok()
                    && stream.write_all(b"\r\n").await.is_ok();
                if !ok {
                    return false;
                }
                sent += chunk.len();
            }
            let _ = stream.write_all(b"0\r\n\r\n").await;
            false
        }
        Misbehaviour::Hang => matches!(stream.read(&mut buf).await, Ok(0) | Err(_)),
    }
}
