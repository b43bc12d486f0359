//! One client connection: the startup exchange, then two pumps.
//!
//! - The **frontend pump** (this thread) reads the client's messages, checks every SQL text
//!   with writ (`Query`, `Parse`), forwards what is allowed and answers what is not itself.
//! - The **backend pump** (its own thread) reads the server's messages, matches each with the
//!   client message it answers, and masks `DataRow`s of results whose decision has a plan.
//!
//! The pumps share a queue of [`Op`]s: one per forwarded message that the server answers, in
//! the order they were sent, so the backend pump knows what each server message belongs to
//! (which statement a `RowDescription` describes, which portal's rows are arriving). The proxy's
//! own answers (an `ErrorResponse` for a refused statement) go through the same queue so the
//! client gets them after the answers to everything it sent before.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::{self, BufReader, BufWriter, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;

use writ::{Decision, Effect, Host, Principal, Request};

use crate::mask::{Row, mask_rows};
use crate::wire::{self, Field, Fields, Message};

/// Settings shared by every connection.
#[derive(Debug)]
pub struct Config {
    /// The policy host: decisions, masking, audit.
    pub host: Host,
    /// The resource the statements are checked against.
    pub resource: String,
    /// The principal id; `None`: `pg:<user>` from the startup packet (a user the server then
    /// authenticates).
    pub principal: Option<String>,
    /// The principal's groups.
    pub groups: Vec<String>,
    /// The server, `host:port`.
    pub upstream: String,
}

/// SQLSTATE of the proxy's refusals: insufficient_privilege.
const INSUFFICIENT_PRIVILEGE: &str = "42501";
/// Startup parameters a client may set; any other (`options`, `search_path`, `replication`,
/// protocol extensions) could change how statements resolve or run, and is refused.
const STARTUP_PARAMS: [&str; 8] = [
    "user",
    "database",
    "application_name",
    "client_encoding",
    "DateStyle",
    "TimeZone",
    "extra_float_digits",
    "IntervalStyle",
];
/// How many `DataRow`s are masked (and audited) as one batch.
const BATCH: usize = 256;

/// A forwarded message the server will answer, or an answer of the proxy's own waiting for
/// its turn.
#[derive(Debug)]
enum Op {
    /// A simple query: rows until `ReadyForQuery`.
    Query(Arc<Decision>),
    /// `Parse` of statement `name`.
    Parse { name: String, decision: Arc<Decision> },
    /// `Bind` of `portal` to `statement`, with the result format codes.
    Bind { portal: String, statement: String, formats: Vec<i16> },
    /// `Describe` of a portal or a statement; `hidden`: sent by the proxy itself to learn a
    /// masked portal's columns, its answer is not for the client.
    Describe { portal: bool, name: String, hidden: bool },
    /// `Execute` of a portal: its rows.
    Execute { portal: String },
    /// `Close` of a portal or a statement.
    Close { portal: bool, name: String },
    /// `Sync`; `refusal` is sent before its `ReadyForQuery` unless the server failed the batch
    /// itself (a statement was refused after other messages of the batch were forwarded).
    Sync { refusal: Option<Message>, failed: bool },
    /// The proxy's own answer: an error and/or a `ReadyForQuery`.
    Answer { error: Option<Message>, ready: bool },
}

/// A statement the server has prepared, and the decision it was allowed with.
#[derive(Debug, Clone)]
struct Prepared {
    decision: Arc<Decision>,
    fields: Option<Arc<Vec<Field>>>,
}

/// A bound portal: its statement's decision, columns and the result formats asked for.
#[derive(Debug, Clone)]
struct Portal {
    decision: Arc<Decision>,
    fields: Option<Arc<Vec<Field>>>,
    formats: Vec<i16>,
}

/// What both pumps share, behind one lock.
struct Shared {
    ops: VecDeque<Op>,
    statements: HashMap<String, Prepared>,
    portals: HashMap<String, Portal>,
    /// The transaction status of the server's last `ReadyForQuery`.
    status: u8,
    client: BufWriter<TcpStream>,
}

