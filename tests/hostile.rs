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
        Some(Duration::from_secs(60)),
        "digits past u64 are still delay-seconds (RFC 9110): the longest wait"
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
    let (mut t, _) = Tuner::new(TunerConfig::default(), "http://x/v1", None, None, t0);
    t.update(
        Msg::Loaded {
            load: 0,
            result: Ok(ei_tune::app::demo_loaded(0).unwrap()),
        },
        t0,
    );
    // No scores to wait for: the save goes when due.
    t.update(
        Msg::TestSetLoaded {
            impulse: 1,
            result: Err("no model testing results to preview".into()),
        },
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
            outcome: ei_tune::api::Outcome::from(Err(busy)),
        },
        t0 + Duration::from_millis(310),
    );
    let next = t.next_deadline().unwrap();
    assert!(next <= t0 + Duration::from_secs(61), "{:?}", next - t0);
}

/// A stub Studio with one impulse (id 1, one keras block 3 with `min_score`), whose names
/// carry terminal control sequences; `special` answers first where it wants to.
async fn stub_studio(
    special: impl Fn(&common::stub::Seen, usize) -> Option<Option<Reply>> + Send + Sync + 'static,
) -> Stub {
    Stub::start(move |seen, n| {
        if let Some(reply) = special(seen, n) {
            return reply;
        }
        let path = seen.path.split('?').next().unwrap_or_default();
        let body = if path.ends_with("/api/projects") {
            projects(5, "evil\u{1b}]52;c;cGF3bmVk\u{7}")
        } else if path.ends_with("/impulse") || path.ends_with("/impulses") {
            let impulse = serde_json::json!({"id": 1, "name": "imp\u{1b}[2J\u{9b}31m",
                "type": "default", "inputBlocks": [], "dspBlocks": [], "postProcessingBlocks": [],
                "learnBlocks": [{"id": 3, "type": "keras", "name": "k\u{1b}]0;title\u{7}",
                    "title": "t\u{9b}2J", "dsp": []}]});
            if path.ends_with("/impulses") {
                serde_json::json!({"success": true, "impulses": [impulse], "maxImpulseCount": 3})
            } else {
                serde_json::json!({"success": true, "impulse": impulse})
            }
            .to_string()
        } else if path.contains("/training/") {
            serde_json::json!({"success": true, "thresholds": [{"key": "min_score",
                "description": "d\u{1b}[31m", "helpText": "h", "value": 0.6}]})
            .to_string()
        } else if path.ends_with("/set-thresholds") {
            r#"{"success":true,"hadModelTestingResults":false,"regenerateModelTestingStatus":"not_regenerated"}"#.into()
        } else if path.ends_with("/jobs") {
            r#"{"success":true,"jobs":[],"totalJobCount":0}"#.into()
        } else {
            r#"{"success":false,"error":"no such thing \u001b]52;c;x\u0007"}"#.into()
        };
        Some(Reply::json(200, &body))
    })
    .await
}

fn binary(base: &str) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_ei-tune"));
    cmd.env_clear()
        .env("EI_API_ENDPOINT", base)
        .env("EI_API_KEY", KEY)
        .env("EI_TUNE_STATE_DIR", common::scratch_dir("state"))
        .env("EI_TUNE_CACHE_DIR", common::scratch_dir("cache"))
        .kill_on_drop(true);
    cmd
}

fn no_controls(text: &str) -> bool {
    !text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
}

#[tokio::test]
async fn server_text_never_reaches_the_terminal_raw() {
    let stub = stub_studio(|_, _| None).await;
    for args in [
        vec!["list"],
        vec!["list", "--json"],
        vec!["list", "--runner"],
        vec!["set", "3.min_score=0.7"],
        vec!["set", "3.min_score=0.7", "--json"],
        vec!["results"],
    ] {
        let (code, out, err) = common::run(binary(&stub.base_url()).args(&args)).await;
        assert!(no_controls(&out), "{args:?} stdout: {out:?}");
        assert!(no_controls(&err), "{args:?} stderr: {err:?}");
        if args.contains(&"--json") {
            let json: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert!(json.is_object() || json.is_array(), "{args:?}: exact JSON");
        }
        assert!(code == 0 || args == ["results"], "{args:?}: {code} {err}");
    }
    // JSON keeps the server's text exactly, escaped.
    let (_, out, _) = common::run(binary(&stub.base_url()).args(["list", "--json"])).await;
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(rows[0]["blockTitle"], "t\u{9b}2J");
}

