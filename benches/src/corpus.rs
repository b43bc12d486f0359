//! Generated text for the content-masking benches: log lines, support tickets and customer
//! rows, each clean (no PII, but the digits, dates, ids and punctuation real text has) and
//! PII-dense (several sensitive values a line). Deterministic: the same seed gives the same
//! bytes, so writ, the limits and Presidio (`benches/presidio/run`) read identical input.

/// The corpora, in report order.
pub const KINDS: [Kind; 6] = [
    Kind::LogsClean,
    Kind::LogsPii,
    Kind::TicketsClean,
    Kind::TicketsPii,
    Kind::RowsClean,
    Kind::RowsPii,
];

/// One corpus.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Application log lines: timestamps, levels, request ids, paths, durations, versions.
    LogsClean,
    /// The same log lines carrying e-mails, client IPs, phone numbers, cards and keys.
    LogsPii,
    /// Support tickets in prose, with order numbers and dates.
    TicketsClean,
    /// Support tickets where customers paste e-mails, phones, cards, IBANs and SSNs.
    TicketsPii,
    /// Customer rows (CSV) without contact or payment columns.
    RowsClean,
    /// Customer rows with e-mail, phone, card, SSN and IBAN columns.
    RowsPii,
}

impl Kind {
    /// File and bench name (`logs_clean`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Kind::LogsClean => "logs_clean",
            Kind::LogsPii => "logs_pii",
            Kind::TicketsClean => "tickets_clean",
            Kind::TicketsPii => "tickets_pii",
            Kind::RowsClean => "rows_clean",
            Kind::RowsPii => "rows_pii",
        }
    }

    /// Whether the corpus is meant to hold no PII.
    pub fn clean(self) -> bool {
        matches!(self, Kind::LogsClean | Kind::TicketsClean | Kind::RowsClean)
    }

    /// About `bytes` bytes of this corpus (whole lines), from `seed`.
    pub fn generate(self, bytes: usize, seed: u64) -> String {
        let mut rng = Rng::new(seed ^ (self as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut out = String::with_capacity(bytes + 512);
        while out.len() < bytes {
            match self {
                Kind::LogsClean => log_line(&mut rng, &mut out, false),
                Kind::LogsPii => log_line(&mut rng, &mut out, true),
                Kind::TicketsClean => ticket(&mut rng, &mut out, false),
                Kind::TicketsPii => ticket(&mut rng, &mut out, true),
                Kind::RowsClean => row(&mut rng, &mut out, false),
                Kind::RowsPii => row(&mut rng, &mut out, true),
            }
        }
        out
    }
}

/// Cut `text` into pieces of about `size` bytes, each ending at a line end (the way a host
/// hands a result or a log buffer to the masker).
pub fn chunks(text: &str, size: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut cut = size.min(rest.len());
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        cut = match rest.get(cut..).and_then(|r| r.find('\n')) {
            Some(nl) => cut + nl + 1,
            None => rest.len(),
        };
        let (piece, tail) = rest.split_at(cut);
        out.push(piece);
        rest = tail;
    }
    out
}

