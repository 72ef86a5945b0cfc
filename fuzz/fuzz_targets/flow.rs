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
use switchboard_bot::{flow, Bot, BotInput, BotSession, BotTurn};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = match flow::parse(text) {
        Ok(flow) => flow,
        Err(e) => {
            // The admin's editor marks this line and column: they must exist (or be just
            // past the end, for "the text ended too early").
            let lines = yaml_lines(text);
            assert!(
                e.line >= 1 && e.line <= lines.len() + 1,
                "{e}: {} lines",
                lines.len()
            );
            let width = lines.get(e.line - 1).map_or(0, |l| l.chars().count());
            assert!(
                e.column >= 1 && e.column <= width + 1,
                "{e}: the line has {width} characters"
            );
            assert!(!e.message.is_empty());
            if e.message.starts_with("indent with spaces") {
                let at = lines[e.line - 1].chars().nth(e.column - 1);
                assert_eq!(at, Some('\t'), "{e}: the tab is not there");
            }
            return;
        }
    };
    let bot = Bot::from_flow(parsed.clone());
    let mut session = BotSession::new("fuzz");

    let greeting = turn(&bot, &mut session, BotInput::Start);
    assert_eq!(greeting.replies.len(), 1);
    assert_eq!(greeting.replies[0].text, parsed.greeting.text);
    assert!(greeting.handover.is_none());

    // The text's lines as messages (the first 48, to bound a run), every button of the
    // flow pressed, and a card.
    let mut inputs: Vec<BotInput> = text
        .lines()
        .take(48)
        .map(|l| BotInput::Text(l.into()))
        .collect();
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
    for input in inputs {
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

/// The lines as YAML counts them: \n, \r\n and a lone \r end a line.
fn yaml_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                lines.push(&text[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&text[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    lines.push(&text[start..]);
    lines
}

/// The built-in flow answers without waiting, so one poll is the whole turn.
fn turn(bot: &Bot, session: &mut BotSession, input: BotInput) -> BotTurn {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(bot.respond(session, input)).as_mut().poll(&mut cx) {
        Poll::Ready(result) => result.expect("the built-in flow never fails"),
        Poll::Pending => panic!("the built-in flow waited"),
    }
}
