//! The route registry: every HTTP route of the API declared once, with the function that serves
//! it and the roles that may call it at all.
//!
//! A handler asks the registry which of its own routes an event is for and matches on that
//! function's route enum without a catch-all arm, so the compiler proves that it serves every route
//! the registry gives it. An event for a route the function does not serve means API Gateway (or
//! the template) sends it to the wrong function: a fault, logged and answered 500.
//!
//! The roles are what the route is open to at all; which caller may see which shop or
//! conversation, and whether a refusal is a 403 or a 404, stays with the domain's access policy
//! (`assistant_domain::access`), and a test below proves the two agree. The integration tests
//! prove that template.yaml, openapi.yaml, this registry and the handlers agree.

use assistant_domain::error::Error;
use assistant_domain::model::identity::Role;
use aws_lambda_events::apigw::ApiGatewayV2httpRequest;

/// One route: its key as API Gateway writes it (`METHOD /path/{param}`), the function that serves
/// it and the roles it is open to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteSpec {
    pub route: Route,
    pub key: &'static str,
    pub function: Function,
    pub roles: &'static [Role],
}

/// The routes of one function, as its handler matches on them.
pub trait Served: Sized + Copy + 'static {
    /// The function whose handler matches on this enum.
    const FUNCTION: Function;
    /// Every route of the function.
    const ALL: &'static [Self];
    /// The registry's route.
    fn route(self) -> Route;
}

macro_rules! registry {
    ($(
        $(#[$fdoc:meta])*
        $function:ident ($binary:literal) => $served:ident {
            $( $route:ident: $key:literal, [$($role:ident),+ $(,)?]; )+
        }
    )+) => {
        /// The Lambda functions that serve HTTP routes (the compensation sweep serves none).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Function { $( $(#[$fdoc])* $function, )+ }

        impl Function {
            pub const ALL: &'static [Function] = &[$(Function::$function),+];

            /// The crate under `functions/` and the template's `BuildProperties.Binary`.
            pub fn binary(self) -> &'static str {
                match self { $(Function::$function => $binary,)+ }
            }
        }

        /// Every HTTP route of the API.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Route { $($( $route, )+)+ }

        /// The registry, in declaration order.
        pub const ROUTES: &[RouteSpec] = &[$($(
            RouteSpec {
                route: Route::$route,
                key: $key,
                function: Function::$function,
                roles: &[$(Role::$role),+],
            },
        )+)+];

        $(
            #[doc = concat!("The routes `", $binary, "` serves.")]
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
            pub enum $served { $( $route, )+ }

            impl Served for $served {
                const FUNCTION: Function = Function::$function;
                const ALL: &'static [Self] = &[$($served::$route),+];
                fn route(self) -> Route {
                    match self { $($served::$route => Route::$route,)+ }
                }
            }
        )+
    };
}

