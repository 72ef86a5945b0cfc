//! The Node reference receiver (tests/node/bench/reference-receiver.mjs): a child
//! process, stopped when dropped.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
};

use serde::Deserialize;

pub struct NodeReference {
    child: Child,
    pub url: String,
}

/// What the reference receiver says it has seen.
#[derive(Debug, Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub struct Seen {
    pub valid: u64,
    pub invalid: u64,
    pub key_fetches: u64,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/node/bench/reference-receiver.mjs")
}

impl NodeReference {
    /// Starts it against the emulator at `jwk_base`; the error says what is missing.
    pub fn start(jwk_base: &str, tenant: &str, window_ms: i64) -> Result<Self, String> {
        let script = script();
        let mut child = Command::new("node")
            .arg(&script)
            .args(["--jwk-base", jwk_base, "--tenant", tenant])
            .args(["--window-ms", &window_ms.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot run node: {e}"))?;
        let mut first = String::new();
        let read = BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut first);
        match (read, first.trim().strip_prefix("listening ")) {
            (Ok(_), Some(url)) => Ok(Self {
                url: format!("{url}/hook"),
                child,
            }),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!(
                    "{} did not start (is `jose` installed? npm --prefix tests/node ci)",
                    script.display()
                ))
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub async fn seen(&self, http: &reqwest::Client) -> Seen {
        let stats = self.url.replace("/hook", "/stats");
        http.get(stats)
            .send()
            .await
            .expect("the reference receiver answers /stats")
            .json()
            .await
            .expect("its /stats is JSON")
    }
}

impl Drop for NodeReference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
