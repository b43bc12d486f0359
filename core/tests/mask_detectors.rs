//! Table-driven detector cases: true positives in context and near misses.
//!
//! Each `case!` line is its own `#[test]`: the text is scanned with the
//! default detectors and the findings, as `(type, matched text)`, must equal
//! the expected list exactly (order included). `[]` means "nothing found".

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a failed expectation must stop the test"
)]

use std::sync::OnceLock;

use writ::mask::{Detectors, EntityType};

fn det() -> &'static Detectors {
    static D: OnceLock<Detectors> = OnceLock::new();
    D.get_or_init(|| Detectors::with_defaults().unwrap())
}

fn check(text: &str, expected: &[(&str, &str)]) {
    let got: Vec<(String, &str)> = det()
        .scan(text)
        .into_iter()
        .map(|f| (f.entity.to_string(), &text[f.start..f.end]))
        .collect();
    let want: Vec<(String, &str)> = expected.iter().map(|(t, v)| (t.to_string(), *v)).collect();
    assert_eq!(got, want, "scanning {text:?}");
}

macro_rules! cases {
    ($($name:ident: $text:expr => [$($ty:ident $val:expr),* $(,)?];)*) => {
        $(
            #[test]
            fn $name() {
                check(AsRef::<str>::as_ref(&$text), &[$((stringify!($ty), $val)),*]);
            }
        )*
    };
}

const GHP: &str = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
const GHO: &str = "gho_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
const GHS: &str = "ghs_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
const GH_PAT: &str =
    "github_pat_11ABCDEFGHIJKLMNOPQRSTUVWX_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRS";
const SLACK_B: &str = "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx";
const SLACK_P: &str = "xoxp-1234567890-1234567890-1234567890123-0123456789abcdef0123456789abcdef";
const STRIPE_SK: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";
const STRIPE_PK: &str = "pk_test_TYooMQauvdEDq54NiTphI7jx";
const STRIPE_RK: &str = "rk_live_51HxYzAbCdEfGhIjKlMnOp";
const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
const JWT_NONE: &str = "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.";
const JWT_RS: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
const NOT_JWT: &str = "eyJub3RhbGciOjF9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl";
const AWS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const PEM_RSA: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\n-----END RSA PRIVATE KEY-----";
const PEM_PKCS8: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----";
const PEM_SSH: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----";
const PEM_ENC: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----";

