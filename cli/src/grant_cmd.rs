//! `writ keygen`, `writ grant mint | inspect | verify` and `writ approve`: the host side of
//! grants and approvals, for scripts, demos and tests.
//!
//! Exit codes: 0 done (or, for `grant verify`, valid); 1 refused: `grant mint` would be wider
//! or deeper than its parent, or the parent does not verify or has expired; `grant verify`:
//! the grant is invalid; 2 an error (unreadable or invalid key, scope, grant text or
//! argument).

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use writ::approval::{Approval, ApprovalSpec};
use writ::grant::{self, Authority, Grant, GrantError, GrantSpec};
use writ::identity::{KeyRing, SigningKey, unix_now};
use writ::policy::{Conditions, Source};
use writ::{Engine, Principal};

use crate::keys;
use crate::{EXIT_DENIED, EXIT_ERROR, EXIT_OK, Format, indent_error};

/// How key files are named and read (shown in `--help`).
macro_rules! key_files_help {
    () => {
        "\
Key files:
  A private key is an Ed25519 PKCS#8 PEM (`writ keygen`, or `openssl genpkey -algorithm ed25519`).
  A public key is a PEM (`-----BEGIN PUBLIC KEY-----`) or a JWK (Ed25519 `OKP`, or HMAC `oct`);
  a private PEM also serves as a public key.
  The key id of a PEM file is `--kid` (signing commands), else the `kid: ID` line before the
  PEM block (written by `writ keygen`), else the file name without `.pub`, `.pem`, `.key`,
  `.jwk`, `.json`, `.secret`. A JWK names its own `kid`.
  An HMAC secret file holds the raw secret (at least 32 bytes; trailing newlines are ignored)."
    };
}

/// The key-file notes of `--help`.
pub(crate) const KEY_FILES_HELP: &str = key_files_help!();
/// `--help` notes of `grant mint`.
const MINT_HELP: &str = concat!(
    key_files_help!(),
    "\n\nExit codes: 0 minted (the grant is printed); 1 refused: the child would be wider or \
     deeper than its parent or outlive it, or the parent does not verify or has expired (the \
     reason is printed); 2 error: unreadable or invalid key, scope, grant or argument."
);
/// `--help` notes of `grant verify`.
const VERIFY_HELP: &str = concat!(
    key_files_help!(),
    "\n\nExit codes: 0 valid; 1 invalid (the reason is printed); 2 error: no key, an \
     unreadable or invalid key file."
);

/// Format of the public key `writ keygen` writes.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PublicFormat {
    /// An SPKI PEM preceded by a `kid:` line.
    Pem,
    /// A JWK (it carries its kid).
    Jwk,
}

/// The key that signs: a private PEM or an HMAC secret.
#[derive(Args)]
#[group(required = true, multiple = false)]
pub(crate) struct SignerArgs {
    /// The signing key: an Ed25519 private key PEM file.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Sign with an HMAC-SHA-256 secret read from FILE instead (key id: `--kid`, else the file
    /// name).
    #[arg(long, value_name = "FILE")]
    hmac_secret_file: Option<PathBuf>,
}

impl SignerArgs {
    fn load(&self, kid: Option<&str>) -> Result<SigningKey, String> {
        match (&self.key, &self.hmac_secret_file) {
            (Some(path), _) => keys::signing_key_file(path, kid),
            (None, Some(path)) => keys::hmac_signing_file(path, kid),
            (None, None) => Err("give `--key FILE` or `--hmac-secret-file FILE`".into()),
        }
    }
}

