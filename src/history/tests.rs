use super::*;
use crate::api::models::ImpulseLearnBlock;

fn scratch() -> (History, PathBuf) {
    let dir = std::env::temp_dir().join(format!("ei-tune-history-{:016x}", fastrand::u64(..)));
    (History::in_dir(&dir), dir)
}

fn held(value: f64) -> Vec<BlockThresholds> {
    let block: ImpulseLearnBlock = serde_json::from_value(serde_json::json!({
        "id": 3, "type": "keras", "name": "Classifier", "title": "Classification",
        "dsp": [2], "primaryVersion": true
    }))
    .unwrap();
    let threshold = serde_json::from_value(serde_json::json!({
        "key": "min_score", "description": "", "helpText": "", "value": value
    }))
    .unwrap();
    vec![BlockThresholds {
        block,
        thresholds: vec![threshold],
    }]
}

fn call(before: f64, after: f64) -> Call {
    let update = ThresholdUpdate::new(3, "min_score", ThresholdValue::Number(after));
    Call::new(
        "set",
        1,
        (2, "Impulse"),
        &held(before),
        &[update],
        Answer {
            saved: true,
            regenerate_model_testing_status: Some("regenerated".into()),
            error: None,
            unknown: false,
        },
    )
}

#[test]
fn calls_come_back_in_order_and_a_failed_call_says_what_it_asked_for() {
    let (history, dir) = scratch();
    assert_eq!(history.read().unwrap(), Reading::default());
    history
        .append("http://127.0.0.1:1", call(0.5, 0.7))
        .unwrap();
    let update = ThresholdUpdate::new(3, "min_score", ThresholdValue::Number(0.9));
    let failed = Call::new(
        "tuner",
        1,
        (2, "Impulse"),
        &held(0.7),
        &[update],
        Answer::failed("HTTP 500"),
    );
    history.append("http://127.0.0.1:1", failed).unwrap();
    let reading = history.read().unwrap();
    assert_eq!(reading.skipped, 0);
    assert_eq!(reading.entries.len(), 2);
    assert_eq!(reading.entries[0].call.changes(), ["3.min_score 0.5 → 0.7"]);
    // Studio still holds 0.7; the entry keeps the 0.9 the call asked for beside it.
    assert_eq!(reading.entries[1].call.changes(), ["3.min_score 0.7 → 0.9"]);
    let change = &reading.entries[1].call.thresholds[0];
    assert_eq!(
        (&change.after, &change.sent),
        (
            &ThresholdValue::Number(0.7),
            &Some(ThresholdValue::Number(0.9))
        )
    );
    assert_eq!(reading.entries[1].call.answer.summary(), "failed: HTTP 500");
    assert!(reading.entries[0].time.ends_with('Z'));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(history.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_corrupt_line_is_skipped_and_counted() {
    let (history, dir) = scratch();
    history.append("demo", call(0.5, 0.6)).unwrap();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(history.path())
        .unwrap();
    file.write_all(b"{\"time\": \"cut short\n\xff\xfe not json\n")
        .unwrap();
    history.append("demo", call(0.6, 0.8)).unwrap();
    let reading = history.read().unwrap();
    assert_eq!(reading.skipped, 2);
    assert_eq!(reading.entries.len(), 2);
    assert_eq!(
        reading.warning().unwrap(),
        "2 lines of the history are not an entry ei-tune reads: skipped"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_file_stays_within_its_bound_keeping_the_newest() {
    let (history, dir) = scratch();
    let one = serde_json::to_vec(&call(0.5, 0.6)).unwrap().len() as u64;
    let calls = MAX_BYTES / one + 50;
    for i in 0..calls {
        let mut c = call(0.5, 0.6);
        c.project = i;
        history.append("demo", c).unwrap();
    }
    let size = std::fs::metadata(history.path()).unwrap().len();
    assert!(size <= MAX_BYTES, "{size}");
    let reading = history.read().unwrap();
    assert_eq!(reading.skipped, 0);
    assert_eq!(reading.entries.last().unwrap().call.project, calls - 1);
    assert!(reading.entries.len() < calls as usize);
    let projects: Vec<u64> = reading.entries.iter().map(|e| e.call.project).collect();
    assert!(
        projects.windows(2).all(|w| w[1] == w[0] + 1),
        "newest kept, in order"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_unfinished_line_does_not_swallow_the_next_entry() {
    let (history, dir) = scratch();
    history.append("demo", call(0.5, 0.6)).unwrap();
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(history.path())
        .unwrap();
    file.write_all(b"{\"time\":\"2026-").unwrap();
    history.append("demo", call(0.6, 0.7)).unwrap();
    let reading = history.read().unwrap();
    assert_eq!(reading.skipped, 1);
    assert_eq!(reading.entries.len(), 2);
    assert_eq!(reading.entries[1].call.changes(), ["3.min_score 0.6 → 0.7"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn server_text_is_cut_so_that_an_entry_is_always_kept() {
    let (history, dir) = scratch();
    let mut huge = call(0.5, 0.6);
    huge.impulse_name = "x".repeat(3_000_000);
    history.append("demo", huge).unwrap();
    let reading = history.read().unwrap();
    assert_eq!(reading.entries.len(), 1);
    assert_eq!(reading.entries[0].call.impulse_name.chars().count(), 201);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Every other server text is cut too (a 70 KB status made the entry of an applied change
/// too long to write), and thousands of thresholds leave the ones the call changed.
#[test]
fn an_applied_change_is_written_whatever_the_server_sends() {
    let (history, dir) = scratch();
    let mut status = call(0.5, 0.6);
    status.answer.regenerate_model_testing_status = Some("s".repeat(70_000));
    status.thresholds[0].key = "k".repeat(70_000);
    history.append("demo", status).unwrap();
    let mut many = call(0.5, 0.6);
    let unchanged = Change {
        block_id: 9,
        key: "k".repeat(190),
        before: ThresholdValue::Text("v".repeat(190)),
        after: ThresholdValue::Text("v".repeat(190)),
        sent: None,
    };
    many.thresholds
        .extend(std::iter::repeat_n(unchanged, 1_000));
    history.append("demo", many).unwrap();
    let reading = history.read().unwrap();
    let [first, second] = &reading.entries[..] else {
        panic!("both written: {}", reading.entries.len());
    };
    let answer = first.call.answer.summary();
    assert_eq!(answer.chars().count(), 201, "{answer}");
    assert_eq!(first.call.thresholds[0].key.chars().count(), 201);
    assert_eq!(second.call.thresholds.len(), 1, "the change is kept");
    assert!(second.call.thresholds[0].changed());
    std::fs::remove_dir_all(dir).unwrap();
}

/// Writers that meet at the bound take turns: a trim never drops another's entry.
#[test]
fn writers_at_once_lose_nothing_when_the_bound_is_reached() {
    let (history, dir) = scratch();
    let one = serde_json::to_vec(&call(0.5, 0.6)).unwrap().len() as u64 + 120;
    for i in 0..(MAX_BYTES / one) {
        let mut c = call(0.5, 0.6);
        c.project = i;
        history.append("demo", c).unwrap();
    }
    let writers: Vec<_> = (0..8u64)
        .map(|w| {
            let history = history.clone();
            std::thread::spawn(move || {
                for n in 0..10u64 {
                    let mut c = call(0.5, 0.6);
                    c.project = 1_000_000 + w * 100 + n;
                    history.append("demo", c).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let reading = history.read().unwrap();
    assert_eq!(reading.skipped, 0);
    let late = reading
        .entries
        .iter()
        .filter(|e| e.call.project >= 1_000_000)
        .count();
    assert_eq!(late, 80, "every entry of every writer");
    assert!(std::fs::metadata(history.path()).unwrap().len() <= MAX_BYTES);
    std::fs::remove_dir_all(dir).unwrap();
}

#[cfg(unix)]
#[test]
fn a_symbolic_link_at_the_name_is_refused() {
    let (history, dir) = scratch();
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("elsewhere");
    std::fs::write(&target, "kept\n").unwrap();
    std::os::unix::fs::symlink(&target, history.path()).unwrap();
    let refused = |r: Result<_, HistoryError>| matches!(r, Err(HistoryError::NotAFile { .. }));
    assert!(refused(history.append("demo", call(0.5, 0.6))));
    assert!(refused(history.read().map(drop)));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "kept\n");
    std::fs::remove_dir_all(dir).unwrap();
}

#[cfg(unix)]
#[test]
fn a_fifo_at_the_name_is_refused_not_waited_on() {
    let (history, dir) = scratch();
    std::fs::create_dir_all(&dir).unwrap();
    let path = std::ffi::CString::new(history.path().to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    let refused = |r: Result<_, HistoryError>| matches!(r, Err(HistoryError::NotAFile { .. }));
    assert!(refused(history.read().map(drop)));
    assert!(refused(history.append("demo", call(0.5, 0.6))));
    std::fs::remove_dir_all(dir).unwrap();
}