cases! {
    // ---------------------------------------------------------------- credit_card
    card_visa_plain: "4111111111111111" => [credit_card "4111111111111111"];
    card_mastercard: "pay with 5555555555554444 now" => [credit_card "5555555555554444"];
    card_mastercard_2series: "mc 2223003122003222." => [credit_card "2223003122003222"];
    card_amex_plain: "amex 378282246310005" => [credit_card "378282246310005"];
    card_amex_grouped: "amex 3782 822463 10005 ok" => [credit_card "3782 822463 10005"];
    card_discover: "disc:6011111111111117;" => [credit_card "6011111111111117"];
    card_jcb: "jcb=3530111333300000" => [credit_card "3530111333300000"];
    card_diners_14: "diners 30569309025904" => [credit_card "30569309025904"];
    card_diners_grouped: "diners 3056 930902 5904" => [credit_card "3056 930902 5904"];
    card_visa_13: "old visa 4222222222222 end" => [credit_card "4222222222222"];
    card_unionpay_19: "cup 6200000000000005" => [credit_card "6200000000000005"];
    card_spaces: "card 4111 1111 1111 1111 exp 12/29" => [credit_card "4111 1111 1111 1111"];
    card_dashes: "card 4111-1111-1111-1111" => [credit_card "4111-1111-1111-1111"];
    card_in_json: r#"{"card":"4242424242424242","ok":true}"# => [credit_card "4242424242424242"];
    card_in_csv: "17,Jane,4012888888881881,NY" => [credit_card "4012888888881881"];
    card_in_parens: "(5105105105105100)" => [credit_card "5105105105105100"];
    card_unicode_around: "カード番号4111111111111111です" => [credit_card "4111111111111111"];
    card_at_end: "last one: 371449635398431" => [credit_card "371449635398431"];
    card_trailing_group_dropped: "4111 1111 1111 1111 12 units" => [credit_card "4111 1111 1111 1111"];
    card_two_in_line: "a=4111111111111111 b=5555555555554444" => [credit_card "4111111111111111", credit_card "5555555555554444"];
    card_not_luhn: "4111111111111112" => [];
    card_not_luhn_grouped: "4111 1111 1111 1112" => [];
    card_12_digit_order_id: "order 123456789012 shipped" => [];
    card_13_digit_epoch_ms_bad_iin: "ts=1700000000129" => [];
    card_luhn_but_unknown_iin: "id 1234567890123056" => [];
    card_20_digits: "ref 41111111111111111111" => [];
    card_glued_to_letters: "X4111111111111111Y" => [];
    card_glued_underscore: "id_4111111111111111" => [];

    // ---------------------------------------------------------------- iban
    iban_gb: "IBAN GB82WEST12345698765432" => [iban "GB82WEST12345698765432"];
    iban_de: "DE89370400440532013000" => [iban "DE89370400440532013000"];
    iban_de_spaced: "Konto: DE89 3704 0044 0532 0130 00." => [iban "DE89 3704 0044 0532 0130 00"];
    iban_gb_spaced: "GB82 WEST 1234 5698 7654 32 is mine" => [iban "GB82 WEST 1234 5698 7654 32"];
    iban_fr_letter_inside: "fr: FR1420041010050500013M02606" => [iban "FR1420041010050500013M02606"];
    iban_nl: "NL91ABNA0417164300," => [iban "NL91ABNA0417164300"];
    iban_ch: "\"CH9300762011623852957\"" => [iban "CH9300762011623852957"];
    iban_be_shortest_common: "BE68539007547034" => [iban "BE68539007547034"];
    iban_no_15: "NO9386011117947" => [iban "NO9386011117947"];
    iban_followed_by_caps_word: "DE89370400440532013000 AND MORE" => [iban "DE89370400440532013000"];
    iban_in_json: r#"{"iban":"ES9121000418450200051332"}"# => [iban "ES9121000418450200051332"];
    iban_bad_check_digits: "GB83WEST12345698765432" => [];
    iban_bad_body: "DE89370400440532013001" => [];
    iban_unknown_country: "XX89370400440532013000" => [];
    iban_wrong_length_for_country: "DE8937040044053201300" => [];
    iban_lowercase_not_detected: "de89370400440532013000" => [];

    // ---------------------------------------------------------------- us_ssn
    ssn_dashed: "ssn 078-05-1120" => [us_ssn "078-05-1120"];
    ssn_dashed_no_context: "applicant 123-45-6789 approved" => [us_ssn "123-45-6789"];
    ssn_in_csv: "Doe,John,219-09-9999,TX" => [us_ssn "219-09-9999"];
    ssn_bare_with_context: "SSN: 123456789" => [us_ssn "123456789"];
    ssn_spaced_with_context: "social security number 123 45 6789" => [us_ssn "123 45 6789"];
    ssn_bare_json_context: r#"{"ssn":"234567890"}"# => [us_ssn "234567890"];
    ssn_bare_without_context: "tracking 123456789" => [];
    ssn_area_000: "000-12-3456" => [];
    ssn_area_666: "666-12-3456" => [];
    ssn_area_900: "900-12-3456" => [];
    ssn_area_999: "999-12-3456" => [];
    ssn_group_00: "123-00-4567" => [];
    ssn_serial_0000: "123-45-0000" => [];
    ssn_bare_area_666_with_context: "ssn=666123456" => [];
    ssn_longer_dash_chain: "part 12-123-45-6789-0" => [];

    // ---------------------------------------------------------------- email
    email_simple: "john.doe@example.com" => [email "john.doe@example.com"];
    email_in_sentence: "Please mail jane@example.org, thanks." => [email "jane@example.org"];
    email_plus_tag_subdomain: "to: user+tag@mail.example.co.uk" => [email "user+tag@mail.example.co.uk"];
    email_angle_brackets: "From: Jane <jane.roe@corp.io>" => [email "jane.roe@corp.io"];
    email_mailto: "mailto:x@y.io" => [email "x@y.io"];
    email_in_json: r#"{"email":"a.b@c.de"}"# => [email "a.b@c.de"];
    email_in_log: "2026-11-23T10:15:02Z INFO login user=ops@writ.dev ok" => [email "ops@writ.dev"];
    email_unicode_around: "連絡先：taro@example.jp。" => [email "taro@example.jp"];
    email_digits_local: "12345@numbers.net" => [email "12345@numbers.net"];
    email_two: "a@b.co;c@d.co" => [email "a@b.co", email "c@d.co"];
    email_no_tld: "user@localhost" => [];
    email_one_letter_tld: "user@host.c" => [];
    email_no_local: "@example.com" => [];
    email_at_handle: "ping @alice on slack" => [];
    email_label_dash: "x@-bad.com" => [];

    // ---------------------------------------------------------------- phone
    phone_e164_compact: "call +14155552671" => [phone "+14155552671"];
    phone_e164_spaced_us: "tel: +1 415 555 2671" => [phone "+1 415 555 2671"];
    phone_uk: "London +44 20 7946 0958." => [phone "+44 20 7946 0958"];
    phone_fr: "+33 1 23 45 67 89" => [phone "+33 1 23 45 67 89"];
    phone_de: "(+49 30 1234567)" => [phone "+49 30 1234567"];
    phone_with_paren_group: "+1 (415) 555-2671" => [phone "+1 (415) 555-2671"];
    phone_us_parens: "office (415) 555-2671" => [phone "(415) 555-2671"];
    phone_us_dashes: "cell 415-555-2671" => [phone "415-555-2671"];
    phone_us_dots: "415.555.2671" => [phone "415.555.2671"];
    phone_us_leading_one: "1-800-555-0199" => [phone "1-800-555-0199"];
    phone_in_csv: "Jane,(212) 555-0123,NY" => [phone "(212) 555-0123"];
    phone_in_json: r#"{"phone":"+81 3 1234 5678"}"# => [phone "+81 3 1234 5678"];
    phone_unicode_around: "電話+81312345678です" => [phone "+81312345678"];
    phone_date: "2026-11-23" => [];
    phone_datetime: "2026-11-23 10:15:02" => [];
    phone_plain_long_number: "1234567890" => [];
    phone_too_short_plus: "+1234" => [];
    phone_too_long_plus: "+1234567890123456789" => [];
    phone_area_starts_with_1: "115-555-2671" => [];
    phone_not_ip: "10.20.30.40" => [ipv4 "10.20.30.40"];
    phone_us_dashed_inside_chain: "sku 415-555-2671-22" => [];

    // ---------------------------------------------------------------- ipv4
    ipv4_private: "ip=192.168.1.1" => [ipv4 "192.168.1.1"];
    ipv4_ten: "from 10.0.0.1:8080" => [ipv4 "10.0.0.1"];
    ipv4_dns: "8.8.8.8" => [ipv4 "8.8.8.8"];
    ipv4_broadcast: "255.255.255.255." => [ipv4 "255.255.255.255"];
    ipv4_version_is_ip: "version 1.2.3.4" => [ipv4 "1.2.3.4"];
    ipv4_in_json: r#"{"client_ip":"203.0.113.7"}"# => [ipv4 "203.0.113.7"];
    ipv4_in_log: "GET /index 200 from 172.16.5.4 in 12ms" => [ipv4 "172.16.5.4"];
    ipv4_octet_256: "256.1.1.1" => [];
    ipv4_all_999: "999.999.999.999" => [];
    ipv4_three_parts: "1.2.3" => [];
    ipv4_five_parts: "oid 1.2.3.4.5" => [];
    ipv4_semver: "v1.2.3" => [];

    // ---------------------------------------------------------------- ipv6
    ipv6_compressed: "addr 2001:db8:85a3::8a2e:370:7334 up" => [ipv6 "2001:db8:85a3::8a2e:370:7334"];
    ipv6_full: "2001:0db8:85a3:0000:0000:8a2e:0370:7334" => [ipv6 "2001:0db8:85a3:0000:0000:8a2e:0370:7334"];
    ipv6_loopback: "bind ::1" => [ipv6 "::1"];
    ipv6_link_local: "fe80::1 dev eth0" => [ipv6 "fe80::1"];
    ipv6_mapped_v4: "::ffff:192.0.2.128" => [ipv6 "::ffff:192.0.2.128"];
    ipv6_bracketed_port: "[2001:db8::1]:8080" => [ipv6 "2001:db8::1"];
    ipv6_sentence_colon: "peer fe80::abcd: dropped" => [ipv6 "fe80::abcd"];
    ipv6_no_digits_three_groups: "dead:beef::cafe" => [ipv6 "dead:beef::cafe"];
    ipv6_time: "12:30:45" => [];
    ipv6_mac: "00:1a:2b:3c:4d:5e" => [];
    ipv6_rust_path: "std::net::Ipv6Addr" => [];
    ipv6_two_letter_groups: "a::b" => [];
    ipv6_too_many_groups: "1:2:3:4:5:6:7:8:9" => [];

    // ---------------------------------------------------------------- aws
    aws_key_id: "AKIAIOSFODNN7EXAMPLE" => [aws_access_key_id "AKIAIOSFODNN7EXAMPLE"];
    aws_key_id_asia: "key=ASIAY34FZKBOKMUTVV7A" => [aws_access_key_id "ASIAY34FZKBOKMUTVV7A"];
    aws_key_id_in_json: r#"{"AccessKeyId":"AROAIOSFODNN7EXAMPLE"}"# => [aws_access_key_id "AROAIOSFODNN7EXAMPLE"];
    aws_key_id_too_short: "AKIAIOSFODNN7EXAMPL" => [];
    aws_key_id_too_long: "AKIAIOSFODNN7EXAMPLEX" => [];
    aws_key_id_glued: "XAKIAIOSFODNN7EXAMPLE" => [];
    aws_key_id_bad_alphabet: "AKIAIOSFODNN1EXAMPLE" => [];
    aws_secret_env: format!("AWS_SECRET_ACCESS_KEY={AWS_SECRET}") => [aws_secret_key AWS_SECRET];
    aws_secret_ini: format!("aws_secret_access_key = {AWS_SECRET}\n") => [aws_secret_key AWS_SECRET];
    aws_secret_json: format!(r#"{{"SecretAccessKey": "{AWS_SECRET}"}}"#) => [aws_secret_key AWS_SECRET];
    aws_secret_yaml: format!("secret_key: '{AWS_SECRET}'") => [aws_secret_key AWS_SECRET];
    aws_secret_xml: format!("<SecretAccessKey>{AWS_SECRET}</SecretAccessKey>") => [aws_secret_key AWS_SECRET];
    aws_secret_no_context: format!("blob {AWS_SECRET} end") => [];
    aws_secret_context_far_away: format!("secret_key is documented elsewhere. blob {AWS_SECRET}") => [];
    aws_secret_too_long: format!("secret_key={AWS_SECRET}XYZ") => [];
    aws_both: format!("id=AKIAIOSFODNN7EXAMPLE secret_key={AWS_SECRET}") => [aws_access_key_id "AKIAIOSFODNN7EXAMPLE", aws_secret_key AWS_SECRET];

    // ---------------------------------------------------------------- github
    github_ghp: format!("token {GHP}") => [github_token GHP];
    github_gho: format!("\"{GHO}\"") => [github_token GHO];
    github_ghs_start: GHS => [github_token GHS];
    github_pat: format!("GITHUB_TOKEN={GH_PAT}") => [github_token GH_PAT];
    github_ghp_short: "ghp_abc123" => [];
    github_ghp_too_long: format!("{GHP}X") => [];
    github_wrong_prefix: "ghx_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789" => [];

    // ---------------------------------------------------------------- slack
    slack_bot: format!("SLACK_BOT_TOKEN={SLACK_B}") => [slack_token SLACK_B];
    slack_user: format!("{SLACK_P}, then") => [slack_token SLACK_P];
    slack_trailing_dash: format!("{SLACK_B}- next") => [slack_token SLACK_B];
    slack_short: "xoxb-123" => [];
    slack_wrong_letter: "xoxz-1234567890-1234567890123-AbCdEf" => [];
    slack_no_digit: "xoxb-abcdefghijklmnop" => [];

    // ---------------------------------------------------------------- stripe
    stripe_sk_live: format!("Authorization: Bearer {STRIPE_SK}") => [stripe_key STRIPE_SK];
    stripe_pk_test: format!("'{STRIPE_PK}'") => [stripe_key STRIPE_PK];
    stripe_rk_live: STRIPE_RK => [stripe_key STRIPE_RK];
    stripe_too_short: "sk_live_abc" => [];
    stripe_wrong_env: "sk_prod_4eC39HqLyjWDarjtT1zdp7dc" => [];

    // ---------------------------------------------------------------- jwt
    jwt_bearer: format!("Authorization: Bearer {JWT}") => [jwt JWT];
    jwt_alg_none_empty_sig: format!("t={JWT_NONE} ") => [jwt JWT_NONE];
    jwt_typ_first: format!("{{\"token\":\"{JWT_RS}\"}}") => [jwt JWT_RS];
    jwt_header_without_alg: NOT_JWT => [];
    jwt_two_segments: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0" => [];
    jwt_not_base64_json: "eyJzzzz.eyJzzzz.abc" => [];

    // ---------------------------------------------------------------- private_key
    pem_rsa: format!("key:\n{PEM_RSA}\nend") => [private_key PEM_RSA];
    pem_pkcs8: PEM_PKCS8 => [private_key PEM_PKCS8];
    pem_openssh: format!("{PEM_SSH}\n") => [private_key PEM_SSH];
    pem_encrypted: format!("x {PEM_ENC} y") => [private_key PEM_ENC];
    pem_json_escaped: r#"{"key":"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n"}"# => [private_key r"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----"];
    pem_truncated_no_end: "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC" => [private_key "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC"];
    pem_public_key: "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----" => [];
    pem_certificate: "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBa\n-----END CERTIFICATE-----" => [];

    // ---------------------------------------------------------------- mixed / near misses
    mixed_log_line: "2026-11-23T10:15:02Z WARN user=jane@example.com ip=10.1.2.3 card=4111111111111111" => [email "jane@example.com", ipv4 "10.1.2.3", credit_card "4111111111111111"];
    mixed_csv_row: "42,\"Roe, Jane\",jane@roe.dev,+1 415 555 2671,078-05-1120" => [email "jane@roe.dev", phone "+1 415 555 2671", us_ssn "078-05-1120"];
    mixed_ticket: "Hi, my card 5555 5555 5555 4444 was charged twice; call me at (212) 555-0123." => [credit_card "5555 5555 5555 4444", phone "(212) 555-0123"];
    mixed_start_and_end: "a@b.co and 8.8.4.4" => [email "a@b.co", ipv4 "8.8.4.4"];
    adjacent_phone_then_ssn: "+1 415 555 2671 123-45-6789" => [phone "+1 415 555 2671", us_ssn "123-45-6789"];
    adjacent_phone_then_ssn_uk: "+44 20 5233 2610 181-17-2824" => [phone "+44 20 5233 2610", us_ssn "181-17-2824"];
    adjacent_card_then_ip: "4111111111111111 10.0.0.1" => [credit_card "4111111111111111", ipv4 "10.0.0.1"];
    adjacent_email_then_phone: "a@b.co(415) 555-2671" => [email "a@b.co", phone "(415) 555-2671"];
    email_holding_card_digits: "4111111111111111@example.com" => [email "4111111111111111@example.com"];
    near_uuid: "id 123e4567-e89b-12d3-a456-426614174000" => [];
    near_md5: "md5 d41d8cd98f00b204e9800998ecf8427e" => [];
    near_sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" => [];
    near_git_sha: "commit 9fceb02d0ae598e95dc970b74767f19372d61af8" => [];
    near_timestamp_iso: "2026-11-23T10:15:02.123Z" => [];
    near_epoch_seconds: "ts=1763892902" => [];
    near_price: "total $1,234.56 (USD)" => [];
    near_percent: "cpu 99.99% mem 12.5%" => [];
    near_date_slashes: "due 23/11/2026" => [];
    near_port: "localhost:8080" => [];
    near_order_id: "ORD-2026-000123" => [];
    near_semver_range: ">=1.2.3, <2.0.0" => [];
    near_random_base64: "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5" => [];
    near_plain_prose: "The quick brown fox jumps over the lazy dog." => [];
    near_empty: "" => [];
    near_unicode_only: "日本語のテキスト、個人情報なし。" => [];
}

#[test]
fn findings_are_sorted_non_overlapping_and_on_char_boundaries() {
    let text = format!(
        "é {JWT} ü 4111111111111111 ö jane@example.com {PEM_RSA} ñ +44 20 7946 0958 ∑ 10.0.0.1 {GHP}"
    );
    let f = det().scan(&text);
    assert_eq!(f.len(), 7);
    for w in f.windows(2) {
        assert!(w[0].end <= w[1].start);
    }
    for x in &f {
        assert!(text.is_char_boundary(x.start) && text.is_char_boundary(x.end));
    }
}

#[test]
fn disabled_types_are_not_reported() {
    let d =
        Detectors::builder().disable(EntityType::Ipv4).disable(EntityType::Email).build().unwrap();
    let f = d.scan("a@b.co 10.0.0.1 4111111111111111");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].entity, EntityType::CreditCard);
    let only = Detectors::builder().only([EntityType::Email]).build().unwrap();
    assert_eq!(only.scan("a@b.co 10.0.0.1 4111111111111111").len(), 1);
}

