//! Settings import: the JSON file an admin imports, read as the import reads it, then
//! normalized and validated as a save does (URLs, tenant, ids, JSON properties, the bot
//! flow or external bot). Beyond "never panics": normalizing twice changes nothing, no
//! error and no export holds the Endpoint URL token, and exporting what was imported and
//! importing that again gives the same settings.

#![no_main]

use chat_gateway_client::json_properties;
use libfuzzer_sys::fuzz_target;
use switchboard_settings::export::{export, read_export};
use switchboard_types::token;

fuzz_target!(|data: &[u8]| {
    let Ok(imported) = read_export(data) else {
        return;
    };
    // What a save does before it validates: this relay keeps its own token.
    let mut next = imported.clone().normalized();
    next.endpoint.token = token::generate();
    let errors = next.validate();
    assert_eq!(
        next.clone().normalized(),
        next,
        "normalizing is not idempotent"
    );
    for e in &errors {
        assert!(!e.field.is_empty() && !e.message.is_empty(), "{e:?}");
        // The token is the Endpoint URL's secret; errors are shown and logged.
        assert!(!e.message.contains(&next.endpoint.token), "{e:?}");
    }
    let exported = serde_json::to_string(&export(&next)).expect("an export serializes");
    assert!(
        !exported.contains(&next.endpoint.token),
        "an export holds the token"
    );
    let valid = errors.is_empty();
    if valid {
        // A valid save's JSON properties are what the handover sends to 8x8.
        let props = json_properties::parse(&next.handover.json_properties)
            .expect("validated JSON properties parse");
        assert!(props.len() <= json_properties::MAX_ENTRIES);
    }

    // Export (which drops the token) and import again: nothing else may change.
    let exported = serde_json::to_vec(&export(&imported)).expect("an export serializes");
    let again = read_export(&exported).expect("an export imports");
    let mut expected = imported;
    expected.endpoint.token = String::new();
    assert_eq!(again, expected, "an export did not import as it was");
});
