//! The built-in bot as the conversation engine drives it: greeting, rules, quick replies,
//! cards, fallbacks and handovers, through the public API only.

use serde_json::json;
use switchboard_bot::{
    Bot, BotInput, BotKind, BotReply, BotSession, BotSettings, BotTurn, QuickReply, DEFAULT_FLOW,
};

const FLOW: &str = r#"
greeting:
  reply: Hi! How can I help?
  quick_replies:
    - title: Opening hours
      payload: hours
    - Talk to a person
rules:
  - name: hours
    keywords: [opening hours, open]
    reply: We are open 9 to 5.
  - name: order
    regex: '\border\s*#?\d{4,}'
    reply: Let me look that order up.
    quick_replies: [Something else]
  - name: complaint
    keywords: complaint
    reply: I am sorry to hear that.
    handover: true
  - keywords: [cancel]
    handover: true
fallback: Sorry, I did not get that.
handover:
  keywords: [agent, human, person]
  after_fallbacks: 2
  reply: Connecting you to an agent.
"#;

fn bot(flow: &str) -> Bot {
    Bot::from_settings(&BotSettings {
        flow: flow.into(),
        ..BotSettings::default()
    })
    .expect("the flow parses")
}

async fn say(bot: &Bot, session: &mut BotSession, input: BotInput) -> BotTurn {
    bot.respond(session, input)
        .await
        .expect("the built-in bot always answers")
}

fn text(t: &str) -> BotInput {
    BotInput::Text(t.into())
}

fn texts(turn: &BotTurn) -> Vec<&str> {
    turn.replies.iter().map(|r| r.text.as_str()).collect()
}

#[tokio::test]
async fn start_greets_with_the_quick_replies() {
    let bot = bot(FLOW);
    let turn = say(&bot, &mut BotSession::new("c1"), BotInput::Start).await;
    assert_eq!(
        turn,
        BotTurn {
            replies: vec![BotReply {
                text: "Hi! How can I help?".into(),
                quick_replies: vec![
                    QuickReply {
                        title: "Opening hours".into(),
                        payload: "hours".into()
                    },
                    QuickReply {
                        title: "Talk to a person".into(),
                        payload: "Talk to a person".into()
                    },
                ],
            }],
            handover: None,
            rule: Some("greeting".into()),
        }
    );
}

#[tokio::test]
async fn keywords_and_regexes_pick_the_first_matching_rule() {
    let bot = bot(FLOW);
    let mut s = BotSession::new("c1");
    assert_eq!(
        texts(&say(&bot, &mut s, text("When are you OPEN?")).await),
        ["We are open 9 to 5."]
    );
    let turn = say(&bot, &mut s, text("where is my Order #12345")).await;
    assert_eq!(texts(&turn), ["Let me look that order up."]);
    assert_eq!(turn.replies[0].quick_replies[0].payload, "Something else");
    // "reopen" is not the word "open".
    assert_eq!(
        texts(&say(&bot, &mut s, text("please reopen")).await),
        ["Sorry, I did not get that."]
    );
}

#[tokio::test]
async fn a_quick_reply_matches_by_payload_first_then_by_title() {
    let bot = bot(FLOW);
    let mut s = BotSession::new("c1");
    let by_payload = BotInput::QuickReply {
        title: "complaint".into(),
        payload: "hours".into(),
    };
    assert_eq!(
        texts(&say(&bot, &mut s, by_payload).await),
        ["We are open 9 to 5."]
    );
    let by_title = BotInput::QuickReply {
        title: "Talk to a person".into(),
        payload: "xyz".into(),
    };
    let turn = say(&bot, &mut s, by_title).await;
    assert_eq!(turn.handover.as_deref(), Some("asked for an agent"));
}

#[tokio::test]
async fn handover_words_win_over_rules_and_the_handover_message_comes_last() {
    let bot = bot(FLOW);
    let mut s = BotSession::new("c1");
    let turn = say(&bot, &mut s, text("I want a HUMAN about opening hours")).await;
    assert_eq!(texts(&turn), ["Connecting you to an agent."]);
    assert_eq!(turn.handover.as_deref(), Some("asked for an agent"));
}

#[tokio::test]
async fn a_handover_rule_says_its_reply_then_the_handover_message() {
    let bot = bot(FLOW);
    let mut s = BotSession::new("c1");
    let turn = say(&bot, &mut s, text("I have a complaint")).await;
    assert_eq!(
        texts(&turn),
        ["I am sorry to hear that.", "Connecting you to an agent."]
    );
    assert_eq!(
        turn.handover.as_deref(),
        Some("the rule \"complaint\" hands over")
    );
    let turn = say(&bot, &mut s, text("cancel")).await;
    assert_eq!(texts(&turn), ["Connecting you to an agent."]);
    assert!(turn.handover.unwrap().contains("line"));
}

