//! The platform's side of a shop: onboarding it (name, agents, serving rule), topping up its
//! deposit (保证金) once per `Idempotency-Key`, and its ledger for the platform and the shop's
//! admin.

use crate::access;
use crate::error::{Error, Result};
use crate::model::conversation::Shop;
use crate::model::identity::Actor;
use crate::model::ids::ShopId;
use crate::model::ledger::{Deposit, IdempotencyKey, LedgerEntry, TopUpOutcome};
use crate::model::money::Fen;
use crate::model::shop::{PutShop, ServingRule, ShopProfile};
use crate::model::time::Millis;
use crate::ports::{Page, PlatformStore, ShopStore};
use serde::Serialize;

/// A shop as the platform sees it after onboarding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShopView {
    pub shop_id: ShopId,
    pub name: String,
    /// Each agent with the name buyers see (the shop's own, or "{店名}客服").
    pub agents: Vec<AgentView>,
    pub serving_rule: ServingRule,
    pub robot_on: bool,
    pub deposit: Fen,
    pub in_arrears: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentView {
    pub agent_id: crate::model::ids::UserId,
    pub display_name: String,
}

impl ShopView {
    pub fn of(shop: &Shop, deposit: Fen) -> Self {
        ShopView {
            shop_id: shop.shop_id.clone(),
            name: shop.name.clone(),
            agents: shop
                .agents
                .iter()
                .map(|a| AgentView {
                    agent_id: a.agent_id.clone(),
                    display_name: shop.agent_display_name(&a.agent_id),
                })
                .collect(),
            serving_rule: shop.serving_rule.clone(),
            robot_on: shop.robot_on,
            deposit,
            in_arrears: deposit.0 < 0,
        }
    }
}

/// What onboarding did: the shop, and whether it is new (201) or was changed (200).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Onboarded {
    pub shop: ShopView,
    pub created: bool,
}

/// `PUT /shops/{shop_id}`: the platform creates the shop or sets its name, agents and serving
/// rule. The deposit and the robot switch are never touched here.
pub async fn onboard_shop<S: PlatformStore>(
    store: &S,
    actor: &Actor,
    shop_id: &ShopId,
    input: PutShop,
) -> Result<Onboarded> {
    access::manage_shops(actor)?;
    let profile = ShopProfile::parse(shop_id.clone(), input)?;
    let done = store.onboard_shop(&profile).await?;
    Ok(Onboarded {
        shop: ShopView::of(&done.shop, done.deposit),
        created: done.created,
    })
}

/// What a top-up request got: the ledger entry, and whether this request made it (201) or an
/// earlier one with the same key did (200, the same entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopUpResult {
    pub entry: LedgerEntry,
    pub replayed: bool,
}

/// How often a top-up is tried again after the deposit moved under it (a payout at the same
/// moment) or a transaction conflict.
pub const TOP_UP_ATTEMPTS: u32 = 8;

/// `POST /shops/{shop_id}/deposit` with an `Idempotency-Key`: one ledger entry however often it
/// is sent; the same key with another amount is a 409.
pub async fn top_up<S: PlatformStore + ShopStore>(
    store: &S,
    actor: &Actor,
    shop_id: &ShopId,
    key: Option<&str>,
    input: Deposit,
    now: Millis,
) -> Result<TopUpResult> {
    let by = access::manage_shops(actor)?;
    let key = IdempotencyKey::parse(key)?;
    let amount = input.amount()?;
    let mut last = None;
    for _ in 0..TOP_UP_ATTEMPTS {
        let (earlier, deposit) = futures_util::future::join(
            store.top_up_with_key(shop_id, &key),
            store.deposit(shop_id),
        )
        .await;
        if let Some(entry) = earlier? {
            return replay(entry, amount);
        }
        let deposit = deposit?.ok_or(Error::NotFound("shop"))?;
        let entry = LedgerEntry::top_up(shop_id, &key, amount, deposit, by, now);
        match store.top_up(&entry, deposit).await {
            Ok(TopUpOutcome::Applied) => {
                return Ok(TopUpResult {
                    entry,
                    replayed: false,
                })
            }
            // Another request with this key won, or a payout moved the deposit: read again.
            Ok(TopUpOutcome::KeyUsed | TopUpOutcome::DepositMoved) => {}
            Err(err @ Error::Unavailable(_)) => last = Some(err),
            Err(err) => return Err(err),
        }
    }
    Err(last.unwrap_or_else(|| {
        Error::Conflict("the deposit kept changing; retry with the same Idempotency-Key".into())
    }))
}

/// The answer to a key already used: the same entry for the same amount, else a 409.
fn replay(entry: LedgerEntry, amount: Fen) -> Result<TopUpResult> {
    if entry.delta != amount {
        return Err(Error::Conflict(format!(
            "Idempotency-Key {} was used for a top-up of {} fen, not {} fen",
            entry.idempotency_key.as_ref().map_or("", |k| k.as_str()),
            entry.delta.0,
            amount.0
        )));
    }
    Ok(TopUpResult {
        entry,
        replayed: true,
    })
}

/// The ledger's page size: 1–50, 20 unless asked.
pub const DEFAULT_LEDGER_PAGE: usize = 20;
pub const MAX_LEDGER_PAGE: usize = 50;

/// `GET /shops/{shop_id}/ledger?limit=&cursor=`: top-ups and payouts, newest first.
pub async fn ledger<S: PlatformStore + ShopStore>(
    store: &S,
    actor: &Actor,
    shop_id: &ShopId,
    limit: Option<&str>,
    cursor: Option<String>,
) -> Result<Page<LedgerEntry>> {
    access::ledger(actor, shop_id)?;
    let limit = match limit {
        None | Some("") => DEFAULT_LEDGER_PAGE,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_LEDGER_PAGE).contains(&n) => n,
            _ => {
                return Err(Error::invalid(
                    "limit",
                    format!("must be a whole number from 1 to {MAX_LEDGER_PAGE}"),
                ))
            }
        },
    };
    // Independent reads, sent together: the shop (a missing one is a 404) and the page.
    let (shop, page) = futures_util::future::join(
        store.shop(shop_id),
        store.ledger_page(shop_id, limit, cursor),
    )
    .await;
    if shop?.is_none() {
        return Err(Error::NotFound("shop"));
    }
    page
}
