//! AD closes a connection idle for MaxConnIdleTime (15 minutes): an admin who reads the plan longer than
//! that before saying yes must still get the apply (issue 14, finding 11). The DC's closing is played by a
//! loopback proxy that cuts the connection between the plan and the apply.

mod common;

use common::proxy::Proxy;
use common::*;
use writeback_wizard::grants::{Plan, apply};

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_the_dc_closed_while_the_plan_was_read_is_opened_again_for_the_apply() {
    use std::sync::atomic::AtomicBool;

    let lab = lab();
    let fx = fixture(lab).await;
    let upstream: std::net::SocketAddr = format!(
        "{}:636",
        lab.get("AD_LDAPS_URL")
            .trim_start_matches("ldaps://")
            .split(':')
            .next()
            .unwrap()
    )
    .parse()
    .unwrap();
    let proxy = Proxy::start(upstream).await;
    let (dir, path) = answers_file(
        lab,
        &fx.connector_sam,
        &format!("scope = \"selected\"\nous = [\"{}\"]", fx.target_ou),
        "unexpire_password = false",
    );
    let text = std::fs::read_to_string(&path).unwrap().replace(
        lab.get("AD_LDAPS_URL"),
        &format!("ldaps://127.0.0.1:{}", proxy.addr.port()),
    );
    std::fs::write(&path, text).unwrap();
    let answers = answers_in_process(lab, &dir, &path);
    let plan = Plan::prepare(&answers.directories[0], &answers.features)
        .await
        .unwrap();
    assert_eq!(plan.changed().count(), 1);
    let before = proxy.accepted();

    // The admin reads the plan; meanwhile the DC drops the idle connection.
    proxy.cut();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let cancel = AtomicBool::new(false);
    let outcome = apply::apply(&plan, &dir.join("state"), &cancel, &|_| {})
        .await
        .unwrap();
    assert!(
        outcome.all_verified(),
        "{:?}",
        outcome.results.iter().find(|(_, r)| !r.is_success())
    );
    assert_eq!(plan.session.stats().reconnects, 1, "one new connection");
    assert_eq!(proxy.accepted(), before + 1);
    // On the DC: the connector can now reset a password in scope.
    let mut connector = connect(lab, &fx.connector_dn, &fx.password).await.unwrap();
    assert_eq!(
        reset_password(&mut connector, &fx.in_user, "Idle#1xyz").await,
        0
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A read whose connection is reset before the answer comes is asked again on a new connection (issue 15:
/// retries for passing failures, only for what is safe to repeat).
#[tokio::test(flavor = "multi_thread")]
async fn a_read_cut_off_before_its_answer_is_asked_again_on_a_new_connection() {
    let lab = lab();
    let upstream: std::net::SocketAddr = "127.0.0.1:636".parse().unwrap();
    let proxy = Proxy::start(upstream).await;
    let (dir, path) = answers_file(lab, "svc-aadc", "", "unexpire_password = false");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace(lab.get("AD_LDAPS_URL"), &proxy.ldaps_url());
    std::fs::write(&path, text).unwrap();
    let answers = answers_in_process(lab, &dir, &path);
    let dcs = writeback_wizard::ad::dcs::Dcs::open(&answers.directories[0])
        .await
        .unwrap();
    let session = dcs.primary().clone();
    proxy.latency(50);
    let base = lab.get("AD_BASE_DN").to_string();
    let reads = tokio::spawn(async move {
        let mut ok = 0;
        for _ in 0..30 {
            session
                .read_entry(&base, &["objectGUID"])
                .await
                .unwrap()
                .unwrap();
            ok += 1;
        }
        (ok, session.stats().reconnects)
    });
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    proxy.cut();
    let (ok, reconnects) = reads.await.expect("every read answered");
    assert_eq!(ok, 30);
    assert_eq!(reconnects, 1);
    let _ = std::fs::remove_dir_all(&dir);
}
