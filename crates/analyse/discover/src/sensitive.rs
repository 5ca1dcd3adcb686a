//! Sensitive data in fields: by field name (passwords, secrets, national ids, dates of birth)
//! and by value (e-mail, phone, Luhn-checked payment cards, mod-97-checked IBANs, JWTs, IP
//! addresses, US SSNs). Only the kind and where it was seen are kept, never the value.

use crate::classify::{is_date, is_date_time, is_email, is_jwt};
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, Ipv6Addr};

/// A kind of sensitive data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensitiveKind {
    /// E-mail address.
    Email,
    /// Telephone number.
    Phone,
    /// Payment card number (Luhn-valid, known issuer prefix).
    PaymentCard,
    /// IBAN (mod-97 valid).
    Iban,
    /// National identifier (SSN, passport, tax id).
    NationalId,
    /// A password.
    Password,
    /// A secret, API key or token.
    Secret,
    /// A JSON Web Token.
    Jwt,
    /// An IP address.
    IpAddress,
    /// A date of birth.
    DateOfBirth,
}

impl SensitiveKind {
    /// Snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            SensitiveKind::Email => "email",
            SensitiveKind::Phone => "phone",
            SensitiveKind::PaymentCard => "payment_card",
            SensitiveKind::Iban => "iban",
            SensitiveKind::NationalId => "national_id",
            SensitiveKind::Password => "password",
            SensitiveKind::Secret => "secret",
            SensitiveKind::Jwt => "jwt",
            SensitiveKind::IpAddress => "ip_address",
            SensitiveKind::DateOfBirth => "date_of_birth",
        }
    }

    /// Credentials rather than personal data: worse when they leave in a response.
    pub fn is_credential(self) -> bool {
        matches!(
            self,
            SensitiveKind::Password | SensitiveKind::Secret | SensitiveKind::Jwt
        )
    }
}

/// Lower-cased field name without separators, at most 48 bytes (longer names are cut),
/// in a stack buffer: this runs for every field of every body.
struct Squashed {
    buf: [u8; 48],
    len: usize,
}

impl Squashed {
    fn new(name: &str) -> Squashed {
        let mut s = Squashed {
            buf: [0; 48],
            len: 0,
        };
        for c in name.bytes().filter(u8::is_ascii_alphanumeric).take(48) {
            if let Some(slot) = s.buf.get_mut(s.len) {
                *slot = c.to_ascii_lowercase();
                s.len += 1;
            }
        }
        s
    }

    fn as_str(&self) -> &str {
        // Only ASCII alphanumerics were copied in.
        std::str::from_utf8(self.buf.get(..self.len).unwrap_or_default()).unwrap_or_default()
    }
}

/// What a field holds, judging by its name and its value.
pub fn classify(name: &str, value: &str) -> Option<SensitiveKind> {
    let v = value.trim();
    if v.is_empty() || v.len() > 8192 {
        return None;
    }
    let squashed = Squashed::new(name);
    let n = squashed.as_str();
    if n.contains("password")
        || n.contains("passwd")
        || n == "pwd"
        || n == "pass"
        || n.ends_with("passphrase")
    {
        return Some(SensitiveKind::Password);
    }
    if n.contains("secret")
        || n.contains("apikey")
        || n.contains("privatekey")
        || n == "token"
        || n.ends_with("token")
        || n == "key" && v.len() >= 16
    {
        return Some(if is_jwt(v) {
            SensitiveKind::Jwt
        } else {
            SensitiveKind::Secret
        });
    }
    if n == "ssn"
        || n.contains("socialsecurity")
        || n.contains("nationalid")
        || n.contains("passport")
        || n == "taxid"
        || n == "nin"
    {
        return Some(SensitiveKind::NationalId);
    }
    if (n == "dob" || n.contains("birth")) && (is_date(v) || is_date_time(v) || v.len() <= 12) {
        return Some(SensitiveKind::DateOfBirth);
    }
    if (n.contains("phone") || n.contains("mobile") || n == "tel" || n == "fax")
        && phone_digits(v).is_some()
    {
        return Some(SensitiveKind::Phone);
    }
    classify_value(v)
}

/// What a value holds whatever its field is called.
pub fn classify_value(v: &str) -> Option<SensitiveKind> {
    let b = v.as_bytes();
    let first = *b.first()?;
    if first == b'e' && is_jwt(v) {
        return Some(SensitiveKind::Jwt);
    }
    if v.contains('@') {
        return is_email(v).then_some(SensitiveKind::Email);
    }
    if first.is_ascii_digit() {
        if is_card(b) {
            return Some(SensitiveKind::PaymentCard);
        }
        if is_ssn(b) {
            return Some(SensitiveKind::NationalId);
        }
        if v.contains('.') && v.parse::<Ipv4Addr>().is_ok() {
            return Some(SensitiveKind::IpAddress);
        }
    }
    if first == b'+' && phone_digits(v).is_some() {
        return Some(SensitiveKind::Phone);
    }
    if first.is_ascii_uppercase() && is_iban(b) {
        return Some(SensitiveKind::Iban);
    }
    if v.contains(':') && v.len() >= 7 && v.parse::<Ipv6Addr>().is_ok() {
        return Some(SensitiveKind::IpAddress);
    }
    None
}

