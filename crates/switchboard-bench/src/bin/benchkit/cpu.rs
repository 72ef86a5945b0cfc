//! CPU time a process has used, from /proc: unlike throughput on a shared machine, the
//! CPU an event costs does not depend much on what else runs.

use std::time::Duration;

/// Linux reports CPU time in USER_HZ ticks, 100 per second on every mainstream
/// architecture (x86, arm); so the figures have 10 ms resolution.
const TICKS_PER_SECOND: u64 = 100;

/// User + system CPU time of process `pid` so far (zero if it cannot be read).
pub fn used(pid: u32) -> Duration {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
    };
    ticks_of(&stat)
}

/// utime + stime of a /proc `stat` line.
fn ticks_of(stat: &str) -> Duration {
    // Fields after the command name (which may contain spaces) start at field 3.
    let fields: Vec<&str> = stat[stat.rfind(')').map_or(0, |i| i + 2)..]
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15.
    Duration::from_millis((ticks(11) + ticks(12)) * 1000 / TICKS_PER_SECOND)
}

/// This process.
pub fn own() -> Duration {
    used(std::process::id())
}

/// Waits until the machine's cores are nearly idle (under 10 % busy over 250 ms), for at
/// most 5 s, so that each receiver is measured on a settled machine rather than beside
/// the tail of the previous one's work (a JIT compiling, a WAL checkpoint). Returns how
/// busy the cores were in the last window, from 0 to 1.
pub async fn settle() -> f64 {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let before = machine_ticks();
        tokio::time::sleep(Duration::from_millis(250)).await;
        let after = machine_ticks();
        let busy = match (before, after) {
            (Some((b_busy, b_all)), Some((a_busy, a_all))) if a_all > b_all => {
                (a_busy - b_busy) as f64 / (a_all - b_all) as f64
            }
            _ => return 0.0,
        };
        if busy < 0.10 || std::time::Instant::now() >= deadline {
            return busy;
        }
    }
}

/// (busy, all) ticks of every core together, from the first line of /proc/stat.
fn machine_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|t| t.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal …: idle and iowait are not busy.
    let all: u64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3)? + ticks.get(4).copied().unwrap_or(0);
    Some((all - idle, all))
}

/// User + system CPU time of this process's threads whose name starts with `prefix`
/// (a runtime's threads carry the name it was built with). Threads that have ended are
/// not counted, so this is for threads that live through the measurement.
pub fn threads_named(prefix: &str) -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    tasks
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm"))
                .is_ok_and(|name| name.trim_end().starts_with(prefix))
        })
        .filter_map(|t| t.file_name().to_str()?.parse::<u32>().ok())
        .map(used_by_thread)
        .sum()
}

fn used_by_thread(tid: u32) -> Duration {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")) else {
        return Duration::ZERO;
    };
    ticks_of(&stat)
}

/// CPU time so far of each group of this process's threads, by name (a runtime's threads
/// share one): where a run's CPU went, thread by thread, as the difference of two calls.
#[allow(dead_code)]
pub fn by_thread_name() -> std::collections::BTreeMap<String, Duration> {
    let mut groups = std::collections::BTreeMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return groups;
    };
    for task in tasks.flatten() {
        let Ok(name) = std::fs::read_to_string(task.path().join("comm")) else {
            continue;
        };
        let Some(tid) = task
            .file_name()
            .to_str()
            .and_then(|t| t.parse::<u32>().ok())
        else {
            continue;
        };
        *groups.entry(name.trim_end().to_string()).or_default() += used_by_thread(tid);
    }
    groups
}

/// What each thread group used between two [`by_thread_name`] readings, busiest first.
#[allow(dead_code)]
pub fn since(before: &std::collections::BTreeMap<String, Duration>) -> Vec<(String, Duration)> {
    let mut used: Vec<(String, Duration)> = by_thread_name()
        .into_iter()
        .map(|(name, now)| {
            let then = before.get(&name).copied().unwrap_or_default();
            (name, now.saturating_sub(then))
        })
        .filter(|(_, d)| !d.is_zero())
        .collect();
    used.sort_by_key(|b| std::cmp::Reverse(b.1));
    used
}