registry! {
    /// Message intake and intent; the robot rating; the agents' queue.
    Intake("intake") => IntakeRoute {
        OpenConversation: "POST /conversations", [Buyer];
        PostMessage: "POST /conversations/{conversation_id}/messages", [Buyer, Agent, ShopAdmin];
        ListMessages: "GET /conversations/{conversation_id}/messages", [Buyer, Agent, ShopAdmin];
        RateRobot: "POST /conversations/{conversation_id}/robot-rating", [Buyer];
        Queue: "GET /shops/{shop_id}/queue", [Agent, ShopAdmin];
    }
    /// The order prediction card (订单预测卡片).
    OrderCard("order-card") => OrderCardRoute {
        GetCard: "GET /conversations/{conversation_id}/prediction-card", [Buyer, Agent, ShopAdmin];
        SelectOrder: "POST /conversations/{conversation_id}/order-selection", [Buyer];
    }
    /// The agent's panel (智能助手提示) and the adoption figures.
    Suggest("suggest") => SuggestRoute {
        GetPanel: "GET /conversations/{conversation_id}/panel", [Agent, ShopAdmin];
        UseSolution: "POST /conversations/{conversation_id}/panel/events", [Agent, ShopAdmin];
        ShopAdoption: "GET /shops/{shop_id}/adoption", [ShopAdmin, Platform];
        AllAdoption: "GET /adoption", [Platform];
    }
    /// Reply editing (编辑回复) and the shop's robot (飞鸽机器人).
    Replies("replies") => RepliesRoute {
        GetReplies: "GET /shops/{shop_id}/replies/{intent}", [Agent, ShopAdmin, Platform];
        PutReplies: "PUT /shops/{shop_id}/replies/{intent}", [ShopAdmin];
        GetRobot: "GET /shops/{shop_id}/robot", [Agent, ShopAdmin, Platform];
        PutRobot: "PUT /shops/{shop_id}/robot", [ShopAdmin];
    }
    /// Feedback (我要反馈) with screenshots.
    Feedback("feedback") => FeedbackRoute {
        PostFeedback: "POST /feedback", [Agent, ShopAdmin];
        ListFeedback: "GET /feedback", [ShopAdmin, Platform];
        GetScreenshot: "GET /feedback/{feedback_id}/screenshots/{index}", [ShopAdmin, Platform];
    }
    /// The platform's side of a shop: onboarding, deposit top-ups, the deposit ledger.
    Shops("shops") => ShopsRoute {
        PutShop: "PUT /shops/{shop_id}", [Platform];
        TopUp: "POST /shops/{shop_id}/deposit", [Platform];
        Ledger: "GET /shops/{shop_id}/ledger", [ShopAdmin, Platform];
    }
    /// Push (issue 17): the ticket that opens a WebSocket connection; the WebSocket API's own
    /// routes are in [`crate::websocket`].
    Push("push") => PushRoute {
        MintTicket: "POST /push/tickets", [Buyer, Agent, ShopAdmin];
    }
}

impl Route {
    /// Every route, in the registry's order.
    pub fn all() -> impl Iterator<Item = Route> {
        ROUTES.iter().map(|r| r.route)
    }

    /// The route of an API Gateway route key (`"GET /feedback"`), if the API has it.
    pub fn from_key(key: &str) -> Option<Route> {
        ROUTES.iter().find(|r| r.key == key).map(|r| r.route)
    }

    pub fn spec(self) -> &'static RouteSpec {
        ROUTES
            .iter()
            .find(|r| r.route == self)
            .expect("the registry declares every route it names")
    }

    /// `METHOD /path/{param}`, as API Gateway writes it.
    pub fn key(self) -> &'static str {
        self.spec().key
    }

    pub fn method(self) -> &'static str {
        self.key().split_once(' ').map_or("", |(m, _)| m)
    }

    pub fn path(self) -> &'static str {
        self.key().split_once(' ').map_or("", |(_, p)| p)
    }

    pub fn function(self) -> Function {
        self.spec().function
    }

    /// The roles the route is open to at all.
    pub fn roles(self) -> &'static [Role] {
        self.spec().roles
    }
}

impl Function {
    /// The routes this function serves, in the registry's order.
    pub fn routes(self) -> impl Iterator<Item = Route> {
        ROUTES
            .iter()
            .filter(move |r| r.function == self)
            .map(|r| r.route)
    }
}

/// A route sent to a function that does not serve it: the gateway or the template is wrong.
#[derive(Debug, thiserror::Error)]
#[error("route '{key}' is not served by the {function} function")]
pub struct UnservedRoute {
    pub key: String,
    pub function: &'static str,
}

/// The route key of an event (`routeKey`, or the request context's).
pub fn route_key(event: &ApiGatewayV2httpRequest) -> &str {
    event
        .route_key
        .as_deref()
        .or(event.request_context.route_key.as_deref())
        .unwrap_or_default()
}

