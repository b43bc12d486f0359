//! Walks the brush-parser AST and collects every command that would run.

use brush_parser::ast;

use super::word::{self, BraceBounds, Mode};
use super::{CommandLineView, CommandView, Limits, guard};

/// Where a command is: the wrappers/shells above it and the recursion depth.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    /// Wrappers and shells, outermost first.
    pub via: Vec<String>,
    /// Recursion depth (re-parsed code and unwrapped wrappers).
    pub depth: usize,
}

impl Frame {
    /// The frame of the line itself.
    pub(crate) fn top() -> Self {
        Self { via: Vec::new(), depth: 0 }
    }

    /// A frame one level deeper, optionally reached through `label`.
    pub(crate) fn child(&self, label: Option<&str>) -> Self {
        let mut via = self.via.clone();
        if let Some(l) = label {
            via.push(l.to_owned());
        }
        Self { via, depth: self.depth + 1 }
    }
}

/// A decoded argument.
#[derive(Debug, Clone)]
pub(crate) struct Arg {
    /// Decoded text (source text for expansions).
    pub text: String,
    /// Contains an expansion with an unknown value.
    pub dynamic: bool,
    /// Contains an unquoted glob.
    pub glob: bool,
    /// Contains `${x@P}`.
    pub prompt: bool,
}

impl Arg {
    /// A literal argument (exec-style argv, split strings).
    pub(crate) fn literal(text: &str) -> Self {
        Self { text: text.to_owned(), dynamic: false, glob: false, prompt: false }
    }
}

/// What a command's standard input is.
#[derive(Debug, Clone)]
pub(crate) enum Stdin {
    /// Whatever the caller provides (terminal, unknown stream).
    Inherited,
    /// A pipe or another unknown stream.
    Pipe,
    /// A here-document (`<<`) or here-string (`<<<`).
    Doc {
        /// The text the command reads.
        text: String,
        /// False when the text depends on expansions.
        literal: bool,
        /// `<<` or `<<<`.
        label: &'static str,
    },
    /// A named file (`< file`).
    File,
}

/// Collects commands for one line.
pub(crate) struct Analyzer<'l> {
    pub(super) limits: &'l Limits,
    pub(super) commands: Vec<CommandView>,
    pub(super) error: Option<String>,
    /// The bound of [`Limits`] behind `error`, when a bound was the reason.
    pub(super) limit: Option<&'static str>,
    /// Source text (as chars) of the code being walked, innermost last.
    sources: Vec<Vec<char>>,
}

impl<'l> Analyzer<'l> {
    /// A fresh analyzer.
    pub(crate) fn new(limits: &'l Limits) -> Self {
        Self { limits, commands: Vec::new(), error: None, limit: None, sources: Vec::new() }
    }

    /// The final view.
    pub(crate) fn finish(self) -> CommandLineView {
        let dynamic = self.error.is_some() || self.commands.iter().any(|c| c.dynamic);
        CommandLineView {
            commands: self.commands,
            dynamic,
            error: self.error,
            limit: self.limit.map(str::to_owned),
        }
    }

    /// Records the first error (with the `via` context).
    pub(super) fn fail(&mut self, frame: &Frame, message: &str) {
        if self.error.is_none() {
            let msg = if frame.via.is_empty() {
                message.to_owned()
            } else {
                format!("in {}: {message}", frame.via.join(" > "))
            };
            self.error = Some(msg);
        }
    }

    /// Records the first error, which is that the bound `key` of [`Limits`] was exceeded.
    pub(super) fn fail_limit(&mut self, frame: &Frame, key: &'static str, message: &str) {
        if self.error.is_none() {
            self.limit = Some(key);
        }
        self.fail(frame, message);
    }

    /// Records a refusal of the guard or of brace expansion.
    fn refused(&mut self, frame: &Frame, refused: &guard::Refused) {
        match refused.limit {
            Some(key) => self.fail_limit(frame, key, &refused.message),
            None => self.fail(frame, &refused.message),
        }
    }

    pub(super) fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// Checks the recursion bound; records an error when over it.
    pub(super) fn too_deep(&mut self, frame: &Frame) -> bool {
        if frame.depth > self.limits.max_recursion_depth {
            self.fail_limit(
                frame,
                "command.max_recursion_depth",
                &format!("recursion depth over the limit of {}", self.limits.max_recursion_depth),
            );
            return true;
        }
        false
    }