/// `writ grant ...`.
#[derive(Subcommand)]
pub(crate) enum GrantCommand {
    /// Mint a grant for a delegate and print it (`writg2.…`): a root grant for a principal
    /// (`--from`), or a child of a grant (`--parent`) that must be no wider than it.
    #[command(after_help = MINT_HELP)]
    Mint(MintArgs),
    /// Print a grant's chain: root, then each link's delegate, scope, expiry, depth, id and
    /// digest binding. Nothing is verified.
    Inspect {
        /// The grant: the text, `@FILE`, or `-` for stdin.
        grant: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Verify a grant's signatures, hash links, seal, expiry, depth and revocation. Exit 0 valid,
    /// 1 invalid (with the reason), 2 error.
    #[command(after_help = VERIFY_HELP)]
    Verify {
        /// The grant: the text, `@FILE`, or `-` for stdin.
        grant: String,
        /// A key that verifies grant links (repeatable): a public PEM, private PEM or JWK file.
        #[arg(long = "grant-key", value_name = "FILE")]
        grant_keys: Vec<PathBuf>,
        /// An HMAC secret that verifies grant links.
        #[arg(long, value_name = "FILE")]
        hmac_secret_file: Option<PathBuf>,
        /// Key id of `--hmac-secret-file` (default: the file name).
        #[arg(long, requires = "hmac_secret_file")]
        kid: Option<String>,
        /// Verify at this time (Unix seconds) instead of now.
        #[arg(long, value_name = "UNIX")]
        now: Option<u64>,
        /// Grant ids to treat as revoked, comma-separated. Ids are
        /// random base64url and may start with `-`: `--revoked -x1...` is read as an id.
        #[arg(long, value_delimiter = ',', value_name = "ID", allow_hyphen_values = true)]
        revoked: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
}

/// `writ grant mint`.
#[derive(Args)]
pub(crate) struct MintArgs {
    #[command(flatten)]
    signer: SignerArgs,
    /// Key id of the signing key (default: the key file's `kid:` line, else its name).
    #[arg(long)]
    kid: Option<String>,
    /// Mint a root grant carrying this principal's authority (the host authenticated it).
    #[arg(long, value_name = "PRINCIPAL_ID", required_unless_present = "parent")]
    from: Option<String>,
    /// Groups of the `--from` principal, comma-separated.
    #[arg(long, value_delimiter = ',', requires = "from")]
    groups: Vec<String>,
    /// Mint a child of this grant (the text, `@FILE`, or `-` for stdin); it is verified first.
    #[arg(long, value_name = "GRANT", conflicts_with = "from")]
    parent: Option<String>,
    /// Extra keys that verify the parent's links (repeatable); the signing key's own public
    /// half is always used.
    #[arg(long = "grant-key", value_name = "FILE", requires = "parent")]
    grant_keys: Vec<PathBuf>,
    /// The delegate: who will hold the grant.
    #[arg(long, value_name = "DELEGATE")]
    to: String,
    /// The scope, in the rule-condition language (YAML or JSON): inline, or `@FILE`.
    #[arg(long)]
    scope: String,
    /// Lifetime in seconds (at most one day, and never beyond the parent's expiry).
    #[arg(long, value_name = "SECONDS")]
    ttl: u64,
    /// Further levels of delegation the delegate may mint (below the parent's).
    #[arg(long, default_value_t = 0)]
    depth: u32,
    /// Bind the grant to the one request with this digest (single use).
    #[arg(long, value_name = "DIGEST")]
    bound_to: Option<String>,
    /// Check that the scope fits this policy (declared resources, valid conditions).
    #[arg(long, value_name = "POLICY")]
    policy: Option<PathBuf>,
    /// Mint at this time (Unix seconds) instead of now.
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
}

/// `writ approve`.
#[derive(Args)]
pub(crate) struct ApproveArgs {
    /// The digest of the request to approve (`sha256:…`, from the `approval_required`
    /// decision).
    digest: String,
    #[command(flatten)]
    signer: SignerArgs,
    /// Key id of the signing key (default: the key file's `kid:` line, else its name).
    #[arg(long)]
    kid: Option<String>,
    /// Who approves (the host authenticated them).
    #[arg(long, value_name = "ID")]
    approver: String,
    /// The approver's groups, comma-separated; a rule's `approvers` must name one of them.
    #[arg(long, value_delimiter = ',', required = true)]
    groups: Vec<String>,
    /// Lifetime in seconds (at most one day).
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    ttl: u64,
    /// Approve only these rules, comma-separated (default: whichever rules asked).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    rules: Option<Vec<String>>,
    /// Sign at this time (Unix seconds) instead of now.
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
}

/// Why a command did not print what was asked.
enum Failure {
    /// Exit 1: the request was understood and refused.
    Refused(String),
    /// Exit 2: something could not be read or made sense of.
    Error(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure::Error(message)
    }
}

fn finish(result: Result<String, Failure>) -> u8 {
    match result {
        Ok(text) => {
            println!("{text}");
            EXIT_OK
        }
        Err(Failure::Refused(message)) => {
            eprintln!("refused: {message}");
            EXIT_DENIED
        }
        Err(Failure::Error(message)) => {
            eprintln!("error: {message}");
            EXIT_ERROR
        }
    }
}

/// `writ keygen`.
pub(crate) fn keygen(kid: &str, out: Option<&Path>, public: PublicFormat, force: bool) -> u8 {
    let made = SigningKey::ed25519_generate(kid)
        .map_err(|e| e.to_string())
        .and_then(|key| keys::keypair_text(&key, public == PublicFormat::Jwk));
    let (private, public) = match made {
        Ok(pair) => pair,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_ERROR;
        }
    };
    let Some(out) = out else {
        print!("{private}{public}");
        return EXIT_OK;
    };
    let mut public_path = out.as_os_str().to_owned();
    public_path.push(".pub");
    let public_path = PathBuf::from(public_path);
    if !force && let Some(existing) = [out, public_path.as_path()].into_iter().find(|p| p.exists())
    {
        eprintln!("error: `{}` exists; pass `--force` to overwrite it", existing.display());
        return EXIT_ERROR;
    }
    for (path, text, secret) in [(out, &private, true), (public_path.as_path(), &public, false)] {
        if let Err(e) = write_new(path, text, secret, force) {
            eprintln!("error: cannot write `{}`: {e}", path.display());
            return EXIT_ERROR;
        }
    }
    eprintln!(
        "wrote private key `{}` and public key `{}` (kid `{kid}`)",
        out.display(),
        public_path.display()
    );
    EXIT_OK
}

/// Write `text` to a new file (`force`: or over an existing one); a secret is readable by its
/// owner only.
fn write_new(path: &Path, text: &str, secret: bool, force: bool) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(path)?;
    // An existing file keeps its mode when overwritten: set it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = if secret { 0o600 } else { 0o644 };
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// `writ grant mint`.
pub(crate) fn mint(args: &MintArgs) -> u8 {
    finish(try_mint(args))
}

fn try_mint(args: &MintArgs) -> Result<String, Failure> {
    let key = args.signer.load(args.kid.as_deref())?;
    let scope_text = keys::inline_or_file(&args.scope)?;
    let scope: Conditions = serde_norway::from_str(&scope_text)
        .map_err(|e| format!("invalid scope `{}`: {e}", one_line(&scope_text)))?;
    if let Some(policy) = &args.policy {
        scope_fits(policy, &scope)?;
    }
    let now = args.now.unwrap_or_else(unix_now);
    let mut spec = GrantSpec::new(&args.to, scope, args.ttl).depth(args.depth);
    if let Some(digest) = &args.bound_to {
        spec = spec.bound_to(digest);
    }
    let root;
    let parent;
    let authority = match (&args.from, &args.parent) {
        (Some(id), _) => {
            root = Principal::new(id, args.groups.iter().map(|g| g.trim()));
            Authority::Principal(&root)
        }
        (None, Some(text)) => {
            let text = keys::inline_or_file(text)?;
            let mut ring = KeyRing::new().with(key.verifying_key());
            for path in &args.grant_keys {
                ring.insert(keys::verifying_key_file(path)?);
            }
            parent = grant::verify_chain(&text, &ring, now, &Vec::<String>::new())
                .map_err(|e| Failure::Refused(format!("parent grant rejected: {e}")))?;
            Authority::Grant(&parent)
        }
        (None, None) => return Err(Failure::Error("give `--from` or `--parent`".into())),
    };
    // Only a child can be refused (wider, deeper or longer-lived than its parent, or an
    // expired parent); everything else is a mistake in the arguments.
    let from_parent = matches!(authority, Authority::Grant(_));
    match Grant::mint(authority, &spec, &key, now) {
        Ok(grant) => Ok(grant.encode()),
        Err(
            e @ (GrantError::Wider(_) | GrantError::TooDeep { .. } | GrantError::Expired { .. }),
        ) if from_parent => Err(Failure::Refused(e.to_string())),
        Err(e) => Err(Failure::Error(e.to_string())),
    }
}

/// Name of the in-memory document that holds a scope checked against a policy.
const SCOPE_DOCUMENT: &str = "<grant scope>.json";
/// Id of the rule that holds it.
const SCOPE_RULE: &str = "writ-cli-grant-scope";

/// Check that `scope` compiles as an `allow` rule beside the policy's documents: every
/// resource it names is declared, its conditions are valid.
fn scope_fits(policy: &Path, scope: &Conditions) -> Result<(), String> {
    let mut sources = Source::read_path(policy).map_err(|e| indent_error(&e))?;
    let when = without_nulls(serde_json::to_value(scope).map_err(|e| e.to_string())?);
    let document = serde_json::json!({
        "version": 1,
        "rules": [{"id": SCOPE_RULE, "effect": "allow", "when": when}],
    });
    sources.push(Source::new(SCOPE_DOCUMENT, document.to_string()));
    match Engine::compile(&sources) {
        Ok(_) => Ok(()),
        Err(e) => {
            let ours: Vec<String> = e
                .diagnostics()
                .iter()
                .filter(|d| d.file == SCOPE_DOCUMENT)
                .map(|d| d.message.replace(&format!("rule `{SCOPE_RULE}`"), "the scope"))
                .collect();
            if ours.is_empty() {
                Err(indent_error(&e))
            } else {
                Err(format!(
                    "the scope does not fit policy `{}`: {}",
                    policy.display(),
                    ours.join("; ")
                ))
            }
        }
    }
}

/// `value` without `null` members (absent optional conditions), recursively.
pub(crate) fn without_nulls(mut value: serde_json::Value) -> serde_json::Value {
    fn strip(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                map.retain(|_, v| !v.is_null());
                map.values_mut().for_each(strip);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut value);
    value
}

fn one_line(text: &str) -> String {
    crate::one_line(text, 60)
}

/// Said by `grant inspect`, in both formats.
const NOT_VERIFIED: &str = "not verified: signatures, hash links, the seal, expiry and revocation are not checked; use `writ grant verify`";

/// `writ grant inspect`.
pub(crate) fn inspect(grant: &str, format: Format) -> u8 {
    let parsed = keys::inline_or_file(grant)
        .and_then(|text| Grant::parse(&text).map_err(|e| format!("cannot read grant: {e}")));
    let grant = match parsed {
        Ok(grant) => grant,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_ERROR;
        }
    };
    let root = grant.links().first().and_then(|l| l.root.clone());
    let text = match format {
        Format::Json => {
            let links: Vec<serde_json::Value> = grant
                .links()
                .iter()
                .map(|l| without_nulls(serde_json::to_value(l).unwrap_or_default()))
                .collect();
            serde_json::json!({
                "verified": false,
                "note": NOT_VERIFIED,
                "root": root,
                "links": links,
                "bytes": grant.encoded_len(),
            })
            .to_string()
        }
        Format::Human => human_chain(&grant, root.as_ref()),
    };
    println!("{text}");
    EXIT_OK
}

