use super::*;

#[test]
fn the_demo_assets_load_into_six_impulses() {
    let impulses = demo_impulses().unwrap();
    assert_eq!(impulses.len(), 6);
    let digits = impulses[0].test_set.as_ref().unwrap();
    assert_eq!(digits.labels.len(), 7);
    assert!(digits.len() > 500);
    assert_eq!(
        impulses[1].test_set.as_ref().unwrap().len(),
        LARGE_TEST_SET_WINDOWS
    );
    assert!(impulses[4].test_set.is_none());
    for (index, images) in [(3, 150), (5, 150)] {
        let set = impulses[index].test_set.as_ref().unwrap();
        assert_eq!(set.detection.as_ref().unwrap().image_count(), images);
    }
    // block ids are unique across the project
    let mut ids: Vec<u64> = impulses
        .iter()
        .flat_map(|i| i.blocks.iter().map(|b| b.block.id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 8);
}

#[test]
fn resampling_is_reproducible() {
    let impulses = demo_impulses().unwrap();
    let digits = impulses[0].test_set.as_ref().unwrap();
    assert_eq!(resample(digits, 100, 1), resample(digits, 100, 1));
    assert_ne!(resample(digits, 100, 1), resample(digits, 100, 2));
}
