//! Key files: how signing and verifying keys reach the CLI.
//!
//! # Decisions
//! - A private key is an Ed25519 PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, as `writ keygen`
//!   or `openssl genpkey -algorithm ed25519` writes it). A public key is an SPKI PEM
//!   (`-----BEGIN PUBLIC KEY-----`) or a JWK (`OKP`/`Ed25519`, or `oct` for HMAC); a private
//!   PEM also serves where a public key is expected (its public half is used).
//! - The key id (`kid`) of a PEM file is, in this order: `--kid` (signing commands only), a
//!   `kid: ID` line before the PEM block (what `writ keygen` writes; PEM readers ignore text
//!   outside the block), the file name without its `.pub`, `.pem`, `.key`, `.jwk`, `.json`
//!   and `.secret` extensions. A JWK names its own `kid`.
//! - An HMAC secret file holds the raw secret; trailing newlines are not part of it. It must
//!   be at least 32 bytes.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use writ::identity::{SigningKey, Trust, VerifyingKey};

/// Extensions dropped from a key file's name to get its key id.
const KEY_EXTENSIONS: &[&str] = &[".pub", ".pem", ".key", ".jwk", ".json", ".secret"];

/// Read a whole file as text, with a one-line error naming it.
pub(crate) fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))
}

/// The text of an argument that may be given inline, as `@FILE`, or as `-` (stdin); trimmed.
pub(crate) fn inline_or_file(arg: &str) -> Result<String, String> {
    if arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        return Ok(text.trim().to_owned());
    }
    match arg.strip_prefix('@') {
        Some(file) => Ok(read_text(Path::new(file))?.trim().to_owned()),
        None => Ok(arg.trim().to_owned()),
    }
}

/// The key id a file name implies: the name without its key extensions.
pub(crate) fn kid_from_path(path: &Path) -> Result<String, String> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let mut kid = name;
    while let Some(stripped) = KEY_EXTENSIONS.iter().find_map(|ext| kid.strip_suffix(ext)) {
        kid = stripped;
    }
    if kid.trim().is_empty() {
        return Err(format!(
            "cannot tell the key id of `{}`: name the file after it or give `--kid`",
            path.display()
        ));
    }
    Ok(kid.to_owned())
}

/// The `kid: ID` line before the first PEM block, if any.
fn kid_line(text: &str) -> Option<&str> {
    text.lines()
        .take_while(|line| !line.starts_with("-----BEGIN "))
        .find_map(|line| line.trim().strip_prefix("kid:"))
        .map(str::trim)
        .filter(|kid| !kid.is_empty())
}

/// The PEM block labelled `label` (`PRIVATE KEY`, `PUBLIC KEY`), boundaries included.
fn pem_block<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let rest = text.get(text.find(&begin)?..)?;
    let stop = rest.find(&end)?.checked_add(end.len())?;
    rest.get(..stop)
}

fn pem_kid(text: &str, path: &Path, kid: Option<&str>) -> Result<String, String> {
    match kid.or_else(|| kid_line(text)) {
        Some(kid) => Ok(kid.to_owned()),
        None => kid_from_path(path),
    }
}

/// A signing key from a private PEM file; `kid` overrides the file's own.
pub(crate) fn signing_key_file(path: &Path, kid: Option<&str>) -> Result<SigningKey, String> {
    let text = read_text(path)?;
    let Some(block) = pem_block(&text, "PRIVATE KEY") else {
        return Err(format!(
            "`{}` holds no private key (expected `-----BEGIN PRIVATE KEY-----`)",
            path.display()
        ));
    };
    let kid = pem_kid(&text, path, kid)?;
    SigningKey::ed25519_from_pem(kid, block).map_err(|e| format!("`{}`: {e}", path.display()))
}

/// The raw secret of an HMAC secret file, trailing newlines removed.
pub(crate) fn secret_file(path: &Path) -> Result<Vec<u8>, String> {
    let mut bytes =
        std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        bytes.pop();
    }
    Ok(bytes)
}

/// An HMAC signing key from a secret file, named `kid` or after the file.
pub(crate) fn hmac_signing_file(path: &Path, kid: Option<&str>) -> Result<SigningKey, String> {
    let kid = match kid {
        Some(kid) => kid.to_owned(),
        None => kid_from_path(path)?,
    };
    SigningKey::hmac(kid, &secret_file(path)?).map_err(|e| format!("`{}`: {e}", path.display()))
}

/// An HMAC verifying key from a secret file, named `kid` or after the file.
pub(crate) fn hmac_verifying_file(path: &Path, kid: Option<&str>) -> Result<VerifyingKey, String> {
    Ok(hmac_signing_file(path, kid)?.verifying_key())
}

/// A verifying key from a public PEM, a private PEM (its public half) or a JWK file.
pub(crate) fn verifying_key_file(path: &Path) -> Result<VerifyingKey, String> {
    let text = read_text(path)?;
    let at = |e: writ::identity::KeyError| format!("`{}`: {e}", path.display());
    if text.trim_start().starts_with('{') {
        return VerifyingKey::from_jwk(&text).map_err(at);
    }
    if let Some(block) = pem_block(&text, "PUBLIC KEY") {
        return VerifyingKey::ed25519_from_pem(pem_kid(&text, path, None)?, block).map_err(at);
    }
    if let Some(block) = pem_block(&text, "PRIVATE KEY") {
        let key = SigningKey::ed25519_from_pem(pem_kid(&text, path, None)?, block).map_err(at)?;
        return Ok(key.verifying_key());
    }
    Err(format!("`{}` holds no public key pem, private key pem or jwk", path.display()))
}