#[test]
fn lenient_iin_accepts_any_luhn_number() {
    let d = Detectors::builder().lenient_card_iin(true).build().unwrap();
    let text = "id 1234567890123056";
    let f = d.scan(text);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].entity, EntityType::CreditCard);
}

#[test]
fn cache_is_reusable_and_rebinds_across_detectors() {
    let a = Detectors::with_defaults().unwrap();
    let b = Detectors::builder().only([EntityType::Ipv4]).build().unwrap();
    let mut cache = a.create_cache();
    assert_eq!(a.scan_with("x@y.io 1.1.1.1", Some(&mut cache)).len(), 2);
    assert_eq!(b.scan_with("x@y.io 1.1.1.1", Some(&mut cache)).len(), 1);
    assert_eq!(a.scan_with("x@y.io 1.1.1.1", Some(&mut cache)).len(), 2);
}

#[test]
fn detectors_are_send_sync_clone() {
    fn assert_traits<T: Send + Sync + Clone + 'static>() {}
    assert_traits::<Detectors>();
    let d = det().clone();
    let h = std::thread::spawn(move || d.scan("a@b.co").len());
    assert_eq!(h.join().unwrap(), 1);
}

#[test]
fn entity_type_names_round_trip() {
    for t in EntityType::BUILTIN {
        let s = serde_json::to_string(&t).unwrap();
        let back: EntityType = serde_json::from_str(&s).unwrap();
        assert_eq!(back, t);
        assert_eq!(t.as_str().parse::<EntityType>().unwrap(), t);
    }
    assert_eq!("employee_id".parse::<EntityType>().unwrap(), EntityType::custom("employee_id"));
}