/// A seeded generator (fastrand's wyrand) with the few draws the corpora need.
struct Rng(fastrand::Rng);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(fastrand::Rng::with_seed(seed))
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0.u64(..n.max(1))
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        self.0.choice(xs.iter().copied()).unwrap_or("")
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const FIRST: &[&str] = &[
    "Ann", "Bob", "Chidi", "Dana", "Élodie", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi",
    "Luca", "Mei", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq",
];
const LAST: &[&str] = &[
    "Smith", "Okafor", "Müller", "Tanaka", "García", "Novak", "Larsen", "Haddad", "Kowalski",
    "Nguyen", "Rossi", "Dubois", "Silva", "Kim", "Brown",
];
const CITIES: &[&str] = &[
    "Lisbon", "Austin", "Nairobi", "Osaka", "Zürich", "Toronto", "Lyon", "Pune", "Leeds", "Perth",
];
const DOMAINS: &[&str] = &["example.com", "mail.example.org", "corp.example.net", "shop.test"];
const PATHS: &[&str] = &[
    "/api/v2/orders",
    "/api/v2/customers/search",
    "/checkout/confirm",
    "/healthz",
    "/static/app.js",
    "/api/v1/invoices/export",
];
const SERVICES: &[&str] = &["gateway", "billing", "orders", "auth", "search", "mailer"];
const LEVELS: &[&str] = &["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"];
const MESSAGES: &[&str] = &[
    "request completed",
    "cache miss, loading from primary",
    "retrying upstream call",
    "slow query detected",
    "session refreshed",
    "rate limit close to threshold",
];
const WORDS: &[&str] = &[
    "the",
    "order",
    "arrived",
    "late",
    "and",
    "the",
    "box",
    "was",
    "damaged",
    "could",
    "you",
    "please",
    "check",
    "why",
    "my",
    "refund",
    "has",
    "not",
    "been",
    "processed",
    "yet",
    "I",
    "already",
    "contacted",
    "support",
    "twice",
    "about",
    "this",
    "issue",
    "thanks",
    "for",
    "your",
    "help",
    "tracking",
    "shows",
    "delivered",
    "but",
    "nothing",
    "came",
    "invoice",
    "address",
    "changed",
    "last",
    "week",
    "subscription",
    "renewal",
    "charged",
    "again",
];
const CARDS: &[&str] = &[
    "4111 1111 1111 1111",
    "5500-0000-0000-0004",
    "4012888888881881",
    "3782 822463 10005",
    "6011 0009 9013 9424",
];
const IBANS: &[&str] =
    &["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "FR1420041010050500013M02606"];
const SSNS: &[&str] = &["078-05-1120", "219-09-9999", "457-55-5462", "536-22-8726"];
const PLANS: &[&str] = &["free", "team", "business", "enterprise"];

fn email(rng: &mut Rng, out: &mut String) {
    let first = rng.pick(FIRST).to_lowercase().replace(['É', 'é'], "e");
    out.push_str(&format!("{first}.{}@{}", rng.below(90) + 10, rng.pick(DOMAINS)));
}

fn phone(rng: &mut Rng, out: &mut String) {
    match rng.below(3) {
        0 => out.push_str(&format!("+1 415 555 {:04}", rng.below(10_000))),
        1 => out.push_str(&format!("(212) 555-{:04}", rng.below(10_000))),
        _ => out.push_str(&format!("+44 20 7946 {:04}", rng.below(10_000))),
    }
}

fn timestamp(rng: &mut Rng, out: &mut String) {
    out.push_str(&format!(
        "2026-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(24),
        rng.below(60),
        rng.below(60),
        rng.below(1000)
    ));
}

fn log_line(rng: &mut Rng, out: &mut String, pii: bool) {
    timestamp(rng, out);
    out.push_str(&format!(
        " {} {} req={:012x} {} {} status={} took={}ms v1.{}.{}",
        rng.pick(LEVELS),
        rng.pick(SERVICES),
        rng.0.u64(..) >> 16,
        rng.pick(PATHS),
        rng.pick(MESSAGES),
        [200, 200, 201, 304, 404, 500].get(rng.below(6) as usize).copied().unwrap_or(200),
        rng.below(5000),
        rng.below(20),
        rng.below(50)
    ));
    if pii {
        out.push_str(" user=");
        email(rng, out);
        out.push_str(&format!(
            " client={}.{}.{}.{}",
            10 + rng.below(200),
            rng.below(256),
            rng.below(256),
            1 + rng.below(254)
        ));
        if rng.chance(50) {
            out.push_str(" phone=");
            phone(rng, out);
        }
        if rng.chance(25) {
            out.push_str(" card=");
            out.push_str(rng.pick(CARDS));
        }
    }
    out.push('\n');
}

fn prose(rng: &mut Rng, out: &mut String, words: u64) {
    for i in 0..words {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(rng.pick(WORDS));
    }
}

fn ticket(rng: &mut Rng, out: &mut String, pii: bool) {
    out.push_str(&format!(
        "Ticket #{} from {} {} ({}): ",
        100_000 + rng.below(900_000),
        rng.pick(FIRST),
        rng.pick(LAST),
        rng.pick(CITIES)
    ));
    let words = 12 + rng.below(20);
    prose(rng, out, words);
    out.push_str(&format!(
        ". Order {}-{} placed on 2026-{:02}-{:02}, ",
        rng.pick(PLANS).to_uppercase(),
        rng.below(100_000),
        1 + rng.below(12),
        1 + rng.below(28)
    ));
    let words = 8 + rng.below(16);
    prose(rng, out, words);
    if pii {
        out.push_str(". You can reach me at ");
        email(rng, out);
        out.push_str(" or ");
        phone(rng, out);
        match rng.below(3) {
            0 => out.push_str(&format!(", the card was {}", rng.pick(CARDS))),
            1 => out.push_str(&format!(", refund to IBAN {}", rng.pick(IBANS))),
            _ => out.push_str(&format!(", my SSN is {}", rng.pick(SSNS))),
        }
    }
    out.push_str(".\n");
}

fn row(rng: &mut Rng, out: &mut String, pii: bool) {
    out.push_str(&format!(
        "{},{},{},{},{},2026-{:02}-{:02},{}.{:02}",
        rng.below(10_000_000),
        rng.pick(FIRST),
        rng.pick(LAST),
        rng.pick(CITIES),
        rng.pick(PLANS),
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(10_000),
        rng.below(100)
    ));
    if pii {
        out.push(',');
        email(rng, out);
        out.push(',');
        phone(rng, out);
        out.push(',');
        out.push_str(rng.pick(CARDS));
        out.push(',');
        out.push_str(rng.pick(SSNS));
        out.push(',');
        out.push_str(rng.pick(IBANS));
    }
    out.push('\n');
}

/// The seed the benches generate their corpora from.
pub const SEED: u64 = 0x5EED_2026_0000_0001;

/// The token anchors writ's own literal search looks for (`AKIA`, `ghp_`, `eyJ`, ...).
pub const ANCHORS: &[&str] = &[
    "AKIA",
    "ASIA",
    "AGPA",
    "AIDA",
    "AROA",
    "ANPA",
    "ANVA",
    "AIPA",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "xoxb-",
    "xoxp-",
    "xoxa-",
    "xoxr-",
    "xoxs-",
    "sk_live_",
    "rk_live_",
    "pk_live_",
    "sk_test_",
    "rk_test_",
    "pk_test_",
    "eyJ",
    "-----BEGIN ",
];

/// The AWS secret context words, which writ searches for with a searcher of their own.
pub const SECRET_WORDS: &[&str] = &["secret", "Secret", "SECRET"];

/// The aho-corasick limit: the crate's SIMD (Teddy) searcher for [`ANCHORS`] and another for
/// [`SECRET_WORDS`], the two literal searches writ makes over every text.
pub struct AnchorSearch {
    tokens: aho_corasick::packed::Searcher,
    words: aho_corasick::packed::Searcher,
}

impl AnchorSearch {
    /// Both searchers; `None` when the CPU lacks what Teddy needs.
    pub fn new() -> Option<AnchorSearch> {
        Some(AnchorSearch {
            tokens: aho_corasick::packed::Searcher::new(ANCHORS)?,
            words: aho_corasick::packed::Searcher::new(SECRET_WORDS)?,
        })
    }

    /// Every hit of both searchers in `text`.
    pub fn count(&self, text: &str) -> usize {
        self.tokens.find_iter(text).count() + self.words.find_iter(text).count()
    }
}