    /// Parses shell code and walks it.
    pub(crate) fn parse_code(&mut self, code: &str, frame: &Frame) {
        if self.failed() || self.too_deep(frame) {
            return;
        }
        let text = match guard::prepare(code, self.limits) {
            Ok(t) => t,
            Err(e) => return self.refused(frame, &e),
        };
        // What `Parser::parse_program` does, in two steps, so that the words can be checked
        // between tokenizing and the grammar (see `guard::check_subscripts`).
        let limits = self.limits;
        let parsed = std::panic::catch_unwind(|| {
            let options = brush_parser::ParserOptions::default();
            let tokens = brush_parser::uncached_tokenize_str(&text, &options.tokenizer_options())
                .map_err(|inner| {
                let error = brush_parser::ParseError::Tokenizing { inner, position: None };
                guard::Refused::from(format!("syntax error: {error}"))
            })?;
            let words = tokens.iter().filter_map(|token| match token {
                brush_parser::Token::Word(word, _) => Some(word.as_str()),
                brush_parser::Token::Operator(..) => None,
            });
            guard::check_subscripts(words, limits)?;
            brush_parser::parse_tokens(&tokens, &options)
                .map_err(|e| guard::Refused::from(format!("syntax error: {e}")))
        });
        match parsed {
            Ok(Ok(program)) => {
                self.sources.push(text.chars().collect());
                for list in &program.complete_commands {
                    self.walk_list(list, frame);
                }
                self.sources.pop();
            }
            Ok(Err(refused)) => self.refused(frame, &refused),
            Err(_) => self.fail(frame, "internal error: grammar panicked"),
        }
    }

    /// Analyses an exec-style argv.
    pub(crate) fn analyze_exec_argv(&mut self, argv: &[String]) {
        let args = argv.iter().map(|a| Arg::literal(a)).collect();
        self.run_command(args, &Frame::top(), Stdin::Inherited, false);
    }

    fn walk_list(&mut self, list: &ast::CompoundList, frame: &Frame) {
        for item in &list.0 {
            let and_or = &item.0;
            self.walk_pipeline(&and_or.first, frame);
            for next in &and_or.additional {
                match next {
                    ast::AndOr::And(p) | ast::AndOr::Or(p) => self.walk_pipeline(p, frame),
                }
            }
        }
    }

    fn walk_pipeline(&mut self, pipeline: &ast::Pipeline, frame: &Frame) {
        for (index, command) in pipeline.seq.iter().enumerate() {
            self.walk_command(command, frame, index > 0);
        }
    }

    fn walk_command(&mut self, command: &ast::Command, frame: &Frame, piped: bool) {
        if self.failed() {
            return;
        }
        match command {
            ast::Command::Simple(simple) => self.walk_simple(simple, frame, piped),
            ast::Command::Compound(compound, redirects) => {
                if let Some(r) = redirects {
                    self.walk_redirect_list(r, frame);
                }
                self.walk_compound(compound, frame);
            }
            ast::Command::Function(def) => {
                if let Some(r) = &def.body.1 {
                    self.walk_redirect_list(r, frame);
                }
                self.walk_compound(&def.body.0, frame);
            }
            ast::Command::ExtendedTest(test, redirects) => {
                if let Some(r) = redirects {
                    self.walk_redirect_list(r, frame);
                }
                self.walk_ext_test(&test.expr, frame);
            }
        }
    }

    fn walk_redirect_list(&mut self, list: &ast::RedirectList, frame: &Frame) {
        let mut stdin = Stdin::Inherited;
        for r in &list.0 {
            self.walk_redirect(r, frame, &mut stdin);
        }
    }

    fn walk_ext_test(&mut self, expr: &ast::ExtendedTestExpr, frame: &Frame) {
        match expr {
            ast::ExtendedTestExpr::And(a, b) | ast::ExtendedTestExpr::Or(a, b) => {
                self.walk_ext_test(a, frame);
                self.walk_ext_test(b, frame);
            }
            ast::ExtendedTestExpr::Not(a) | ast::ExtendedTestExpr::Parenthesized(a) => {
                self.walk_ext_test(a, frame);
            }
            ast::ExtendedTestExpr::UnaryTest(_, w) => {
                self.decode_for_subs(&w.value, Mode::Word, frame);
            }
            ast::ExtendedTestExpr::BinaryTest(_, a, b) => {
                self.decode_for_subs(&a.value, Mode::Word, frame);
                self.decode_for_subs(&b.value, Mode::Word, frame);
            }
        }
    }