fn human_chain(grant: &Grant, root: Option<&Principal>) -> String {
    let mut out = format!("grant ({NOT_VERIFIED})\n");
    match root {
        Some(p) => {
            let groups = if p.groups.is_empty() { "none".into() } else { p.groups.join(", ") };
            out.push_str(&format!("root: {} (groups: {groups})\n", p.id));
        }
        None => out.push_str("root: none (the first link names no root principal)\n"),
    }
    for (n, link) in grant.links().iter().enumerate() {
        let scope = without_nulls(serde_json::to_value(&link.scope).unwrap_or_default());
        out.push_str(&format!("link {}: `{}`, signed with key `{}`\n", n + 1, link.id, link.kid));
        out.push_str(&format!("  delegate: {}\n", link.sub));
        out.push_str(&format!("  scope:    {scope}\n"));
        out.push_str(&format!("  issued:   {}\n", link.iat));
        out.push_str(&format!(
            "  expires:  {} ({} s after issue)\n",
            link.exp,
            link.exp.saturating_sub(link.iat)
        ));
        let depth = match link.depth {
            0 => "0 (no further delegation)".to_owned(),
            1 => "1 (one further level of delegation)".to_owned(),
            d => format!("{d} (further levels of delegation)"),
        };
        out.push_str(&format!("  depth:    {depth}\n"));
        match &link.digest {
            Some(digest) => out.push_str(&format!("  bound to: {digest} (single use)\n")),
            None => out.push_str("  bound to: no request\n"),
        }
        if let Some(parent) = &link.parent {
            out.push_str(&format!("  parent:   {parent} (hash of link {n})\n"));
        }
    }
    out.push_str(&format!("size: {} bytes", grant.encoded_len()));
    out
}

