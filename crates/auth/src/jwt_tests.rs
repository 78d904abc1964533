//! Tests of token verification with real RSA and P-256 keys.

use ring::hmac;
use serde_json::json;

use super::*;
use crate::test_keys::{AUDIENCE, ISSUER, TestKey, b64, claims, jwks};

const NOW: i64 = 1_800_000_000;

struct Fixture {
    rsa: TestKey,
    ec: TestKey,
    keys: KeySet,
    validation: Validation,
}

fn fixture() -> Fixture {
    let rsa = TestKey::rsa_a("rsa-1");
    let ec = TestKey::ec("ec-1");
    let keys = KeySet::from_json(jwks(&[&rsa, &ec]).as_bytes()).expect("key set");
    Fixture { rsa, ec, keys, validation: Validation::new(ISSUER, AUDIENCE) }
}

impl Fixture {
    fn check(&self, token: &str) -> Result<Claims, Error> {
        verify_at(token, &self.keys, &self.validation, NOW)
    }
}

/// Claims at [`NOW`] with `changes` merged in (`null` removes a claim).
fn claims_with(changes: Value) -> Value {
    let mut claims = claims(NOW);
    if let (Some(claims), Value::Object(changes)) = (claims.as_object_mut(), changes) {
        for (name, value) in changes {
            if value.is_null() {
                claims.remove(&name);
            } else {
                claims.insert(name, value);
            }
        }
    }
    claims
}

#[test]
fn valid_rs256_and_es256_tokens_verify_and_yield_the_caller() {
    let f = fixture();
    for key in [&f.rsa, &f.ec] {
        let claims = f.check(&key.token(&claims(NOW))).unwrap_or_else(|e| panic!("{}: {e}", key.alg()));
        assert_eq!(claims.sub, "staff-17");
        assert_eq!(claims.tenant, "acme");
        assert_eq!(claims.roles, ["agent", "supervisor"]);
        assert_eq!(claims.team.as_deref(), Some("billing"));
        assert_eq!(claims.exp, NOW + 300);
        assert_eq!(claims.raw.get("iss").and_then(Value::as_str), Some(ISSUER));
    }
}

#[test]
fn claim_names_and_shapes_are_flexible_where_documented() {
    let mut f = fixture();
    f.validation.tenant_claim = "https://redress.dev/tenant".into();
    f.validation.roles_claim = "scope".into();
    let token = f.rsa.token(&claims_with(json!({
        "https://redress.dev/tenant": "globex",
        "scope": "admin  bi_reader,integration",
        "aud": ["other", AUDIENCE],
        "team": null,
        "exp": (NOW + 60) as f64 + 0.5,
    })));
    let claims = f.check(&token).expect("verifies");
    assert_eq!(claims.tenant, "globex");
    assert_eq!(claims.roles, ["admin", "bi_reader", "integration"]);
    assert_eq!(claims.team, None);
    assert_eq!(claims.exp, NOW + 60);

    let no_roles = f.rsa.token(&claims_with(json!({"https://redress.dev/tenant": "globex", "scope": null})));
    assert_eq!(f.check(&no_roles).expect("roles are optional").roles, Vec::<String>::new());
}

#[test]
fn time_claims_are_checked_with_the_leeway() {
    let f = fixture();
    let check = |changes| f.check(&f.ec.token(&claims_with(changes)));
    assert_eq!(check(json!({"exp": NOW - 120})), Err(Error::Expired));
    assert_eq!(check(json!({"exp": NOW - 60})), Err(Error::Expired), "the leeway's edge is exclusive");
    assert!(check(json!({"exp": NOW - 30})).is_ok(), "expiry within the skew allowance is accepted");
    assert_eq!(check(json!({"nbf": NOW + 120})), Err(Error::NotYetValid));
    assert!(check(json!({"nbf": NOW + 30})).is_ok(), "nbf within the skew allowance is accepted");
    assert_eq!(check(json!({"iat": NOW + 120})), Err(Error::IssuedInFuture));
    assert_eq!(check(json!({"exp": null})), Err(Error::MissingClaim("exp".into())), "exp is required");
    assert_eq!(check(json!({"exp": "tomorrow"})), Err(Error::InvalidClaim("exp".into())));
    assert!(check(json!({"nbf": null, "iat": null})).is_ok(), "nbf and iat are optional");

    let mut strict = fixture();
    strict.validation.leeway = Duration::ZERO;
    let token = strict.rsa.token(&claims_with(json!({"exp": NOW - 1})));
    assert_eq!(strict.check(&token), Err(Error::Expired));
}