    fn walk_compound(&mut self, compound: &ast::CompoundCommand, frame: &Frame) {
        match compound {
            ast::CompoundCommand::Arithmetic(a) => {
                // brush-parser 0.4.0 also reads nested subshells `( (list) )` as an
                // arithmetic command; only an adjacent `((` is arithmetic for bash.
                let start = a.loc.start.index;
                let adjacent = self.sources.last().is_some_and(|src| {
                    src.get(start) == Some(&'(') && src.get(start + 1) == Some(&'(')
                });
                if adjacent {
                    self.decode_for_subs(&a.expr.value, Mode::Word, frame);
                } else {
                    // strictly shorter text: terminates without counting as recursion
                    self.parse_code(&a.expr.value, frame);
                }
            }
            ast::CompoundCommand::ArithmeticForClause(f) => {
                for e in [&f.initializer, &f.condition, &f.updater].into_iter().flatten() {
                    self.decode_for_subs(&e.value, Mode::Word, frame);
                }
                self.walk_list(&f.body.list, frame);
            }
            ast::CompoundCommand::BraceGroup(g) => self.walk_list(&g.list, frame),
            ast::CompoundCommand::Subshell(s) => self.walk_list(&s.list, frame),
            ast::CompoundCommand::ForClause(f) => {
                for w in f.values.iter().flatten() {
                    self.decode_for_subs(&w.value, Mode::Word, frame);
                }
                self.walk_list(&f.body.list, frame);
            }
            ast::CompoundCommand::CaseClause(c) => {
                self.decode_for_subs(&c.value.value, Mode::Word, frame);
                for item in &c.cases {
                    for p in &item.patterns {
                        self.decode_for_subs(&p.value, Mode::Word, frame);
                    }
                    if let Some(cmd) = &item.cmd {
                        self.walk_list(cmd, frame);
                    }
                }
            }
            ast::CompoundCommand::IfClause(i) => {
                self.walk_list(&i.condition, frame);
                self.walk_list(&i.then, frame);
                for e in i.elses.iter().flatten() {
                    if let Some(c) = &e.condition {
                        self.walk_list(c, frame);
                    }
                    self.walk_list(&e.body, frame);
                }
            }
            ast::CompoundCommand::WhileClause(w) | ast::CompoundCommand::UntilClause(w) => {
                self.walk_list(&w.0, frame);
                self.walk_list(&w.1.list, frame);
            }
            ast::CompoundCommand::Coprocess(c) => {
                if let Some(n) = &c.name {
                    self.decode_for_subs(&n.value, Mode::Word, frame);
                }
                self.walk_command(&c.body, frame, false);
            }
        }
    }

    /// Decodes a text, re-parsing its command substitutions.
    pub(super) fn decode_for_subs(
        &mut self,
        raw: &str,
        mode: Mode,
        frame: &Frame,
    ) -> Option<word::Decoded> {
        if self.failed() {
            return None;
        }
        match word::decode(raw, mode) {
            Ok(d) => {
                let sub_frame = frame.child(None);
                for code in &d.subs {
                    self.parse_code(code, &sub_frame);
                }
                Some(d)
            }
            Err(e) => {
                self.fail(frame, &e);
                None
            }
        }
    }

