//! Kept scores: the preview never goes dark when Studio withholds its results (stale after
//! a threshold change, a job required, a full run required), and never shows another
//! model's figures. The real event loop, the real binary and the simulator over loopback.

mod common;

use std::time::Duration;

use ei_tune::api::StudioClient;
use ei_tune::api::models::ThresholdValue;
use ei_tune::app::{self, App, Input};
use ei_tune::cache::ResultsCache;
use ei_tune::preview::{PreviewError, read_test_set};
use ei_tune::studio::demo::DEMO_PROJECT_ID;
use ei_tune::studio::{Studio, StudioConfig};
use ei_tune::tuner::TunerConfig;
use ei_tune::ui::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use common::{KEY, client, ei_tune, key, run, scratch_dir};

const P: u64 = DEMO_PROJECT_ID;
const LARGE: u64 = 2;
const DETECTION: u64 = 4;

async fn studio_with(job_ms: u64, variations: Option<&str>) -> Studio {
    let mut config = StudioConfig::new(KEY);
    config.job_duration = Duration::from_millis(job_ms);
    config.variations =
        variations.map(|v| ei_tune::studio::variations::Variations::parse(v).unwrap());
    Studio::start(config).await.unwrap()
}

/// The real loop on `impulse` with `cache`, `script` as input and 50 ms of quiet time: the
/// last screen, 160×48.
async fn tune(
    studio: &Studio,
    impulse: u64,
    cache: ResultsCache,
    script: Vec<(u64, Input)>,
) -> String {
    let c = client(studio);
    let loaded = app::load(&c, Some(P), Some(impulse)).await.unwrap();
    let app = App {
        client: c,
        project: Some(P),
        config: TunerConfig {
            debounce: Duration::from_millis(50),
            ..TunerConfig::default()
        },
        theme: Theme::monochrome(),
        suspend: None,
        cache,
        history: None,
    };
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    app::run(
        app,
        &mut terminal,
        common::scripted(script),
        Some(impulse),
        Some(loaded),
    )
    .await
    .unwrap();
    format!("{:?}", terminal.backend().buffer())
}

/// The figures table's accuracy row, as shown: `saved` and `preview` columns with figures.
fn shows_figures(screen: &str) -> bool {
    screen.lines().any(|l| {
        let row = l.split("││").nth(1).unwrap_or("");
        row.starts_with("accuracy") && row.matches(" %").count() == 2
    }) || screen.lines().any(|l| {
        let row = l.split("││").nth(1).unwrap_or("");
        row.starts_with("precision") && row.matches(" %").count() == 2
    })
}

fn number(v: f64) -> ThresholdValue {
    ThresholdValue::Number(v)
}

/// A key pressed while the 24,000 windows are read: the save waits for them (a save makes
/// Studio stop serving them until a job regenerates them), then goes, and the preview
/// stays with the saved figures computed from the scores.
#[tokio::test]
async fn a_key_press_while_the_scores_load_keeps_the_preview() {
    let studio = studio_with(400, None).await;
    let script = vec![(30, key('l')), (4000, key('q'))];
    let screen = tune(&studio, LARGE, ResultsCache::in_memory(), script).await;
    assert_eq!(studio.threshold(13, "min_score"), Some(number(0.61)));
    assert!(screen.contains("requires_job"), "{screen}");
    assert!(!screen.contains("could not be read"), "{screen}");
    assert!(shows_figures(&screen), "{screen}");
    assert!(screen.contains("saved: from the scores read"), "{screen}");
    assert_eq!(
        studio.request_count("getClassifyJobResultPage"),
        24,
        "every page read once, none cut short"
    );
}