#[test]
fn finding_debug_and_json_never_hold_the_value() {
    let text = "card 4111111111111111";
    let f = det().scan(text);
    let dbg = format!("{f:?}");
    let json = serde_json::to_string(&f).unwrap();
    assert!(!dbg.contains("4111"));
    assert!(!json.contains("4111"));
    assert!(json.contains("\"type\":\"credit_card\""));
}

#[test]
fn digit_free_ipv6_is_found_at_every_offset() {
    // The byte gate reads 64-byte chunks; an address with no digit is flagged by its colons,
    // which may fall one in each of two chunks. Every offset over three chunks is tried, with
    // filler that has neither digits nor colons.
    for address in ["dead:beef::cafe", "fade:bead:cafe::", "::cafe:babe:face", "abcd:ef::ab"] {
        for offset in 0..200 {
            let text = format!("{} {address} and then some more words", "x".repeat(offset));
            let found: Vec<&str> =
                det().scan(&text).iter().map(|f| &text[f.start..f.end]).collect();
            assert_eq!(found, [address], "{address} at byte {}", offset + 1);
        }
    }
}

/// Complete `prefix` with a Luhn check digit.
fn luhn_complete(prefix: &str) -> String {
    for c in 0..10 {
        let s = format!("{prefix}{c}");
        let mut sum = 0;
        for (i, b) in s.bytes().rev().enumerate() {
            let mut d = u32::from(b - b'0');
            if i % 2 == 1 {
                d *= 2;
                if d > 9 {
                    d -= 9;
                }
            }
            sum += d;
        }
        if sum % 10 == 0 {
            return s;
        }
    }
    unreachable!()
}

