//! Must-show 2 on a pristine DC: with scope = domains the connector can reset users anywhere below the root
//! except where inheritance is blocked (the protected user, the OU with inheritance disabled), `check` reports
//! those, Unexpire Password sits on the root, a second apply writes nothing and revert restores the root.

mod common;
#[path = "entra_standin/server.rs"]
mod standin;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn domain_root_scope_reaches_every_inheriting_user_and_reports_the_rest() {
    let lab = fresh_root_lab();
    let base = lab.get("AD_BASE_DN").to_string();
    let user = |cn: &str, parent: &str| format!("CN={cn},{parent},{base}");
    let (alice, ivan, carol, dave) = (
        user("alice", "OU=Users,OU=Corp"),
        user("ivan", "OU=Interns,OU=Users,OU=Corp"),
        user("carol", "OU=Sales,OU=Corp"),
        user("dave", "OU=Admins"),
    );
    let (eve, nina) = (
        user("eve-admin", "OU=Users,OU=Corp"),
        user("nina", "OU=NoInherit,OU=Corp"),
    );
    let (dir, answers) = answers_file(&lab, lab.get("AD_CONNECTOR"), "scope = \"domains\"", "");
    let answers = answers.to_str().unwrap();

    let mut admin = admin(&lab).await;
    let original_root = read_sd(&mut admin, &base).await;
    let mut connector = connect(
        &lab,
        lab.get("AD_CONNECTOR_DN"),
        lab.get("AD_USER_PASSWORD"),
    )
    .await
    .unwrap();
    assert_eq!(reset_password(&mut connector, &alice, "Before#1").await, 50);

    // Samba's default domain root gives Unexpire Password to Authenticated Users, which the connector is:
    // the plan says so and would not add it; --explicit adds the connector's own ACE anyway.
    let out = wbw(&lab, &dir, &["plan", "--answers", answers]);
    assert!(
        text(&out).contains("Unexpire Password (This object only) via Authenticated Users"),
        "{}",
        text(&out)
    );
    let out = wbw(
        &lab,
        &dir,
        &["apply", "--answers", answers, "--yes", "--explicit"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    for dn in [&alice, &ivan, &carol, &dave] {
        assert_eq!(
            reset_password(&mut connector, dn, "Reset#1").await,
            0,
            "{dn}"
        );
    }
    assert_eq!(
        write_attr(&mut connector, &carol, "pwdLastSet", "0").await,
        0
    );
    assert_eq!(
        write_attr(&mut connector, &dave, "lockoutTime", "0").await,
        0
    );
    assert_eq!(
        reset_password(&mut connector, &eve, "Reset#1").await,
        50,
        "protected user"
    );
    assert_eq!(
        reset_password(&mut connector, &nina, "Reset#1").await,
        50,
        "below an OU with inheritance disabled"
    );

    // Unexpire Password is an explicit, this-object-only ACE on the root, as the server returns it.
    let root = read_sd(&mut admin, &base).await;
    let parsed = windows_sddl::parse(&root).unwrap();
    let unexpire = parsed.dacl.unwrap().aces.into_iter().filter(|a| {
        a.trustee.to_string() == lab.get("AD_CONNECTOR_SID")
            && a.object_type.map(|g| g.to_string()).as_deref()
                == Some("ccc2dc7d-a6ad-4a7a-8846-c04e3cc53501")
    });
    let unexpire: Vec<_> = unexpire.collect();
    assert_eq!(unexpire.len(), 1);
    assert_eq!((unexpire[0].flags, unexpire[0].mask.bits()), (0, 0x100));

    // With the tenant in the answers too: an alternative UPN suffix of the forest that the tenant has not
    // verified is named (the forest's own name is verified in the stand-in's tenant).
    let partitions = format!("CN=Partitions,CN=Configuration,{base}");
    assert_eq!(
        write_attr(&mut admin, &partitions, "uPNSuffixes", "unverified.example").await,
        0
    );
    let mut tenant = standin::Config::default();
    tenant.users.push(standin::User::new(
        "ga@contoso.onmicrosoft.com",
        "Cloud#Pw-1",
        &[standin::GLOBAL_ADMINISTRATOR],
    ));
    let standin = standin::StandIn::start(tenant, 0).await.unwrap();
    write_private(&dir.join("cloud-password"), "Cloud#Pw-1");
    let mut text_with_cloud = std::fs::read_to_string(answers).unwrap();
    text_with_cloud.push_str(&format!(
        "\n[cloud]\ntenant = \"contoso.onmicrosoft.com\"\nsign_in = \"password\"\nusername = \"ga@contoso.onmicrosoft.com\"\npassword = \"file:{}\"\nauthority_url = \"{url}\"\ngraph_url = \"{url}\"\n",
        dir.join("cloud-password").display(),
        url = standin.url
    ));
    std::fs::write(answers, text_with_cloud).unwrap();

    let out = wbw(&lab, &dir, &["check", "--answers", answers, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings: Vec<&str> = report["cloud"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("UPN suffix unverified.example"),
        "{warnings:?}"
    );
    let rights = &report["directories"][0]["targets"][0]["rights"];
    assert!(rights.as_array().unwrap().iter().any(|r| {
        r["right"]
            .as_str()
            .unwrap()
            .starts_with("Unexpire Password")
            && r["present"] == true
    }));
    let risks: Vec<(String, String)> = report["directories"][0]["risks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["dn"].as_str().unwrap().to_lowercase(),
            )
        })
        .collect();
    assert!(
        risks.contains(&("protected-account".into(), eve.to_lowercase())),
        "{risks:?}"
    );
    assert!(
        risks.contains(&(
            "inheritance-disabled".into(),
            format!("ou=noinherit,ou=corp,{}", base.to_lowercase())
        )),
        "{risks:?}"
    );

    let out = wbw(&lab, &dir, &["apply", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        read_sd(&mut admin, &base).await,
        root,
        "second apply wrote nothing"
    );

    let out = wbw(&lab, &dir, &["revert", "--answers", answers, "--yes"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(read_sd(&mut admin, &base).await, original_root);
    assert_eq!(reset_password(&mut connector, &carol, "Again#2").await, 50);
    let _ = std::fs::remove_dir_all(&dir);
}
