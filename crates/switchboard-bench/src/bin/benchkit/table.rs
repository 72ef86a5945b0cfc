//! Latency samples and the one table a benchmark prints (Markdown, so it can be pasted
//! into BENCHMARKS.md as it is).

use std::time::Duration;

/// Latencies of one measurement, in any order.
#[derive(Debug, Default, Clone)]
pub struct Samples(pub Vec<Duration>);

impl Samples {
    /// Nearest-rank percentile (`q` in 0..=1); `None` without samples.
    pub fn pct(&self, q: f64) -> Option<Duration> {
        let mut v = self.0.clone();
        v.sort();
        let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len().max(1));
        v.get(rank - 1).copied()
    }

    pub fn max(&self) -> Option<Duration> {
        self.0.iter().max().copied()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// A duration in milliseconds with three decimals, or a dash.
pub fn ms(d: Option<Duration>) -> String {
    d.map_or("—".into(), |d| format!("{:.3} ms", d.as_secs_f64() * 1e3))
}

pub struct Table {
    header: Vec<String>,
    /// How many leading columns are words (left-aligned); the rest are figures.
    words: usize,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str], words: usize) -> Self {
        Self {
            header: header.iter().map(|s| s.to_string()).collect(),
            words,
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Columns padded to their widest cell; words left-aligned, figures right-aligned.
    pub fn print(&self) {
        let cols = self.header.len();
        let width = |i: usize| {
            std::iter::once(&self.header)
                .chain(&self.rows)
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..cols).map(width).collect();
        let line = |cells: &[String]| {
            let cells: Vec<String> = (0..cols)
                .map(|i| {
                    let c = cells.get(i).map_or("", String::as_str);
                    let pad = " ".repeat(widths[i] - c.chars().count());
                    if i < self.words {
                        format!("{c}{pad}")
                    } else {
                        format!("{pad}{c}")
                    }
                })
                .collect();
            println!("| {} |", cells.join(" | "));
        };
        line(&self.header);
        let rule: Vec<String> = widths
            .iter()
            .enumerate()
            .map(|(i, w)| match i < self.words {
                true => "-".repeat(w + 2),
                false => format!("{}:", "-".repeat(w + 1)),
            })
            .collect();
        println!("|{}|", rule.join("|"));
        for r in &self.rows {
            line(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s = Samples((1..=100).map(Duration::from_millis).collect());
        assert_eq!(s.pct(0.50), Some(Duration::from_millis(50)));
        assert_eq!(s.pct(0.99), Some(Duration::from_millis(99)));
        assert_eq!(s.pct(1.0), Some(Duration::from_millis(100)));
        assert_eq!(Samples::default().pct(0.5), None);
    }
}