/// A small xorshift generator from `state`: each call gives a number below `n`.
fn xorshift(mut state: u64) -> impl FnMut(usize) -> usize {
    move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    }
}

/// Values of every floating type at their shortest and longest, with each separator.
fn gate_values() -> Vec<String> {
    let mut v: Vec<String> = [
        "4222222222222",
        "4111111111111111",
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "3782 822463 10005",
        "3782-822463-10005",
        "078-05-1120",
        "+1 415 555 0100",
        "+44 20 7946 0958",
        "+4915112345678",
        "+1.415.555.0100",
        "+1 (415) 555-0100",
        "(212) 555-0123",
        "(212)555-0123",
        "212.555.0123",
        "212 555 0123",
        "212-555-0123",
        "1-212-555-0123",
        "0.0.0.1",
        "10.0.0.1",
        "255.255.255.255",
        "::1",
        "1::",
        "2001:db8::1",
        "1:2:3:4:5:6:7:8",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        "::ffff:10.0.0.1",
        "1:2:3:4:5:6:1.2.3.4",
        "dead:beef::cafe",
        "fade:bead:cafe::",
        "GB82WEST12345698765432",
        "GB82 WEST 1234 5698 7654 32",
        "DE89 3704 0044 0532 0130 00",
        "FR1420041010050500013M02606",
        "a@b.co",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    v.push(luhn_complete("411111111111111111"));
    v.push(format!("{}@{}.example.com", "x".repeat(64), "d".repeat(40)));
    v
}

#[test]
fn every_floating_type_is_found_at_every_offset_of_the_gate() {
    // The byte gate reads 64-byte chunks and flags one only where a type's shape starts in
    // it; each value is placed at every offset over three chunks, after filler with digits,
    // dots and colons that flags nothing itself, and also in SSN context.
    let d = det();
    for value in
        gate_values().iter().map(String::as_str).chain(["ssn 078051120", "ssn 078 05 1120"])
    {
        let whole = d.scan(value);
        assert!(!whole.is_empty(), "{value} is not found on its own");
        for offset in 0..200 {
            let filler: String = "ab 12:30 v1.2 x-9 ".chars().cycle().take(offset).collect();
            let text = format!("{filler}; {value} and 7 more words");
            let gated = d.scan(&text);
            assert_eq!(gated, d.scan_ungated(&text), "{value} at byte {}", offset + 1);
            let found: Vec<&str> = gated.iter().map(|f| &text[f.start..f.end]).collect();
            let expect: Vec<&str> = whole.iter().map(|f| &value[f.start..f.end]).collect();
            assert_eq!(found, expect, "{value} at byte {}", offset + 1);
        }
    }
}

#[test]
fn gated_scan_equals_ungated_scan_on_generated_text() {
    // Lines mixing every type's values with noise built from the bytes the gate's shapes are
    // made of (digits, ` .-:+@`, capitals). The reference also searches each window the plain
    // way (no skipped leading bytes, no anchored try), so this checks those shortcuts too.
    let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
    let values = gate_values();
    let noise = [
        "2026-12-03T07:15:30.123Z",
        "req=4f3a9c01b2",
        "v1.12.34",
        "took=1234ms",
        "ssn",
        "SSN:",
        "Order TEAM-12345",
        "#123456",
        "1234.56",
        "12:30:45",
        "a::b",
        "std::vec",
        "x",
        "the",
        "+",
        "-",
        ".",
        ":",
        "@",
        "1",
        "12",
        "123",
        "1234",
        "AB12",
        "ID99",
    ];
    let alphabet = b"0123456789 .-:+@ABZaz(),";
    let d = det();
    let mut total = 0usize;
    for _ in 0..3000 {
        let mut line = String::new();
        for _ in 0..(3 + next(10)) {
            match next(4) {
                0 => line.push_str(&values[next(values.len())]),
                1 => line.push_str(noise[next(noise.len())]),
                _ => {
                    for _ in 0..next(12) {
                        line.push(alphabet[next(alphabet.len())] as char);
                    }
                }
            }
            if next(3) > 0 {
                line.push(if next(2) == 0 { ' ' } else { ',' });
            }
        }
        let gated = d.scan(&line);
        assert_eq!(gated, d.scan_ungated(&line), "{line:?}");
        total += gated.len();
    }
    assert!(total > 3000, "only {total} findings");
    // Whole pages of such lines, so that windows meet and merge.
    let page: String = (0..400)
        .map(|i| {
            let v = &values[i % values.len()];
            let n = noise[(i * 7) % noise.len()];
            format!("{n} {v} {}\n", "w".repeat(i % 70))
        })
        .collect();
    assert_eq!(d.scan(&page), d.scan_ungated(&page));
}

/// The gate's windows are the runs of bytes around each shape that a value can hold, cut at
/// 80 bytes back and 96 ahead (272 after an `@`). Runs longer than that (digit groups, hex and
/// colons, capitals and digits, local parts and domains going on for hundreds of bytes) with
/// values at every offset in them and at their ends must still give what a scan of every
/// chunk gives.
#[test]
fn gated_scan_equals_ungated_scan_on_long_runs() {
    let mut next = xorshift(0x2545_F491_4F6C_DD1D);
    let values = gate_values();
    // The bytes of each kind of run, and filler words that keep to them.
    let runs: [(&[u8], &[&str]); 5] = [
        (b"0123456789 -.()+", &["1234", "5678 ", "12-", "(212) ", "+1 ", "99.", "0"]),
        (b"0123456789.", &["1.2.", "10.0.0.", "255", "3."]),
        (b"0123456789abcdefABCDEF:.", &["fe80:", "::", "1:2:", "abcd:", "0."]),
        (b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ", &["DE89 ", "GB82", "WEST", "1234 ", "AB12"]),
        (b"abcdefghijklmnopqrstuvwxyz0123456789._%+-@", &["john.", "x@", "mail.", "a-b", "+tag"]),
    ];
    let d = det();
    let mut total = 0usize;
    for _ in 0..1500 {
        let (bytes, words) = runs[next(runs.len())];
        let mut line = String::new();
        let target = 60 + next(400);
        while line.len() < target {
            match next(6) {
                0 => line.push_str(&values[next(values.len())]),
                1 | 2 => line.push_str(words[next(words.len())]),
                _ => {
                    for _ in 0..next(20) {
                        line.push(bytes[next(bytes.len())] as char);
                    }
                }
            }
        }
        let gated = d.scan(&line);
        assert_eq!(gated, d.scan_ungated(&line), "{line:?}");
        total += gated.len();
    }
    assert!(total > 500, "only {total} findings");
    // A run cut short by the reach, 96 bytes after its first shape (`AB12`, at the start of
    // the text and so of a chunk), holding an IBAN whose shape (`FR14`) lies in the same
    // chunk and which ends past that reach: the IBAN's shape needs a window of its own.
    let iban = "FR14 2 0 0 4 1 0 1 0 0 5 0 5 0 0 0 1 3 M 0 2 6 0 6";
    let line = format!("AB12{} {iban}.", "C".repeat(45));
    let found: Vec<(String, &str)> =
        d.scan(&line).into_iter().map(|f| (f.entity.to_string(), &line[f.start..f.end])).collect();
    assert_eq!(found, [("iban".to_owned(), iban)]);
    assert_eq!(d.scan(&line), d.scan_ungated(&line));
}

/// Token anchors and the AWS secret context words come from two searchers whose hits are
/// merged in text order: interleave them, with secrets that only the words reveal, many times
/// over (each searcher's next hit is kept while the other's are consumed), and with
/// `aws_secret_key` off (no word searcher at all).
#[test]
fn token_anchors_and_secret_words_interleave() {
    let unit = format!(
        "token {GHP} then secret_key={AWS_SECRET} a secretive word, {STRIPE_SK} SECRET and \
         {JWT} Secret: none here; "
    );
    let text = unit.repeat(40);
    let want: Vec<(&str, &str)> = (0..40)
        .flat_map(|_| {
            [
                ("github_token", GHP),
                ("aws_secret_key", AWS_SECRET),
                ("stripe_key", STRIPE_SK),
                ("jwt", JWT),
            ]
        })
        .collect();
    check(&text, &want);
    let no_secret = Detectors::builder().disable(EntityType::AwsSecretKey).build().unwrap();
    let got: Vec<String> = no_secret.scan(&text).iter().map(|f| f.entity.to_string()).collect();
    assert_eq!(got.len(), 120, "{got:?}");
    assert!(!got.iter().any(|t| t == "aws_secret_key"));
    let only_secret = Detectors::builder().only([EntityType::AwsSecretKey]).build().unwrap();
    let got = only_secret.scan(&text);
    assert_eq!(got.len(), 40);
    assert!(got.iter().all(|f| &text[f.start..f.end] == AWS_SECRET));
}
