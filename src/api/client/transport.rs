//! How every request goes: caps on what is read, reads tried again after passing failures,
//! errors in the server's words with the credentials blanked out, answers decoded with the
//! path of a bad field.

use std::time::Duration;

use reqwest::header::HeaderValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{MAX_RETRY_AFTER, MAX_SMALL_BODY_BYTES, StudioClient};
use crate::api::error::ApiError;
use crate::api::models::*;
use crate::api::redact::{redact_json, redact_text};
use crate::api::secret::Secret;
use crate::api::skim::Skimmer;

impl StudioClient {
    /// A read whose top-level members `drop` are dropped as the body arrives: only the
    /// rest is kept and decoded, however large the answer.
    pub(super) async fn get_skimmed<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: &str,
        query: &[(&str, String)],
        drop: &'static [&'static str],
    ) -> Result<T, ApiError> {
        let url = format!("{}{path}", self.base);
        self.retrying(operation, || async {
            let request = self.http.get(&url).query(query);
            let response = self.start(operation, &url, request).await?;
            let mut skimmer = Skimmer::new(drop);
            let kept_cap = self.small_cap();
            read_chunks(operation, &url, response, self.max_body_bytes, |chunk| {
                skimmer.feed(chunk);
                if skimmer.kept_len() > kept_cap {
                    return Err(ApiError::Decode {
                        operation,
                        path: ".".into(),
                        message: format!(
                            "the answer beside its bulk is larger than {} KiB; refused",
                            kept_cap >> 10
                        ),
                    });
                }
                Ok(())
            })
            .await?;
            self.decode(operation, &skimmer.finish())
        })
        .await
    }

    /// A body decoded, the credentials it echoes blanked first ([`redact_json`]).
    pub(super) fn decode<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        body: &[u8],
    ) -> Result<T, ApiError> {
        self.decode_blanked(operation, &self.blanked(body))
    }

    /// A body whose JSON strings are blanked already ([`StudioClient::blanked`]), decoded.
    /// One that does not decode is quoted in the error: blanked as text first (it may not
    /// be JSON at all), so that a quote cut inside the key cannot show part of it.
    pub(super) fn decode_blanked<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        body: &[u8],
    ) -> Result<T, ApiError> {
        decode_body(operation, body).map_err(|e| {
            decode_body::<T>(operation, &self.blank_whole(body))
                .err()
                .unwrap_or(e)
        })
    }

    fn secret_texts(&self) -> Vec<&str> {
        self.secrets.iter().map(Secret::expose).collect()
    }

    /// `body` with the credentials it echoes blanked in its JSON strings ([`redact_json`]).
    pub(super) fn blanked<'a>(&self, body: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
        redact_json(body, &self.secret_texts())
    }

    /// A body with the credentials it echoes blanked, in its JSON strings and as text.
    fn blank_whole(&self, body: &[u8]) -> Vec<u8> {
        let body = self.blanked(body);
        let text = String::from_utf8_lossy(&body);
        match redact_text(&text, &self.secret_texts()) {
            Some(blanked) => blanked.into_bytes(),
            None => body.into_owned(),
        }
    }

    /// The cap of every answer but results.
    pub(super) fn small_cap(&self) -> usize {
        self.max_body_bytes.min(MAX_SMALL_BODY_BYTES)
    }

    /// A read of a small answer, tried again after transient failures.
    pub(super) async fn get<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ApiError> {
        self.get_capped(operation, path, query, self.small_cap())
            .await
    }

    /// A read tried again after transient failures, by the client's [`RetryPolicy`]:
    /// reads change nothing, so trying again is always safe.
    pub(super) async fn get_capped<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: &str,
        query: &[(&str, String)],
        cap: usize,
    ) -> Result<T, ApiError> {
        let url = format!("{}{path}", self.base);
        self.retrying(operation, || {
            let request = self.http.get(&url).query(query);
            self.send(operation, &url, request, cap)
        })
        .await
    }

    /// Runs a read until it succeeds or the client's [`RetryPolicy`] gives up.
    pub(super) async fn retrying<T, F, Fut>(
        &self,
        operation: &'static str,
        mut read: F,
    ) -> Result<T, ApiError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let started = std::time::Instant::now();
        let mut attempt = 1;
        loop {
            match read().await {
                Err(e) => match self.read_retries.wait(attempt, &e, started.elapsed()) {
                    Some(wait) => {
                        let e = self.redact(e);
                        tracing::debug!(operation, attempt, ?wait, "retrying a read: {e}");
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                    }
                    None => return Err(self.redact(e)),
                },
                answer => return answer,
            }
        }
    }

    pub(super) async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        operation: &'static str,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        let url = format!("{}{path}", self.base);
        let request = self.http.post(&url).json(body);
        self.send(operation, &url, request, self.small_cap()).await
    }

    pub(super) async fn send<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        url: &str,
        request: reqwest::RequestBuilder,
        cap: usize,
    ) -> Result<T, ApiError> {
        let answer = async {
            let response = self.start(operation, url, request).await?;
            let body = read_body(operation, url, response, cap).await?;
            self.decode(operation, &body)
        };
        answer.await.map_err(|e| self.redact(e))
    }

    /// A server may echo the credentials it was sent (an error quoting the key): they are
    /// blanked out of anything it says.
    pub(super) fn redact(&self, error: ApiError) -> ApiError {
        let secrets = self.secret_texts();
        let blank = |text: String| redact_text(&text, &secrets).unwrap_or(text);
        match error {
            ApiError::Status {
                operation,
                status,
                message,
                retry_after,
            } => ApiError::Status {
                operation,
                status,
                message: blank(message),
                retry_after,
            },
            ApiError::Refused { operation, message } => ApiError::Refused {
                operation,
                message: blank(message),
            },
            ApiError::Garbled { operation, message } => ApiError::Garbled {
                operation,
                message: blank(message),
            },
            ApiError::Decode {
                operation,
                path,
                message,
            } => ApiError::Decode {
                operation,
                path: blank(path),
                message: blank(message),
            },
            other => other,
        }
    }

    /// Sends a request and returns a 2xx response unread; any other status becomes
    /// [`ApiError::Status`] with the `error` of its body.
    pub(super) async fn start(
        &self,
        operation: &'static str,
        url: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, ApiError> {
        tracing::debug!(operation, url, "request");
        // A connect error means the request never left; a timeout may have been applied.
        let response = request.send().await.map_err(|e| {
            let unknown = e.is_timeout() || !e.is_connect();
            network_error(operation, url, e, unknown)
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        if status.is_redirection() {
            return Err(ApiError::Status {
                operation,
                status: status.as_u16(),
                message: redirect_message(&response),
                retry_after: None,
            });
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let body = read_body(operation, url, response, self.small_cap()).await?;
        // Blanked before any of it is quoted: a quote cut inside the key would no longer
        // match it.
        let body = self.blank_whole(&body);
        Err(ApiError::Status {
            operation,
            status: status.as_u16(),
            message: error_message(&body, status),
            retry_after,
        })
    }
}

/// The whole body, up to `cap` bytes.
pub(super) async fn read_body(
    operation: &'static str,
    url: &str,
    response: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, ApiError> {
    // The length announced (known when the answer is not compressed) saves the growing
    // buffer's copies and its spare half; it is only a hint, and never more than the cap.
    let announced = response.content_length().unwrap_or(0).min(cap as u64);
    let mut body = Vec::with_capacity(announced as usize);
    read_chunks(operation, url, response, cap, |chunk| {
        body.extend_from_slice(chunk);
        Ok(())
    })
    .await?;
    Ok(body)
}

/// Hands the body to `take` chunk by chunk as it arrives, up to `cap` bytes; `take` may
/// refuse the body (what it keeps grew too large, say), which ends the read.
pub(super) async fn read_chunks(
    operation: &'static str,
    url: &str,
    mut response: reqwest::Response,
    cap: usize,
    mut take: impl FnMut(&[u8]) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let status = response.status().as_u16();
    let mut received = 0;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| network_error(operation, url, e, true))?
    {
        received += chunk.len();
        if received > cap {
            return Err(ApiError::Decode {
                operation,
                path: ".".into(),
                message: format!("response larger than {} KiB; refused", cap >> 10),
            });
        }
        take(&chunk)?;
    }
    tracing::debug!(operation, status, bytes = received, "response");
    Ok(())
}

/// `Retry-After` as seconds or an HTTP date, never more than [`MAX_RETRY_AFTER`].
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds.min(MAX_RETRY_AFTER.as_secs())),
        // Seconds too many to count are as long as ei-tune ever waits.
        Err(_) if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => MAX_RETRY_AFTER,
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// Where a redirect led, without its path or query (which may carry anything).
fn redirect_message(response: &reqwest::Response) -> String {
    let target = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| response.url().join(l).ok())
        .map(|u| {
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            crate::text::clean(&format!(
                "{}://{}{port}",
                u.scheme(),
                u.host_str().unwrap_or_default()
            ))
        })
        .unwrap_or_else(|| "somewhere it did not say".into());
    format!(
        "the server redirected to {target}; not followed, so that credentials go only to the \
         host given (check --host / EI_API_ENDPOINT)"
    )
}

fn network_error(
    operation: &'static str,
    url: &str,
    e: reqwest::Error,
    outcome_unknown: bool,
) -> ApiError {
    ApiError::Network {
        operation,
        url: url.to_string(),
        reason: describe_reqwest_error(&e),
        outcome_unknown,
    }
}

/// How much of a server's `error` text is kept: enough for any real message.
const QUOTED_ERROR_CHARS: usize = 500;

/// How many of a body's first bytes an error quotes.
const QUOTED_BYTES: usize = 80;

/// Decodes a 2xx body: `success: false` becomes [`ApiError::Refused`], anything that is not
/// the promised shape an [`ApiError::Decode`] naming the JSON path of the bad field.
pub fn decode_body<T: DeserializeOwned>(
    operation: &'static str,
    body: &[u8],
) -> Result<T, ApiError> {
    let generic: GenericApiResponse = decode_json(operation, body)?;
    if !generic.success {
        return Err(ApiError::Refused {
            operation,
            message: generic.error.map_or_else(
                || "the server refused without a reason".into(),
                |e| crate::text::clean(&crate::text::shorten(&e, QUOTED_ERROR_CHARS)),
            ),
        });
    }
    decode_json(operation, body)
}

fn decode_json<T: DeserializeOwned>(operation: &'static str, body: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| decode_error(operation, e.path().to_string(), e.into_inner(), body))?;
    deserializer
        .end()
        .map_err(|e| decode_error(operation, ".".into(), e, body))?;
    Ok(value)
}

/// What a body that failed to decode was: not JSON at all (quoting its beginning), or JSON
/// of the wrong shape (naming the path of the bad field).
fn decode_error(
    operation: &'static str,
    path: String,
    inner: serde_json::Error,
    body: &[u8],
) -> ApiError {
    if inner.is_syntax() || inner.is_eof() {
        let message = if body.is_empty() {
            "empty body, expected JSON".to_string()
        } else {
            format!("not JSON ({inner}); it begins `{}`", snippet(body))
        };
        return ApiError::Garbled { operation, message };
    }
    ApiError::Decode {
        operation,
        path: crate::text::clean(&crate::text::shorten(&path, QUOTED_ERROR_CHARS)),
        message: crate::text::clean(&crate::text::shorten(
            &inner.to_string(),
            QUOTED_ERROR_CHARS,
        )),
    }
}

/// The `error` of a JSON error body, or the start of whatever else came back.
fn error_message(body: &[u8], status: reqwest::StatusCode) -> String {
    if let Ok(GenericApiResponse {
        error: Some(error), ..
    }) = serde_json::from_slice::<GenericApiResponse>(body)
    {
        return crate::text::clean(&crate::text::shorten(&error, QUOTED_ERROR_CHARS));
    }
    let reason = status.canonical_reason().unwrap_or("error");
    if body.is_empty() {
        reason.to_string()
    } else {
        format!("{reason}: `{}`", snippet(body))
    }
}

fn snippet(body: &[u8]) -> String {
    crate::text::clean(&String::from_utf8_lossy(
        &body[..body.len().min(QUOTED_BYTES)],
    ))
}

fn describe_reqwest_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    if e.is_connect() {
        return "connection failed".into();
    }
    // The chain's innermost message says most (e.g. "connection reset by peer"), and
    // reqwest's own messages never carry header values.
    let mut source: &dyn std::error::Error = e;
    while let Some(next) = source.source() {
        source = next;
    }
    source.to_string()
}

pub(super) fn sensitive_header(what: &str, secret: &Secret) -> Result<HeaderValue, ApiError> {
    let mut value = HeaderValue::from_str(secret.expose())
        .map_err(|_| ApiError::Config(format!("the {what} holds characters a header cannot")))?;
    value.set_sensitive(true);
    Ok(value)
}

/// reqwest is built without a default crypto provider (ring builds faster and smaller
/// than aws-lc); installing one twice is harmless.
pub(super) fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
