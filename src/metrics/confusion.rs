//! A confusion matrix that costs what the windows and labels cost, not their square.
//!
//! Every figure reads sums of the matrix (a row, the diagonal, the uncertain and anomaly
//! columns, a column), so those are kept as counts are added, and each figure costs one
//! pass over the labels. The cells themselves are only read to show the matrix: a table
//! while there are few labels, a map of the cells in use past that, so that thousands of
//! labels never allocate their square.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Past this many labels the cells are kept in a map (at most one entry a window).
const DENSE_LABELS: usize = 128;

/// The sums kept per label, and where each lies in [`Confusion::sums`].
const SUMS: usize = 5;
const ROWS: usize = 0;
const RIGHT: usize = 1;
const UNCERTAIN: usize = 2;
const FLAGGED: usize = 3;
const PREDICTED: usize = 4;

/// Counts of windows by expected label (row) and prediction (column: a label, or the
/// last column, `uncertain`).
#[derive(Debug, Clone, PartialEq)]
pub struct Confusion {
    labels: usize,
    /// The column counted as flagged (the anomaly label), if any.
    flag: Option<usize>,
    /// Five sums a label, one after the other (one allocation): per expected label,
    /// every window ([`ROWS`]), those predicted right, uncertain and flagged; per label,
    /// the windows predicted as it ([`PREDICTED`]).
    sums: Vec<u32>,
    cells: Cells,
}

#[derive(Debug, Clone, PartialEq)]
enum Cells {
    /// `labels × (labels + 1)`, row after row.
    Table(Vec<u32>),
    /// Only the cells in use, by `expected << 32 | column`: no entry is zero.
    Map(HashMap<u64, u32, BuildHasherDefault<CellHasher>>),
}

/// Cells are numbered, not text: one multiplication spreads them (a keyed hash would
/// cost more than the rest of the count, and there is nothing to attack in them).
#[derive(Default)]
struct CellHasher(u64);

impl Hasher for CellHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(26);
    }
}

fn cell(expected: usize, column: usize) -> u64 {
    (expected as u64) << 32 | column as u64
}

impl Confusion {
    /// No windows over `labels` labels, `flag` (the anomaly label) counted apart.
    pub fn new(labels: usize, flag: Option<usize>) -> Self {
        let cells = if labels <= DENSE_LABELS {
            Cells::Table(vec![0; labels * (labels + 1)])
        } else {
            Cells::Map(HashMap::default())
        };
        Self {
            labels,
            flag,
            sums: vec![0; SUMS * labels],
            cells,
        }
    }

    /// Windows expected `expected` and predicted in `column`.
    pub fn get(&self, expected: usize, column: usize) -> u32 {
        match &self.cells {
            Cells::Table(t) => t[expected * (self.labels + 1) + column],
            Cells::Map(m) => m.get(&cell(expected, column)).copied().unwrap_or(0),
        }
    }

    /// Counts `n` more windows expected `expected` and predicted in `column`.
    #[inline]
    pub fn add(&mut self, expected: usize, column: usize, n: u32) {
        self.sums[ROWS * self.labels + expected] += n;
        self.margins(expected, column, |count| *count += n);
        match &mut self.cells {
            Cells::Table(t) => t[expected * (self.labels + 1) + column] += n,
            Cells::Map(m) => *m.entry(cell(expected, column)).or_insert(0) += n,
        }
    }

    /// Counts one window for each (expected, column): the cells first, the sums once at
    /// the end (cheaper than keeping them window by window).
    pub fn count_each(&mut self, windows: impl Iterator<Item = (usize, usize)>) {
        let columns = self.labels + 1;
        match &mut self.cells {
            Cells::Table(t) => windows.for_each(|(e, c)| t[e * columns + c] += 1),
            Cells::Map(m) => windows.for_each(|(e, c)| *m.entry(cell(e, c)).or_insert(0) += 1),
        }
        self.tally();
    }

    /// Every sum again from the cells.
    fn tally(&mut self) {
        self.sums.fill(0);
        // Taken out while the sums are written, then put back.
        let cells = std::mem::replace(&mut self.cells, Cells::Table(Vec::new()));
        let columns = self.labels + 1;
        let mut count = |expected: usize, column: usize, n: u32| {
            self.sums[ROWS * self.labels + expected] += n;
            self.margins(expected, column, |count| *count += n);
        };
        match &cells {
            Cells::Table(t) => {
                for (i, &n) in t.iter().enumerate().filter(|(_, n)| **n > 0) {
                    count(i / columns, i % columns, n);
                }
            }
            Cells::Map(m) => {
                for (k, &n) in m {
                    count((k >> 32) as usize, (k & 0xffff_ffff) as usize, n);
                }
            }
        }
        self.cells = cells;
    }