/// `g`, then a move while the job runs: when the job ends the held value goes at once,
/// Studio stops serving the regenerated results again, and the preview keeps the scores
/// of the same model, saying so.
#[tokio::test]
async fn g_then_a_move_while_the_job_runs_keeps_the_preview() {
    let studio = studio_with(600, None).await;
    let script = vec![
        (30, key('l')),
        (3000, key('g')),
        (200, key('l')),
        (4000, key('q')),
    ];
    let screen = tune(&studio, LARGE, ResultsCache::in_memory(), script).await;
    assert_eq!(studio.threshold(13, "min_score"), Some(number(0.62)));
    assert!(shows_figures(&screen), "{screen}");
    assert!(!screen.contains("not read again"), "{screen}");
    assert!(screen.contains("saved: from the scores read"), "{screen}");
}

/// Object detection after `set` and a restart: Studio's results are stale until a full
/// run, and the scores kept while they were fresh stand in, in the tuner and every command;
/// `check --fresh` refuses them.
#[tokio::test]
async fn detection_after_set_and_a_restart_previews_from_kept_scores() {
    let studio = studio_with(400, None).await;
    let dir = scratch_dir("kept");
    // The results are read while fresh (a first session), and kept.
    let screen = tune(
        &studio,
        DETECTION,
        ResultsCache::new(&dir),
        vec![(1500, key('q'))],
    )
    .await;
    assert!(shows_figures(&screen), "{screen}");
    let with_cache = |args: &[&str]| {
        let mut cmd = ei_tune(&studio);
        cmd.env("EI_TUNE_CACHE_DIR", &dir).args(args);
        cmd
    };
    let (code, out, err) = run(&mut with_cache(&[
        "set",
        "--impulse",
        "4",
        "33.min_score=0.65",
    ]))
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("not_regenerated"), "{out}");
    // A restart: a new process, the disk alone.
    let screen = tune(
        &studio,
        DETECTION,
        ResultsCache::new(&dir),
        vec![(1500, key('q'))],
    )
    .await;
    assert!(shows_figures(&screen), "{screen}");
    assert!(screen.contains("stale, kept scores"), "{screen}");
    assert!(screen.contains("saved: from the scores read"), "{screen}");
    commands_preview_from_kept_scores(&with_cache).await;
    // Without anything kept, the commands say there is nothing, as before.
    let mut bare = ei_tune(&studio);
    bare.args(["check", "--impulse", "4", "--min", "f1=0"]);
    let (code, _, err) = run(&mut bare).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no model testing results"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// `suggest`, `sweep`, `check` and `report` use the kept scores and say so (a note, and
/// `"scores"` in JSON); `check --fresh` refuses them.
async fn commands_preview_from_kept_scores(
    with_cache: &impl Fn(&[&str]) -> tokio::process::Command,
) {
    for args in [
        &["suggest", "--impulse", "4"][..],
        &["sweep", "--impulse", "4"],
        &["check", "--impulse", "4", "--min", "f1=0"],
        &["report", "--impulse", "4", "-"],
    ] {
        let (code, out, err) = run(&mut with_cache(args)).await;
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(!out.is_empty(), "{args:?}");
        assert!(
            err.contains("note: Studio's results are stale until regenerated"),
            "{args:?}: {err}"
        );
        if args[0] == "report" {
            assert!(out.contains("figures from the scores kept"), "{out}");
        }
    }
    for args in [
        &["suggest", "--impulse", "4", "--json"][..],
        &["sweep", "--impulse", "4", "--json"],
        &["check", "--impulse", "4", "--min", "f1=0", "--json"],
    ] {
        let (code, out, err) = run(&mut with_cache(args)).await;
        assert_eq!(code, 0, "{args:?}: {err}");
        let json: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(json["scores"]["from"], "kept", "{args:?}: {out}");
        assert!(json["scores"]["readAt"].is_string(), "{out}");
    }
    let (code, _, err) = run(&mut with_cache(&[
        "check",
        "--impulse",
        "4",
        "--min",
        "f1=0",
        "--fresh",
    ]))
    .await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("--fresh refuses the scores kept"), "{err}");
}

