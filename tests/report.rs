//! `ei-tune report`: one self-contained HTML file, checked well-formed by an XML parser,
//! with the figures Studio reports, through the real client and simulator.

mod common;

use quick_xml::events::Event;
use quick_xml::reader::Reader;

use common::{ei_tune, run, studio};

/// What a well-formed document holds: every element by name, in order of opening.
fn elements(html: &str) -> Vec<String> {
    let mut reader = Reader::from_str(html);
    let mut depth = 0i32;
    let mut names = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                depth += 1;
                names.push(e.name().into_inner().to_string());
                assert_no_fetching(&e);
            }
            Ok(Event::Empty(e)) => {
                names.push(e.name().into_inner().to_string());
                assert_no_fetching(&e);
            }
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!(
                "not well-formed at {}: {e}\n{}",
                reader.error_position(),
                &html[..(reader.error_position() as usize).min(html.len())]
            ),
        }
        assert!(depth >= 0, "an end tag without its start");
    }
    assert_eq!(depth, 0, "an element left open");
    for fetching in [
        "script", "link", "img", "iframe", "object", "embed", "image", "use",
    ] {
        assert!(
            !names.iter().any(|n| n == fetching),
            "a <{fetching}> element"
        );
    }
    names
}

/// No attribute that loads anything: the file views offline and runs nothing.
fn assert_no_fetching(e: &quick_xml::events::BytesStart) {
    for attribute in e.attributes() {
        let attribute = attribute.expect("a well-formed attribute");
        let key = attribute.key.into_inner().to_ascii_lowercase();
        assert!(
            !["src", "href", "xlink:href", "srcset", "action"].contains(&key.as_str())
                && !key.starts_with("on"),
            "attribute {key}"
        );
    }
}

#[tokio::test]
async fn the_report_is_one_well_formed_file_with_studios_figures_and_the_history() {
    let studio = studio().await;
    let state = common::scratch_dir("state");
    let file = common::scratch_dir("report").join("report.html");
    let (code, _, err) = run(ei_tune(&studio)
        .env("EI_TUNE_STATE_DIR", &state)
        .args(["set", "3.min_score=0.7"]))
    .await;
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(ei_tune(&studio)
        .env("EI_TUNE_STATE_DIR", &state)
        .arg("report")
        .arg(&file))
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("2 threshold sweep(s), 1 call(s) of history"),
        "{out}"
    );
    let html = std::fs::read_to_string(&file).unwrap();
    let names = elements(&html);
    assert_eq!(
        names.iter().filter(|n| *n == "svg").count(),
        2,
        "a sweep a threshold"
    );
    assert!(names.iter().filter(|n| *n == "polyline").count() >= 2 * 4);
    assert!(names.iter().filter(|n| *n == "table").count() >= 5);
    // The only address is the origin's, as text.
    assert_eq!(html.matches("http").count(), 1, "{html}");
    assert!(html.contains("Digits: classifier + anomaly"));
    assert!(
        html.contains("3.min_score 0.6 → 0.7"),
        "the history is in it"
    );

    // The figures are Studio's own at the saved thresholds: its confusion matrix, cell by
    // cell, is in the report's table.
    let summary = common::client(&studio)
        .model_testing_summary(4242, 1)
        .await
        .unwrap();
    has_studios_confusion_matrix(&html, &summary.accuracy);
}

/// The report's confusion matrix is Studio's, cell by cell.
fn has_studios_confusion_matrix(html: &str, accuracy: &ei_tune::api::models::ModelTestingAccuracy) {
    let matrix = html
        .split("<h2>Confusion matrix</h2>")
        .nth(1)
        .and_then(|rest| rest.split("</table>").next())
        .unwrap();
    for expected in &accuracy.all_labels {
        let Some(row) = accuracy.confusion_matrix_values.get(expected) else {
            continue;
        };
        let start = format!("<tr><td>{expected}</td>");
        let cells: Vec<u64> = matrix
            .split(&start)
            .nth(1)
            .unwrap_or_else(|| panic!("a row for {expected}"))
            .split("</tr>")
            .next()
            .unwrap()
            .split("</td>")
            .filter_map(|cell| cell.rsplit('>').next()?.parse().ok())
            .collect();
        // Every label, then uncertain (which allLabels may or may not list).
        let studio_row: Vec<u64> = accuracy
            .all_labels
            .iter()
            .filter(|l| *l != "uncertain")
            .chain(std::iter::once(&"uncertain".to_string()))
            .map(|predicted| row.get(predicted).copied().unwrap_or(0.0) as u64)
            .collect();
        assert_eq!(cells, studio_row, "the row of {expected}");
    }
}

#[tokio::test]
async fn an_object_detection_report_has_its_classes_and_one_sweep() {
    let studio = studio().await;
    let file = common::scratch_dir("report").join("detection.html");
    let (code, _, err) = run(ei_tune(&studio)
        .args(["--impulse", "4", "report"])
        .arg(&file))
    .await;
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(&file).unwrap();
    let names = elements(&html);
    assert_eq!(names.iter().filter(|n| *n == "svg").count(), 1);
    assert!(html.contains("<th>AP@0.5</th>"));
    assert!(html.contains("mAP@0.5"));
    assert!(html.contains("No set-thresholds call of this impulse"));
}

/// Whatever a server names things, the report stays well-formed and inert.
#[test]
fn server_text_is_escaped() {
    use ei_tune::report::{Report, render};
    let mut loaded = ei_tune::app::demo_loaded(0).unwrap();
    loaded.impulse.name =
        "<script>alert('x')</script> & \u{1b}[31m\"quoted\" <svg onload=x>".into();
    loaded.blocks[0].thresholds[0].description = "<img src=https://evil.example/x.png>".into();
    let set = ei_tune::studio::demo::demo_impulses().unwrap()[0]
        .test_set
        .clone()
        .unwrap();
    let summary = set.evaluate(&ei_tune::metrics::Thresholds::default());
    let html = render(&Report {
        origin: "http://127.0.0.1:1",
        project: 1,
        impulse: &loaded.impulse,
        blocks: &loaded.blocks,
        set: &set,
        scores_from: ei_tune::metrics::ScoresFrom::Studio {
            read_at: std::time::UNIX_EPOCH,
        },
        summary: &summary,
        sweeps: &[],
        history: &[],
        written: "2026-11-29T17:00:00Z",
    });
    let names = elements(&html);
    assert!(
        !names.iter().any(|n| n == "svg"),
        "no sweeps given, none drawn"
    );
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp;"));
    assert!(!html.contains('\u{1b}'));
}

/// Only a regular file is written, whole: a FIFO or a directory at the name is refused
/// (nothing would ever read the FIFO), and a report replaces the last one only once written.
#[cfg(unix)]
#[tokio::test]
async fn the_report_replaces_a_file_whole_and_refuses_anything_else() {
    let studio = studio().await;
    let dir = common::scratch_dir("report");
    let fifo = dir.join("fifo.html");
    let path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    for target in [&fifo, &dir] {
        let (code, _, err) = run(ei_tune(&studio).arg("report").arg(target)).await;
        assert_eq!(code, 4, "a file that cannot be written: {err}");
        assert!(err.contains("not a regular file"), "{err}");
    }
    let file = dir.join("report.html");
    std::fs::write(&file, "the last report").unwrap();
    let (code, _, err) = run(ei_tune(&studio).arg("report").arg(&file)).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .starts_with("<!DOCTYPE html>")
    );
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // `-` is standard output.
    let (code, out, err) = run(ei_tune(&studio).args(["report", "-"])).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("<!DOCTYPE html>"));
    elements(&out);
}