impl Shared {
    /// Send the proxy's answer now when nothing is outstanding, else queue it.
    fn answer(&mut self, error: Option<Message>, ready: bool) -> io::Result<()> {
        if self.ops.is_empty() {
            self.write_answer(error.as_ref(), ready)?;
            self.client.flush()
        } else {
            self.ops.push_back(Op::Answer { error, ready });
            Ok(())
        }
    }

    fn write_answer(&mut self, error: Option<&Message>, ready: bool) -> io::Result<()> {
        if let Some(e) = error {
            e.write_to(&mut self.client)?;
        }
        if ready {
            wire::ready_for_query(self.status).write_to(&mut self.client)?;
        }
        Ok(())
    }

    /// Send the queued answers that are now at the front.
    fn drain_answers(&mut self) -> io::Result<()> {
        while let Some(Op::Answer { .. }) = self.ops.front() {
            if let Some(Op::Answer { error, ready }) = self.ops.pop_front() {
                self.write_answer(error.as_ref(), ready)?;
            }
        }
        Ok(())
    }
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A pump that panicked leaves the queue as it was between two messages.
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Serve one client until either side closes.
pub fn serve(client: TcpStream, config: &Arc<Config>) -> io::Result<()> {
    let mut from_client = BufReader::new(client.try_clone()?);
    let (code, rest) = loop {
        let (code, rest) = match wire::read_startup(&mut from_client) {
            Ok(packet) => packet,
            // A connection closed before its startup packet (a port probe): nothing to do.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        };
        if code == wire::SSL_REQUEST || code == wire::GSSENC_REQUEST {
            // No TLS here: `N` makes the client go on in plain text (or give up, if it must
            // have TLS).
            (&client).write_all(b"N")?;
            continue;
        }
        break (code, rest);
    };
    if code != wire::CANCEL_REQUEST && code >> 16 != wire::PROTOCOL_3 >> 16 {
        return Err(io::Error::other(format!("unsupported protocol code {code}")));
    }
    if code == wire::CANCEL_REQUEST {
        // The key in it came from the server through us unchanged: the server checks it.
        let server = TcpStream::connect(&config.upstream)?;
        return (&server).write_all(&wire::encode_startup(code, &rest)?);
    }
    let params = wire::startup_params(&rest)?;
    if let Some((key, _)) = params.iter().find(|(k, _)| !STARTUP_PARAMS.contains(&k.as_str())) {
        // `options`, `search_path`, `replication`… would change what statements mean or run
        // without writ seeing them.
        let text = format!("writ: startup parameter `{key}` is not allowed through writ-pg-proxy");
        let e = wire::error_response("FATAL", INSUFFICIENT_PRIVILEGE, &text, None);
        e.write_to(&mut &client)?;
        return Ok(());
    }
    let server = TcpStream::connect(&config.upstream)?;
    (&server).write_all(&wire::encode_startup(code, &rest)?)?;
    let user = params.iter().find(|(k, _)| k == "user").map(|(_, v)| v.clone());
    let user = user.unwrap_or_default();
    let id = config.principal.clone().unwrap_or_else(|| format!("pg:{user}"));
    let principal = Principal::new(id, config.groups.iter().cloned());

    let shared = Arc::new(Mutex::new(Shared {
        ops: VecDeque::new(),
        statements: HashMap::new(),
        portals: HashMap::new(),
        status: b'I',
        client: BufWriter::new(client.try_clone()?),
    }));
    let backend = Backend {
        config: Arc::clone(config),
        principal: principal.clone(),
        shared: Arc::clone(&shared),
        fields: None,
        rows: Vec::new(),
        target: None,
        discarding: false,
    };
    let from_server = BufReader::new(server.try_clone()?);
    let client_end = client.try_clone()?;
    let backend = thread::spawn(move || {
        let result = backend.run(from_server);
        // The server went away (or the pump failed): end the client's side too, so the
        // frontend pump stops waiting for it.
        let _ = client_end.shutdown(Shutdown::Both);
        result
    });

    let mut frontend = Frontend {
        config: Arc::clone(config),
        principal,
        shared,
        server: BufWriter::new(server.try_clone()?),
        prepared: HashMap::new(),
        masked_portals: HashSet::new(),
        batch_forwarded: false,
        refusing: None,
    };
    let result = frontend.run(&mut from_client);
    // Whichever side ended, end the other.
    let _ = server.shutdown(Shutdown::Both);
    let _ = client.shutdown(Shutdown::Both);
    let backend_result = backend.join().unwrap_or_else(|_| Err(io::Error::other("pump panicked")));
    result.and(backend_result)
}

/// A statement refused in the extended protocol: the rest of the batch is skipped until
/// `Sync`, like the server does after an error.
#[derive(Debug)]
enum Refusing {
    /// The error was sent (or queued) already.
    Answered,
    /// Messages of this batch were forwarded before the refusal: the error goes out just
    /// before the server's `ReadyForQuery` for the batch's `Sync`.
    AtSync(Message),
}

struct Frontend {
    config: Arc<Config>,
    principal: Principal,
    shared: Arc<Mutex<Shared>>,
    server: BufWriter<TcpStream>,
    /// Statement names parsed (and allowed) through this proxy, and whether their decision
    /// has a mask plan: only those may be bound.
    prepared: HashMap<String, bool>,
    /// Portals bound to a statement with a mask plan.
    masked_portals: HashSet<String>,
    /// Something of the current extended-protocol batch went to the server.
    batch_forwarded: bool,
    refusing: Option<Refusing>,
}

impl Frontend {
    fn run(&mut self, from_client: &mut BufReader<TcpStream>) -> io::Result<()> {
        while let Some(msg) = wire::read_message(from_client)? {
            let skipping = self.refusing.is_some();
            match msg.tag {
                b'Q' => self.query(&msg)?,
                b'P' | b'B' | b'D' | b'E' | b'C' | b'H' if skipping => {}
                b'P' => self.parse(&msg)?,
                b'B' => self.bind(&msg)?,
                b'D' | b'C' => {
                    let mut f = Fields::new(&msg.body);
                    let portal = f.u8()? == b'P';
                    let name = f.cstr()?;
                    let op = if msg.tag == b'D' {
                        Op::Describe { portal, name, hidden: false }
                    } else {
                        if portal {
                            self.masked_portals.remove(&name);
                        } else {
                            self.prepared.remove(&name);
                        }
                        Op::Close { portal, name }
                    };
                    self.forward(Some(op), &msg)?;
                }
                b'E' => {
                    let portal = Fields::new(&msg.body).cstr()?;
                    if self.masked_portals.contains(&portal) {
                        // The rows can only be masked with the portal's columns: ask for them
                        // (the client may not have), and keep the answer to ourselves.
                        let mut body = vec![b'P'];
                        body.extend_from_slice(portal.as_bytes());
                        body.push(0);
                        let describe = Message::new(b'D', body);
                        let op = Op::Describe { portal: true, name: portal.clone(), hidden: true };
                        self.forward(Some(op), &describe)?;
                    }
                    self.forward(Some(Op::Execute { portal }), &msg)?;
                }
                b'H' => self.forward(None, &msg)?,
                b'S' => self.sync(&msg)?,
                b'F' => {
                    // A function call by OID carries no SQL for writ to check: refused.
                    let e = refusal_error("function calls by OID are not allowed", None);
                    lock(&self.shared).answer(Some(e), true)?;
                }
                b'X' => {
                    msg.write_to(&mut self.server)?;
                    self.server.flush()?;
                    return Ok(());
                }
                // Authentication answers, COPY data from the client: passed through.
                _ => msg.write_to(&mut self.server)?,
            }
            if from_client.buffer().is_empty() {
                self.server.flush()?;
            }
        }
        Ok(())
    }

    fn check(&self, sql: &str) -> Decision {
        let request = Request::sql(self.principal.clone(), &self.config.resource, sql);
        self.config.host.check(&request).decision
    }

    /// Queue what the server will answer, then send the message.
    fn forward(&mut self, op: Option<Op>, msg: &Message) -> io::Result<()> {
        if let Some(op) = op {
            let extended = !matches!(op, Op::Query(_) | Op::Sync { .. });
            self.batch_forwarded |= extended;
            lock(&self.shared).ops.push_back(op);
        }
        msg.write_to(&mut self.server)
    }

    fn query(&mut self, msg: &Message) -> io::Result<()> {
        let sql = Fields::new(&msg.body).cstr()?;
        let decision = self.check(&sql);
        match refusal(&decision) {
            None => self.forward(Some(Op::Query(Arc::new(decision))), msg),
            Some(error) => lock(&self.shared).answer(Some(error), true),
        }
    }

    fn parse(&mut self, msg: &Message) -> io::Result<()> {
        let mut f = Fields::new(&msg.body);
        let name = f.cstr()?;
        let sql = f.cstr()?;
        let decision = self.check(&sql);
        match refusal(&decision) {
            None => {
                self.prepared.insert(name.clone(), decision.mask.is_some());
                self.forward(Some(Op::Parse { name, decision: Arc::new(decision) }), msg)
            }
            Some(error) => {
                // A failed Parse of the unnamed statement drops the old one on the server too.
                self.prepared.remove(&name);
                self.refuse(error)
            }
        }
    }

    fn bind(&mut self, msg: &Message) -> io::Result<()> {
        let mut f = Fields::new(&msg.body);
        let portal = f.cstr()?;
        let statement = f.cstr()?;
        let Some(&masked) = self.prepared.get(&statement) else {
            let text = format!(
                "prepared statement \"{statement}\" was not prepared through writ-pg-proxy"
            );
            return self.refuse(refusal_error(&text, None));
        };
        if masked {
            self.masked_portals.insert(portal.clone());
        } else {
            self.masked_portals.remove(&portal);
        }
        let n = f.count()?;
        f.bytes(2 * n)?;
        for _ in 0..f.count()? {
            let len = f.i32()?;
            if let Ok(len) = usize::try_from(len) {
                f.bytes(len)?;
            }
        }
        let formats = (0..f.count()?).map(|_| f.i16()).collect::<io::Result<Vec<i16>>>()?;
        self.forward(Some(Op::Bind { portal, statement, formats }), msg)
    }

    /// Skip the rest of the batch; answer with `error` now if nothing of it was forwarded.
    fn refuse(&mut self, error: Message) -> io::Result<()> {
        self.refusing = Some(if self.batch_forwarded {
            Refusing::AtSync(error)
        } else {
            lock(&self.shared).answer(Some(error), false)?;
            Refusing::Answered
        });
        Ok(())
    }

    fn sync(&mut self, msg: &Message) -> io::Result<()> {
        self.batch_forwarded = false;
        match self.refusing.take() {
            None => self.forward(Some(Op::Sync { refusal: None, failed: false }), msg),
            Some(Refusing::AtSync(e)) => {
                self.forward(Some(Op::Sync { refusal: Some(e), failed: false }), msg)
            }
            Some(Refusing::Answered) => lock(&self.shared).answer(None, true),
        }
    }
}

/// `None` when the statement may go to the server; else the error the client gets.
fn refusal(d: &Decision) -> Option<Message> {
    let rules =
        if d.rules.is_empty() { String::new() } else { format!(" [{}]", d.rules.join(", ")) };
    match d.effect {
        // The plan covers the last statement returning rows only: the rows of the others
        // could not be masked.
        Effect::Allow if d.mask.is_some() && d.parts.len() > 1 => Some(refusal_error(
            "several statements in one query on masked data: send them one at a time",
            None,
        )),
        Effect::Allow => None,
        Effect::Deny => Some(refusal_error(&format!("denied: {}{rules}", d.reason), None)),
        Effect::ApprovalRequired => Some(refusal_error(
            &format!("approval required: {}{rules}", d.reason),
            Some(&format!("request digest {}", d.digest)),
        )),
    }
}

fn refusal_error(text: &str, detail: Option<&str>) -> Message {
    wire::error_response("ERROR", INSUFFICIENT_PRIVILEGE, &format!("writ: {text}"), detail)
}

/// The result the waiting `DataRow`s belong to.
#[derive(Debug, Clone)]
struct Target {
    decision: Arc<Decision>,
    fields: Arc<Vec<Field>>,
}

struct Backend {
    config: Arc<Config>,
    principal: Principal,
    shared: Arc<Mutex<Shared>>,
    /// Columns of the current simple-query result.
    fields: Option<Arc<Vec<Field>>>,
    /// Rows waiting to be masked, and what they belong to.
    rows: Vec<Row>,
    target: Option<Target>,
    /// The proxy failed the current result closed: drop the server's messages until its
    /// `ReadyForQuery`.
    discarding: bool,
}

impl Backend {
    fn run(mut self, mut from_server: BufReader<TcpStream>) -> io::Result<()> {
        let shared = Arc::clone(&self.shared);
        while let Some(msg) = wire::read_message(&mut from_server)? {
            let mut sh = lock(&shared);
            if msg.tag != b'D' {
                self.flush_rows(&mut sh)?;
            }
            self.on_message(&mut sh, msg)?;
            if from_server.buffer().is_empty() {
                self.flush_rows(&mut sh)?;
                sh.client.flush()?;
            }
        }
        lock(&shared).client.flush()
    }

    fn pass(&self, sh: &mut Shared, msg: &Message) -> io::Result<()> {
        if self.discarding { Ok(()) } else { msg.write_to(&mut sh.client) }
    }

    /// Refuse the current result: an error now, nothing more from the server until its
    /// `ReadyForQuery`.
    fn fail_closed(&mut self, sh: &mut Shared, text: &str) -> io::Result<()> {
        self.rows.clear();
        if !self.discarding {
            refusal_error(text, None).write_to(&mut sh.client)?;
            self.discarding = true;
        }
        Ok(())
    }

    fn on_message(&mut self, sh: &mut Shared, msg: Message) -> io::Result<()> {
        match msg.tag {
            b'1' => {
                if let Some(Op::Parse { name, decision }) =
                    pop(sh, |o| matches!(o, Op::Parse { .. }))
                {
                    sh.statements.insert(name, Prepared { decision, fields: None });
                }
            }
            b'2' => {
                if let Some(Op::Bind { portal, statement, formats }) =
                    pop(sh, |o| matches!(o, Op::Bind { .. }))
                {
                    if let Some(s) = sh.statements.get(&statement).cloned() {
                        let portal_state =
                            Portal { decision: s.decision, fields: s.fields, formats };
                        sh.portals.insert(portal, portal_state);
                    } else {
                        sh.portals.remove(&portal);
                    }
                }
            }
            b'T' | b'n' => {
                let fields = if msg.tag == b'T' {
                    wire::parse_row_description(&msg.body)?
                } else {
                    Vec::new()
                };
                match sh.ops.front() {
                    Some(Op::Query(_)) => self.fields = Some(Arc::new(fields)),
                    Some(Op::Describe { .. }) => {
                        if let Some(Op::Describe { portal, name, hidden }) = sh.ops.pop_front() {
                            describe(sh, portal, &name, fields);
                            if hidden {
                                return Ok(());
                            }
                        }
                    }
                    _ => return self.fail_closed(sh, "unexpected row description"),
                }
            }
            b'D' => return self.data_row(sh, msg),
            b'C' | b'I' | b's' => {
                self.fields = None;
                if let Some(Op::Execute { .. }) = sh.ops.front() {
                    sh.ops.pop_front();
                }
            }
            b'3' => {
                if let Some(Op::Close { portal, name }) = pop(sh, |o| matches!(o, Op::Close { .. }))
                {
                    if portal {
                        sh.portals.remove(&name);
                    } else {
                        sh.statements.remove(&name);
                    }
                }
            }
            b'E' => {
                // In the extended protocol the server skips to the Sync after an error.
                while let Some(op) = sh.ops.front_mut() {
                    match op {
                        Op::Query(_) | Op::Answer { .. } => break,
                        Op::Sync { failed, .. } => {
                            *failed = true;
                            break;
                        }
                        _ => {
                            sh.ops.pop_front();
                        }
                    }
                }
            }
            b'H' | b'W' => {
                // COPY ... TO STDOUT: its rows are not `DataRow`s and are not masked, and writ
                // gives `COPY table TO STDOUT` no mask plan: refused whatever the decision.
                return self.fail_closed(sh, "COPY TO STDOUT is not supported by writ-pg-proxy");
            }
            b'Z' => {
                let status = *msg.body.first().unwrap_or(&b'I');
                sh.status = status;
                self.fields = None;
                match sh.ops.pop_front() {
                    Some(Op::Sync { refusal: Some(e), failed: false }) if !self.discarding => {
                        e.write_to(&mut sh.client)?;
                    }
                    // `None`: the ReadyForQuery that ends the startup exchange.
                    Some(Op::Query(_) | Op::Sync { .. }) | None => {}
                    // Server output no message of ours announced: fail closed.
                    _ => return Err(io::Error::other("ReadyForQuery out of order")),
                }
                self.discarding = false;
                msg.write_to(&mut sh.client)?;
                return sh.drain_answers();
            }
            _ => {}
        }
        self.pass(sh, &msg)
    }

    fn data_row(&mut self, sh: &mut Shared, msg: Message) -> io::Result<()> {
        if self.discarding {
            return Ok(());
        }
        let (decision, fields) = match sh.ops.front() {
            Some(Op::Query(d)) => (Some(Arc::clone(d)), self.fields.clone()),
            Some(Op::Execute { portal }) => match sh.portals.get(portal) {
                Some(p) => (Some(Arc::clone(&p.decision)), with_formats(p)),
                None => (None, None),
            },
            _ => (None, None),
        };
        let Some(decision) = decision else {
            return self.fail_closed(sh, "rows of a statement writ-pg-proxy did not check");
        };
        if decision.mask.is_none() {
            return msg.write_to(&mut sh.client);
        }
        let Some(fields) = fields else {
            return self.fail_closed(sh, "rows without a row description cannot be masked");
        };
        self.rows.push(wire::parse_data_row(&msg.body)?);
        self.target = Some(Target { decision, fields });
        if self.rows.len() >= BATCH {
            self.flush_rows(sh)?;
        }
        Ok(())
    }

    /// Mask the waiting rows as one batch (one audit event) and send them.
    fn flush_rows(&mut self, sh: &mut Shared) -> io::Result<()> {
        let Some(target) = self.target.take() else { return Ok(()) };
        if self.rows.is_empty() {
            return Ok(());
        }
        let mut rows = std::mem::take(&mut self.rows);
        let c = &self.config;
        match mask_rows(
            &c.host,
            &self.principal,
            &c.resource,
            &target.decision,
            &target.fields,
            &mut rows,
        ) {
            Ok(()) => {
                for row in &rows {
                    wire::data_row(row)?.write_to(&mut sh.client)?;
                }
                Ok(())
            }
            Err(text) => self.fail_closed(sh, &text),
        }
    }
}

/// Pop the front op when it is the kind `is` expects; anything else is left alone.
fn pop(sh: &mut Shared, is: impl Fn(&Op) -> bool) -> Option<Op> {
    if sh.ops.front().is_some_and(is) { sh.ops.pop_front() } else { None }
}

/// Record the columns a Describe answered with.
fn describe(sh: &mut Shared, portal: bool, name: &str, fields: Vec<Field>) {
    let fields = Some(Arc::new(fields));
    if portal {
        if let Some(p) = sh.portals.get_mut(name) {
            p.fields = fields;
        }
    } else if let Some(s) = sh.statements.get_mut(name) {
        s.fields = fields;
    }
}

/// A portal's columns with the formats its Bind asked for (none: all text; one: for all).
fn with_formats(p: &Portal) -> Option<Arc<Vec<Field>>> {
    let fields = p.fields.as_ref()?;
    let mut out = Vec::with_capacity(fields.len());
    for (i, f) in fields.iter().enumerate() {
        let format = match p.formats.as_slice() {
            [] => 0,
            [one] => *one,
            many => *many.get(i)?,
        };
        out.push(Field { format, ..f.clone() });
    }
    Some(Arc::new(out))
}
