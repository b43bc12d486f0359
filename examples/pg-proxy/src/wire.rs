//! Just enough of the PostgreSQL v3 wire protocol: framing, the fields the proxy reads, and
//! the messages it writes itself.
//!
//! Every message after the startup packet is `type: u8`, `length: i32` (counting itself but
//! not the type byte), then the body. The startup packet (and SSLRequest, GSSENCRequest,
//! CancelRequest) has no type byte: `length: i32`, `code: i32`, rest.

use std::io::{self, Read, Write};

/// Largest message the proxy accepts (the server's own limit for most messages is 1 GB).
const MAX_MESSAGE: usize = 1 << 30;
/// Largest startup packet (the server allows 10 000 bytes).
const MAX_STARTUP: usize = 10_000;

/// Codes of the packets without a type byte.
pub const PROTOCOL_3: i32 = 3 << 16;
/// Asks for TLS; the proxy answers `N` (not supported) and the client goes on in plain text.
pub const SSL_REQUEST: i32 = 80_877_103;
/// Asks for GSSAPI encryption; answered `N` like SSLRequest.
pub const GSSENC_REQUEST: i32 = 80_877_104;
/// Cancels a running query on another connection; passed through to the server.
pub const CANCEL_REQUEST: i32 = 80_877_102;

/// One typed message.
#[derive(Debug, Clone)]
pub struct Message {
    /// The type byte (`Q`, `P`, `D`, …).
    pub tag: u8,
    /// Everything after the length.
    pub body: Vec<u8>,
}

impl Message {
    /// A message with `tag` and `body`.
    pub fn new(tag: u8, body: Vec<u8>) -> Message {
        Message { tag, body }
    }

    /// The framed bytes: type, length, body.
    pub fn encode(&self, out: &mut Vec<u8>) -> io::Result<()> {
        let len = i32::try_from(self.body.len() + 4).map_err(|_| invalid("message too long"))?;
        out.push(self.tag);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.body);
        Ok(())
    }

    /// Write the framed message.
    pub fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        let mut out = Vec::with_capacity(self.body.len() + 5);
        self.encode(&mut out)?;
        w.write_all(&out)
    }
}

/// Read one typed message; `None` at a clean end of stream (between messages).
pub fn read_message(r: &mut impl Read) -> io::Result<Option<Message>> {
    let mut tag = [0u8; 1];
    if r.read(&mut tag)? == 0 {
        return Ok(None);
    }
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let len = usize::try_from(i32::from_be_bytes(len)).map_err(|_| invalid("negative length"))?;
    if !(4..=MAX_MESSAGE).contains(&len) {
        return Err(invalid("message length out of range"));
    }
    let mut body = vec![0u8; len - 4];
    r.read_exact(&mut body)?;
    let [tag] = tag;
    Ok(Some(Message { tag, body }))
}

/// Read a startup-phase packet (no type byte): its code and the bytes after the code.
pub fn read_startup(r: &mut impl Read) -> io::Result<(i32, Vec<u8>)> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let len = usize::try_from(i32::from_be_bytes(len)).map_err(|_| invalid("negative length"))?;
    if !(8..=MAX_STARTUP).contains(&len) {
        return Err(invalid("startup packet length out of range"));
    }
    let mut code = [0u8; 4];
    r.read_exact(&mut code)?;
    let mut rest = vec![0u8; len - 8];
    r.read_exact(&mut rest)?;
    Ok((i32::from_be_bytes(code), rest))
}

/// Frame a startup-phase packet again, to forward it.
pub fn encode_startup(code: i32, rest: &[u8]) -> io::Result<Vec<u8>> {
    let len = i32::try_from(rest.len() + 8).map_err(|_| invalid("startup packet too long"))?;
    let mut out = Vec::with_capacity(rest.len() + 8);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(rest);
    Ok(out)
}

/// The parameters of a startup packet (the bytes after the protocol code: pairs of
/// NUL-terminated strings, then a NUL).
pub fn startup_params(rest: &[u8]) -> io::Result<Vec<(String, String)>> {
    let mut fields = Fields::new(rest);
    let mut params = Vec::new();
    loop {
        let key = fields.cstr()?;
        if key.is_empty() {
            return Ok(params);
        }
        params.push((key, fields.cstr()?));
    }
}

/// A reader over a message body. Every read checks the bounds: a short or malformed message
/// is an error, never a panic.
#[derive(Debug)]
pub struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    /// Read `body` from its start.
    pub fn new(body: &'a [u8]) -> Fields<'a> {
        Fields { rest: body }
    }

    /// `n` bytes.
    pub fn bytes(&mut self, n: usize) -> io::Result<&'a [u8]> {
        if n > self.rest.len() {
            return Err(invalid("message shorter than its fields"));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// One byte.
    pub fn u8(&mut self) -> io::Result<u8> {
        let [b] = self.array::<1>()?;
        Ok(b)
    }

    /// A big-endian `int16`.
    pub fn i16(&mut self) -> io::Result<i16> {
        Ok(i16::from_be_bytes(self.array()?))
    }

    /// A big-endian `int32`.
    pub fn i32(&mut self) -> io::Result<i32> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    /// A NUL-terminated string (UTF-8: the proxy talks to the server in UTF-8 or fails).
    pub fn cstr(&mut self) -> io::Result<String> {
        let end =
            self.rest.iter().position(|&b| b == 0).ok_or_else(|| invalid("unterminated string"))?;
        let s = self.bytes(end)?;
        self.bytes(1)?;
        String::from_utf8(s.to_vec()).map_err(|_| invalid("string is not UTF-8"))
    }

    /// A count (`int16`) that must not be negative.
    pub fn count(&mut self) -> io::Result<usize> {
        usize::try_from(self.i16()?).map_err(|_| invalid("negative count"))
    }

    fn array<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.bytes(N)?);
        Ok(a)
    }
}

