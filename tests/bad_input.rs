//! Bad input never panics and gets a clear error: response decoders and argument parsers
//! under arbitrary input (proptest as a fuzzer, kept small for CI), and oversized answers.

mod common;

use ei_tune::api::client::{MAX_BODY_BYTES, decode_body};
use ei_tune::api::models::*;
use ei_tune::api::skim::Skimmer;
use ei_tune::api::{ApiError, ClientConfig, StudioClient};
use ei_tune::cli::parse_assignment;
use ei_tune::studio::faults::FaultSpec;
use proptest::prelude::*;
use serde_json::Value;

/// A summary part of getClassifyJobResult, with per-sample members to skim.
const SUMMARY: &str = r#"{"success":true,"result":[{"sampleId":1,"x":"]}"}],"predictions":[],
    "accuracy":{"totalSummary":{"good":1,"bad":0},"summaryPerClass":{},
    "confusionMatrixValues":{},"rows":[],"allLabels":["a"]},
    "additionalMetricsByLearnBlock":[],"availableVariants":[]}"#;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<i64>().prop_map(|i| Value::Number(i.into())),
        // brackets, quotes and backslashes inside strings, which a scanner must not count
        r#"[a-zA-Z_\[\]{}",:\\]{0,12}"#.prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("success".to_string()),
                    Just("error".to_string()),
                    Just("thresholds".to_string()),
                    Just("job".to_string()),
                    Just("impulse".to_string()),
                    Just("result".to_string()),
                    Just("predictions".to_string()),
                    Just("accuracy".to_string()),
                    "[a-z]{1,8}".prop_map(String::from),
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every response decoder the client uses, on the same bytes: never a panic; an error
/// names its operation.
fn decode_all(bytes: &[u8]) {
    fn check<T: serde::de::DeserializeOwned>(bytes: &[u8]) {
        if let Err(e) = decode_body::<T>("op", bytes) {
            assert_eq!(e.operation(), Some("op"));
            assert!(!e.to_string().is_empty());
        }
    }
    check::<ListProjectsResponse>(bytes);
    check::<GetAllImpulsesResponse>(bytes);
    check::<GetImpulseResponse>(bytes);
    check::<KerasResponse>(bytes);
    check::<AnomalyConfigResponse>(bytes);
    check::<SetImpulseThresholdsResponse>(bytes);
    check::<StartJobResponse>(bytes);
    check::<GetJobResponse>(bytes);
    check::<ClassifyJobResponse>(bytes);
    check::<ModelTestingSummary>(bytes);
    check::<ClassifyJobResponsePage>(bytes);
    // the summary of getClassifyJobResult is decoded from a skimmed body
    if let Err(e) = decode_body::<ModelTestingSummary>("op", &skimmed(bytes)) {
        assert_eq!(e.operation(), Some("op"));
        assert!(!e.to_string().is_empty());
    }
}

fn without_position(e: &ApiError) -> String {
    let text = e.to_string();
    text.split(" at line ")
        .next()
        .unwrap_or_default()
        .to_string()
}

fn skimmed(bytes: &[u8]) -> Vec<u8> {
    let mut skimmer = Skimmer::new(&["result", "predictions"]);
    skimmer.feed(bytes);
    skimmer.finish()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn decoders_survive_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        decode_all(&bytes);
    }

    #[test]
    fn decoders_survive_arbitrary_json(value in json_value()) {
        decode_all(value.to_string().as_bytes());
    }

    /// Skimming drops only what the summary does not read: any JSON document decodes to
    /// the same summary (or fails the same way) skimmed or whole, however it is chunked.
    #[test]
    fn skimming_never_changes_a_decoded_summary(
        value in json_value(),
        summary in any::<bool>(),
        splits in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
    ) {
        let mut value = value;
        if summary && let Value::Object(map) = &mut value {
            // often enough a document that decodes
            let real: Value = serde_json::from_str(SUMMARY).unwrap();
            for (k, v) in real.as_object().unwrap() {
                map.entry(k.clone()).or_insert(v.clone());
            }
        }
        let text = value.to_string();
        let bytes = text.as_bytes();
        let whole = decode_body::<ModelTestingSummary>("op", bytes);
        let mut cuts: Vec<usize> = splits.iter().map(|i| i.index(bytes.len() + 1)).collect();
        cuts.sort();
        let mut skimmer = Skimmer::new(&["result", "predictions"]);
        let mut from = 0;
        for cut in cuts.into_iter().chain([bytes.len()]) {
            skimmer.feed(&bytes[from..cut]);
            from = cut;
        }
        let skimmed = decode_body::<ModelTestingSummary>("op", &skimmer.finish());
        match (whole, skimmed) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            // the same error, but for where in the text serde saw it
            (Err(a), Err(b)) => prop_assert_eq!(without_position(&a), without_position(&b)),
            (a, b) => prop_assert!(false, "whole {:?} but skimmed {:?}", a, b),
        }
    }

    #[test]
    fn argument_parsers_survive_arbitrary_text(text in "\\PC{0,40}") {
        // Never a panic; a refusal always says something.
        if let Err(e) = parse_assignment(&text) {
            prop_assert!(!e.trim().is_empty());
        }
        if let Err(e) = FaultSpec::parse(&text) {
            prop_assert!(!e.trim().is_empty());
        }
    }

    #[test]
    fn assignments_that_parse_round_trip(block in 1u64..10_000_000_000, key in "[a-z_]{1,20}", value in "[0-9.e-]{1,10}") {
        let text = format!("{block}.{key}={value}");
        let a = parse_assignment(&text).unwrap();
        prop_assert_eq!(a.block_id, block);
        prop_assert_eq!(a.key, key);
        prop_assert_eq!(a.raw_value, value);
    }
}

