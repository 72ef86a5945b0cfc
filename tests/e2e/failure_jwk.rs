//! 8x8's signing keys out of reach: a delivery signed with a key the relay has not
//! fetched yet cannot be checked while the JWK endpoint fails (answers 503) or refuses
//! connections. The relay answers 503 — 8x8 retries — never 401 for a signature it could
//! not check, logs why, and accepts the next retry once the endpoint is back, without a
//! restart.
//!
//! 8x8's JWK service is played by a second emulator with the same keys, on a port of
//! its own (the relay's Base URL), so it can fail or go away while the first emulator
//! goes on delivering and retrying.

use std::{sync::Arc, time::Instant};

use chat_gateway_sim::{Faults, Keyring, Seed};
use switchboard_e2e::{
    agent_chat::{AgentChat, GUARD},
    emulator, one_failure_test_at_a_time,
    process::free_port,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_jwk_endpoint_answers_503_until_it_is_back() {
    let _turn = one_failure_test_at_a_time().await;
    let keyring = Arc::new(
        tokio::task::spawn_blocking(Keyring::generate)
            .await
            .unwrap()
            .unwrap(),
    );
    let jwk_addr = format!("127.0.0.1:{}", free_port());
    let jwk = emulator::start(
        &jwk_addr,
        Seed::sandbox(),
        chat_gateway_sim::Settings::fast(),
        Some(keyring.clone()),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let chat = AgentChat::start(
        dir.path(),
        emulator::settings(150, 200, 10_000),
        Some(keyring.clone()),
        |c| c.base_url = jwk.base_url(),
    )
    .await;

    // Failing: a new key, and the JWK endpoint answers 503.
    let kid = keyring.rotate().unwrap();
    jwk.set_faults(Faults {
        api_fail_rate: 1.0,
        api_fail_status: 503,
        ..Faults::default()
    });
    let text = "signed with a key the JWK endpoint will not give";
    let eid = chat.say(text).await;
    let failing = chat.wait_refused(&eid, 2).await;
    let failing_log = chat
        .relay
        .wait_for_log(&["could not be verified", &kid, "503"], GUARD)
        .await;
    jwk.set_faults(Faults::default());
    let back = Instant::now();
    let attempts = chat.wait_processed(&eid, text).await;
    let failing_recovered = back.elapsed();
    let failing_retry = attempts
        .iter()
        .find(|a| a.status == "delivered")
        .unwrap()
        .retry;

    // Refusing: another new key, and nothing listens where the JWK endpoint was.
    let kid = keyring.rotate().unwrap();
    jwk.shutdown().await;
    let text = "signed while the JWK endpoint refuses connections";
    let eid = chat.say(text).await;
    let refusing = chat.wait_refused(&eid, 2).await;
    let refusing_log = chat
        .relay
        .wait_for_log(&["could not be verified", &kid, "cannot connect"], GUARD)
        .await;
    let jwk = emulator::start(
        &jwk_addr,
        Seed::sandbox(),
        chat_gateway_sim::Settings::fast(),
        Some(keyring.clone()),
    )
    .await;
    let back = Instant::now();
    let attempts = chat.wait_processed(&eid, text).await;
    let refusing_recovered = back.elapsed();
    let refusing_retry = attempts
        .iter()
        .find(|a| a.status == "delivered")
        .unwrap()
        .retry;
    assert!(failing_retry > 0 && refusing_retry > 0);

    println!("JWK endpoint unreachable (a new signing key each time):");
    println!(
        "  answering 503: {} attempts refused with 503, delivered by retry #{failing_retry}, processed {:.2} s after it was back",
        failing.len(),
        failing_recovered.as_secs_f64()
    );
    println!(
        "  refusing connections: {} attempts refused with 503, delivered by retry #{refusing_retry}, processed {:.2} s after it was back",
        refusing.len(),
        refusing_recovered.as_secs_f64()
    );
    println!("  relay log: {failing_log}");
    println!("  relay log: {refusing_log}");
    chat.relay.stop();
    chat.sim.shutdown().await;
    jwk.shutdown().await;
}
