//! Against a server that answers whatever it likes: credentials stay with the origin the
//! user named, waits are bounded, reads ride out passing failures.

mod common;

use std::time::Duration;

use ei_tune::api::client::parse_retry_after;
use ei_tune::api::{ClientConfig, StudioClient};

use common::KEY;
use common::stub::{Reply, Stub, projects};

fn client_for(base: &str) -> StudioClient {
    StudioClient::new(&ClientConfig::new(base).with_api_key(KEY)).unwrap()
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_the_key_stays_home() {
    let elsewhere = Stub::start(|_, _| Some(Reply::json(200, &projects(1, "stolen")))).await;
    let target = format!("http://{}/v1/api/projects", elsewhere.addr);
    for status in [301, 302, 307, 308] {
        let target = target.clone();
        let home = Stub::start(move |_, _| {
            Some(Reply::json(status, "{}").with_header("location", &target))
        })
        .await;
        let err = client_for(&home.base_url())
            .list_projects()
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("redirected to http://{}", elsewhere.addr)),
            "{err}"
        );
        assert!(!err.contains(KEY));
        assert_eq!(home.seen()[0].header("x-api-key"), Some(KEY));
    }
    assert!(elsewhere.seen().is_empty(), "{:?}", elsewhere.seen());
}

#[test]
fn a_password_in_the_host_is_refused_and_never_repeated() {
    for host in [
        "http://user:hunter2@127.0.0.1:9/v1",
        "https://user:hunter2@studio.example.com/v1",
        "http://user:hunter2@exa mple/v1",
    ] {
        let err = StudioClient::new(&ClientConfig::new(host).with_api_key(KEY))
            .unwrap_err()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }
}

#[test]
fn retry_after_is_read_safely_and_capped() {
    assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
    assert_eq!(parse_retry_after("3600"), Some(Duration::from_secs(60)));
    assert_eq!(
        parse_retry_after("9999999999999999999"),
        Some(Duration::from_secs(60))
    );
    assert_eq!(
        parse_retry_after("99999999999999999999999"),
        None,
        "not a number a server may send"
    );
    let soon = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(30));
    let wait = parse_retry_after(&soon).unwrap();
    assert!(
        wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
        "{wait:?}"
    );
    let past = httpdate::fmt_http_date(std::time::SystemTime::UNIX_EPOCH);
    assert_eq!(parse_retry_after(&past), Some(Duration::ZERO));
    assert_eq!(parse_retry_after("soon"), None);
}

#[tokio::test]
async fn reads_ride_out_passing_failures() {
    // Two gateway errors, then the answer: a start no longer fails on the first blip.
    let stub = Stub::start(|_, n| {
        Some(match n {
            0 => Reply::json(502, "<html>bad gateway</html>"),
            1 => Reply::json(429, "{}").with_header("retry-after", "0"),
            _ => Reply::json(200, &projects(7, "p")),
        })
    })
    .await;
    let projects = client_for(&stub.base_url()).list_projects().await.unwrap();
    assert_eq!(projects[0].id, 7);
    assert_eq!(stub.seen().len(), 3);
    // A refusal is not tried again.
    let refusing =
        Stub::start(|_, _| Some(Reply::json(403, r#"{"success":false,"error":"no"}"#))).await;
    assert!(
        client_for(&refusing.base_url())
            .list_projects()
            .await
            .is_err()
    );
    assert_eq!(refusing.seen().len(), 1);
}

#[tokio::test]
async fn a_huge_retry_after_does_not_stall_or_crash_the_tuner_core() {
    use ei_tune::api::ApiError;
    use ei_tune::tuner::{Action, Msg, Tuner, TunerConfig};
    let t0 = std::time::Instant::now();
    let (mut t, _) = Tuner::new(TunerConfig::default(), "http://x/v1", None, t0);
    t.update(
        Msg::Loaded(Ok(ei_tune::studio::demo::demo_loaded(0).unwrap())),
        t0,
    );
    t.update(Msg::Action(Action::StepUp), t0);
    let cmds = t.update(Msg::Tick, t0 + Duration::from_millis(300));
    let Some(ei_tune::tuner::Cmd::SetThresholds { request_id, .. }) = cmds.first() else {
        panic!("{cmds:?}");
    };
    // What the client makes of `Retry-After: 9999999999999999999`.
    let busy = ApiError::Status {
        operation: "setImpulseThresholds",
        status: 429,
        message: "slow down".into(),
        retry_after: parse_retry_after("9999999999999999999"),
    };
    t.update(
        Msg::SetDone {
            request_id: *request_id,
            result: Err(busy),
        },
        t0 + Duration::from_millis(310),
    );
    let next = t.next_deadline().unwrap();
    assert!(next <= t0 + Duration::from_secs(61), "{:?}", next - t0);
}
