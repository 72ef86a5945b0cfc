//! The settings shared by every relay on one PostgreSQL: one row holding them as JSON
//! (what the headless server's settings file holds; API keys are never among them). A
//! save writes the row and announces it on [`SETTINGS_CHANNEL`] in one transaction, so
//! the other relays reload and apply it; a relay that starts takes the row if there is
//! one. The last save wins, as two saves of one settings file do.

use super::{notify::notify_in, PgDb, PgError};

/// Announces a settings save (no payload: the row is read).
pub const SETTINGS_CHANNEL: &str = "switchboard_settings";

/// The shared settings' JSON, if a relay has stored any.
pub async fn load(db: &PgDb) -> Result<Option<String>, PgError> {
    let row = db
        .client()
        .await?
        .query_opt(
            "SELECT settings_json FROM cluster_settings WHERE id = 1",
            &[],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// Stores `json` as the shared settings and tells the other relays.
pub async fn save(db: &PgDb, json: &str, now_ms: i64) -> Result<(), PgError> {
    let mut client = db.client().await?;
    let tx = client.transaction().await?;
    tx.execute(
        "INSERT INTO cluster_settings (id, settings_json, updated_at_ms, updated_by)
         VALUES (1, $1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET settings_json = EXCLUDED.settings_json,
            updated_at_ms = EXCLUDED.updated_at_ms, updated_by = EXCLUDED.updated_by",
        &[&json, &now_ms, &db.instance()],
    )
    .await?;
    notify_in(&*tx, db.instance(), SETTINGS_CHANNEL, "").await?;
    tx.commit().await?;
    Ok(())
}

/// Stores `json` only if no relay has stored settings yet (the first relay's file seeds
/// the cluster); returns what is stored now.
pub async fn seed(db: &PgDb, json: &str, now_ms: i64) -> Result<String, PgError> {
    let client = db.client().await?;
    client
        .execute(
            "INSERT INTO cluster_settings (id, settings_json, updated_at_ms, updated_by)
             VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING",
            &[&json, &now_ms, &db.instance()],
        )
        .await?;
    Ok(client
        .query_one(
            "SELECT settings_json FROM cluster_settings WHERE id = 1",
            &[],
        )
        .await?
        .get(0))
}
