use super::*;
use crate::metrics::fixtures::six_windows;

fn scratch() -> (ResultsCache, PathBuf) {
    let dir = std::env::temp_dir().join(format!("ei-tune-cache-{:016x}", fastrand::u64(..)));
    (ResultsCache::new(&dir), dir)
}

/// Writes through `cache`, as a read of Studio's results would.
fn put(
    cache: &ResultsCache,
    key: &CacheKey,
    validator: &Validator,
    set: &TestSet,
) -> std::io::Result<()> {
    cache.write(
        key,
        validator,
        None,
        &Arc::new(set.clone()),
        SystemTime::now(),
    )
}

/// Reads the disk alone, through a cache with nothing in memory.
fn get(dir: &Path, key: &CacheKey, validator: &Validator) -> Option<TestSet> {
    ResultsCache::new(dir)
        .read(key, validator)
        .map(|kept| TestSet::clone(&kept.set))
}

fn validator(first_page: &[u8]) -> Validator {
    Validator {
        definition: digest(b"impulse"),
        total: 6,
        first_page: digest(first_page),
    }
}

#[test]
fn an_entry_holds_only_for_what_it_was_made_from() {
    let (cache, dir) = scratch();
    let key = CacheKey::new("https://user:secret@studio.example.com:8443/v1?x=1", 7, 2);
    assert_eq!(key.origin, "https://studio.example.com:8443");
    let set = six_windows();
    put(&cache, &key, &validator(b"page"), &set).unwrap();
    assert_eq!(get(&dir, &key, &validator(b"page")), Some(set));
    assert_eq!(get(&dir, &key, &validator(b"page, regenerated")), None);
    let other = CacheKey::new("https://studio.example.com:8443/v1", 7, 3);
    assert_eq!(get(&dir, &other, &validator(b"page")), None);
    let written = std::fs::read_to_string(dir.join(key.file_name())).unwrap();
    assert!(
        !written.contains("secret") && !written.contains("user"),
        "{written}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn corrupt_or_foreign_entries_count_as_missing_and_are_replaced() {
    let (cache, dir) = scratch();
    let key = CacheKey::new("http://127.0.0.1:9/v1", 1, 1);
    let set = six_windows();
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(key.file_name());
    std::fs::write(&path, b"{\"format\": 1, \"key\": garbage").unwrap();
    assert_eq!(get(&dir, &key, &validator(b"p")), None);
    // Another impulse's entry under this name (copied, or a collision).
    let theirs = CacheKey::new("http://127.0.0.1:9/v1", 1, 5);
    put(&cache, &theirs, &validator(b"p"), &set).unwrap();
    std::fs::copy(dir.join(theirs.file_name()), &path).unwrap();
    assert_eq!(get(&dir, &key, &validator(b"p")), None);
    // A set whose parts disagree is never handed out.
    let mut broken = set.clone();
    broken.expected.push(0);
    put(&cache, &key, &validator(b"p"), &broken).unwrap();
    assert_eq!(get(&dir, &key, &validator(b"p")), None);
    put(&cache, &key, &validator(b"p"), &set).unwrap();
    assert_eq!(get(&dir, &key, &validator(b"p")), Some(set));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn only_its_own_files_are_ever_removed_and_only_regular_files_read() {
    let (cache, dir) = scratch();
    std::fs::create_dir_all(&dir).unwrap();
    let notes: Vec<PathBuf> = (0..MAX_ENTRIES + 3)
        .map(|i| dir.join(format!("notes-{i}.txt")))
        .collect();
    for note in &notes {
        std::fs::write(note, b"mine").unwrap();
    }
    let key = CacheKey::new("http://127.0.0.1:9/v1", 1, 1);
    // A directory where the entry goes: the write fails and leaves nothing behind.
    std::fs::create_dir_all(dir.join(key.file_name()).join("sub")).unwrap();
    assert!(put(&cache, &key, &validator(b"p"), &six_windows()).is_err());
    assert_eq!(get(&dir, &key, &validator(b"p")), None);
    let left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    std::fs::remove_dir_all(dir.join(key.file_name())).unwrap();
    // A FIFO there would block a reader for good: it is not opened.
    #[cfg(unix)]
    {
        let fifo = std::ffi::CString::new(dir.join(key.file_name()).to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        assert_eq!(get(&dir, &key, &validator(b"p")), None);
        std::fs::remove_file(dir.join(key.file_name())).unwrap();
    }
    for impulse in 0..(MAX_ENTRIES as u64 + 2) {
        let key = CacheKey::new("http://127.0.0.1:9/v1", 1, impulse);
        put(&cache, &key, &validator(b"p"), &six_windows()).unwrap();
    }
    assert!(
        notes.iter().all(|n| n.exists()),
        "a file not of the cache was removed"
    );
    assert_eq!(
        own_file("0123456789abcdef0123456789abcdef.json"),
        Some(OwnFile::Entry)
    );
    assert_eq!(own_file("notes.json"), None);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_cache_keeps_at_most_its_bound_of_entries() {
    let (cache, dir) = scratch();
    let set = six_windows();
    for impulse in 0..(MAX_ENTRIES as u64 + 5) {
        let key = CacheKey::new("http://127.0.0.1:9/v1", 1, impulse);
        put(&cache, &key, &validator(b"p"), &set).unwrap();
    }
    let files = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(files, MAX_ENTRIES);
    let newest = CacheKey::new("http://127.0.0.1:9/v1", 1, MAX_ENTRIES as u64 + 4);
    assert_eq!(get(&dir, &newest, &validator(b"p")), Some(set));
    std::fs::remove_dir_all(dir).unwrap();
}

fn provenance(data: &str) -> Provenance {
    Provenance {
        definition: digest(b"impulse"),
        models: vec![(3, "2026-01-12T10:30:00.000Z".into())],
        data: data.into(),
    }
}

#[test]
fn kept_scores_stand_for_the_same_model_on_the_same_data_only() {
    let (cache, dir) = scratch();
    let key = CacheKey::new("http://127.0.0.1:9/v1", 1, 1);
    let set = Arc::new(six_windows());
    let at = UNIX_EPOCH + Duration::from_secs(1_765_000_000);
    let p = provenance("2026-02-01T00:00:00.000Z");
    cache
        .write(&key, &validator(b"page"), Some(&p), &set, at)
        .unwrap();
    // From the disk alone, as the next process finds it.
    let disk = ResultsCache::new(&dir);
    let kept = disk.read_kept(&key, &p).unwrap();
    assert_eq!(*kept.set, six_windows());
    assert_eq!(kept.read_at, at);
    assert_eq!(kept.provenance.as_ref(), Some(&p));
    // A threshold changed since: Studio's first page is another, the scores the same.
    assert_eq!(get(&dir, &key, &validator(b"page, judged at 0.7")), None);
    assert!(disk.read_kept(&key, &p).is_some());
    // Another model, other data, another impulse definition: never.
    let mut retrained = p.clone();
    retrained.models[0].1 = "2026-03-01T00:00:00.000Z".into();
    let mut other_data = p.clone();
    other_data.data = "2026-03-01T00:00:00.000Z".into();
    let mut changed = p.clone();
    changed.definition = digest(b"the impulse, changed");
    let mut more_blocks = p.clone();
    more_blocks.models.push((4, p.models[0].1.clone()));
    for other in [retrained, other_data, changed, more_blocks] {
        assert_eq!(disk.read_kept(&key, &other), None, "{other:?}");
    }
    // Nor for another impulse.
    let elsewhere = CacheKey::new("http://127.0.0.1:9/v1", 1, 2);
    assert_eq!(disk.read_kept(&elsewhere, &p), None);
    // Scores whose making is unknown stand only for the same first page.
    cache
        .write(&key, &validator(b"page"), None, &set, at)
        .unwrap();
    assert_eq!(ResultsCache::new(&dir).read_kept(&key, &p), None);
    assert_eq!(get(&dir, &key, &validator(b"page")), Some(six_windows()));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_date_moved_by_a_save_carries_the_projects_kept_scores_along() {
    let (cache, dir) = scratch();
    let key = CacheKey::new("http://127.0.0.1:9/v1", 1, 1);
    let sibling = CacheKey::new("http://127.0.0.1:9/v1", 1, 2);
    let elsewhere = CacheKey::new("http://127.0.0.1:9/v1", 7, 1);
    let set = Arc::new(six_windows());
    let before = provenance("2026-02-01T00:00:00.000Z");
    let after = provenance("2026-02-01T00:00:05.000Z");
    for k in [&key, &sibling, &elsewhere] {
        cache
            .write(
                k,
                &validator(b"page"),
                Some(&before),
                &set,
                SystemTime::now(),
            )
            .unwrap();
    }
    assert_eq!(cache.kept_date(&key).as_deref(), Some(before.data.as_str()));
    let origin = key.origin.clone();
    // A date the entries are not at moves nothing.
    cache
        .carry_over(&origin, 1, "2025-01-01T00:00:00.000Z", "x")
        .unwrap();
    assert!(ResultsCache::new(&dir).read_kept(&key, &before).is_some());
    cache
        .carry_over(&origin, 1, &before.data, &after.data)
        .unwrap();
    for reader in [cache.clone(), ResultsCache::new(&dir)] {
        for k in [&key, &sibling] {
            assert!(reader.read_kept(k, &after).is_some());
            assert_eq!(reader.read_kept(k, &before), None);
        }
        // Another project's date is its own.
        assert!(reader.read_kept(&elsewhere, &before).is_some());
    }
    // From the disk alone too (another process's entries).
    let later = provenance("2026-02-01T00:00:09.000Z");
    ResultsCache::new(&dir)
        .carry_over(&origin, 1, &after.data, &later.data)
        .unwrap();
    assert!(
        ResultsCache::new(&dir)
            .read_kept(&sibling, &later)
            .is_some()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// Another user's file, a file others can write, or a link at an entry's name could
/// plant figures: none is read.
#[cfg(unix)]
#[test]
fn only_private_regular_files_of_this_user_are_read() {
    use std::os::unix::fs::PermissionsExt;
    let (cache, dir) = scratch();
    let key = CacheKey::new("http://127.0.0.1:9/v1", 1, 1);
    let p = provenance("2026-02-01T00:00:00.000Z");
    let set = Arc::new(six_windows());
    cache
        .write(&key, &validator(b"page"), Some(&p), &set, SystemTime::now())
        .unwrap();
    let path = dir.join(key.file_name());
    assert!(ResultsCache::new(&dir).read_kept(&key, &p).is_some());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    assert_eq!(ResultsCache::new(&dir).read_kept(&key, &p), None);
    assert_eq!(ResultsCache::new(&dir).kept_date(&key), None);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let elsewhere = dir.join("planted.json");
    std::fs::rename(&path, &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
    assert_eq!(ResultsCache::new(&dir).read_kept(&key, &p), None);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn memory_keeps_the_last_sets_without_a_disk() {
    let cache = ResultsCache::in_memory();
    assert_eq!(cache.dir(), None);
    let set = Arc::new(six_windows());
    let p = provenance("2026-02-01T00:00:00.000Z");
    for impulse in 0..=MEMORY_ENTRIES as u64 {
        let key = CacheKey::new("http://127.0.0.1:9/v1", 1, impulse);
        cache
            .write(&key, &validator(b"p"), Some(&p), &set, SystemTime::now())
            .unwrap();
    }
    let first = CacheKey::new("http://127.0.0.1:9/v1", 1, 0);
    let last = CacheKey::new("http://127.0.0.1:9/v1", 1, MEMORY_ENTRIES as u64);
    assert_eq!(cache.read_kept(&first, &p), None, "the oldest went");
    let kept = cache.read_kept(&last, &p).unwrap();
    assert!(Arc::ptr_eq(&kept.set, &set), "shared, not copied");
}
