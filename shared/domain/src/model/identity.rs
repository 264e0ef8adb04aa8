//! Who is calling: the JWT claims `sub`, `role`, `shop_id`, already verified by the API Gateway
//! authorizer, turned into a typed actor. What each actor may do is decided in [`crate::access`].

use crate::error::{Error, Result};
use crate::model::ids::{ShopId, UserId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 买家
    Buyer,
    /// 客服
    Agent,
    /// 店铺管理员
    ShopAdmin,
    /// 平台运营
    Platform,
}

impl Role {
    pub fn parse(raw: &str) -> Result<Self> {
        match raw {
            "buyer" => Ok(Role::Buyer),
            "agent" => Ok(Role::Agent),
            "shop_admin" => Ok(Role::ShopAdmin),
            "platform" => Ok(Role::Platform),
            _ => Err(Error::Unauthenticated(
                "claim 'role' must be one of buyer, agent, shop_admin, platform".into(),
            )),
        }
    }
}

/// The caller. Agents and admins always carry their shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Buyer(UserId),
    Agent { user: UserId, shop: ShopId },
    ShopAdmin { user: UserId, shop: ShopId },
    Platform(UserId),
}

impl Actor {
    /// Builds the actor from raw claims, refusing incomplete ones.
    pub fn from_claims(
        sub: Option<&str>,
        role: Option<&str>,
        shop_id: Option<&str>,
    ) -> Result<Self> {
        let sub = sub.ok_or_else(|| Error::Unauthenticated("claim 'sub' is missing".into()))?;
        let user = UserId::parse(sub)
            .map_err(|_| Error::Unauthenticated(format!("claim 'sub' must be {}", UserId::RULE)))?;
        let role = Role::parse(
            role.ok_or_else(|| Error::Unauthenticated("claim 'role' is missing".into()))?,
        )?;
        let shop = || -> Result<ShopId> {
            let raw = shop_id.ok_or_else(|| {
                Error::Unauthenticated(
                    "claim 'shop_id' is required for agents and shop admins".into(),
                )
            })?;
            ShopId::parse(raw).map_err(|_| {
                Error::Unauthenticated(format!("claim 'shop_id' must be {}", ShopId::RULE))
            })
        };
        Ok(match role {
            Role::Buyer => Actor::Buyer(user),
            Role::Agent => Actor::Agent {
                user,
                shop: shop()?,
            },
            Role::ShopAdmin => Actor::ShopAdmin {
                user,
                shop: shop()?,
            },
            Role::Platform => Actor::Platform(user),
        })
    }

    pub fn user(&self) -> &UserId {
        match self {
            Actor::Buyer(u) | Actor::Platform(u) => u,
            Actor::Agent { user, .. } | Actor::ShopAdmin { user, .. } => user,
        }
    }

    pub fn role(&self) -> Role {
        match self {
            Actor::Buyer(_) => Role::Buyer,
            Actor::Agent { .. } => Role::Agent,
            Actor::ShopAdmin { .. } => Role::ShopAdmin,
            Actor::Platform(_) => Role::Platform,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_need_a_shop() {
        let err = Actor::from_claims(Some("a1"), Some("agent"), None).unwrap_err();
        assert_eq!(err.code(), "unauthenticated");
        let a = Actor::from_claims(Some("a1"), Some("agent"), Some("s1")).unwrap();
        assert_eq!(a.role(), Role::Agent);
    }

    #[test]
    fn unknown_role_or_missing_sub_is_refused() {
        assert!(Actor::from_claims(Some("a1"), Some("admin"), Some("s1")).is_err());
        assert!(Actor::from_claims(None, Some("buyer"), None).is_err());
    }
}
