//! Builders: a shop and orders in every node, at one fixed instant [`T0`], for tests on either
//! store.

use assistant_domain::model::conversation::Shop;
use assistant_domain::model::ids::{OrderId, ShopId, UserId};
use assistant_domain::model::money::Fen;
use assistant_domain::model::order::Order;
use assistant_domain::model::shop::{Agent, ServingRule};
use assistant_domain::ports::ShopStore;

/// [`T0`], [`SHOP`], [`BUYER`], `order(id)` (unpaid at `T0`) and `order_in(id, node)` (in `node`
/// at `T0`, with every fact that node usually has): the domain's own test orders, checked there
/// (`every_node_is_reachable`).
pub use assistant_domain::model::order::fixtures::{order, order_in, BUYER, SHOP, T0};
pub const AGENT: &str = "agent1";

pub fn shop_id(id: &str) -> ShopId {
    ShopId::parse(id).expect("a valid shop id")
}

pub fn user_id(id: &str) -> UserId {
    UserId::parse(id).expect("a valid user id")
}

pub fn order_id(id: &str) -> OrderId {
    OrderId::parse(id).expect("a valid order id")
}

/// A shop with one agent and the robot off ([`seed_shop`] stores it with [`DEPOSIT`]).
pub fn shop(id: &str) -> Shop {
    Shop {
        shop_id: shop_id(id),
        name: "小美家纺".into(),
        agents: vec![Agent::new(user_id(AGENT), None)],
        serving_rule: ServingRule::ByBuyer,
        robot_on: false,
    }
}

/// The deposit a seeded test shop starts with: 100 yuan.
pub const DEPOSIT: Fen = Fen(10_000);

/// Stores a shop as onboarded, with a deposit of [`DEPOSIT`].
pub async fn seed_shop<S: ShopStore>(store: &S, shop: &Shop) {
    seed_shop_with(store, shop, DEPOSIT).await
}

/// Stores a shop as onboarded, with this deposit.
pub async fn seed_shop_with<S: ShopStore>(store: &S, shop: &Shop, deposit: Fen) {
    store.put_shop(shop).await.expect("the shop is stored");
    store
        .put_deposit(&shop.shop_id, deposit)
        .await
        .expect("its deposit is stored");
}

/// The same order for another buyer or shop.
pub fn owned_by(mut order: Order, shop: &str, buyer: &str) -> Order {
    order.shop_id = shop_id(shop);
    order.buyer_id = user_id(buyer);
    order
}
