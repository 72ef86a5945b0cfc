//! The built-in bot's flow: YAML typed by the admin, parsed and checked with line-precise
//! errors, then run. Beyond "never panics": an error points inside the text, and a flow
//! that parses answers every input with at least one reply, the handover message last
//! when it hands over.

#![no_main]

use std::{
    future::Future,
    pin::pin,
    task::{Context, Poll, Waker},
};

use libfuzzer_sys::fuzz_target;
use switchboard_core::bot::{flow, Bot, BotInput, BotSession, BotTurn};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = match flow::parse(text) {
        Ok(flow) => flow,
        Err(e) => {
            // YAML counts \n, \r\n and a lone \r as line breaks.
            let lines = text.matches('\n').count() + text.matches('\r').count()
                - text.matches("\r\n").count()
                + 1;
            assert!(
                e.line >= 1 && e.line <= lines + 1,
                "line {} of {lines}: {e}",
                e.line
            );
            assert!(e.column >= 1, "{e}");
            assert!(!e.message.is_empty());
            return;
        }
    };
    let bot = Bot::from_flow(parsed.clone());
    let mut session = BotSession::new("fuzz");

    let greeting = turn(&bot, &mut session, BotInput::Start);
    assert_eq!(greeting.replies.len(), 1);
    assert_eq!(greeting.replies[0].text, parsed.greeting.text);
    assert!(greeting.handover.is_none());

    // Every line of the text as a message, and every button of the flow pressed.
    let mut inputs: Vec<BotInput> = text.lines().map(|l| BotInput::Text(l.into())).collect();
    let buttons = parsed
        .greeting
        .quick_replies
        .iter()
        .chain(&parsed.fallback.quick_replies)
        .chain(
            parsed
                .rules
                .iter()
                .flat_map(|r| r.reply.iter().flat_map(|m| &m.quick_replies)),
        );
    for b in buttons {
        inputs.push(BotInput::QuickReply {
            title: b.title.clone(),
            payload: b.payload.clone(),
        });
    }
    inputs.push(BotInput::CardSubmit(
        serde_json::json!({ "data": { "t": text } }),
    ));
    for input in inputs.into_iter().take(64) {
        let t = turn(&bot, &mut session, input);
        assert!(!t.replies.is_empty(), "a turn without a reply");
        if t.handover.is_some() {
            assert_eq!(t.replies.last().unwrap().text, parsed.handover.message);
        }
        assert!(
            session.fallbacks < parsed.handover.after_fallbacks.max(1)
                || parsed.handover.after_fallbacks == 0
        );
    }
});

/// The built-in flow answers without waiting, so one poll is the whole turn.
fn turn(bot: &Bot, session: &mut BotSession, input: BotInput) -> BotTurn {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(bot.respond(session, input)).as_mut().poll(&mut cx) {
        Poll::Ready(result) => result.expect("the built-in flow never fails"),
        Poll::Pending => panic!("the built-in flow waited"),
    }
}