/// A stub whose set-thresholds answers `answer()` (`None`: hangs up) after Studio applied
/// the change when `applies`; the blocks then read 0.7. Whether it applied, for checks.
async fn studio_losing_the_answer(
    applies: bool,
    answer: fn() -> Option<Reply>,
) -> (Stub, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let applied = std::sync::Arc::new(AtomicBool::new(false));
    let flag = std::sync::Arc::clone(&applied);
    let stub = stub_studio(move |seen, _| {
        let path = seen.path.split('?').next().unwrap_or_default();
        if path.ends_with("/set-thresholds") {
            flag.store(applies, Ordering::SeqCst);
            return Some(answer());
        }
        if path.contains("/training/") && flag.load(Ordering::SeqCst) {
            let body = r#"{"success":true,"thresholds":[{"key":"min_score","description":"d","helpText":"h","value":0.7}]}"#;
            return Some(Some(Reply::json(200, body)));
        }
        None
    })
    .await;
    (stub, applied)
}

#[tokio::test]
async fn a_lost_answer_is_read_back_resent_and_said_plainly() {
    // The change reaches the server, the answer does not: Studio then holds 0.7.
    // Not held when read back: sent again after each read-back (never blindly), and when
    // Studio still does not show it, unknown (exit 3): a call in transit may land later.
    let unknown = "no answer says whether Studio applied the change";
    for (applies, code, words, sends) in [(true, 0, "applied", 1), (false, 3, unknown, 4)] {
        // Hang up: the answer is lost.
        let (stub, _) = studio_losing_the_answer(applies, || None).await;
        let state = common::scratch_dir("state");
        let (got, out, err) = common::run(
            binary(&stub.base_url())
                .env("EI_TUNE_STATE_DIR", &state)
                .args(["set", "3.min_score=0.7"]),
        )
        .await;
        assert_eq!(got, code, "{out}{err}");
        assert!(out.contains(words) || err.contains(words), "{out}{err}");
        // The history says what reading back found.
        let written = ei_tune::history::History::in_dir(&state).read().unwrap();
        let call = &written.entries[0].call;
        assert_eq!(call.answer.saved, applies, "{call:?}");
        let after = &call
            .thresholds
            .iter()
            .find(|c| c.key == "min_score")
            .unwrap()
            .after;
        // Applied, or unknown: the value sent is written down, said unknown when it is.
        assert_eq!(after.as_number(), Some(0.7), "{call:?}");
        assert_eq!(
            call.answer.summary().contains("unknown"),
            !applies,
            "{call:?}"
        );
        let sets = stub
            .seen()
            .iter()
            .filter(|s| s.path.ends_with("/set-thresholds"))
            .count();
        assert_eq!(
            sets, sends,
            "a lost answer is sent again only after a read-back"
        );
        let reads = stub
            .seen()
            .iter()
            .filter(|s| s.path.contains("/training/"))
            .count();
        assert!(reads > sends, "{reads} reads for {sends} sends");
    }
}

#[tokio::test]
async fn paging_that_does_not_advance_stops_with_a_clear_error() {
    // One sample a page, whatever the offset, and a total it can never reach.
    let page = |total: u64| {
        serde_json::json!({"success": true, "totalCount": total, "predictions": [],
            "result": [{"sampleId": 1, "sample": {"label": "a"}, "classifications": [{
                "learnBlock": {"id": 3, "type": "keras", "name": "k", "title": "t", "dsp": []},
                "result": [{"a": 0.9, "b": 0.1}],
                "expectedLabels": [{"startIndex": 0, "endIndex": 0, "label": "a"}],
                "minimumConfidenceRating": 0.6, "thresholds": []}]}]})
        .to_string()
    };
    let cases = [
        (page(1_000_000_000_000), "more than"),
        (page(8), "came twice"),
        (page(4_000_000), "requests"),
    ];
    for (body, words) in cases {
        let stub = stub_studio(move |seen, _| {
            seen.path
                .contains("/result/page")
                .then(|| Some(Reply::json(200, &body)))
        })
        .await;
        let mut cmd = binary(&stub.base_url());
        cmd.arg("suggest");
        let (code, _, err) = tokio::time::timeout(Duration::from_secs(30), common::run(&mut cmd))
            .await
            .expect("suggest ends");
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(words), "{err}");
        let pages = stub
            .seen()
            .iter()
            .filter(|s| s.path.contains("/result/page"))
            .count();
        // The first page, then at most one round of pages in flight.
        let most = 1 + ei_tune::api::client::DEFAULT_PAGES_IN_FLIGHT;
        assert!(pages <= most, "{pages} pages");
    }
}

