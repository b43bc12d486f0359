//! HTTP requests: what an agent's HTTP call really targets.
//!
//! The URL is parsed with the `url` crate (the WHATWG URL standard, as browsers and most HTTP
//! clients parse it), so `/v1/../admin`, `/v1/%2e%2e/admin`, upper-case hosts and default
//! ports come out as the server will see them. Rules match the method, the host and the path.
//!
//! # Invariants
//! - `path` is the normalized path (dot segments resolved); `decoded_path` is the same path
//!   percent-decoded, because many servers decode `%2F` before routing. Path conditions read
//!   in the fail-closed direction: a `deny` or `approval` rule matches when either form
//!   matches, an `allow` rule only when both do.
//! - A method that is not an HTTP token, a URL that does not parse, a URL without a host, or a
//!   scheme other than `http` / `https` makes the view not understood (`error` is set).

use serde::{Deserialize, Serialize};

/// The engine's view of one HTTP request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpView {
    /// The method, upper-case (`GET`).
    pub method: String,
    /// `http` or `https`.
    pub scheme: String,
    /// The host, lower-case, IDNA-encoded for international names (`api.example.com`).
    pub host: String,
    /// The port, when it is not the scheme's default.
    pub port: Option<u16>,
    /// The normalized path (`/v1/users`).
    pub path: String,
    /// The path, percent-decoded (lossily, for invalid UTF-8).
    pub decoded_path: String,
    /// The query string, without `?`.
    pub query: Option<String>,
    /// Why the request could not be understood; `None` when it was.
    pub error: Option<String>,
}

impl HttpView {
    /// False when the method or URL could not be understood.
    pub fn understood(&self) -> bool {
        self.error.is_none()
    }
}

/// Parse an HTTP request's method and URL.
pub fn parse(method: &str, url: &str) -> HttpView {
    let mut view = HttpView { method: method.trim().to_ascii_uppercase(), ..HttpView::default() };
    let is_token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if view.method.is_empty() || !view.method.chars().all(is_token) {
        view.error = Some(format!("`{method}` is not an HTTP method"));
        return view;
    }
    let parsed = match url::Url::parse(url.trim()) {
        Ok(parsed) => parsed,
        Err(e) => {
            view.error = Some(format!("cannot parse URL `{url}`: {e}"));
            return view;
        }
    };
    view.scheme = parsed.scheme().to_owned();
    if view.scheme != "http" && view.scheme != "https" {
        view.error = Some(format!("URL scheme `{}` is not http or https", view.scheme));
        return view;
    }
    let Some(host) = parsed.host_str() else {
        view.error = Some(format!("URL `{url}` has no host"));
        return view;
    };
    view.host = host.to_ascii_lowercase();
    view.port = parsed.port();
    view.path = parsed.path().to_owned();
    view.decoded_path =
        percent_encoding::percent_decode_str(parsed.path()).decode_utf8_lossy().into_owned();
    view.query = parsed.query().map(str::to_owned);
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_what_the_server_sees() {
        let v = parse("get", "HTTPS://API.Example.com:443/v1/../admin/%2e%2e/users?id=1");
        assert_eq!(v.error, None);
        assert_eq!(
            (v.method.as_str(), v.scheme.as_str(), v.host.as_str()),
            ("GET", "https", "api.example.com")
        );
        assert_eq!(v.port, None, "the default port is dropped");
        assert_eq!(v.path, "/users");
        assert_eq!(v.query.as_deref(), Some("id=1"));
    }

    #[test]
    fn keeps_encoded_slashes_apart_from_their_decoded_form() {
        let v = parse("GET", "https://h/admin%2Fusers");
        assert_eq!(v.path, "/admin%2Fusers");
        assert_eq!(v.decoded_path, "/admin/users");
    }

    #[test]
    fn rejects_what_it_cannot_understand() {
        assert!(parse("GET", "not a url").error.is_some());
        assert!(parse("GET", "file:///etc/passwd").error.is_some());
        assert!(parse("GE T", "https://h/").error.is_some());
        assert!(parse("", "https://h/").error.is_some());
        assert!(parse("GET", "https://h:8443/x").port == Some(8443));
    }
}