#[test]
fn wrong_types_and_missing_fields_name_the_field() {
    let cases: [(&[u8], &str); 4] = [
        (br#"{"success":true,"hadModelTestingResults":"yes","regenerateModelTestingStatus":"regenerated"}"#, "hadModelTestingResults"),
        (br#"{"success":true,"hadModelTestingResults":true}"#, "regenerateModelTestingStatus"),
        (br#"{"success":true,"hadModelTestingResults":true,"regenerateModelTestingStatus":3}"#, "regenerateModelTestingStatus"),
        (br#"{"success":true,"hadModelTestingResults":true,"regenerateModelTestingStatus":"regenerated","regenerateModelTestingResultsJobId":-1}"#, "regenerateModelTestingResultsJobId"),
    ];
    for (body, field) in cases {
        let err =
            decode_body::<SetImpulseThresholdsResponse>("setImpulseThresholds", body).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ApiError::Decode { .. }), "{text}");
        assert!(text.contains(field), "{field} not named in {text}");
    }
}

#[tokio::test]
async fn a_body_of_many_megabytes_is_refused_with_bounded_memory() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 4096];
        let _ = socket.read(&mut request).await;
        let size = 64 * 1024 * 1024;
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {size}\r\n\r\n"
        );
        let _ = socket.write_all(head.as_bytes()).await;
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..64 {
            if socket.write_all(&chunk).await.is_err() {
                break; // the client hung up, as it should
            }
        }
    });
    let mut config = ClientConfig::new(format!("http://{addr}/v1")).with_api_key(common::KEY);
    config.max_body_bytes = 1 << 20;
    let err = StudioClient::new(&config)
        .unwrap()
        .list_projects()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("larger than 1024 KiB"), "{err}");
    server.abort();
}

/// A server on loopback that answers every request with `head` and then `body`, written in
/// small pieces, and then closes the connection.
async fn answer_with(
    head: String,
    body: Vec<u8>,
    max_body_bytes: usize,
) -> (StudioClient, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let _ = socket.write_all(head.as_bytes()).await;
            for piece in body.chunks(1000) {
                if socket.write_all(piece).await.is_err() {
                    break;
                }
            }
        }
    });
    let mut config = ClientConfig::new(format!("http://{addr}/v1")).with_api_key(common::KEY);
    config.max_body_bytes = max_body_bytes;
    (StudioClient::new(&config).unwrap(), server)
}

fn ok_head(length: usize) -> String {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {length}\r\nconnection: close\r\n\r\n"
    )
}

/// The summary is skimmed from the stream, not decoded from a buffer: every way a body
/// can be bad still gets the error a buffered decode gives.
#[tokio::test]
async fn the_streamed_summary_reports_bad_bodies_like_any_other() {
    fn kind(e: &ApiError) -> &'static str {
        match e {
            ApiError::Refused { .. } => "refused",
            ApiError::Garbled { .. } => "garbled",
            ApiError::Decode { .. } => "decode",
            _ => "other",
        }
    }
    let cases: [(&[u8], &str, &str); 5] = [
        (
            br#"{"success":false,"error":"No results for this impulse"}"#,
            "refused",
            "No results for this impulse",
        ),
        (
            b"<html>502 Bad Gateway</html>",
            "garbled",
            "it begins `<html>502",
        ),
        (
            br#"{"success":true,"result":[],"predictions":[]}"#,
            "decode",
            "missing field `accuracy`",
        ),
        (
            br#"{"success":true,"accuracy":{"totalSummary":{"good":"many"}}}"#,
            "decode",
            "accuracy.totalSummary.good",
        ),
        (
            br#"{"success":false,"error":"x"} and more"#,
            "garbled",
            "trailing characters",
        ),
    ];
    for (body, expected_kind, words) in cases {
        let (client, server) =
            answer_with(ok_head(body.len()), body.to_vec(), MAX_BODY_BYTES).await;
        let err = client.model_testing_summary(4242, 1).await.unwrap_err();
        let text = err.to_string();
        assert_eq!(kind(&err), expected_kind, "{text}");
        assert!(text.contains(words), "`{words}` not in {text}");
        assert_eq!(err.operation(), Some("getClassifyJobResult"));
        server.abort();
    }
}

#[tokio::test]
async fn a_summary_cut_off_mid_stream_is_a_network_error() {
    // A long valid beginning, promised larger than it is, then the connection closes.
    let mut body = br#"{"success":true,"result":["#.to_vec();
    body.extend(std::iter::repeat_n(b"{\"sampleId\":1},".as_slice(), 20_000).flatten());
    let (client, server) = answer_with(ok_head(body.len() * 2), body, MAX_BODY_BYTES).await;
    let err = client.model_testing_summary(4242, 1).await.unwrap_err();
    assert!(
        matches!(err, ApiError::Network { .. }),
        "a cut body is the network's fault, not a decode error: {err}"
    );
    assert!(err.is_transient(), "{err}");
    server.abort();
}

#[tokio::test]
async fn a_streamed_summary_over_the_size_cap_is_refused() {
    let size = 8 * 1024 * 1024;
    let mut body = br#"{"success":true,"result":""#.to_vec();
    body.resize(size, b'a');
    let (client, server) = answer_with(ok_head(size), body, 1 << 20).await;
    let err = client.model_testing_summary(4242, 1).await.unwrap_err();
    assert!(err.to_string().contains("larger than 1024 KiB"), "{err}");
    server.abort();
}