/// A phone number's digits: 8 to 15 of them, only phone punctuation around.
fn phone_digits(v: &str) -> Option<usize> {
    let digits = v.bytes().filter(u8::is_ascii_digit).count();
    let ok = v
        .bytes()
        .all(|c| c.is_ascii_digit() || b"+-. ()".contains(&c));
    (ok && (8..=15).contains(&digits)).then_some(digits)
}

/// 13–19 digits (spaces or dashes allowed), a known issuer prefix, and a valid Luhn sum.
pub fn is_card(b: &[u8]) -> bool {
    if b.len() > 23
        || !b
            .iter()
            .all(|c| c.is_ascii_digit() || *c == b' ' || *c == b'-')
    {
        return false;
    }
    let digits: Vec<u8> = b
        .iter()
        .filter(|c| c.is_ascii_digit())
        .map(|c| c - b'0')
        .collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let prefix2 = digits
        .iter()
        .take(2)
        .fold(0u32, |a, d| a * 10 + u32::from(*d));
    let issuer = matches!(digits.first(), Some(4))
        || (51..=55).contains(&prefix2)
        || (22..=27).contains(&prefix2)
        || prefix2 == 34
        || prefix2 == 37
        || prefix2 == 65
        || prefix2 == 60
        || prefix2 == 35;
    issuer && luhn(&digits)
}

/// The Luhn check over decimal digits.
pub fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// `123-45-6789`.
fn is_ssn(b: &[u8]) -> bool {
    b.len() == 11
        && b.iter().enumerate().all(|(i, c)| {
            if i == 3 || i == 6 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// Country code, check digits, 11–30 alphanumerics, and the ISO 13616 mod-97 check.
pub fn is_iban(b: &[u8]) -> bool {
    let compact: Vec<u8> = b.iter().copied().filter(|c| *c != b' ').collect();
    if !(15..=34).contains(&compact.len()) {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let head_ok = head.iter().take(2).all(u8::is_ascii_uppercase)
        && head.iter().skip(2).all(u8::is_ascii_digit);
    if !head_ok
        || !tail
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return false;
    }
    let mut rem: u32 = 0;
    for &c in tail.iter().chain(head.iter()) {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(
            classify_value("4111 1111 1111 1111"),
            Some(SensitiveKind::PaymentCard)
        );
        assert_eq!(classify_value("4111111111111112"), None);
        assert_eq!(classify_value("1234567890123456"), None);
        assert_eq!(
            classify_value("GB82WEST12345698765432"),
            Some(SensitiveKind::Iban)
        );
        assert_eq!(classify_value("GB82WEST12345698765433"), None);
        assert_eq!(
            classify_value("bob@example.org"),
            Some(SensitiveKind::Email)
        );
        assert_eq!(
            classify_value("+44 20 7946 0958"),
            Some(SensitiveKind::Phone)
        );
        assert_eq!(
            classify_value("078-05-1120"),
            Some(SensitiveKind::NationalId)
        );
        assert_eq!(classify_value("10.1.2.3"), Some(SensitiveKind::IpAddress));
        assert_eq!(
            classify_value("2001:db8::1"),
            Some(SensitiveKind::IpAddress)
        );
        assert_eq!(
            classify_value("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"),
            Some(SensitiveKind::Jwt)
        );
        for benign in ["hello", "42", "", "@", "+", "2024-01-01", "A", "ZZ00"] {
            assert_eq!(classify_value(benign), None, "{benign}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(classify("new_password", "x"), Some(SensitiveKind::Password));
        assert_eq!(
            classify("client-secret", "abc"),
            Some(SensitiveKind::Secret)
        );
        assert_eq!(
            classify("refresh_token", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"),
            Some(SensitiveKind::Jwt)
        );
        assert_eq!(
            classify("dateOfBirth", "1990-04-01"),
            Some(SensitiveKind::DateOfBirth)
        );
        assert_eq!(classify("mobile", "0612345678"), Some(SensitiveKind::Phone));
        assert_eq!(classify("ssn", "x"), Some(SensitiveKind::NationalId));
        assert_eq!(classify("password", ""), None);
        assert_eq!(classify("name", "Alice"), None);
    }
}
