//! A hostile Studio: it forwards every request to the simulator and may rewrite what comes
//! back, path by path (the per-window result pages, a name, a status), so that a test can
//! serve what the simulator never would on top of answers that are otherwise real.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// Rewrites an answer: the request's path and query, then the simulator's JSON answer.
pub type Rewrite = dyn Fn(&str, serde_json::Value) -> serde_json::Value + Send + Sync;

pub struct Proxy {
    pub addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

struct Upstream {
    base: String,
    http: reqwest::Client,
    rewrite: Box<Rewrite>,
}

impl Proxy {
    /// Serves until dropped, in front of the server at `upstream` (an origin, no path).
    pub async fn start(
        upstream: &str,
        rewrite: impl Fn(&str, serde_json::Value) -> serde_json::Value + Send + Sync + 'static,
    ) -> Self {
        let state = Arc::new(Upstream {
            base: upstream.trim_end_matches('/').to_string(),
            http: super::raw_http(),
            rewrite: Box::new(rewrite),
        });
        let app = axum::Router::new().fallback(forward).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, task }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(
    axum::extract::State(up): axum::extract::State<Arc<Upstream>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    let mut request = up.http.request(method, format!("{}{path}", up.base));
    for name in ["x-api-key", "content-type"] {
        if let Some(value) = headers.get(name) {
            request = request.header(name, value);
        }
    }
    let Ok(answer) = request.body(body).send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap();
    let bytes = answer.bytes().await.unwrap_or_default();
    let body = match serde_json::from_slice(&bytes) {
        Ok(json) => (up.rewrite)(&path, json).to_string().into_bytes(),
        Err(_) => bytes.to_vec(),
    };
    (status, [("content-type", "application/json")], body).into_response()
}