#[test]
fn issuer_audience_and_caller_claims_are_required() {
    let f = fixture();
    let check = |changes| f.check(&f.rsa.token(&claims_with(changes)));
    assert_eq!(check(json!({"iss": "https://evil.test"})), Err(Error::WrongIssuer));
    assert_eq!(check(json!({"iss": null})), Err(Error::MissingClaim("iss".into())));
    assert_eq!(check(json!({"aud": "someone-else"})), Err(Error::WrongAudience));
    assert_eq!(check(json!({"aud": ["a", "b"]})), Err(Error::WrongAudience));
    assert_eq!(check(json!({"aud": null})), Err(Error::MissingClaim("aud".into())));
    assert_eq!(check(json!({"sub": null})), Err(Error::MissingClaim("sub".into())));
    assert_eq!(check(json!({"tenant": null})), Err(Error::MissingClaim("tenant".into())));
    assert_eq!(check(json!({"tenant": 42})), Err(Error::InvalidClaim("tenant".into())));
    assert_eq!(check(json!({"roles": ["agent", 3]})), Err(Error::InvalidClaim("roles".into())));
    assert_eq!(check(json!({"team": ["a"]})), Err(Error::InvalidClaim("team".into())));
    assert_eq!(Error::WrongAudience.to_string(), "wrong audience");
}

#[test]
fn keys_outside_the_set_and_wrong_signatures_are_refused() {
    let f = fixture();
    let stranger = TestKey::rsa_b("rsa-2");
    let err = f.check(&stranger.token(&claims(NOW))).expect_err("unknown kid");
    assert_eq!(err, Error::UnknownKey { kid: Some("rsa-2".into()) });
    assert_eq!(err.to_string(), "unknown signing key");

    // A known kid, signed by another key.
    let impostor = TestKey::rsa_b("rsa-1");
    assert_eq!(f.check(&impostor.token(&claims(NOW))), Err(Error::BadSignature));
    let ec_impostor = TestKey::ec("ec-1");
    assert_eq!(f.check(&ec_impostor.token(&claims(NOW))), Err(Error::BadSignature));

    // A valid signature over other claims: the payload was swapped.
    let genuine = f.rsa.token(&claims(NOW));
    let forged_payload = b64(claims_with(json!({"tenant": "globex"})).to_string().as_bytes());
    let parts: Vec<&str> = genuine.split('.').collect();
    let swapped = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
    assert_eq!(f.check(&swapped), Err(Error::BadSignature));

    // The kid of an RSA key on an ES256 token.
    let header = json!({"alg": "ES256", "kid": "rsa-1"});
    assert_eq!(f.check(&f.ec.token_with_header(&header, &claims(NOW))), Err(Error::KeyMismatch));
}

#[test]
fn a_token_without_kid_uses_the_only_key_that_fits() {
    let f = fixture();
    let header = json!({"alg": "ES256"});
    assert!(f.check(&f.ec.token_with_header(&header, &claims(NOW))).is_ok());
    let header = json!({"alg": "RS256"});
    assert!(f.check(&f.rsa.token_with_header(&header, &claims(NOW))).is_ok());
    let two = KeySet::from_json(jwks(&[&f.rsa, &TestKey::rsa_b("rsa-2")]).as_bytes()).expect("set");
    let token = f.rsa.token_with_header(&header, &claims(NOW));
    assert_eq!(verify_at(&token, &two, &f.validation, NOW), Err(Error::UnknownKey { kid: None }));
}

