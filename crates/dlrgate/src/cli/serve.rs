//! `dlrgate serve`: builds the application, prints where it listens, and runs it until SIGINT or
//! SIGTERM.

use tokio_util::sync::CancellationToken;

use crate::app::Application;
use crate::config::Settings;

pub(super) async fn serve(settings: Settings) -> anyhow::Result<()> {
    crate::telemetry::init(&settings.log);
    let app = Application::build(settings).await?;
    if let Some(credentials) = &app.bootstrap {
        println!(
            "Created the default account (id {}). Keep these; they are shown only once:",
            credentials.account_id
        );
        println!("  api_key:        {}", credentials.api_key);
        println!("  signing_secret: {}", credentials.signing_secret);
    }
    println!("dlrgate listening on http://{}", app.local_addr());
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    app.run_until_stopped(shutdown).await
}

async fn stop_on_signal(shutdown: CancellationToken) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    tracing::info!("shutdown requested; finishing in-flight work");
    shutdown.cancel();
}
