//! The UI's API types, generated from the Rust types the admin API and its live event
//! stream send and take (ts-rs derives them, following the serde attributes). One file,
//! `ui/src/lib/api.generated.ts`, holds them all, together with every type they use.
//!
//! `cargo test` fails while the committed file differs from what these types generate;
//! `UPDATE_TS=1 cargo test -p switchboard-relay --lib ts_export` rewrites it.

use std::any::TypeId;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use ts_rs::{Config, TypeVisitor, TS};

use super::contact_center_api::{QueueFiguresList, ScheduleChoice, ScheduleList, ScheduleStatus};
use super::conversations_api::ConversationPage;
use super::copilot_api::{CopilotJwtSecret, CopilotLinkView};
use super::error::{ErrorBody, ErrorCode};
use super::inspector::{
    DeliveryDetail, DeliveryGroup, DeliverySummary, GroupPage, Injected, ReplayMode,
    SignatureExplainer, Template,
};
use super::inspector_api::{OutboxPage, ReplayRequest, SyntheticRequest, TemplateList};
use super::settings_api::{ChannelList, PreviewRequest, SettingsView};
use super::settings_update::{KeyChange, KeyChanges, KeyState, SaveRequest};
use super::setup_helpers::{
    ChannelChoice, Preview, Registration, TestOutcome, TestRequest, Warning, WarningCode,
    WebhookState,
};
use super::status::Status;
use chat_gateway_client::types::{
    Assignment, ConversationUser, CreateConversation, History, KeyValue, SendMessage,
};
use switchboard_bot::BotSettings;
use switchboard_copilot::{KnowledgeHit, Workspace};
use switchboard_engine::{ConversationView, NewUser, QuickReplyChoice, UserInput};
use switchboard_settings::secrets::Backend;
use switchboard_settings::settings::Settings;
use switchboard_settings::Role;
use switchboard_store::conversations::{HandoverRecord, Summary};
use switchboard_store::{Conversation, DeliveryRecord, Entry, OutboxEntry};
use switchboard_types::{
    Direction, Envelope, FieldError, Lane, Mode, OutboxStatus, Phase, RelayEvent,
};

/// The file, from this crate's directory.
const FILE: &str = "../../ui/src/lib/api.generated.ts";
/// Set to rewrite the file instead of checking it.
const UPDATE_VAR: &str = "UPDATE_TS";

const HEADER: &str = "\
// GENERATED FILE: do not edit. The admin API's types, derived from the Rust types by ts-rs
// (crates/switchboard-relay/src/admin/ts_export.rs lists them). After changing one of
// those types, regenerate with
//     UPDATE_TS=1 cargo test -p switchboard-relay --lib ts_export
// `cargo test` fails while this file differs from what the Rust types generate.
// UI-only types live in types.ts.
";

/// Every declaration reachable from the listed types, by TypeScript name.
#[derive(Default)]
struct Declarations {
    cfg: Config,
    seen: HashSet<TypeId>,
    by_name: BTreeMap<String, (TypeId, String)>,
}

impl Declarations {
    fn add<T: TS + 'static + ?Sized>(&mut self) {
        if T::output_path().is_none() || !self.seen.insert(TypeId::of::<T>()) {
            return; // a primitive, a wrapper, or already here
        }
        let name = T::ident(&self.cfg);
        let mut text = T::docs().unwrap_or_default();
        text.push_str("export ");
        text.push_str(&T::decl(&self.cfg));
        if let Some((_, other)) = self.by_name.get(&name) {
            if *other == text {
                return; // one type under two Rust names (serde_json's Value and its shadow)
            }
            panic!(
                "two Rust types are named {name} in TypeScript; rename one with #[ts(rename = \"…\")]:\n{other}\n{text}"
            );
        }
        self.by_name.insert(name, (TypeId::of::<T>(), text));
        T::visit_dependencies(self);
    }
}

impl TypeVisitor for Declarations {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        self.add::<T>();
    }
}

