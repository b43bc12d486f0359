//! Audit callbacks: a JavaScript function as a `writ::audit::CallbackSink`.
//!
//! # Design: fail closed, never deadlock
//! The core hands each event to its sinks synchronously, on the thread that checks, and a
//! sink's failure denies the request (unless the policy says `audit: {on_failure: continue}`).
//! A JavaScript callback can only run on the JS thread, so there are two cases:
//!
//! - **The check runs on the JS thread** (`check`, `checkSql`, `maskRows`, ...): every such
//!   entry point records the current `napi_env` in a thread-local ([`JsThread`]) for the
//!   duration of the call. The sink sees it and calls the function *directly and
//!   synchronously*, before the check returns. A callback that throws fails the sink, and the
//!   request is denied. Queuing the call instead would deadlock (the JS thread is busy in the
//!   check) or lose fail-closed.
//! - **The check runs on a libuv pool thread** (`checkAsync`, `maskRowsAsync`): the sink
//!   queues the call on the JS thread through a thread-safe function and blocks the pool
//!   thread until the callback has returned or thrown (at most [`ASYNC_TIMEOUT`]). The JS
//!   thread never waits for the pool, so this cannot deadlock; a callback that throws, an
//!   environment that is shutting down, or the timeout all fail the sink (deny).
//!
//! A callback must therefore be synchronous: its return value is ignored, and a promise it
//! returns is not awaited (a rejection cannot deny anything). Events arrive in the order the
//! checks finish on each thread.
//!
//! A callback may check again, but only [`MAX_NESTED`] binding calls deep on the JS thread:
//! past that its event is refused, a sink failure like a throw (that check is denied unless
//! the policy continues on audit failures), instead of recursing until the native stack
//! overflows.

use std::cell::Cell;
use std::sync::mpsc;
use std::thread::ThreadId;
use std::time::Duration;

use napi::bindgen_prelude::{Function, FunctionRef, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};
use writ::audit::CallbackSink;

/// The longest a pool thread waits for the JS thread to run an audit callback.
pub(crate) const ASYNC_TIMEOUT: Duration = Duration::from_secs(30);

/// How many binding calls may be nested on the JS thread (a check made from an audit
/// callback is one level more) before an audit callback is refused rather than called.
pub(crate) const MAX_NESTED: usize = 16;

thread_local! {
    /// The `napi_env` (as an address) of the binding call running on this thread, 0 outside one.
    static CURRENT_ENV: Cell<usize> = const { Cell::new(0) };
    /// How many marked binding calls ([`JsThread`]) are running on this thread, one inside
    /// another.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Marks a synchronous binding call on the JS thread for as long as it lives (nested calls, as
/// from a callback that checks again, restore the outer value).
pub(crate) struct JsThread {
    previous: usize,
}

impl JsThread {
    pub(crate) fn enter(env: &Env) -> JsThread {
        let raw = env.raw() as usize;
        DEPTH.with(|d| d.set(d.get().saturating_add(1)));
        JsThread { previous: CURRENT_ENV.with(|c| c.replace(raw)) }
    }
}

impl Drop for JsThread {
    fn drop(&mut self) {
        let previous = self.previous;
        CURRENT_ENV.with(|c| c.set(previous));
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

type Tsfn = ThreadsafeFunction<String, Unknown<'static>, String, Status, false, true>;

/// A sink calling `callback` with each event's JSON text (see the module docs).
pub(crate) fn sink(
    env: &Env,
    callback: Function<'_, String, Unknown<'static>>,
) -> napi::Result<CallbackSink> {
    let owner_env = env.raw() as usize;
    let owner_thread: ThreadId = std::thread::current().id();
    let direct: FunctionRef<String, Unknown<'static>> = callback.create_ref()?;
    // Weak: a registered callback does not keep the process alive on its own.
    let queued: Tsfn = callback
        .build_threadsafe_function::<String>()
        .callee_handled::<false>()
        .weak::<true>()
        .build()?;
    Ok(CallbackSink::new(move |json: &str| {
        let current = CURRENT_ENV.with(Cell::get);
        if current == owner_env && current != 0 {
            // A callback that checks again on every event it gets would recurse until the
            // native stack overflows and the process dies (each level is mostly native stack,
            // which V8's own limit does not see). Past MAX_NESTED levels the event is refused
            // instead: that check is denied, and the callbacks around it return.
            let depth = DEPTH.with(Cell::get);
            if depth > MAX_NESTED {
                return Err(format!(
                    "the audit callback was not called: checks are nested {depth} deep on this \
                     thread (at most {MAX_NESTED}); does the callback check again on every event?"
                ));
            }
            let env = Env::from_raw(current as napi::sys::napi_env);
            return direct
                .borrow_back(&env)
                .and_then(|f| f.call(json.to_owned()))
                .map(|_| ())
                .map_err(|e| format!("the audit callback threw: {}", e.reason));
        }
        if std::thread::current().id() == owner_thread {
            // On the JS thread but outside a marked call: waiting for the queue would never
            // end. Refuse (the request is denied) rather than hang.
            return Err("the audit callback cannot be reached from here".to_owned());
        }
        let (tx, rx) = mpsc::sync_channel::<Result<(), String>>(1);
        let status = queued.call_with_return_value(
            json.to_owned(),
            ThreadsafeFunctionCallMode::Blocking,
            move |result, _env| {
                let outcome = result
                    .map(|_| ())
                    .map_err(|e| format!("the audit callback threw: {}", e.reason));
                // The waiting side may have timed out and gone: nothing left to tell.
                let _ = tx.send(outcome);
                Ok(())
            },
        );
        if status != Status::Ok {
            return Err(format!("the audit callback could not be queued ({status})"));
        }
        match rx.recv_timeout(ASYNC_TIMEOUT) {
            Ok(outcome) => outcome,
            Err(_) => Err(format!(
                "the audit callback did not return within {} s",
                ASYNC_TIMEOUT.as_secs()
            )),
        }
    }))
}