/// Reads the large impulse's scores through `cache` (kept for next time when read whole).
async fn read(
    c: &StudioClient,
    cache: &ResultsCache,
    impulse: u64,
) -> Result<ei_tune::metrics::Scores, PreviewError> {
    let read = read_test_set(c, P, impulse, cache, |_| {}).await?;
    if let Some(to_keep) = read.to_keep {
        ei_tune::preview::keep(c, cache, to_keep).await;
    }
    Ok(read.scores)
}

async fn stale(c: &StudioClient, impulse: u64, block: u64, min_score: f64) {
    let r = c
        .set_thresholds(
            P,
            impulse,
            &common::set_request(&[(block, "min_score", number(min_score))], false),
        )
        .await
        .unwrap();
    assert_ne!(
        r.regenerate_model_testing_status,
        ei_tune::api::models::RegenerateStatus::Regenerated
    );
}

/// Retraining, new test data and a changed impulse each make the kept scores miss: Studio's
/// results are withheld and nothing stands in for them.
#[tokio::test]
async fn another_model_other_data_or_a_changed_impulse_never_use_the_kept_scores() {
    type Change = fn(&Studio, u64) -> Result<(), ei_tune::studio::NoSuchImpulse>;
    let changes: [(&str, Change); 3] = [
        ("retrained", Studio::retrain),
        ("new test data", Studio::replace_test_data),
        ("a changed impulse", Studio::change_impulse),
    ];
    for (what, change) in changes {
        let studio = studio_with(400, None).await;
        let c = client(&studio);
        let dir = scratch_dir("kept");
        let kept = read(&c, &ResultsCache::new(&dir), LARGE).await.unwrap();
        assert!(!kept.from.is_kept());
        stale(&c, LARGE, 13, 0.7).await;
        // Stale, nothing else changed: the kept scores stand in.
        let again = read(&c, &ResultsCache::new(&dir), LARGE).await.unwrap();
        assert!(again.from.is_kept());
        assert_eq!(again.set, kept.set);
        change(&studio, LARGE).unwrap();
        // The impulse changed but its results are only stale: make sure they still are.
        stale(&c, LARGE, 13, 0.71).await;
        match read(&c, &ResultsCache::new(&dir), LARGE).await {
            Err(PreviewError::Withheld(why)) => {
                assert!(why.contains("no model testing results"), "{what}: {why}")
            }
            other => panic!("{what}: the kept scores were used: {other:?}"),
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}

/// Studio may count a threshold change as a modification of the project (its date moves):
/// the scores kept move with the date when the save is ei-tune's own, so that `set` then
/// `suggest` still previews.
#[tokio::test]
async fn a_save_that_moves_the_project_date_carries_the_kept_scores_along() {
    let studio = studio_with(400, Some("thresholds-touch-project")).await;
    let c = client(&studio);
    let dir = scratch_dir("kept");
    let with_cache = |args: &[&str]| {
        let mut cmd = ei_tune(&studio);
        cmd.env("EI_TUNE_CACHE_DIR", &dir).args(args);
        cmd
    };
    let (code, _, err) = run(&mut with_cache(&["sweep", "--impulse", "4"])).await;
    assert_eq!(code, 0, "{err}");
    let before = c.last_modification(P).await.unwrap();
    let (code, _, err) = run(&mut with_cache(&[
        "set",
        "--impulse",
        "4",
        "33.min_score=0.65",
    ]))
    .await;
    assert_eq!(code, 0, "{err}");
    assert_ne!(
        c.last_modification(P).await.unwrap(),
        before,
        "the save moved the date"
    );
    let (code, _, err) = run(&mut with_cache(&["suggest", "--impulse", "4"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("figures from the scores kept"), "{err}");
    // A move of the date that is not ei-tune's (new data uploaded) is not carried.
    studio.replace_test_data(DETECTION).unwrap();
    let (code, _, err) = run(&mut with_cache(&["suggest", "--impulse", "4"])).await;
    assert_eq!(code, 1, "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// `g` on stale object detection runs model testing again without generating features
/// (only thresholds changed); the simulator honours it.
#[tokio::test]
async fn g_on_stale_detection_skips_feature_generation() {
    let studio = studio_with(300, None).await;
    let script = vec![(800, key('l')), (600, key('g')), (1500, key('q'))];
    let screen = tune(&studio, DETECTION, ResultsCache::in_memory(), script).await;
    assert!(shows_figures(&screen), "{screen}");
    let calls = studio.classify_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(calls[0].skip_features, "{calls:?}");
}

/// A score equal to the threshold, as served, counts as at it: `0.9704` is a top score of
/// the demo, and Studio's "at or above" keeps its window.
#[tokio::test]
async fn a_score_equal_to_the_threshold_counts_as_at_or_above_it() {
    let studio = studio_with(400, None).await;
    let (code, _, err) = run(ei_tune(&studio).args(["set", "3.min_score=0.9704"])).await;
    assert_eq!(code, 0, "{err}");
    let (code, out, err) =
        run(ei_tune(&studio).args(["check", "--min", "accuracy=0", "--json"])).await;
    assert_eq!(code, 0, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let accuracy = json["checks"][0]["value"].as_f64().unwrap();
    // 143 good windows of the 614 (independently: the served decimals compared as
    // integers, tests/preview.rs).
    assert!((accuracy - 143.0 / 614.0).abs() < 1e-12, "{accuracy}");
}

/// What a server answers, recorded once from the simulator, for a stub to serve as a test
/// says: the large impulse's definition and its 24 pages.
struct Recorded {
    impulse: String,
    pages: Vec<String>,
}

async fn record(studio: &Studio) -> Recorded {
    // ei-tune's client sets up TLS for the process; the plain one below needs that done.
    client(studio);
    let get = |path: String| {
        let url = format!("{}{path}", studio.base_url());
        async move {
            common::raw_http()
                .get(url)
                .header("x-api-key", KEY)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let impulse = get(format!("/api/{P}/impulse?impulseId={LARGE}")).await;
    let mut pages = Vec::new();
    for offset in (0..24_000).step_by(1000) {
        pages.push(
            get(format!(
                "/api/{P}/classify/all/result/page?impulseId={LARGE}&limit=1000&offset={offset}"
            ))
            .await,
        );
    }
    Recorded { impulse, pages }
}

/// How the stub answers: which date it says, from which page on it says another, and
/// what the pages then are.
#[derive(Clone, Copy, PartialEq)]
enum After {
    /// The same pages and dates throughout.
    Nothing,
    /// From this page on: new dates (a model trained again), and no results.
    Withheld(usize),
    /// From this page on: new dates and another model's scores, the count unchanged.
    Mixed(usize),
    /// The impulse changed in a field ei-tune does not read, and no results.
    Redefined,
}

/// The stub's mode, and the pages served since it was set.
type Mode = std::sync::Arc<std::sync::Mutex<(After, usize)>>;

fn serve_recorded(
    recorded: Recorded,
    mode: Mode,
) -> impl Fn(&common::stub::Seen, usize) -> Option<common::stub::Reply> {
    use common::stub::Reply;
    let other_model: Vec<String> = recorded
        .pages
        .iter()
        .map(|page| page.replace("0.", "0.0"))
        .collect();
    move |seen, _| {
        let path = seen.path.as_str();
        let mut mode = mode.lock().unwrap();
        let (after, served) = *mode;
        let moved = match after {
            After::Nothing | After::Redefined => false,
            After::Withheld(n) | After::Mixed(n) => served >= n,
        };
        let date = if moved {
            "2026-12-01T07:00:00.000Z"
        } else {
            "2026-01-12T10:30:00.000Z"
        };
        let body = if path.contains("/last-modification") {
            serde_json::json!({"success": true, "lastModificationDate": date}).to_string()
        } else if path.contains("/metadata") {
            serde_json::json!({"success": true, "created": date}).to_string()
        } else if path.contains("/impulse?") {
            match after {
                After::Redefined => recorded.impulse.replacen(
                    "\"inputBlocks\"",
                    "\"resizeMode\":\"fit-short\",\"inputBlocks\"",
                    1,
                ),
                _ => recorded.impulse.clone(),
            }
        } else if path.contains("/result/page") {
            let offset: usize = path
                .split("offset=")
                .nth(1)
                .and_then(|o| o.split('&').next())
                .and_then(|o| o.parse().ok())
                .unwrap_or(0);
            mode.1 += 1;
            match after {
                After::Redefined => serde_json::json!({
                    "success": true, "result": [], "predictions": [], "totalCount": 0
                })
                .to_string(),
                After::Withheld(_) if moved => serde_json::json!({
                    "success": true, "result": [], "predictions": [], "totalCount": 0
                })
                .to_string(),
                After::Mixed(_) if moved => other_model[offset / 1000].clone(),
                _ => recorded.pages[offset / 1000].clone(),
            }
        } else {
            return Some(Reply::json(404, r#"{"success":false,"error":"no"}"#));
        };
        Some(Reply::json(200, &body))
    }
}

/// A server whose model is trained again in the middle of a read: scores kept before
/// must not stand in for the new model (what produces the scores is asked again), and a
/// set read across the change is never kept under the new model.
#[tokio::test]
async fn a_model_trained_during_a_read_never_gets_the_old_or_mixed_scores() {
    use common::stub::Stub;
    let studio = studio_with(400, None).await;
    let recorded = record(&studio).await;
    let definition = ei_tune::text::digest(
        &serde_json::to_vec(
            &serde_json::from_str::<serde_json::Value>(&recorded.impulse).unwrap()["impulse"],
        )
        .unwrap(),
    );
    let dir = scratch_dir("kept");
    let mode: Mode = std::sync::Arc::new(std::sync::Mutex::new((After::Nothing, 0)));
    let stub = Stub::start(serve_recorded(recorded, std::sync::Arc::clone(&mode))).await;
    let set_mode = |after: After| *mode.lock().unwrap() = (after, 0);
    let c = StudioClient::new(&ei_tune::api::ClientConfig::new(stub.base_url()).with_api_key(KEY))
        .unwrap();
    // The scores of the model of 10:30 are kept.
    let kept = read(&c, &ResultsCache::new(&dir), LARGE).await.unwrap();
    assert!(!kept.from.is_kept());
    let key = ei_tune::cache::CacheKey::new(&stub.base_url(), P, LARGE);
    assert!(ResultsCache::new(&dir).kept_date(&key).is_some(), "kept");
    // The impulse changed, even in a field ei-tune does not read, and its results are
    // withheld: the scores kept are another impulse's.
    set_mode(After::Redefined);
    match read(&c, &ResultsCache::new(&dir), LARGE).await {
        Err(PreviewError::Withheld(_)) => {}
        other => panic!("the scores of another definition stood in: {other:?}"),
    }
    // Trained again in the middle of the next read, which Studio then cuts short.
    set_mode(After::Withheld(12));
    match read(&c, &ResultsCache::new(&dir), LARGE).await {
        Err(PreviewError::Withheld(_)) => {}
        other => panic!("the old model's scores stood in for the new one: {other:?}"),
    }
    // Trained again in the middle of a read that goes on with the new model's scores (the
    // first page still the same): the set mixes both models and is not kept under the new
    // one.
    set_mode(After::Mixed(6));
    let mixed = read(&c, &ResultsCache::new(&dir), LARGE).await.unwrap();
    assert_ne!(mixed.set, kept.set);
    let new_model = ei_tune::cache::Provenance {
        definition,
        models: vec![
            (13, "2026-12-01T07:00:00.000Z".into()),
            (14, "2026-12-01T07:00:00.000Z".into()),
        ],
        data: "2026-12-01T07:00:00.000Z".into(),
    };
    assert_eq!(ResultsCache::new(&dir).read_kept(&key, &new_model), None);
    std::fs::remove_dir_all(dir).unwrap();
}
