//! The real binary in a pseudo-terminal against a simulator started by the test.

#![cfg(unix)]

mod common;

use std::time::Duration;

use ei_tune::api::models::ThresholdValue;

use common::pty::Pty;
use common::{KEY, studio};

const RIGHT: &[u8] = b"\x1b[C";
const LIMIT: Duration = Duration::from_secs(15);

fn tune(studio: &ei_tune::studio::Studio, extra_env: &[(&str, &str)]) -> Pty {
    let base = studio.base_url();
    let mut env = vec![("EI_API_ENDPOINT", base.as_str()), ("EI_API_KEY", KEY)];
    env.extend_from_slice(extra_env);
    Pty::spawn(&[], &env, 100, 30)
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_quick_presses_make_one_call_with_the_final_value() {
    let studio = studio().await;
    let mut pty = tune(&studio, &[]);
    pty.wait_for("the thresholds", LIMIT, |s| {
        s.contains("min_score") && s.contains("accuracy")
    });
    let presses: Vec<u8> = RIGHT.repeat(10);
    pty.send(&presses);
    let screen = pty.wait_for("the saved value", LIMIT, |s| {
        s.contains("0.70  saved") && s.contains("regenerated")
    });
    assert!(screen.contains("3.min_score=0.70"), "{screen}");
    let calls = studio.set_threshold_calls();
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(calls[0].request.thresholds.len(), 1);
    assert_eq!(
        calls[0].request.thresholds[0].value,
        ThresholdValue::Number(0.7)
    );
    assert!(
        !calls[0]
            .request
            .allow_creating_regenerate_model_testing_jobs
    );
    assert_eq!(
        studio.threshold(3, "min_score"),
        Some(ThresholdValue::Number(0.7))
    );

    pty.send(b"q");
    assert_eq!(pty.wait_exit(LIMIT), 0);
    pty.assert_restored();
}

#[tokio::test(flavor = "multi_thread")]
async fn quitting_with_an_unsaved_edit_saves_it_first() {
    let studio = studio().await;
    // A long debounce: only the quit can send this edit in time.
    let mut pty = Pty::spawn(
        &["tune", "--debounce-ms", "60000"],
        &[("EI_API_ENDPOINT", &studio.base_url()), ("EI_API_KEY", KEY)],
        100,
        30,
    );
    pty.wait_for("the thresholds", LIMIT, |s| s.contains("accuracy"));
    pty.send(b"j");
    pty.send(b"8");
    pty.wait_for("the edit", LIMIT, |s| s.contains("edited"));
    pty.send(b"q");
    assert_eq!(pty.wait_exit(LIMIT), 0);
    pty.assert_restored();
    let calls = studio.set_threshold_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].request.thresholds[0].block_id, 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_quit_exits_and_lists_what_was_not_saved() {
    let studio = studio().await;
    let base = studio.base_url();
    let mut pty = Pty::spawn(
        &["--debounce-ms", "60000"],
        &[("EI_API_ENDPOINT", &base), ("EI_API_KEY", KEY)],
        100,
        30,
    );
    pty.wait_for("the thresholds", LIMIT, |s| s.contains("accuracy"));
    // The simulator goes away: the save on quit cannot succeed.
    studio.shutdown().await;
    pty.send(RIGHT);
    pty.wait_for("the edit", LIMIT, |s| s.contains("edited"));
    pty.send(b"q");
    pty.send(b"q");
    assert_eq!(pty.wait_exit(LIMIT), 1);
    pty.assert_restored();
    let screen = pty.screen();
    assert!(screen.contains("not saved"), "{screen}");
    assert!(screen.contains("3.min_score=0.61"), "{screen}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_key_no_ui_opens() {
    let mut pty = Pty::spawn(&[], &[], 100, 30);
    assert_eq!(pty.wait_exit(LIMIT), 2);
    let screen = pty.screen();
    assert!(
        screen.contains("Keys") && screen.contains("ei-tune demo"),
        "{screen}"
    );
    pty.assert_restored();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_runs_offline_on_its_own_simulator() {
    let mut pty = Pty::spawn(&["demo"], &[], 100, 30);
    pty.wait_for("the demo", LIMIT, |s| {
        s.contains("Digits: classifier + anomaly") && s.contains("accuracy")
    });
    pty.send(b"?");
    pty.wait_for("the help", LIMIT, |s| s.contains("Keys (any key closes)"));
    pty.send(b"x");
    pty.send(b"i");
    pty.wait_for("the picker", LIMIT, |s| s.contains("Impulses (Enter opens"));
    pty.send(b"jj\r");
    pty.wait_for("the visual anomaly impulse", LIMIT, |s| {
        s.contains("anomaly_scoring") && s.contains("accuracy")
    });
    pty.send(b"\x03");
    assert_eq!(pty.wait_exit(LIMIT), 0);
    pty.assert_restored();
}

/// A tuner with one unsaved edit (the debounce is a minute long).
fn with_an_unsaved_edit(studio: &ei_tune::studio::Studio, env: &[(&str, &str)]) -> Pty {
    let base = studio.base_url();
    let mut all = vec![("EI_API_ENDPOINT", base.as_str()), ("EI_API_KEY", KEY)];
    all.extend_from_slice(env);
    let mut pty = Pty::spawn(&["--debounce-ms", "60000"], &all, 100, 30);
    pty.wait_for("the thresholds", LIMIT, |s| s.contains("accuracy"));
    pty.send(RIGHT);
    pty.wait_for("the edit", LIMIT, |s| s.contains("edited"));
    pty
}

#[tokio::test(flavor = "multi_thread")]
async fn every_signal_that_ends_the_process_restores_the_terminal_and_lists_unsaved_values() {
    let studio = studio().await;
    for signal in [
        libc::SIGTERM,
        libc::SIGHUP,
        libc::SIGINT,
        libc::SIGQUIT,
        libc::SIGUSR1,
        libc::SIGUSR2,
    ] {
        let mut pty = with_an_unsaved_edit(&studio, &[]);
        // SAFETY: kill sends a signal to the child this test started.
        assert_eq!(unsafe { libc::kill(pty.pid(), signal) }, 0);
        assert_eq!(pty.wait_exit(LIMIT), 1, "signal {signal}");
        pty.assert_restored();
        let screen = pty.screen();
        assert!(
            screen.contains("not saved") && screen.contains("3.min_score=0.61"),
            "signal {signal}:\n{screen}"
        );
    }
    assert!(studio.set_threshold_calls().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panic_restores_the_terminal_before_its_message() {
    let studio = studio().await;
    let mut pty = with_an_unsaved_edit(&studio, &[("EI_TUNE_PANIC_ON_KEY", "%")]);
    pty.send(b"%");
    assert_eq!(pty.wait_exit(LIMIT), 101);
    pty.assert_restored();
    let screen = pty.screen();
    assert!(screen.contains("panic requested"), "{screen}");
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_z_suspends_and_fg_resumes() {
    let studio = studio().await;
    let base = studio.base_url();
    let mut shell = Pty::shell(
        &[
            ("EI_API_ENDPOINT", &base),
            ("EI_API_KEY", KEY),
            ("PS1", "$ "),
        ],
        100,
        30,
    );
    shell.wait_for("the prompt", LIMIT, |s| s.contains("$ "));
    let command = format!("{} --debounce-ms 60000\r", env!("CARGO_BIN_EXE_ei-tune"));
    shell.send(command.as_bytes());
    shell.wait_for("the thresholds", LIMIT, |s| s.contains("accuracy"));
    shell.send(RIGHT);
    shell.wait_for("the edit", LIMIT, |s| s.contains("edited"));
    shell.send(b"\x1a");
    // Stopped: the terminal is the shell's again, in the state a shell needs.
    shell.wait_for("the job to stop", LIMIT, |s| s.contains("Stopped"));
    shell.assert_screen_restored();
    shell.send(b"fg\r");
    shell.wait_for("the tuner again", LIMIT, |s| {
        s.contains("edited") && s.contains("accuracy")
    });
    assert!(shell.with_screen(|s| s.alternate_screen()));
    assert!(!shell.cooked(), "raw mode again");
    shell.send(b"q");
    shell.wait_for("the prompt after quitting", LIMIT, |s| {
        s.trim_end().ends_with('$') && !s.contains("accuracy")
    });
    shell.assert_screen_restored();
    assert_eq!(
        studio.set_threshold_calls().len(),
        1,
        "the edit was saved on quit"
    );
    shell.send(b"exit\r");
}

#[tokio::test(flavor = "multi_thread")]
async fn bursts_of_5_20_and_100_presses_make_one_call_each() {
    let studio = studio().await;
    let mut pty = tune(&studio, &[]);
    pty.wait_for("the thresholds", LIMIT, |s| s.contains("accuracy"));
    let mut value = 60;
    let mut counts = Vec::new();
    for (n, key) in [(5usize, RIGHT), (20, b"\x1b[D".as_slice()), (100, RIGHT)] {
        let before = studio.set_threshold_calls().len();
        pty.send(&key.repeat(n));
        value = if key == RIGHT {
            (value + n).min(100)
        } else {
            value - n
        };
        let shown = format!("{:.2}  saved", value as f64 / 100.0);
        pty.wait_for(&shown, LIMIT, |s| s.contains(&shown));
        let calls = studio.set_threshold_calls().len() - before;
        counts.push((n, calls));
        assert!(calls <= 2, "{n} presses made {calls} calls");
    }
    eprintln!("set-thresholds calls per burst (presses, calls): {counts:?}");
    pty.send(b"q");
    assert_eq!(pty.wait_exit(LIMIT), 0);
}

/// The results cache of the real binary: a session keeps the per-window results in
/// EI_TUNE_CACHE_DIR; with --no-cache nothing is written there.
#[tokio::test(flavor = "multi_thread")]
async fn the_results_cache_is_kept_unless_no_cache_says_not() {
    let studio = studio().await;
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tui-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let entries = || std::fs::read_dir(&dir).map_or(0, |d| d.count());
    let base = studio.base_url();
    for (args, expected) in [(&["tune", "--no-cache"][..], 0), (&["tune"][..], 1)] {
        let mut pty = Pty::spawn(
            args,
            &[
                ("EI_API_ENDPOINT", base.as_str()),
                ("EI_API_KEY", KEY),
                ("EI_TUNE_CACHE_DIR", dir.to_str().unwrap()),
            ],
            100,
            30,
        );
        pty.wait_for("the preview", LIMIT, |s| s.contains("saved  preview"));
        // The entry is written once the last page is read: give it the time to land.
        let deadline = std::time::Instant::now() + LIMIT;
        while entries() < expected && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        pty.send(b"q");
        assert_eq!(pty.wait_exit(LIMIT), 0);
        pty.assert_restored();
        assert_eq!(entries(), expected, "{args:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Each sweep computed ten million times: minutes of work on the event loop, which a key
/// or a signal must stop at once.
const HEAVY: (&str, &str) = ("EI_TUNE_SWEEP_REPEATS", "10000000");

/// A tuner deep in a computation it cannot finish within the test's limit: the sweep of the
/// focused threshold, started once the scores are read, and again after each key.
fn computing(studio: &ei_tune::studio::Studio) -> Pty {
    let mut pty = tune(studio, &[HEAVY]);
    pty.wait_for("the thresholds", LIMIT, |s| s.contains("min_score"));
    // The scores arrive and the sweep starts; a key stops it, is drawn, and starts the
    // next one.
    std::thread::sleep(Duration::from_millis(500));
    pty.send(b"j");
    pty.wait_for("the key drawn before the next sweep", LIMIT, |s| {
        s.contains("▶ Minimum anomaly score") && s.contains("Computing the sweep")
    });
    std::thread::sleep(Duration::from_millis(300));
    pty
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signal_or_q_is_answered_whatever_the_tuner_computes() {
    let studio = studio().await;
    for stop in [&b"q"[..], b"\x03", b"SIGTERM", b"SIGHUP"] {
        let mut pty = computing(&studio);
        let asked = std::time::Instant::now();
        match stop {
            b"SIGTERM" | b"SIGHUP" => {
                let signal = if stop == b"SIGTERM" {
                    libc::SIGTERM
                } else {
                    libc::SIGHUP
                };
                // SAFETY: kill sends a signal to the child this test started.
                assert_eq!(unsafe { libc::kill(pty.pid(), signal) }, 0);
            }
            key => pty.send(key),
        }
        // The sweeps would take minutes: an exit within the limit means they stopped.
        assert_eq!(pty.wait_exit(LIMIT), 0, "{}", String::from_utf8_lossy(stop));
        pty.assert_restored();
        eprintln!(
            "{}: exited {:?} after it was asked",
            String::from_utf8_lossy(stop),
            asked.elapsed()
        );
    }
}
