//! The inactivity timeout for a handover-mode user still with the bot: a chat the
//! tester abandoned ends instead of staying "With bot" for good.

use std::time::Duration;

use switchboard_engine::Phase;

use crate::script::Step::*;

cases! {
    // The user said something, then nothing for the timeout: the chat ends, with no call
    // to 8x8 (there is no 8x8 side before a handover), and says why.
    inactivity_timeout_ends_a_chat_left_with_the_bot: [
        Minute(Duration::from_millis(40)),
        // 1000 "minutes" (40 s) while the chat starts …
        Settings(|s| s.handover.inactivity_timeout_minutes = 1000),
        Start,
        Say("what are your hours?"),
        InPhase(Phase::Bot),
        Seen,
        // … then one (40 ms): the user's last word is older than that.
        Settings(|s| s.handover.inactivity_timeout_minutes = 1),
        ReachesPhase(Phase::Ended),
        Lines(&[("system/local", "Ended after 1 minute(s) without a message from the user.")]),
        Calls(vec![]),
        Check("an end time", |s| assert!(s.conv().ended_at_ms.is_some())),
    ];
}
