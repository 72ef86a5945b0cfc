//! The Copilot workspace from a stored conversation, through the crate's public API:
//! every tile from a fixture conversation, sentiment, next best answers, knowledge search
//! on fixture files, and the language-model client against a stand-in server.

mod fixture;
mod knowledge_search;
mod model_client;
mod tiles;