/// Which of its routes the function `R` is asked for. Any other route, or one the API does not
/// have, is an internal error: `error_response` logs it and answers 500.
pub fn served<R: Served>(event: &ApiGatewayV2httpRequest) -> Result<R, Error> {
    let key = route_key(event);
    Route::from_key(key)
        .and_then(|route| R::ALL.iter().copied().find(|r| r.route() == route))
        .ok_or_else(|| {
            Error::Internal(Box::new(UnservedRoute {
                key: key.to_string(),
                function: R::FUNCTION.binary(),
            }))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{error_response, local_event, response_json};
    use assistant_domain::access;
    use assistant_domain::intent::IntentId;
    use assistant_domain::model::conversation::{Conversation, Shop};
    use assistant_domain::model::feedback::Feedback;
    use assistant_domain::model::identity::Actor;
    use assistant_domain::model::ids::{ConversationId, ShopId, UserId};
    use std::collections::HashSet;

    /// What `f` logs, and what it returns.
    fn logged<T>(f: impl FnOnce() -> T) -> (String, T) {
        #[derive(Clone, Default)]
        struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Buffer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let out = tracing::subscriber::with_default(subscriber, f);
        let text = String::from_utf8_lossy(&buffer.0.lock().unwrap()).into_owned();
        (text, out)
    }

    fn each_served<R: Served>() -> Vec<Route> {
        R::ALL.iter().map(|r| r.route()).collect()
    }

    #[test]
    fn every_route_is_declared_once_with_its_function() {
        let keys: HashSet<_> = ROUTES.iter().map(|r| r.key).collect();
        assert_eq!(keys.len(), ROUTES.len(), "a route key declared twice");
        let routes: HashSet<_> = Route::all().collect();
        assert_eq!(routes.len(), ROUTES.len());
        for spec in ROUTES {
            assert_eq!(Route::from_key(spec.key), Some(spec.route));
            assert_eq!(
                format!("{} {}", spec.route.method(), spec.route.path()),
                spec.key
            );
            assert!(
                ["GET", "POST", "PUT", "DELETE", "PATCH"].contains(&spec.route.method()),
                "{}",
                spec.key
            );
            assert!(spec.route.path().starts_with('/'), "{}", spec.key);
            assert!(!spec.roles.is_empty(), "{}", spec.key);
        }
        // Each function's enum is exactly its part of the registry.
        let by_enum = [
            (Function::Intake, each_served::<IntakeRoute>()),
            (Function::OrderCard, each_served::<OrderCardRoute>()),
            (Function::Suggest, each_served::<SuggestRoute>()),
            (Function::Replies, each_served::<RepliesRoute>()),
            (Function::Feedback, each_served::<FeedbackRoute>()),
            (Function::Shops, each_served::<ShopsRoute>()),
            (Function::Push, each_served::<PushRoute>()),
        ];
        assert_eq!(by_enum.len(), Function::ALL.len());
        for (function, routes) in by_enum {
            assert_eq!(
                routes,
                function.routes().collect::<Vec<_>>(),
                "{function:?}"
            );
        }
    }

    /// What the domain's access policy says of `actor` on `route`: the checks the route's use case
    /// makes, for a caller reaching for their own shop's (or their own) conversation and feedback.
    fn access_of(route: Route, actor: &Actor) -> Result<(), Error> {
        let shop = ShopId::parse("shop-1").unwrap();
        let buyer = UserId::parse("buyer-1").unwrap();
        let id = ConversationId::parse("conv-1").unwrap();
        let the_shop = Shop {
            shop_id: shop.clone(),
            name: "店铺".into(),
            agents: vec![],
            serving_rule: Default::default(),
            robot_on: true,
        };
        let conversation = Some(Conversation::open(&id, &the_shop, &buyer, 0));
        let feedback = Some(Feedback {
            feedback_id: "fb-1".into(),
            shop_id: shop.clone(),
            author: UserId::parse("agent-1").unwrap(),
            intent: IntentId::Other,
            solution_id: None,
            conversation_id: None,
            description: "说明".into(),
            created_at: 0,
            screenshots: vec![],
        });
        let seen = || access::conversation(actor, conversation.clone()).map(drop);
        match route {
            Route::PostMessage => match actor {
                Actor::Buyer(_) => access::buyer(actor)
                    .and_then(|b| access::buyers_conversation(b, Some(&shop), conversation.clone()))
                    .map(drop),
                _ => access::staff_writing(actor, Some(&shop)).and_then(|_| seen()),
            },
            Route::OpenConversation => access::buyer(actor).map(drop),
            Route::ListMessages | Route::GetCard => seen(),
            Route::RateRobot | Route::SelectOrder => access::buyer(actor).and_then(|_| seen()),
            Route::Queue => access::queue(actor, &shop),
            Route::GetPanel | Route::UseSolution => access::staff(actor).and_then(|_| seen()),
            Route::ShopAdoption => access::adoption_scope(actor, Some(&shop)).map(drop),
            Route::AllAdoption => access::adoption_scope(actor, None).map(drop),
            Route::GetReplies | Route::GetRobot => access::read_shop_settings(actor, &shop),
            Route::PutReplies | Route::PutRobot => {
                access::edit_shop_settings(actor, &shop).map(drop)
            }
            Route::PostFeedback => access::staff(actor).map(drop),
            Route::ListFeedback => access::feedback_scope(actor, None).map(drop),
            Route::GetScreenshot => access::feedback_record(actor, feedback).map(drop),
            Route::PutShop | Route::TopUp => access::manage_shops(actor).map(drop),
            Route::Ledger => access::ledger(actor, &shop),
            Route::MintTicket => access::push_ticket(actor),
        }
    }

    /// The registry's roles are the access policy's: on every route, a caller of a listed role
    /// reaching their own data is let in, and every other role is refused with a 403 or a 404.
    #[test]
    fn the_roles_of_every_route_are_the_access_policys() {
        let actors = [
            (Role::Buyer, ("buyer-1", "buyer", None)),
            (Role::Agent, ("agent-1", "agent", Some("shop-1"))),
            (Role::ShopAdmin, ("admin-1", "shop_admin", Some("shop-1"))),
            (Role::Platform, ("ops-1", "platform", None)),
        ];
        for spec in ROUTES {
            for (role, (sub, claim, shop)) in actors {
                let actor = Actor::from_claims(Some(sub), Some(claim), shop).unwrap();
                let decided = access_of(spec.route, &actor);
                if spec.roles.contains(&role) {
                    assert!(decided.is_ok(), "{} {role:?}: {decided:?}", spec.key);
                } else {
                    let status = decided.map_or_else(|e| crate::http::status_of(&e), |_| 200);
                    assert!(
                        status == 403 || status == 404,
                        "{} is not open to {role:?}, but the access policy says {status}",
                        spec.key
                    );
                }
            }
        }
    }

    #[test]
    fn a_function_takes_its_own_routes_only() {
        for spec in ROUTES {
            let event = local_event(spec.key, &[], &[], None);
            let mine = served::<SuggestRoute>(&event);
            if spec.function == Function::Suggest {
                assert_eq!(mine.unwrap().route(), spec.route);
            } else {
                let err = mine.unwrap_err();
                assert!(matches!(err, Error::Internal(_)), "{}: {err}", spec.key);
            }
        }
    }

    #[test]
    fn an_unserved_route_is_a_500_that_says_nothing_of_the_cause() {
        let event = local_event("GET /conversations/{conversation_id}/panel", &[], &[], None);
        let err = served::<IntakeRoute>(&event).unwrap_err();
        let source = std::error::Error::source(&err).expect("the cause, for the log");
        assert_eq!(
            source.to_string(),
            "route 'GET /conversations/{conversation_id}/panel' is not served by the intake function"
        );
        let resp = logged(|| error_response(&err));
        assert_eq!(resp.1.status_code, 500);
        assert!(resp.0.contains("ERROR"), "{}", resp.0);
        for named in [
            "GET /conversations/{conversation_id}/panel",
            "\"intake\"",
            "status=500",
        ] {
            assert!(resp.0.contains(named), "the log says {named}: {}", resp.0);
        }
        let resp = resp.1;
        let body = response_json(&resp);
        assert_eq!(body["error"]["code"], "internal");
        assert!(!body.to_string().contains("panel"), "{body}");
        // A key the API does not have at all is the same fault.
        let event = local_event("DELETE /nowhere", &[], &[], None);
        assert!(matches!(
            served::<FeedbackRoute>(&event),
            Err(Error::Internal(_))
        ));
    }
}
