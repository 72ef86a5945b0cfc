//! The agent's Copilot link in the handover: an entry of `user.additionalProperties`
//! under the settings' label, in the create (handover mode) and in the re-assignment's
//! PATCH (endpoint mode, where 8x8 already has the user); none when the Copilot is off.

use serde_json::json;
use switchboard_engine::Phase;

use crate::harness::COPILOT_LINK;
use crate::script::{Step::*, *};

cases! {
    copilot_link_in_the_handover_create_under_its_label: [
        Settings(|s| {
            s.handover.json_properties = r#"{"intent": "billing"}"#.into();
            s.handover.copilot.label = "Agent workspace".into();
        }),
        Start,
        Say("agent"),
        InPhase(Phase::Handover),
        Seen,
        Check("the link is the last property, under the label", |s| {
            let create = s.outbox.iter().find(|e| e["operation"] == "createConversation").expect("a create");
            assert_eq!(create["request"]["request"]["user"]["additionalProperties"], json!([
                { "key": "intent", "value": "billing" },
                { "key": "Agent workspace", "value": COPILOT_LINK },
            ]));
        }),
    ];

    copilot_off_no_link_in_the_handover_create: [
        Settings(|s| {
            s.handover.json_properties = r#"{"intent": "billing"}"#.into();
            s.handover.copilot.enabled = false;
        }),
        Start,
        Say("agent"),
        InPhase(Phase::Handover),
        Seen,
        Check("only the JSON properties", |s| {
            let create = s.outbox.iter().find(|e| e["operation"] == "createConversation").expect("a create");
            assert_eq!(create["request"]["request"]["user"]["additionalProperties"], json!([
                { "key": "intent", "value": "billing" },
            ]));
        }),
    ];

    copilot_link_in_the_endpoint_reassignment_patch: [
        Event(customer("I need an agent")),
        InPhase(Phase::Handover),
        Calls(vec![send(GW, "bot", CONNECTING), ("patchAssignment", json!({
            "conversationId": GW,
            "assignment": { "type": "queue", "id": "q-support" },
            "user": { "additionalProperties": [{ "key": "Copilot", "value": COPILOT_LINK }] },
        }))]),
    ];

    copilot_off_no_user_in_the_endpoint_reassignment_patch: [
        Settings(|s| s.handover.copilot.enabled = false),
        Event(customer("I need an agent")),
        InPhase(Phase::Handover),
        Calls(vec![send(GW, "bot", CONNECTING), to_queue(GW)]),
        Check("the PATCH changes the assignment alone", |s| {
            let patch = s.outbox.iter().find(|e| e["operation"] == "patchAssignment").expect("a patch");
            assert_eq!(patch["request"].get("user"), None, "{patch}");
        }),
    ];
}