/// The text of a new key pair: the private PEM and the public key (PEM or JWK), each
/// preceded by its `kid:` line (the JWK carries its kid itself).
pub(crate) fn keypair_text(key: &SigningKey, jwk: bool) -> Result<(String, String), String> {
    use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
    use ed25519_dalek::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
    let SigningKey::Ed25519 { kid, key: secret } = key else {
        return Err("only ed25519 keys have a pem form".into());
    };
    let private = secret
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| format!("cannot encode the private key: {e}"))?;
    let private = format!("kid: {kid}\n{}", private.as_str());
    let public = if jwk {
        let Some(jwk) = key.verifying_key().public_jwk() else {
            return Err("cannot export the public key as a jwk".into());
        };
        format!("{jwk}\n")
    } else {
        let pem = secret
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| format!("cannot encode the public key: {e}"))?;
        format!("kid: {kid}\n{pem}")
    };
    Ok((private, public))
}

/// The keys and clock of `writ eval` for requests that carry a token, a grant or an approval.
#[derive(clap::Args)]
pub(crate) struct TrustArgs {
    /// A key that verifies grant links (repeatable): a public PEM, private PEM or JWK file.
    #[arg(long = "grant-key", value_name = "FILE")]
    grant_keys: Vec<PathBuf>,
    /// A key that verifies approval tokens (repeatable): a public PEM, private PEM or JWK file.
    #[arg(long = "approval-key", value_name = "FILE")]
    approval_keys: Vec<PathBuf>,
    /// The shared secret of an `HS256` token issuer (repeatable): the `shared_secret` id the
    /// policy names, and the file holding the secret (trailing newlines are ignored).
    #[arg(long = "shared-secret", value_name = "ID=FILE")]
    shared_secrets: Vec<String>,
    /// An HMAC secret that verifies both grants and approvals (a host that signs and checks).
    #[arg(long, value_name = "FILE", requires = "kid")]
    hmac_secret_file: Option<PathBuf>,
    /// Key id of `--hmac-secret-file`.
    #[arg(long, requires = "hmac_secret_file")]
    kid: Option<String>,
    /// Check at this time (Unix seconds) instead of now: reproducible runs.
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
    /// Grant and approval ids to treat as revoked, comma-separated. Ids are
    /// random base64url and may start with `-`: `--revoked -x1...` is read as an id.
    #[arg(long, value_delimiter = ',', value_name = "ID", allow_hyphen_values = true)]
    revoked: Vec<String>,
}

impl TrustArgs {
    /// Whether any of these flags was given (without them, `eval` checks as it always did).
    pub(crate) fn any(&self) -> bool {
        !self.grant_keys.is_empty()
            || !self.approval_keys.is_empty()
            || !self.shared_secrets.is_empty()
            || self.hmac_secret_file.is_some()
            || self.now.is_some()
            || !self.revoked.is_empty()
    }

    /// The check time, when fixed.
    pub(crate) fn now(&self) -> Option<u64> {
        self.now
    }

    /// The revoked ids.
    pub(crate) fn revoked(&self) -> &[String] {
        &self.revoked
    }

    /// The host trust these flags describe.
    pub(crate) fn trust(&self) -> Result<Trust, String> {
        let mut trust = Trust::new();
        for path in &self.grant_keys {
            trust = trust.grant_key(verifying_key_file(path)?);
        }
        for path in &self.approval_keys {
            trust = trust.approval_key(verifying_key_file(path)?);
        }
        if let Some(path) = &self.hmac_secret_file {
            let key = hmac_verifying_file(path, self.kid.as_deref())?;
            trust = trust.grant_key(key.clone()).approval_key(key);
        }
        for pair in &self.shared_secrets {
            let Some((id, file)) =
                pair.split_once('=').filter(|(id, f)| !id.is_empty() && !f.is_empty())
            else {
                return Err(format!("`--shared-secret {pair}` is not `ID=FILE`"));
            };
            let secret = secret_file(Path::new(file))?;
            if secret.is_empty() {
                return Err(format!("shared secret `{id}` in `{file}` is empty"));
            }
            trust = trust.shared_secret(id, &secret);
        }
        Ok(trust)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    #[test]
    fn kid_from_the_file_name_drops_key_extensions_only() {
        assert_eq!(kid_from_path(Path::new("keys/host-1.pem.pub")).unwrap(), "host-1");
        assert_eq!(kid_from_path(Path::new("host.2024.pem")).unwrap(), "host.2024");
        assert_eq!(kid_from_path(Path::new("a.jwk")).unwrap(), "a");
        assert!(kid_from_path(Path::new(".pem")).is_err());
    }

    #[test]
    fn keypair_text_round_trips_with_its_kid() {
        let key = SigningKey::ed25519_from_seed("host-1", &[5; 32]).unwrap();
        let (private, public) = keypair_text(&key, false).unwrap();
        assert_eq!(kid_line(&private), Some("host-1"));
        assert_eq!(kid_line(&public), Some("host-1"));
        let block = pem_block(&private, "PRIVATE KEY").unwrap();
        let again = SigningKey::ed25519_from_pem("host-1", block).unwrap();
        assert_eq!(again.verifying_key(), key.verifying_key());
        let block = pem_block(&public, "PUBLIC KEY").unwrap();
        let public = VerifyingKey::ed25519_from_pem("host-1", block).unwrap();
        assert_eq!(public, key.verifying_key());
        let (_, jwk) = keypair_text(&key, true).unwrap();
        assert_eq!(VerifyingKey::from_jwk(&jwk).unwrap(), key.verifying_key());
    }
}
