//! Money is integer fen (分). 100 fen = 1 yuan.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Fen(pub i64);

impl Fen {
    /// The overdue-shipment coupon: 3 yuan.
    pub const OVERDUE_COUPON: Fen = Fen(300);

    /// Written as a Chinese reader expects: "3元", "12.50元", "-0.30元".
    pub fn yuan_text(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let (yuan, fen) = (abs / 100, abs % 100);
        if fen == 0 {
            format!("{sign}{yuan}元")
        } else {
            format!("{sign}{yuan}.{fen:02}元")
        }
    }
}

impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.yuan_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_text_is_exact() {
        assert_eq!(Fen::OVERDUE_COUPON.yuan_text(), "3元");
        assert_eq!(Fen(1250).yuan_text(), "12.50元");
        assert_eq!(Fen(5).yuan_text(), "0.05元");
        assert_eq!(Fen(-30).yuan_text(), "-0.30元");
    }
}
