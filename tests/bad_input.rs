//! Bad input never panics and gets a clear error: response decoders and argument parsers
//! under arbitrary input (proptest as a fuzzer, kept small for CI), and oversized answers.

mod common;

use ei_tune::api::client::decode_body;
use ei_tune::api::models::*;
use ei_tune::api::{ApiError, ClientConfig, StudioClient};
use ei_tune::commands::parse_assignment;
use ei_tune::studio::faults::FaultSpec;
use proptest::prelude::*;
use serde_json::Value;

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<i64>().prop_map(|i| Value::Number(i.into())),
        "[a-zA-Z_]{0,12}".prop_map(Value::String),
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

    #[test]
    fn argument_parsers_survive_arbitrary_text(text in "\\PC{0,40}") {
        let _ = parse_assignment(&text);
        let _ = FaultSpec::parse(&text);
    }

    #[test]
    fn assignments_that_parse_round_trip(block in 1u32..100_000, key in "[a-z_]{1,20}", value in "[0-9.e-]{1,10}") {
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
        (br#"{"success":true,"hadModelTestingResults":true,"regenerateModelTestingStatus":"done"}"#, "regenerateModelTestingStatus"),
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