    fn walk_redirect(&mut self, r: &ast::IoRedirect, frame: &Frame, stdin: &mut Stdin) {
        let is_stdin = |fd: &Option<i32>| matches!(fd, None | Some(0));
        match r {
            ast::IoRedirect::File(fd, kind, target) => match target {
                ast::IoFileRedirectTarget::Filename(w)
                | ast::IoFileRedirectTarget::Duplicate(w) => {
                    self.decode_for_subs(&w.value, Mode::Word, frame);
                    if matches!(kind, ast::IoFileRedirectKind::Read) && is_stdin(fd) {
                        *stdin = Stdin::File;
                    }
                }
                ast::IoFileRedirectTarget::ProcessSubstitution(_, sub) => {
                    self.walk_list(&sub.list, frame);
                    if matches!(kind, ast::IoFileRedirectKind::Read) && is_stdin(fd) {
                        *stdin = Stdin::Pipe;
                    }
                }
                ast::IoFileRedirectTarget::Fd(_) => {}
            },
            ast::IoRedirect::HereDocument(fd, doc) => {
                let (text, literal) = if doc.requires_expansion {
                    match self.decode_for_subs(&doc.doc.value, Mode::HereDoc, frame) {
                        Some(d) => (d.text, !d.dynamic),
                        None => return,
                    }
                } else {
                    (doc.doc.value.clone(), true)
                };
                if is_stdin(fd) {
                    *stdin = Stdin::Doc { text, literal, label: "<<" };
                }
            }
            ast::IoRedirect::HereString(fd, w) => {
                let Some(d) = self.decode_for_subs(&w.value, Mode::Word, frame) else {
                    return;
                };
                if is_stdin(fd) {
                    *stdin = Stdin::Doc {
                        text: format!("{}\n", d.text),
                        literal: !d.dynamic,
                        label: "<<<",
                    };
                }
            }
            ast::IoRedirect::OutputAndError(w, _) => {
                self.decode_for_subs(&w.value, Mode::Word, frame);
            }
        }
    }

    fn walk_item(
        &mut self,
        item: &ast::CommandPrefixOrSuffixItem,
        is_prefix: bool,
        frame: &Frame,
        stdin: &mut Stdin,
        raw_words: &mut Vec<Option<String>>,
    ) {
        if self.failed() {
            return;
        }
        match item {
            ast::CommandPrefixOrSuffixItem::IoRedirect(r) => self.walk_redirect(r, frame, stdin),
            ast::CommandPrefixOrSuffixItem::Word(w) => raw_words.push(Some(w.value.clone())),
            ast::CommandPrefixOrSuffixItem::AssignmentWord(_, w) => {
                if is_prefix {
                    self.decode_for_subs(&w.value, Mode::Word, frame);
                } else {
                    raw_words.push(Some(w.value.clone()));
                }
            }
            ast::CommandPrefixOrSuffixItem::ProcessSubstitution(_, sub) => {
                self.walk_list(&sub.list, frame);
                raw_words.push(None);
            }
        }
    }

    fn walk_simple(&mut self, simple: &ast::SimpleCommand, frame: &Frame, piped: bool) {
        let mut stdin = if piped { Stdin::Pipe } else { Stdin::Inherited };
        // raw words in order; `None` stands for a process substitution
        let mut raw_words: Vec<Option<String>> = Vec::new();
        let prefix = simple.prefix.iter().flat_map(|p| p.0.iter());
        for item in prefix {
            self.walk_item(item, true, frame, &mut stdin, &mut raw_words);
        }
        if let Some(w) = &simple.word_or_name {
            raw_words.push(Some(w.value.clone()));
        }
        let suffix = simple.suffix.iter().flat_map(|s| s.0.iter());
        for item in suffix {
            self.walk_item(item, false, frame, &mut stdin, &mut raw_words);
        }
        if self.failed() {
            return;
        }
        let bounds = BraceBounds {
            max_results: self.limits.max_brace_results,
            max_bytes: self.limits.max_line_bytes.saturating_mul(4),
            max_depth: self.limits.max_nesting_depth,
        };
        let mut args = Vec::new();
        for raw in raw_words {
            let Some(raw) = raw else {
                args.push(Arg {
                    text: "<(...)".to_owned(),
                    dynamic: true,
                    glob: false,
                    prompt: false,
                });
                continue;
            };
            let expanded = match word::brace_expand(&raw, &bounds) {
                Ok(e) => e,
                Err(e) => return self.refused(frame, &e),
            };
            for w in expanded {
                let Some(d) = self.decode_for_subs(&w, Mode::Word, frame) else {
                    return;
                };
                if d.text.is_empty() && !d.quoted && !d.dynamic {
                    continue;
                }
                args.push(Arg {
                    text: d.text,
                    dynamic: d.dynamic,
                    glob: d.glob,
                    prompt: d.prompt_expansion,
                });
            }
            if args.len() > self.limits.max_brace_results.saturating_mul(4) {
                return self.fail_limit(
                    frame,
                    "command.max_brace_results",
                    "too many words in one command",
                );
            }
        }
        if !args.is_empty() {
            self.run_command(args, frame, stdin, false);
        }
    }
}
