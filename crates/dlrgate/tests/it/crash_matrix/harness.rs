//! The crash matrix's rig: one data directory, one webhook receiver subscribed once, and rounds
//! that each start `dlrgate serve`, put load on it, `kill -9` it at a chosen moment and keep
//! what it acknowledged and what the receiver got.

use std::path::Path;
use std::time::{Duration, Instant};

use dlrgate::smsc_sim::SimHandle;

use crate::helpers::binary::Server;
use crate::helpers::crash_load::{Acked, Load};
use crate::helpers::hooks::Api;
use crate::helpers::receiver::{Received, Reply, WebhookReceiver};

/// The receiver listens on loopback, which hooks may target only when allowed.
const LOOPBACK_HOOKS: (&str, &str) = ("DLRGATE_WEBHOOK_ALLOW_CIDRS", "127.0.0.0/8");

/// When a round kills the server.
#[derive(Debug, Clone, Copy)]
pub enum KillPoint {
    /// This long after it listens (zero: while it recovers what the last process left).
    Elapsed(u64),
    /// Once this many messages of the round are acknowledged (while requests are accepted).
    Acks(usize),
    /// Once this many more webhooks arrived (while deliveries are in flight).
    Webhooks(usize),
    /// Once the SMSC simulator wrote this many more receipts (while receipts are persisted).
    Receipts(u64),
}

pub struct Rig<'a> {
    pub data: &'a Path,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub api_key: String,
    pub receiver: WebhookReceiver,
    pub sim: Option<&'a SimHandle>,
    /// Every message acknowledged in any round.
    pub acked: Vec<Acked>,
    /// Every webhook received so far, across rounds.
    pub got: Vec<Received>,
    /// Rounds whose kill came while requests were still being answered.
    pub kills_under_load: usize,
}

impl<'a> Rig<'a> {
    /// Starts the first server (which creates the account), subscribes the receiver, which
    /// answers each webhook after 20 ms so that deliveries are in flight at the kills.
    pub async fn start(data: &'a Path, args: Vec<String>, sim: Option<&'a SimHandle>) -> Rig<'a> {
        let receiver = WebhookReceiver::start().await;
        receiver.set_default(Reply {
            delay: Duration::from_millis(20),
            ..Reply::status(200)
        });
        let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut server = Server::start_with_args(data, &[LOOPBACK_HOOKS], &arg_refs);
        let api_key = server.api_key.clone().expect("first start prints a key");
        Api::new(&server.base, &api_key)
            .subscribe(&receiver.url)
            .await;
        server.kill9();
        Rig {
            data,
            args,
            env: vec![
                ("DLRGATE_SANDBOX_SPEED".into(), "20".into()),
                (LOOPBACK_HOOKS.0.into(), LOOPBACK_HOOKS.1.into()),
            ],
            api_key,
            receiver,
            sim,
            acked: Vec::new(),
            got: Vec::new(),
            kills_under_load: 0,
        }
    }

    pub fn server(&self, extra_env: &[(&str, &str)]) -> Server {
        let mut env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        env.extend_from_slice(extra_env);
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        Server::start_with_args(self.data, &env, &args)
    }

    /// One round: start, load, kill -9 at `point`; returns what it saw at the kill.
    pub async fn round(&mut self, round: usize, point: KillPoint) -> String {
        let mut server = self.server(&[]);
        let load = Load::start_round(&server.base, &self.api_key, round % 100);
        let webhooks_before = self.got.len();
        let receipts_before = self.receipts();
        let started = Instant::now();
        let deadline = started + Duration::from_secs(60);
        loop {
            self.got.extend(self.receiver.drain());
            let reached = match point {
                KillPoint::Elapsed(ms) => started.elapsed() >= Duration::from_millis(ms),
                KillPoint::Acks(n) => load.acks() >= n,
                KillPoint::Webhooks(n) => self.got.len() >= webhooks_before + n,
                KillPoint::Receipts(n) => self.receipts() >= receipts_before + n,
            };
            if reached {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: {point:?} not reached in 60 s"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let still_loading = load.running();
        server.kill9();
        let acked = load.finish().await;
        self.kills_under_load += usize::from(still_loading);
        let seen = format!(
            "round {round}: kill at {point:?} after {:?}: {} acks, {} webhooks, {} receipts",
            started.elapsed(),
            acked.len(),
            self.got.len() - webhooks_before,
            self.receipts() - receipts_before
        );
        self.acked.extend(acked);
        seen
    }

    fn receipts(&self) -> u64 {
        self.sim.map_or(0, |sim| sim.stats().receipts_sent)
    }
}