/// Inputs of `writ grant verify`.
pub(crate) struct VerifyOptions<'a> {
    pub(crate) grant: &'a str,
    pub(crate) grant_keys: &'a [PathBuf],
    pub(crate) hmac_secret_file: Option<&'a Path>,
    pub(crate) kid: Option<&'a str>,
    pub(crate) now: Option<u64>,
    pub(crate) revoked: &'a [String],
    pub(crate) format: Format,
}

/// `writ grant verify`.
pub(crate) fn verify(options: &VerifyOptions<'_>) -> u8 {
    let mut ring = KeyRing::new();
    let loaded = (|| -> Result<String, String> {
        for path in options.grant_keys {
            ring.insert(keys::verifying_key_file(path)?);
        }
        if let Some(path) = options.hmac_secret_file {
            ring.insert(keys::hmac_verifying_file(path, options.kid)?);
        }
        if ring.is_empty() {
            return Err("no key to verify with: give `--grant-key FILE` or `--hmac-secret-file \
                        FILE`"
                .into());
        }
        keys::inline_or_file(options.grant)
    })();
    let text = match loaded {
        Ok(text) => text,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_ERROR;
        }
    };
    let now = options.now.unwrap_or_else(unix_now);
    let revoked: HashSet<String> = options.revoked.iter().cloned().collect();
    let (line, code) = match grant::verify_chain(&text, &ring, now, &revoked) {
        Ok(chain) => {
            let leaf = chain.leaf();
            let delegates: Vec<&str> = chain.links().iter().map(|l| l.sub.as_str()).collect();
            let line = match options.format {
                Format::Json => serde_json::json!({
                    "valid": true,
                    "root": chain.root(),
                    "holder": leaf.sub,
                    "delegates": delegates,
                    "links": chain.links().len(),
                    "expires": leaf.exp,
                    "depth": leaf.depth,
                    "bound_to": leaf.digest,
                    "ids": chain.links().iter().map(|l| l.id.as_str()).collect::<Vec<_>>(),
                })
                .to_string(),
                Format::Human => format!(
                    "valid: held by `{}` for `{}` ({} links: {} > {}); expires at {}",
                    leaf.sub,
                    chain.root().id,
                    chain.links().len(),
                    chain.root().id,
                    delegates.join(" > "),
                    leaf.exp
                ),
            };
            (line, EXIT_OK)
        }
        Err(e) => {
            let line = match options.format {
                Format::Json => {
                    serde_json::json!({"valid": false, "reason": e.to_string()}).to_string()
                }
                Format::Human => format!("invalid: {e}"),
            };
            (line, EXIT_DENIED)
        }
    };
    println!("{line}");
    code
}

/// `writ approve`.
pub(crate) fn approve(args: &ApproveArgs) -> u8 {
    finish(try_approve(args))
}

fn try_approve(args: &ApproveArgs) -> Result<String, Failure> {
    let key = args.signer.load(args.kid.as_deref())?;
    let groups: Vec<&str> =
        args.groups.iter().map(|g| g.trim()).filter(|g| !g.is_empty()).collect();
    if groups.is_empty() {
        return Err(Failure::Error("`--groups` names no group".into()));
    }
    let spec = ApprovalSpec {
        approver: Principal::new(&args.approver, groups),
        digest: args.digest.trim().to_owned(),
        ttl: args.ttl,
        rules: args.rules.clone(),
    };
    Approval::sign(&spec, &key, args.now.unwrap_or_else(unix_now))
        .map_err(|e| Failure::Error(e.to_string()))
}