#[tokio::test]
async fn two_fallbacks_in_a_row_hand_over_and_a_match_resets_the_count() {
    let bot = bot(FLOW);
    let mut s = BotSession::new("c1");
    let turn = say(&bot, &mut s, text("blah")).await;
    assert_eq!(turn.handover, None);
    assert_eq!(s.fallbacks, 1);
    say(&bot, &mut s, text("open?")).await;
    assert_eq!(s.fallbacks, 0, "a match resets the count");
    assert_eq!(say(&bot, &mut s, text("blah")).await.handover, None);
    let turn = say(&bot, &mut s, text("still blah")).await;
    assert_eq!(texts(&turn), ["Connecting you to an agent."]);
    assert_eq!(
        turn.handover.as_deref(),
        Some("the bot did not understand 2 messages in a row")
    );
    assert_eq!(
        s.fallbacks, 0,
        "the bot starts afresh if the agent hands back"
    );
}

#[tokio::test]
async fn the_fallback_count_survives_storage_between_turns() {
    let bot = bot(FLOW);
    let mut s = BotSession::new("c1");
    say(&bot, &mut s, text("blah")).await;
    let mut restored: BotSession =
        serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert!(say(&bot, &mut restored, text("blah"))
        .await
        .handover
        .is_some());
}

#[tokio::test]
async fn zero_after_fallbacks_never_hands_over() {
    let bot = bot(&FLOW.replace("after_fallbacks: 2", "after_fallbacks: 0"));
    let mut s = BotSession::new("c1");
    for _ in 0..5 {
        let turn = say(&bot, &mut s, text("blah")).await;
        assert_eq!(texts(&turn), ["Sorry, I did not get that."]);
        assert_eq!(turn.handover, None);
    }
}

#[tokio::test]
async fn a_card_is_matched_by_its_data_values_else_it_falls_back() {
    let bot = bot(FLOW);
    let mut s = BotSession::new("c1");
    let turn = say(
        &bot,
        &mut s,
        BotInput::CardSubmit(json!({"data": {"question": "opening hours", "n": 3}})),
    )
    .await;
    assert_eq!(texts(&turn), ["We are open 9 to 5."]);
    let turn = say(&bot, &mut s, BotInput::CardSubmit(json!({"data": {}}))).await;
    assert_eq!(texts(&turn), ["Sorry, I did not get that."]);
}

#[tokio::test]
async fn the_default_flow_covers_the_basics() {
    let settings = BotSettings::default();
    assert_eq!(settings.kind, BotKind::Builtin);
    assert_eq!(settings.flow, DEFAULT_FLOW);
    let bot = Bot::from_settings(&settings).unwrap();
    let mut s = BotSession::new("c1");

    let greeting = say(&bot, &mut s, BotInput::Start).await;
    let buttons = greeting.replies[0].quick_replies.clone();
    assert!(buttons.len() >= 3, "{greeting:?}");
    // Every greeting button leads somewhere, none to the fallback.
    for button in buttons {
        let turn = say(
            &bot,
            &mut BotSession::new("c2"),
            BotInput::QuickReply {
                title: button.title.clone(),
                payload: button.payload.clone(),
            },
        )
        .await;
        assert!(
            turn.handover.is_some() || !texts(&turn)[0].starts_with("Sorry"),
            "{button:?} → {turn:?}"
        );
    }
    for question in [
        "what are your opening hours",
        "where is my order",
        "I was charged twice, I need a refund",
    ] {
        let turn = say(&bot, &mut s, text(question)).await;
        assert_eq!(turn.handover, None, "{question}");
        assert!(
            !texts(&turn)[0].starts_with("Sorry"),
            "{question}: {turn:?}"
        );
    }
    for words in [
        "agent",
        "Can I talk to a human?",
        "a real person please",
        "representative",
    ] {
        let turn = say(&bot, &mut BotSession::new("c3"), text(words)).await;
        assert_eq!(
            turn.handover.as_deref(),
            Some("asked for an agent"),
            "{words}"
        );
        assert_eq!(
            texts(&turn).last().copied(),
            Some("One moment please, I am connecting you to an agent.")
        );
    }
    assert_eq!(say(&bot, &mut s, text("qwerty")).await.handover, None);
    assert!(say(&bot, &mut s, text("asdf")).await.handover.is_some());
}

/// The agent's workspace lists the rules that answered, so every turn of the built-in
/// flow names what answered it.
#[tokio::test]
async fn each_turn_names_the_rule_that_answered() {
    let bot = bot(FLOW);
    let mut s = BotSession::new("c1");
    let mut rule = async |input: BotInput| say(&bot, &mut s, input).await.rule;
    assert_eq!(rule(BotInput::Start).await.as_deref(), Some("greeting"));
    assert_eq!(rule(text("are you open")).await.as_deref(), Some("hours"));
    assert_eq!(rule(text("order #12345")).await.as_deref(), Some("order"));
    // A rule without a name is named by its line.
    assert_eq!(
        rule(text("cancel it")).await.as_deref(),
        Some("rule at line 20")
    );
    assert_eq!(rule(text("blah")).await.as_deref(), Some("fallback"));
    // The second misunderstanding in a row hands over: the handover answered.
    assert_eq!(rule(text("blah")).await.as_deref(), Some("handover"));
    assert_eq!(
        rule(text("a human please")).await.as_deref(),
        Some("handover")
    );
    assert_eq!(
        rule(BotInput::QuickReply {
            title: "x".into(),
            payload: "hours".into()
        })
        .await
        .as_deref(),
        Some("hours")
    );
}