/// The generated file's text.
fn generate() -> String {
    let mut d = Declarations {
        cfg: Config::new().with_large_int("number"),
        ..Declarations::default()
    };
    // Answers of the admin API (and everything they contain).
    d.add::<Status>();
    d.add::<switchboard_store::analytics::Analytics>();
    d.add::<Backend>();
    d.add::<SettingsView>();
    d.add::<Settings>();
    d.add::<BotSettings>();
    d.add::<switchboard_types::contact_center::QueueFigures>();
    d.add::<switchboard_types::contact_center::ScheduleState>();
    d.add::<ScheduleList>();
    d.add::<ScheduleChoice>();
    d.add::<QueueFiguresList>();
    d.add::<ScheduleStatus>();
    d.add::<KeyState>();
    d.add::<Warning>();
    d.add::<WarningCode>();
    d.add::<TestOutcome>();
    d.add::<Preview>();
    d.add::<Registration>();
    d.add::<WebhookState>();
    d.add::<ChannelList>();
    d.add::<ChannelChoice>();
    d.add::<ConversationPage>();
    d.add::<Summary>();
    d.add::<CopilotLinkView>();
    d.add::<CopilotJwtSecret>();
    d.add::<ConversationView>();
    d.add::<Conversation>();
    d.add::<HandoverRecord>();
    d.add::<CreateConversation>();
    d.add::<ConversationUser>();
    d.add::<KeyValue>();
    d.add::<History>();
    d.add::<SendMessage>();
    d.add::<Assignment>();
    d.add::<Entry>();
    d.add::<GroupPage>();
    d.add::<DeliveryGroup>();
    d.add::<DeliverySummary>();
    d.add::<DeliveryDetail>();
    d.add::<DeliveryRecord>();
    d.add::<SignatureExplainer>();
    d.add::<Injected>();
    d.add::<OutboxPage>();
    d.add::<OutboxEntry>();
    d.add::<TemplateList>();
    d.add::<Template>();
    // The Copilot page's API (endpoint listener): the workspace and knowledge hits.
    d.add::<Workspace>();
    d.add::<KnowledgeHit>();
    // Errors.
    d.add::<ErrorBody>();
    d.add::<ErrorCode>();
    d.add::<FieldError>();
    // The live event stream.
    d.add::<Envelope>();
    d.add::<RelayEvent>();
    // Request bodies the UI sends.
    d.add::<SaveRequest>();
    d.add::<KeyChanges>();
    d.add::<KeyChange>();
    d.add::<TestRequest>();
    d.add::<Role>();
    d.add::<PreviewRequest>();
    d.add::<NewUser>();
    d.add::<UserInput>();
    d.add::<QuickReplyChoice>();
    d.add::<ReplayRequest>();
    d.add::<ReplayMode>();
    d.add::<SyntheticRequest>();
    // The shared vocabulary.
    d.add::<Mode>();
    d.add::<Phase>();
    d.add::<Lane>();
    d.add::<Direction>();
    d.add::<OutboxStatus>();

    let mut out = String::from(HEADER);
    for (_, text) in d.by_name.values() {
        out.push('\n');
        out.push_str(text);
        out.push('\n');
    }
    out
}

#[test]
fn api_generated_ts_is_up_to_date() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(FILE);
    let generated = generate();
    if std::env::var_os(UPDATE_VAR).is_some_and(|v| !v.is_empty() && v != "0") {
        std::fs::write(&path, &generated)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != generated {
        let first_difference = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        panic!(
            "{} is stale: it differs from what the Rust types generate (first at line {}).\n\
             Regenerate it with\n    {UPDATE_VAR}=1 cargo test -p switchboard-relay --lib ts_export\n\
             and commit the result.",
            path.display(),
            first_difference + 1
        );
    }
}

#[test]
fn every_type_has_one_typescript_name() {
    // `generate` panics on two Rust types with one TypeScript name; this says so on its own.
    let text = generate();
    assert!(text.contains("export type ErrorCode = "), "{text}");
    assert!(text.contains("export type JsonValue = "), "{text}");
}