#[tokio::test]
async fn bad_keys_and_files_are_refused_without_the_network() {
    let stub = stub_studio(|_, _| None).await;
    for key in ["", "   "] {
        let (code, _, err) =
            common::run(binary(&stub.base_url()).env("EI_API_KEY", key).arg("list")).await;
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("no API key"), "{err}");
    }
    assert!(stub.seen().is_empty(), "nothing went out");
    let dir = std::env::temp_dir().join(format!("ei-tune-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("key");
    std::fs::write(&key_file, format!("\u{feff}\n\n  {KEY}  \nsecond line\n")).unwrap();
    let (code, _, err) = common::run(
        binary(&stub.base_url())
            .env_remove("EI_API_KEY")
            .arg("--api-key-file")
            .arg(&key_file)
            .arg("list"),
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(stub.seen()[0].header("x-api-key"), Some(KEY));
    for args in [
        vec!["--api-key-file", "/dev/zero", "list"],
        vec!["set", "--from", "/dev/zero"],
    ] {
        let mut cmd = binary(&stub.base_url());
        cmd.env_remove("EI_API_KEY").args(&args);
        let (code, _, err) = tokio::time::timeout(Duration::from_secs(10), common::run(&mut cmd))
            .await
            .expect("refused at once");
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains("refused"), "{err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Two values for one threshold, and a file from another project (taken only when asked).
#[tokio::test]
async fn contradicting_values_and_another_projects_file_are_refused() {
    let stub = stub_studio(|_, _| None).await;
    let dir = std::env::temp_dir().join(format!("ei-tune-contradict-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("t.json");
    std::fs::write(
        &file,
        r#"{"projectId": 5, "impulseId": 1, "thresholds": [
            {"blockId": 3, "key": "min_score", "value": 0.5},
            {"blockId": 3, "key": "min_score", "value": 0.7}]}"#,
    )
    .unwrap();
    let (code, _, err) =
        common::run(binary(&stub.base_url()).args(["set", "--from"]).arg(&file)).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("two values"), "{err}");
    let (code, _, err) =
        common::run(binary(&stub.base_url()).args(["set", "3.min_score=0.5", "3.min_score=0.6"]))
            .await;
    assert_eq!(code, 2, "{err}");
    std::fs::write(
        &file,
        r#"{"projectId": 77, "impulseId": 1, "thresholds": [{"blockId": 3, "key": "min_score", "value": 0.5}]}"#,
    )
    .unwrap();
    let (code, _, err) =
        common::run(binary(&stub.base_url()).args(["set", "--from"]).arg(&file)).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("project 77"), "{err}");
    let (code, _, err) = common::run(
        binary(&stub.base_url())
            .args(["set", "--other-project", "--from"])
            .arg(&file),
    )
    .await;
    assert_eq!(code, 0, "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_closed_pipe_ends_quietly_and_a_full_disk_is_an_error() {
    use std::process::Stdio;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ei-tune"))
        .args(["completions", "bash"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "exec {} completions bash > /dev/full",
            env!("CARGO_BIN_EXE_ei-tune")
        ))
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot write the output") && !err.contains("panicked"),
        "{err}"
    );
}

#[tokio::test]
async fn absurd_simulator_settings_are_refused() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ei-tune"))
        .args(["serve", "--job-seconds", "1e19"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Thousands of connections that send nothing (or a byte now and then) neither exhaust the
/// simulator's descriptors nor keep other clients out, and are closed in bounded time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_do_not_keep_others_out() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut config = ei_tune::studio::StudioConfig::new(KEY);
    config.max_connections = 200;
    config.head_timeout = Duration::from_secs(1);
    let studio = ei_tune::studio::Studio::start(config).await.unwrap();
    let mut idle = Vec::new();
    for i in 0..2000 {
        let Ok(mut socket) = tokio::net::TcpStream::connect(studio.addr()).await else {
            continue;
        };
        if i % 2 == 0 {
            // Slow-loris: the start of a request head, never finished.
            let _ = socket
                .write_all(b"GET /v1/api/projects HTTP/1.1\r\nx-a")
                .await;
        }
        idle.push(socket);
    }
    // Others are still served, at once.
    let c = common::client(&studio);
    let projects = tokio::time::timeout(Duration::from_secs(20), c.list_projects())
        .await
        .expect("served")
        .unwrap();
    assert_eq!(projects.len(), 1);
    // Every idle connection is closed by the server within its head timeout, or refused.
    let closed = futures::future::join_all(idle.iter_mut().map(|s| async move {
        let mut byte = [0u8; 1];
        matches!(
            tokio::time::timeout(Duration::from_secs(5), s.read(&mut byte)).await,
            Ok(Ok(0) | Err(_))
        )
    }))
    .await;
    assert!(
        closed.iter().all(|c| *c),
        "{} left open",
        closed.iter().filter(|c| !**c).count()
    );
}

#[tokio::test]
async fn the_results_summary_rides_out_passing_failures_too() {
    let summary = r#"{"success":true,"result":[],"predictions":[],"accuracy":{"totalSummary":{"good":3,"bad":1},"summaryPerClass":{},"confusionMatrixValues":{},"allLabels":[]},"additionalMetricsByLearnBlock":[],"availableVariants":[]}"#;
    let stub = Stub::start(move |_, n| {
        Some(match n {
            0 => Reply::json(503, "{}"),
            _ => Reply::json(200, summary),
        })
    })
    .await;
    let got = client_for(&stub.base_url())
        .model_testing_summary(1, 1)
        .await
        .unwrap();
    assert_eq!(got.window_count(), 4);
    assert_eq!(stub.seen().len(), 2);
}

#[tokio::test]
async fn a_servers_key_or_line_never_reaches_the_shell_or_forges_output() {
    let stub = stub_studio(|seen, _| {
        let path = seen.path.split('?').next().unwrap_or_default();
        if path.contains("/training/") {
            let body = serde_json::json!({"success": true, "thresholds": [
                {"key": "min_score", "description": "d\nFAKE: applied\t\u{202e}x\u{2028}", "helpText": "h", "value": 0.5},
                {"key": "z;touch${IFS}/tmp/pwned;", "description": "d", "helpText": "h", "value": 0.5},
                {"key": "a,4.min_score", "description": "d", "helpText": "h", "value": 0.5}]});
            return Some(Some(Reply::json(200, &body.to_string())));
        }
        None
    })
    .await;
    let (code, out, err) = common::run(binary(&stub.base_url()).args(["list", "--runner"])).await;
    assert_eq!(code, 0, "{err}");
    let line = out.lines().next().unwrap();
    assert_eq!(line, "--thresholds '3.min_score=0.5'", "{out}");
    assert!(out.contains("left out"), "{out}");
    let (_, out, _) = common::run(binary(&stub.base_url()).arg("list")).await;
    assert!(!out.lines().any(|l| l.starts_with("FAKE")), "{out}");
    assert!(
        !out.contains('\u{202e}') && !out.contains('\u{2028}'),
        "{out:?}"
    );
}

#[tokio::test]
async fn a_gateway_error_after_the_change_is_read_back() {
    let (stub, applied) =
        studio_losing_the_answer(true, || Some(Reply::json(502, "<html>bad gateway</html>"))).await;
    let (code, out, err) =
        common::run(binary(&stub.base_url()).args(["set", "3.min_score=0.7"])).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("applied"), "{out}");
    assert!(applied.load(std::sync::atomic::Ordering::SeqCst));
}

#[tokio::test]
async fn a_key_echoed_by_the_server_is_blanked_and_odd_hosts_are_refused() {
    let echo = format!(r#"{{"success":false,"error":"invalid key {KEY}"}}"#);
    let stub = Stub::start(move |_, _| Some(Reply::json(401, &echo))).await;
    let err = client_for(&stub.base_url())
        .list_projects()
        .await
        .unwrap_err()
        .to_string();
    assert!(!err.contains(KEY) && err.contains("<redacted>"), "{err}");
    // Quoted from a body that is not JSON, after enough text that a quote cut at its
    // length would cut the key: no part of it shows.
    for status in [400, 200] {
        let body = format!("{} {KEY} tail", "a".repeat(45));
        let stub = Stub::start(move |_, _| {
            Some(Reply::json(status, &body).with_header("content-type", "text/plain"))
        })
        .await;
        let client = client_for(&stub.base_url());
        let err = client.list_projects().await.unwrap_err().to_string();
        assert!(!err.contains(&KEY[..12]), "{status}: {err}");
        // A page of results, read on its own path, alike.
        let err = client
            .model_testing_results_page(1, 1, 0, 10)
            .await
            .unwrap_err()
            .to_string();
        assert!(!err.contains(&KEY[..12]), "page, {status}: {err}");
    }
    for host in ["http://127.0.0.1:9/v1?token=x", "http://127.0.0.1:9/v1#x"] {
        assert!(
            StudioClient::new(&ClientConfig::new(host).with_api_key(KEY)).is_err(),
            "{host}"
        );
    }
}

/// A compressed answer is held to the size cap as it inflates: a few kilobytes of gzip
/// that would become 64 MiB are refused, not unpacked.
#[tokio::test]
async fn a_compression_bomb_is_refused_at_the_inflated_cap() {
    use std::io::Write;
    let mut json = br#"{"success":true,"projects":["#.to_vec();
    json.resize(64 << 20, b' ');
    json.extend_from_slice(b"]}");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&json).unwrap();
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 200 << 10, "{} bytes of gzip", bomb.len());
    let stub = Stub::start(move |seen, _| {
        let asks_gzip = seen
            .header("accept-encoding")
            .is_some_and(|v| v.contains("gzip"));
        let mut reply = Reply::json(200, "").with_header("content-encoding", "gzip");
        reply.body = bomb.clone();
        asks_gzip.then_some(reply)
    })
    .await;
    let (code, _, err) = common::run(binary(&stub.base_url()).arg("list")).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("larger than"), "{err}");
}