#[test]
fn forged_algorithms_are_refused() {
    let f = fixture();
    let payload = b64(claims(NOW).to_string().as_bytes());

    let none = format!("{}.{payload}.", b64(br#"{"alg":"none","typ":"JWT"}"#));
    let err = f.check(&none).expect_err("alg none");
    assert_eq!(err.to_string(), "unsupported algorithm none");
    let none_kid = format!("{}.{payload}.", b64(br#"{"alg":"none","kid":"rsa-1"}"#));
    assert_eq!(f.check(&none_kid), Err(Error::UnsupportedAlgorithm("none".into())));

    // The classic confusion: HS256 "signed" with the RSA public key as the HMAC secret.
    let header = b64(br#"{"alg":"HS256","typ":"JWT","kid":"rsa-1"}"#);
    let signing_input = format!("{header}.{payload}");
    let secret = hmac::Key::new(hmac::HMAC_SHA256, &f.rsa.public_der());
    let mac = hmac::sign(&secret, signing_input.as_bytes());
    let confused = format!("{signing_input}.{}", b64(mac.as_ref()));
    assert_eq!(f.check(&confused), Err(Error::UnsupportedAlgorithm("HS256".into())));
    let secret = hmac::Key::new(hmac::HMAC_SHA256, f.rsa.jwk().to_string().as_bytes());
    let mac = hmac::sign(&secret, signing_input.as_bytes());
    assert!(f.check(&format!("{signing_input}.{}", b64(mac.as_ref()))).is_err());

    let rs512 = f.rsa.token_with_header(&json!({"alg": "RS512", "kid": "rsa-1"}), &claims(NOW));
    assert_eq!(f.check(&rs512), Err(Error::UnsupportedAlgorithm("RS512".into())));
    let missing = f.rsa.token_with_header(&json!({"kid": "rsa-1"}), &claims(NOW));
    assert_eq!(f.check(&missing), Err(Error::MissingAlgorithm));
    let null_alg = f.rsa.token_with_header(&json!({"alg": null, "kid": "rsa-1"}), &claims(NOW));
    assert_eq!(f.check(&null_alg), Err(Error::MissingAlgorithm));
    let crit = f.rsa.token_with_header(&json!({"alg": "RS256", "kid": "rsa-1", "crit": ["exp"]}), &claims(NOW));
    assert_eq!(f.check(&crit), Err(Error::UnsupportedCritical));
}

#[test]
fn malformed_and_oversize_tokens_are_refused() {
    let f = fixture();
    let good = f.rsa.token(&claims(NOW));
    let parts: Vec<&str> = good.split('.').collect();
    let malformed = [
        String::new(),
        "...".to_string(),
        format!("{}.{}", parts[0], parts[1]),
        format!("{good}.extra"),
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        format!("{}.{}.{}!", parts[0], parts[1], parts[2]),
        format!("not base64!.{}.{}", parts[1], parts[2]),
        format!("{}.{}.{}", b64(b"not json"), parts[1], parts[2]),
        format!("{}.{}.{}", b64(b"[1,2]"), parts[1], parts[2]),
        format!("{}.{}.{}", b64(br#"{"alg":5}"#), parts[1], parts[2]),
        format!("{}.{}.{}", b64(br#"{"alg":"RS256","alg":"RS256"}"#), parts[1], parts[2]),
    ];
    for token in &malformed {
        assert_eq!(f.check(token), Err(Error::Malformed), "{token:?}");
    }
    // Payloads that are not a JSON object, properly signed.
    let header = r#"{"alg":"RS256","kid":"rsa-1"}"#;
    for payload in ["not json", "[]", "\"text\"", ""] {
        assert_eq!(f.check(&f.rsa.sign_raw(header, payload)), Err(Error::Malformed), "{payload:?}");
    }

    let oversize = format!("{}.{}.{}", parts[0], "A".repeat(MAX_TOKEN_LEN), parts[2]);
    assert_eq!(f.check(&oversize), Err(Error::TooLarge));
    let padded = claims_with(json!({"pad": "x".repeat(MAX_TOKEN_LEN)}));
    assert_eq!(f.check(&f.rsa.token(&padded)), Err(Error::TooLarge), "even when genuinely signed");
    let roomy = claims_with(json!({"pad": "x".repeat(8 * 1024)}));
    assert!(f.check(&f.rsa.token(&roomy)).is_ok(), "large but within the bound");
}

#[test]
fn verify_uses_the_clock() {
    let f = fixture();
    let now = unix_now();
    assert!(verify(&f.rsa.token(&claims(now)), &f.keys, &f.validation).is_ok());
    assert_eq!(verify(&f.rsa.token(&claims(now - 86_400)), &f.keys, &f.validation), Err(Error::Expired));
}

#[test]
fn validation_refuses_nonsense() {
    let ok = Validation::new(ISSUER, AUDIENCE);
    assert_eq!(ok.validate(), Ok(()));
    assert_eq!(ok.leeway, DEFAULT_LEEWAY);
    let err = Validation::new("", AUDIENCE).validate().expect_err("empty issuer");
    assert_eq!(err.to_string(), "invalid setting issuer: must not be empty");
    let mut long = ok.clone();
    long.leeway = Duration::from_secs(3600);
    assert!(matches!(long.validate(), Err(Error::InvalidSetting { name: "leeway", .. })));
    let mut blank = ok;
    blank.roles_claim = " ".into();
    assert!(matches!(blank.validate(), Err(Error::InvalidSetting { name: "roles_claim", .. })));
}
