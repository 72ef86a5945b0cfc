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