/// One column of a `RowDescription`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The column's name in the result.
    pub name: String,
    /// Its type's OID.
    pub type_oid: i32,
    /// 0 = text, 1 = binary (in a RowDescription answering Describe of a statement the
    /// format is not known yet and is 0).
    pub format: i16,
}

/// The columns of a `RowDescription` (`T`) body.
pub fn parse_row_description(body: &[u8]) -> io::Result<Vec<Field>> {
    let mut f = Fields::new(body);
    let n = f.count()?;
    let mut fields = Vec::with_capacity(n);
    for _ in 0..n {
        let name = f.cstr()?;
        let _table_oid = f.i32()?;
        let _attnum = f.i16()?;
        let type_oid = f.i32()?;
        let _typlen = f.i16()?;
        let _typmod = f.i32()?;
        let format = f.i16()?;
        fields.push(Field { name, type_oid, format });
    }
    Ok(fields)
}

/// The values of a `DataRow` (`D`) body: `None` is SQL NULL.
pub fn parse_data_row(body: &[u8]) -> io::Result<Vec<Option<Vec<u8>>>> {
    let mut f = Fields::new(body);
    let n = f.count()?;
    let mut values = Vec::with_capacity(n);
    for _ in 0..n {
        let len = f.i32()?;
        values.push(match usize::try_from(len) {
            Ok(len) => Some(f.bytes(len)?.to_vec()),
            Err(_) if len == -1 => None,
            Err(_) => return Err(invalid("negative value length")),
        });
    }
    Ok(values)
}

/// A `DataRow` rebuilt from its values, every length computed again.
pub fn data_row(values: &[Option<Vec<u8>>]) -> io::Result<Message> {
    let n = i16::try_from(values.len()).map_err(|_| invalid("too many columns"))?;
    let mut body = Vec::new();
    body.extend_from_slice(&n.to_be_bytes());
    for v in values {
        match v {
            None => body.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(bytes) => {
                let len = i32::try_from(bytes.len()).map_err(|_| invalid("value too long"))?;
                body.extend_from_slice(&len.to_be_bytes());
                body.extend_from_slice(bytes);
            }
        }
    }
    Ok(Message::new(b'D', body))
}

/// An `ErrorResponse` with `severity` (`ERROR`, or `FATAL` before the session ends),
/// `sqlstate`, a message and an optional detail.
pub fn error_response(
    severity: &str,
    sqlstate: &str,
    message: &str,
    detail: Option<&str>,
) -> Message {
    let mut body = Vec::new();
    let mut field = |code: u8, value: &str| {
        body.push(code);
        // A NUL inside would end the field early; the texts here come from writ and the
        // policy, so replace it rather than trust it.
        body.extend(value.bytes().map(|b| if b == 0 { b'?' } else { b }));
        body.push(0);
    };
    field(b'S', severity);
    field(b'V', severity);
    field(b'C', sqlstate);
    field(b'M', message);
    if let Some(detail) = detail {
        field(b'D', detail);
    }
    body.push(0);
    Message::new(b'E', body)
}

/// A `ReadyForQuery` with transaction status `I` (idle), `T` (in a block) or `E` (failed block).
pub fn ready_for_query(status: u8) -> Message {
    Message::new(b'Z', vec![status])
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("protocol error: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_rows_round_trip_with_new_lengths() {
        let values = vec![Some(b"42".to_vec()), None, Some(Vec::new()), Some("é@x".into())];
        let msg = data_row(&values).unwrap();
        assert_eq!(parse_data_row(&msg.body).unwrap(), values);
        let mut framed = Vec::new();
        msg.encode(&mut framed).unwrap();
        let back = read_message(&mut framed.as_slice()).unwrap().unwrap();
        assert_eq!(back.tag, b'D');
        assert_eq!(back.body, msg.body);
        // 2 (count) + 4+2 + 4 + 4+0 + 4+4
        assert_eq!(msg.body.len(), 24);
    }

    #[test]
    fn short_and_malformed_bodies_are_errors() {
        assert!(parse_data_row(&[0, 1, 0, 0, 0, 9, b'a']).is_err());
        assert!(parse_data_row(&[0, 1, 0xff, 0xff, 0xff, 0xfe]).is_err());
        assert!(parse_row_description(&[0, 1, b'a']).is_err());
        assert!(read_message(&mut [b'Q', 0, 0, 0, 2].as_slice()).is_err());
        assert!(read_message(&mut [].as_slice()).unwrap().is_none());
    }

    #[test]
    fn startup_params_are_read() {
        let rest = b"user\0alice\0database\0db\0\0";
        let params = startup_params(rest).unwrap();
        assert_eq!(params[0], ("user".to_owned(), "alice".to_owned()));
        assert_eq!(params.len(), 2);
        assert!(startup_params(b"user\0alice").is_err());
    }
}