    /// One window expected `expected` moves from column `from` to column `to`.
    #[inline]
    pub fn shift(&mut self, expected: usize, from: usize, to: usize) {
        self.margins(expected, from, |count| *count -= 1);
        self.margins(expected, to, |count| *count += 1);
        match &mut self.cells {
            Cells::Table(t) => {
                let row = expected * (self.labels + 1);
                t[row + from] -= 1;
                t[row + to] += 1;
            }
            Cells::Map(m) => {
                let key = cell(expected, from);
                if let Some(count) = m.get_mut(&key) {
                    *count -= 1;
                    if *count == 0 {
                        m.remove(&key);
                    }
                }
                *m.entry(cell(expected, to)).or_insert(0) += 1;
            }
        }
    }

    /// Every count back to zero.
    pub fn clear(&mut self) {
        self.sums.fill(0);
        match &mut self.cells {
            Cells::Table(t) => t.fill(0),
            Cells::Map(m) => m.clear(),
        }
    }

    /// The sums a count in (`expected`, `column`) belongs to, each changed by `change`.
    #[inline]
    fn margins(&mut self, expected: usize, column: usize, change: impl Fn(&mut u32)) {
        let n = self.labels;
        if column == n {
            change(&mut self.sums[UNCERTAIN * n + expected]);
            return;
        }
        change(&mut self.sums[PREDICTED * n + column]);
        if column == expected {
            change(&mut self.sums[RIGHT * n + expected]);
        }
        if Some(column) == self.flag {
            change(&mut self.sums[FLAGGED * n + expected]);
        }
    }

    fn sum(&self, part: usize, label: usize) -> u32 {
        self.sums[part * self.labels + label]
    }

    /// Windows expected `label`.
    pub fn row(&self, label: usize) -> u32 {
        self.sum(ROWS, label)
    }

    /// Windows expected `label` and predicted `label`.
    pub fn right(&self, label: usize) -> u32 {
        self.sum(RIGHT, label)
    }

    /// Windows expected `label` and predicted uncertain.
    pub fn uncertain(&self, label: usize) -> u32 {
        self.sum(UNCERTAIN, label)
    }

    /// Windows expected `label` and predicted as the flagged label.
    pub fn flagged(&self, label: usize) -> u32 {
        self.sum(FLAGGED, label)
    }

    /// Windows predicted `label`.
    pub fn predicted(&self, label: usize) -> u32 {
        self.sum(PREDICTED, label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same counts kept as a table and as a map agree on every cell and sum.
    #[test]
    fn a_table_and_a_map_count_alike() {
        let labels = DENSE_LABELS + 1;
        let mut map = Confusion::new(labels, Some(2));
        let mut table = Confusion::new(labels, Some(2));
        table.cells = Cells::Table(vec![0; labels * (labels + 1)]);
        for (e, c, n) in [(0, 0, 3), (0, 2, 1), (1, labels, 2), (2, 2, 4), (1, 0, 1)] {
            map.add(e, c, n);
            table.add(e, c, n);
        }
        map.shift(1, labels, 2);
        table.shift(1, labels, 2);
        map.shift(0, 2, 0);
        table.shift(0, 2, 0);
        for e in 0..labels {
            for c in 0..=labels {
                assert_eq!(map.get(e, c), table.get(e, c), "cell ({e}, {c})");
            }
        }
        assert_eq!((map.row(0), map.right(0), map.flagged(0)), (4, 4, 0));
        assert_eq!((map.row(1), map.uncertain(1), map.flagged(1)), (3, 1, 1));
        assert_eq!((map.predicted(0), map.predicted(2)), (5, 5));
        assert_eq!(
            (table.row(1), table.uncertain(1), table.flagged(1)),
            (3, 1, 1)
        );
        // A cell emptied by a shift leaves no entry behind.
        let Cells::Map(cells) = &map.cells else {
            panic!("past {DENSE_LABELS} labels the cells are a map")
        };
        assert!(!cells.contains_key(&cell(0, 2)));
        // Counted in bulk, the sums are the same as counted one by one.
        let mut bulk = Confusion::new(labels, Some(2));
        bulk.count_each(
            [
                (0, 0),
                (0, 0),
                (0, 0),
                (0, 0),
                (1, labels),
                (2, 2),
                (2, 2),
                (2, 2),
                (2, 2),
            ]
            .into_iter()
            .chain([(1, 0), (1, 2)]),
        );
        assert_eq!(bulk, map);
        map.clear();
        assert_eq!((map.row(0), map.get(2, 2), map.predicted(2)), (0, 0, 0));
    }
}
