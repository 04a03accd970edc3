//! Connections the simulator keeps: a cap on how many are open, a deadline for a request
//! to arrive, and room for new clients while slow or idle ones hold the cap.
//!
//! A client that opens connections and sends nothing (or a byte now and then, slow-loris)
//! would otherwise hold a file descriptor each until the process runs out. Here:
//! - a connection that has not been answered yet must be, or be closed, within
//!   [`HEAD_TIMEOUT`] of its last answer (or of its opening);
//! - at most `max` are open: a new one evicts the oldest that has never been answered, or
//!   is closed at once when every open one is in use.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};

/// How long a connection may go without an answer: a request head arrives in far less.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections open at once.
pub const MAX_CONNECTIONS: usize = 1024;

/// What the listener and a connection share.
#[derive(Debug, Default)]
struct Shared {
    evict: AtomicBool,
    /// Whether anything was ever written back.
    answered: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Shared {
    fn evict(&self) {
        self.evict.store(true, Ordering::SeqCst);
        if let Some(waker) = self.waker.lock().unwrap_or_else(|p| p.into_inner()).take() {
            waker.wake();
        }
    }
}

type Registry = Arc<Mutex<VecDeque<Arc<Shared>>>>;

/// A TCP listener with the limits above.
pub struct GuardedListener {
    inner: TcpListener,
    open: Registry,
    max: usize,
    head_timeout: Duration,
}

impl GuardedListener {
    pub fn new(inner: TcpListener, max: usize, head_timeout: Duration) -> Self {
        Self {
            inner,
            open: Arc::default(),
            max,
            head_timeout,
        }
    }

    /// Makes room for one more, if it can: evicts the oldest never-answered connection.
    fn admit(&self) -> bool {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let live = open
            .iter()
            .filter(|c| !c.evict.load(Ordering::SeqCst))
            .count();
        if live < self.max {
            return true;
        }
        match open
            .iter()
            .find(|c| !c.evict.load(Ordering::SeqCst) && !c.answered.load(Ordering::SeqCst))
        {
            Some(idle) => {
                idle.evict();
                true
            }
            None => false,
        }
    }
}

impl axum::serve::Listener for GuardedListener {
    type Io = Guarded;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, addr) = match self.inner.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, say: wait a moment rather than spin.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            if !self.admit() {
                tracing::debug!(%addr, "connection refused: every slot is in use");
                continue; // dropped: closed at once
            }
            // An answer's head and body (streamed, or paced by a bandwidth fault) leave as
            // they are written: with Nagle's algorithm the body would wait for the
            // client's delayed acknowledgement of the head, 40 ms an answer.
            if let Err(e) = stream.set_nodelay(true) {
                tracing::debug!("TCP_NODELAY: {e}");
            }
            let shared = Arc::new(Shared::default());
            self.open
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push_back(Arc::clone(&shared));
            return (
                Guarded {
                    stream,
                    shared,
                    registry: Arc::clone(&self.open),
                    head_timeout: self.head_timeout,
                    deadline: Box::pin(tokio::time::sleep(self.head_timeout)),
                },
                addr,
            );
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A connection that closes itself when evicted or when no answer went out in time.
pub struct Guarded {
    stream: TcpStream,
    shared: Arc<Shared>,
    registry: Registry,
    head_timeout: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl Guarded {
    fn closed_by_guard(&mut self, cx: &mut Context<'_>) -> Option<io::Error> {
        if self.shared.evict.load(Ordering::SeqCst) {
            return Some(io::Error::new(
                io::ErrorKind::TimedOut,
                "evicted: too many connections",
            ));
        }
        *self.shared.waker.lock().unwrap_or_else(|p| p.into_inner()) = Some(cx.waker().clone());
        self.deadline
            .as_mut()
            .poll(cx)
            .is_ready()
            .then(|| io::Error::new(io::ErrorKind::TimedOut, "no request in time"))
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match Pin::new(&mut self.stream).poll_read(cx, buf) {
            Poll::Pending => match self.closed_by_guard(cx) {
                Some(e) => Poll::Ready(Err(e)),
                None => Poll::Pending,
            },
            ready => ready,
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.stream).poll_write(cx, data);
        if let Poll::Ready(Ok(n)) = written
            && n > 0
        {
            // An answer goes out: the next request has its own time from now.
            self.shared.answered.store(true, Ordering::SeqCst);
            let next = Instant::now() + self.head_timeout;
            self.deadline.as_mut().reset(next);
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        self.registry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|c| !Arc::ptr_eq(c, &self.shared));
    }
}
