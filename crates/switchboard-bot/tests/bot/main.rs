//! The bot's integration tests, as one test binary (one link, one process) rather than
//! one per file: the built-in YAML flow and the external bot over the Rasa REST channel.

mod bot_external;
mod bot_flow;
