//! The Entra ID stand-in as a program, for the lab: `cargo run --example entra-standin [-- --port 8400]`.
//! One tenant (contoso.onmicrosoft.com), a Global Administrator admin@contoso.onmicrosoft.com whose password is
//! $STANDIN_ADMIN_PASSWORD (default Lab#Admin1), device codes approved as that admin after two polls.

mod server;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut port = 8400;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()).unwrap_or(port),
            _ => {
                eprintln!("usage: entra-standin [--port N]");
                std::process::exit(2);
            }
        }
    }
    let password = std::env::var("STANDIN_ADMIN_PASSWORD").unwrap_or_else(|_| "Lab#Admin1".into());
    let mut config = server::Config::default();
    config.users.push(server::User::new(
        "admin@contoso.onmicrosoft.com",
        &password,
        &[server::GLOBAL_ADMINISTRATOR],
    ));
    config.device = server::DeviceScript {
        interval: 1,
        expires_in: 900,
        pending_polls: 2,
        slow_down_on_poll: None,
        outcome: server::DeviceOutcome::ApproveAs("admin@contoso.onmicrosoft.com".into()),
    };
    let standin = server::StandIn::start(config, port).await?;
    eprintln!(
        "Entra ID stand-in on {} (tenant contoso.onmicrosoft.com); Ctrl-C stops it",
        standin.url
    );
    tokio::signal::ctrl_c().await
}
