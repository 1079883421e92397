//! A LaTeX math parser into [`Expr`], following what latex2sympy2_extended 1.10.2 produces for
//! the answers models write (see the crate README for the behaviours kept on purpose).
//!
//! Recursive descent over chars with an explicit depth budget: no input can overflow the stack,
//! and every loop consumes input, so the running time is linear in the input times the depth.

use crate::expr::{int, neg, rational, Expr, RelOp};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, ToPrimitive, Zero};

const MAX_DEPTH: usize = 120;
/// Longer inputs are not parsed (Math-Verify would spend seconds on them and time out).
pub const MAX_LATEX_CHARS: usize = 20_000;

#[derive(Debug)]
pub struct ParseError;

type R<T> = Result<T, ParseError>;

/// Parse normalized LaTeX; on failure, retry with the text after the last `=` when there is no
/// `,`/`;` and at least two `=` (Math-Verify's `get_last_eq`).
pub fn parse_latex(s: &str) -> R<Expr> {
    match parse_once(s) {
        Ok(e) => Ok(with_assumptions(e, s)),
        Err(err) => {
            if !s.contains(',') && !s.contains(';') {
                let parts = split_eq(s);
                if parts.len() > 2 {
                    let last = parts[parts.len() - 1];
                    return parse_once(last).map(|e| with_assumptions(e, last));
                }
            }
            Err(err)
        }
    }
}

/// Math-Verify parses with real symbols unless the text shows complex markers (a standalone
/// `i`, `\mathbb{C}`, `\Re{`, ...); a complex `i` then differs from a real one.
fn with_assumptions(mut e: Expr, s: &str) -> Expr {
    static RE: std::sync::OnceLock<fancy_regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        fancy_regex::Regex::new(concat!(
            r"\\mathbb\{C\}|\\i\b|\bi\b|\\text\{i\}|\\mathrm\{i\}|\\imath\b|\\det|",
            r"\\operatorname\{tr\}|\\operatorname\{rank\}|\\text\{rank\}|\\arg\{|\\Re\{|\\Im\{|",
            r"\\operatorname\{Re\}|\\operatorname\{Im\}|\\text\{Re\}|\\text\{Im\}"
        ))
        .expect("static regex")
    });
    if re.is_match(s).unwrap_or(false) {
        crate::expr::mark_complex(&mut e, 0);
    }
    e
}

/// Split at `=` not preceded by `\`, `<`, `!` or `>`.
fn split_eq(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut prev: Option<char> = None;
    for (i, c) in s.char_indices() {
        if c == '=' && !matches!(prev, Some('\\' | '<' | '!' | '>')) {
            parts.push(&s[start..i]);
            start = i + 1;
        }
        prev = Some(c);
    }
    parts.push(&s[start..]);
    parts
}

fn is_thousands_number(s: &str) -> bool {
    // latex2sympy's `^\s*-?\d{1,3}(,\d{3})+(\.\d+)?\s*$`
    let s = s.trim();
    let s = s.strip_prefix('-').unwrap_or(s);
    let (int_part, frac) = match s.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    if let Some(f) = frac {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    let groups: Vec<&str> = int_part.split(',').collect();
    groups.len() >= 2
        && (1..=3).contains(&groups[0].len())
        && groups[0].bytes().all(|b| b.is_ascii_digit())
        && groups[1..].iter().all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// latex2sympy's `convert_number`: `0,111` is the decimal 0.111, other commas separate
/// thousands; leading zeros go.
fn convert_comma_number(s: &str) -> R<Expr> {
    let t = s.trim();
    let t = if t.contains(',') && t.starts_with('0') { t.replace(',', ".") } else { t.to_string() };
    let digits: String = t.chars().filter(|&c| c != ',' && c != ' ').collect();
    let stripped = digits.trim_start_matches('0');
    let stripped = if stripped.is_empty() { "0".to_string() } else { stripped.to_string() };
    let fixed = if stripped.starts_with('.') { format!("0{stripped}") } else { stripped };
    parse_decimal(&fixed)
}

fn parse_once(s: &str) -> R<Expr> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > MAX_LATEX_CHARS {
        return Err(ParseError);
    }
    if is_thousands_number(t) {
        return convert_comma_number(t);
    }
    // After `\left` is dropped from a doubled `\\left(`, a `\(` remains; latex2sympy reads it
    // as a parenthesis.
    let t = t.replace("\\(", "(").replace("\\)", ")").replace('\u{2212}', "-");
    let mut p = P { c: t.chars().collect(), i: 0, depth: 0, abs_open: false };
    let e = p.top()?;
    p.skip_ws();
    if p.i < p.c.len() {
        return Err(ParseError);
    }
    Ok(e)
}

pub(crate) fn parse_decimal(s: &str) -> R<Expr> {
    let (neg_sign, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (a, b) = match body.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (body, None),
    };
    if !a.bytes().all(|c| c.is_ascii_digit()) || (a.is_empty() && b.is_none()) {
        return Err(ParseError);
    }
    let a_int = if a.is_empty() { BigInt::zero() } else { a.parse::<BigInt>().map_err(|_| ParseError)? };
    let e = match b {
        None => Expr::Int(a_int),
        Some(b) => {
            if b.is_empty() || !b.bytes().all(|c| c.is_ascii_digit()) || b.len() > 5000 {
                return Err(ParseError);
            }
            let scale = BigInt::from(10u32).pow(b.len() as u32);
            let frac: BigInt = b.parse().map_err(|_| ParseError)?;
            Expr::Float(BigRational::new(a_int * &scale + frac, scale))
        }
    };
    Ok(if neg_sign { neg(e) } else { e })
}

struct P {
    c: Vec<char>,
    i: usize,
    depth: usize,
    /// Inside `|...|`: a `|` closes the absolute value instead of starting a factor.
    abs_open: bool,
}

const GREEK: &[&str] = &[
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "varepsilon",
    "zeta",
    "eta",
    "theta",
    "vartheta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "varphi",
    "chi",
    "psi",
    "omega",
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Xi",
    "Sigma",
    "Upsilon",
    "Phi",
    "Psi",
    "Omega",
];

const FUNCS: &[(&str, &str)] = &[
    ("sin", "sin"),
    ("cos", "cos"),
    ("tan", "tan"),
    ("sec", "sec"),
    ("csc", "csc"),
    ("cot", "cot"),
    ("arcsin", "asin"),
    ("arccos", "acos"),
    ("arctan", "atan"),
    ("arccot", "acot"),
    ("arcsec", "asec"),
    ("arccsc", "acsc"),
    ("sinh", "sinh"),
    ("cosh", "cosh"),
    ("tanh", "tanh"),
    ("exp", "exp"),
    ("ln", "log"),
    ("log", "log"),
    ("lg", "log"),
];

impl P {
    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(ParseError)
        } else {
            Ok(())
        }
    }
    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn peek(&self) -> Option<char> {
        self.c.get(self.i).copied()
    }

    /// Skip whitespace and spacing commands (`\,`, `\;`, `\:`, `\!`, `\ `, `\quad`).
    fn skip_ws(&mut self) {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() => self.i += 1,
                Some('\\') => {
                    let n = self.c.get(self.i + 1).copied();
                    if matches!(n, Some(',' | ';' | ':' | '!' | ' ')) {
                        self.i += 2;
                    } else if self.cmd_name_at(self.i).starts_with("quad")
                        || self.cmd_name_at(self.i).starts_with("qquad")
                    {
                        // `\quadx` is `\quad` then `x` for latex2sympy's tokenizer.
                        let name = self.cmd_name_at(self.i);
                        self.i += 1 + if name.starts_with("qquad") { 5 } else { 4 };
                    } else if self.at_cmd("left") || self.at_cmd("right") {
                        // `\left.`/`\right.` are invisible delimiters; other `\left(` were
                        // already reduced to the bracket by normalization.
                        let name = self.cmd_name_at(self.i);
                        self.i += 1 + name.len();
                        if self.peek() == Some('.') {
                            self.i += 1;
                        }
                    } else {
                        return;
                    }
                }
                _ => return,
            }
        }
    }

    fn cmd_name_at(&self, at: usize) -> String {
        let mut j = at + 1;
        let mut s = String::new();
        while let Some(&c) = self.c.get(j) {
            if c.is_ascii_alphabetic() {
                s.push(c);
                j += 1;
            } else {
                break;
            }
        }
        s
    }

    fn at_cmd(&self, name: &str) -> bool {
        self.peek() == Some('\\') && self.cmd_name_at(self.i) == name
    }

    /// Consume `\name` if it is next (after whitespace).
    fn eat_cmd(&mut self, name: &str) -> bool {
        self.skip_ws();
        if self.at_cmd(name) {
            self.i += 1 + name.len();
            true
        } else {
            false
        }
    }

    fn eat(&mut self, ch: char) -> bool {
        self.skip_ws();
        if self.peek() == Some(ch) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, ch: char) -> R<()> {
        if self.eat(ch) {
            Ok(())
        } else {
            Err(ParseError)
        }
    }

    /// Whole input: a comma list is a set; with semicolons, `;` separates the elements and
    /// commas within one element make a tuple (`p=5,q=2;p=7,q=2`).
    fn top(&mut self) -> R<Expr> {
        let mut groups: Vec<Vec<Expr>> = vec![vec![self.relation()?]];
        let mut semis = false;
        loop {
            if self.eat(',') {
                groups.last_mut().ok_or(ParseError)?.push(self.relation()?);
            } else if self.eat(';') {
                semis = true;
                groups.push(vec![self.relation()?]);
            } else {
                break;
            }
        }
        if !semis {
            let mut items = groups.pop().unwrap_or_default();
            if items.len() == 1 {
                return items.pop().ok_or(ParseError);
            }
            return Ok(Expr::Set(flatten_sets(items)));
        }
        let items: Vec<Expr> = groups
            .into_iter()
            .map(|mut g| if g.len() == 1 { g.pop().unwrap_or(Expr::EmptySet) } else { Expr::Tuple(g) })
            .collect();
        Ok(Expr::Set(flatten_sets(items)))
    }

    fn rel_op(&mut self) -> Option<(RelOp, bool)> {
        self.skip_ws();
        let (op, len, approx) = match self.peek()? {
            '=' => (RelOp::Eq, 1, false),
            '!' if self.c.get(self.i + 1) == Some(&'=') => (RelOp::Ne, 2, false),
            '<' => {
                if self.c.get(self.i + 1) == Some(&'=') {
                    (RelOp::Le, 2, false)
                } else {
                    (RelOp::Lt, 1, false)
                }
            }
            '>' => {
                if self.c.get(self.i + 1) == Some(&'=') {
                    (RelOp::Ge, 2, false)
                } else {
                    (RelOp::Gt, 1, false)
                }
            }
            '\\' => {
                let name = self.cmd_name_at(self.i);
                let op = match name.as_str() {
                    "le" | "leq" | "leqslant" => RelOp::Le,
                    "ge" | "geq" | "geqslant" => RelOp::Ge,
                    "lt" => RelOp::Lt,
                    "gt" => RelOp::Gt,
                    "ne" | "neq" => RelOp::Ne,
                    "in" => RelOp::Eq,
                    "approx" => return self.take(name.len() + 1).map(|_| (RelOp::Eq, true)),
                    _ => return None,
                };
                (op, name.len() + 1, false)
            }
            _ => return None,
        };
        self.i += len;
        Some((op, approx))
    }

    fn take(&mut self, n: usize) -> Option<()> {
        self.i += n;
        Some(())
    }

    /// `a = b`, chains `a < b \le c` (a conjunction), `A \approx B` (B when A is only symbols).
    fn relation(&mut self) -> R<Expr> {
        self.enter()?;
        let first = self.union()?;
        let mut terms = vec![first];
        let mut ops = Vec::new();
        let mut had_approx = false;
        while let Some((op, approx)) = self.rel_op() {
            let rhs = self.union()?;
            if approx {
                had_approx = true;
                // `A \approx B` is B when A (the whole relation so far, `a = b` included) is
                // only symbols; otherwise the approximation is dropped.
                let so_far = build_relation(&terms, &ops)?;
                if crate::expr::is_only_symbols(&so_far) {
                    terms = vec![rhs];
                    ops.clear();
                }
                continue;
            }
            ops.push(op);
            terms.push(rhs);
        }
        self.leave();
        if ops.is_empty() && !had_approx {
            return terms.pop().ok_or(ParseError);
        }
        // latex2sympy accepts a bracketed list in a relation only as `tuple = tuple`
        // (`(p,q) = (3,2)`); `y = (4,1)` or `(1,2) \approx 1.5` do not parse.
        // (`x = [-4, 0)` parses, `5 = (4,1)`, `f(x) = (1,2,3)` and `y = 2 + 3 = (4,1)` do not).
        let setlike = |t: &Expr| matches!(t, Expr::Interval { .. } | Expr::Tuple(_) | Expr::Union(_));
        for k in 0..ops.len() {
            let (a, b) = (&terms[k], &terms[k + 1]);
            let ok = |x: &Expr, y: &Expr| !setlike(x) || setlike(y) || matches!(y, Expr::Sym(_));
            if !(ok(a, b) && ok(b, a)) {
                return Err(ParseError);
            }
        }
        if terms.len() == 1 && setlike(&terms[0]) && had_approx {
            return Err(ParseError);
        }
        let terms: Vec<Expr> = terms
            .into_iter()
            .map(|t| match t {
                Expr::Interval { lo, hi, lopen: true, ropen: true } => Expr::Tuple(vec![*lo, *hi]),
                x => x,
            })
            .collect();
        let mut rels: Vec<Expr> = Vec::new();
        for (k, op) in ops.iter().enumerate() {
            rels.push(Expr::Rel(*op, Box::new(terms[k].clone()), Box::new(terms[k + 1].clone())));
        }
        if rels.is_empty() {
            return terms.into_iter().next().ok_or(ParseError);
        }
        if rels.len() == 1 {
            return rels.pop().ok_or(ParseError);
        }
        Ok(Expr::And(rels))
    }

    fn union(&mut self) -> R<Expr> {
        let first = self.additive()?;
        let mut items = vec![first];
        while self.eat_cmd("cup") {
            items.push(self.additive()?);
        }
        Ok(if items.len() == 1 { items.pop().unwrap_or(Expr::EmptySet) } else { Expr::Union(items) })
    }

    fn additive(&mut self) -> R<Expr> {
        self.enter()?;
        self.skip_ws();
        // A leading `\pm b` gives {b, -b}.
        let mut pm_terms: Option<Vec<Expr>> = None;
        let first = if self.eat_cmd("pm") || self.eat_cmd("mp") {
            let t = self.term()?;
            pm_terms = Some(vec![t.clone(), neg(t)]);
            None
        } else {
            Some(self.term()?)
        };
        let mut terms: Vec<Expr> = first.into_iter().collect();
        loop {
            self.skip_ws();
            if self.eat('+') {
                terms.push(self.term()?);
            } else if self.peek() == Some('-') {
                self.i += 1;
                let t = self.term()?;
                terms.push(neg(t));
            } else if self.eat_cmd("pm") || self.eat_cmd("mp") {
                let t = self.term()?;
                let base = std::mem::take(&mut terms);
                let mk = |extra: Expr| -> Expr {
                    let mut v = base.clone();
                    v.push(extra);
                    if v.len() == 1 {
                        v.pop().unwrap_or(Expr::EmptySet)
                    } else {
                        Expr::Add(v)
                    }
                };
                let mut a = mk(t.clone());
                let mut b = mk(neg(t));
                // Terms after the `\pm` go to both branches (`3 \pm 2\sqrt{2} + 0`).
                loop {
                    self.skip_ws();
                    let extra = if self.eat('+') {
                        self.term()?
                    } else if self.peek() == Some('-') {
                        self.i += 1;
                        neg(self.term()?)
                    } else {
                        break;
                    };
                    a = Expr::Add(vec![a, extra.clone()]);
                    b = Expr::Add(vec![b, extra]);
                }
                pm_terms = Some(vec![a, b]);
                break;
            } else {
                break;
            }
        }
        self.leave();
        if let Some(v) = pm_terms {
            return Ok(Expr::Set(v));
        }
        Ok(if terms.len() == 1 { terms.pop().unwrap_or(Expr::EmptySet) } else { Expr::Add(terms) })
    }

    fn starts_atom(&mut self) -> bool {
        self.skip_ws();
        match self.peek() {
            Some(c) if c.is_ascii_alphanumeric() || c == '.' || c == '(' || c == '[' || c == '{' || c == '|' => {
                // `[` starts an interval only if it was the first thing; a `[` after a factor is
                // still juxtaposition in latex2sympy (rare), keep it.
                true
            }
            Some('\\') => {
                let name = self.cmd_name_at(self.i);
                if name.is_empty() {
                    return self.c.get(self.i + 1) == Some(&'{');
                }
                !matches!(
                    name.as_str(),
                    "cdot"
                        | "times"
                        | "div"
                        | "pm"
                        | "mp"
                        | "le"
                        | "leq"
                        | "ge"
                        | "geq"
                        | "lt"
                        | "gt"
                        | "ne"
                        | "neq"
                        | "in"
                        | "approx"
                        | "cup"
                        | "right"
                        | "rfloor"
                        | "rceil"
                        | "rvert"
                        | "rangle"
                        | "end"
                        | "leqslant"
                        | "geqslant"
                        | "cap"
                        | "setminus"
                        | "to"
                        | "rightarrow"
                        | "implies"
                        | "Rightarrow"
                        | "mid"
                        | "quad"
                        | "qquad"
                )
            }
            _ => false,
        }
    }

    /// Products and quotients, explicit or by juxtaposition; an integer followed by a positive
    /// rational or integer is a mixed number (`2\frac{1}{2}` is 5/2, `2 3` is 5).
    fn term(&mut self) -> R<Expr> {
        self.enter()?;
        let mut acc = self.unary()?;
        let mut single_atom = true;
        loop {
            self.skip_ws();
            if self.eat('*') || self.eat_cmd("cdot") || self.eat_cmd("times") || self.eat_cmd("ast") {
                let r = self.unary()?;
                acc = mul(acc, r);
                single_atom = false;
            } else if self.eat('/') || self.eat(':') || self.eat_cmd("div") {
                let r = self.unary()?;
                acc = divide(acc, r)?;
                single_atom = false;
            } else if self.peek() == Some('|') && self.abs_open {
                break;
            } else if self.starts_atom() {
                let r = self.postfix()?;
                let mixed = single_atom
                    && matches!(&acc, Expr::Int(_))
                    && match &r {
                        Expr::Rat(q) => q.is_positive(),
                        Expr::Int(q) => q.is_positive(),
                        _ => false,
                    };
                if mixed {
                    let (Expr::Int(n), rv) = (&acc, &r) else { return Err(ParseError) };
                    let q = match rv {
                        Expr::Rat(q) => q.clone(),
                        Expr::Int(q) => BigRational::from_integer(q.clone()),
                        _ => return Err(ParseError),
                    };
                    let nn = BigRational::from_integer(n.clone());
                    acc = if n.is_negative() { rational(nn - q) } else { rational(nn + q) };
                } else {
                    acc = mul(acc, r);
                    single_atom = false;
                }
            } else {
                break;
            }
        }
        self.leave();
        Ok(acc)
    }

    fn unary(&mut self) -> R<Expr> {
        self.enter()?;
        self.skip_ws();
        let r = if self.peek() == Some('-') {
            self.i += 1;
            let x = self.unary()?;
            Ok(neg(x))
        } else if self.peek() == Some('+') {
            self.i += 1;
            self.unary()
        } else {
            self.postfix()
        };
        self.leave();
        r
    }

    /// An atom with its `^`, `!`, `\%`, `'` and `^\circ` suffixes.
    fn postfix(&mut self) -> R<Expr> {
        self.enter()?;
        let mut e = self.atom()?;
        // Each suffix nests the tree one level deeper; cap them so that `2^2^2^…` cannot build a
        // tree deep enough to exhaust the stack of later recursive passes.
        let mut suffixes = 0usize;
        loop {
            self.skip_ws();
            suffixes += 1;
            if suffixes > 64 {
                return Err(ParseError);
            }
            match self.peek() {
                Some('^') => {
                    self.i += 1;
                    self.skip_ws();
                    if self.eat_cmd("circ") {
                        continue;
                    }
                    if self.peek() == Some('{') {
                        let save = self.i;
                        self.i += 1;
                        if self.eat_cmd("circ") && self.eat('}') {
                            continue;
                        }
                        self.i = save;
                    }
                    let x = self.script_arg()?;
                    e = Expr::Pow(Box::new(e), Box::new(x));
                }
                Some('_') if matches!(e, Expr::Sym(_)) => {
                    // Subscripts on commands (`\omega_{d}`, `\theta_w`).
                    self.i += 1;
                    let sub = self.raw_group()?;
                    let sub = sub.trim().to_string();
                    if let Expr::Sym(name) = &mut e {
                        if sub.chars().count() == 1 {
                            name.push('_');
                            name.push_str(&sub);
                        } else {
                            name.push_str(&format!("_{{{sub}}}"));
                        }
                    }
                }
                Some('!') if self.c.get(self.i + 1) != Some(&'=') => {
                    self.i += 1;
                    e = Expr::Func("factorial".into(), vec![e]);
                }
                Some('\'') => {
                    self.i += 1;
                }
                Some('\\') if self.c.get(self.i + 1) == Some(&'%') => {
                    self.i += 2;
                    e = Expr::Percent(Box::new(e));
                }
                Some('%') => {
                    self.i += 1;
                    e = Expr::Percent(Box::new(e));
                }
                _ => break,
            }
        }
        self.leave();
        Ok(e)
    }

    /// The argument of `^`/`_`: a braced group, or a single character/command atom.
    fn script_arg(&mut self) -> R<Expr> {
        self.skip_ws();
        match self.peek() {
            Some('{') => {
                self.i += 1;
                let e = self.top()?;
                self.expect('}')?;
                Ok(e)
            }
            Some(c) if c.is_ascii_digit() => {
                self.i += 1;
                Ok(int(c.to_digit(10).unwrap_or(0) as i64))
            }
            Some('-') => {
                self.i += 1;
                let x = self.script_arg()?;
                Ok(neg(x))
            }
            _ => self.atom(),
        }
    }

    /// A braced group's raw text (for `\text{}`, subscripts).
    fn raw_group(&mut self) -> R<String> {
        self.skip_ws();
        if self.peek() != Some('{') {
            // A single char argument.
            let c = self.peek().ok_or(ParseError)?;
            self.i += 1;
            return Ok(c.to_string());
        }
        let mut depth = 0usize;
        let start = self.i + 1;
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(self.c[start..self.i - 1].iter().collect());
                    }
                }
                _ => {}
            }
        }
        Err(ParseError)
    }

    fn braced(&mut self) -> R<Expr> {
        self.skip_ws();
        if self.peek() == Some('{') {
            self.i += 1;
            // A command argument is one expression: `\frac{12}{5,525}` does not parse.
            let e = self.relation()?;
            self.expect('}')?;
            Ok(e)
        } else {
            // `\frac12` style single-token arguments.
            match self.peek() {
                Some(c) if c.is_ascii_digit() => {
                    self.i += 1;
                    Ok(int(c.to_digit(10).unwrap_or(0) as i64))
                }
                Some(c) if c.is_ascii_alphabetic() => {
                    self.i += 1;
                    Ok(letter(c))
                }
                _ => self.atom(),
            }
        }
    }

    fn number(&mut self) -> R<Expr> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if self.peek() == Some('.') && self.c.get(self.i + 1).is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
        }
        let text: String = self.c[start..self.i].iter().collect();
        if text.is_empty() || text == "." {
            return Err(ParseError);
        }
        // `NUMBER E [+-] digits` (a capital E) is scientific notation; lowercase e is Euler's.
        if self.peek() == Some('E') {
            let save = self.i;
            self.i += 1;
            let sign_neg = if self.peek() == Some('-') {
                self.i += 1;
                true
            } else {
                if self.peek() == Some('+') {
                    self.i += 1;
                }
                false
            };
            let es = self.i;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
            if self.i > es {
                let exp: String = self.c[es..self.i].iter().collect();
                let exp: i64 = exp.parse().map_err(|_| ParseError)?;
                if exp > 400 {
                    return Err(ParseError);
                }
                let base = match parse_decimal(&text)? {
                    Expr::Int(i) => BigRational::from_integer(i),
                    Expr::Float(r) => r,
                    _ => return Err(ParseError),
                };
                let p = BigRational::from_integer(BigInt::from(10u32).pow(exp as u32));
                return Ok(Expr::Float(if sign_neg { base / p } else { base * p }));
            }
            self.i = save;
        }
        if text.len() > 200_000 {
            return Err(ParseError);
        }
        parse_decimal(&text)
    }

    fn atom(&mut self) -> R<Expr> {
        self.enter()?;
        let r = self.atom_inner();
        self.leave();
        r
    }

    fn atom_inner(&mut self) -> R<Expr> {
        self.skip_ws();
        let c = self.peek().ok_or(ParseError)?;
        if c.is_ascii_digit() || (c == '.' && self.c.get(self.i + 1).is_some_and(|d| d.is_ascii_digit())) {
            let n = self.number()?;
            // A base subscript (`204_5`) is dropped, as latex2sympy does.
            self.skip_ws();
            if self.peek() == Some('_') {
                self.i += 1;
                self.raw_group()?;
            }
            return Ok(n);
        }
        if c.is_ascii_alphabetic() {
            self.i += 1;
            // latex2sympy's lexer reads `E` as an exponent marker: `E_{1}` does not parse.
            if c == 'E' && self.peek() == Some('_') {
                return Err(ParseError);
            }
            let mut e = letter(c);
            // Subscripts bind to the letter: `a_1`, `x_{10}`.
            self.skip_ws();
            if self.peek() == Some('_') {
                self.i += 1;
                let sub = self.raw_group()?;
                let name = match &e {
                    Expr::Sym(s) => s.clone(),
                    Expr::E => "e".into(),
                    Expr::I => "i".into(),
                    _ => c.to_ascii_lowercase().to_string(),
                };
                let sub = sub.trim().to_string();
                e = Expr::Sym(if sub.chars().count() == 1 {
                    format!("{name}_{sub}")
                } else {
                    format!("{name}_{{{sub}}}")
                });
            }
            // latex2sympy reads a letter applied to atoms as a function call (`f(x)`, `g(x,y)`,
            // `x(2)`, `A(3)`, `I(0)`), but a letter before a compound is a product (`x(x+1)`,
            // `f(x+1)`); `e(2)` is 2e. The `{(...)}` form is sympy's own printing of a call.
            let fname = match &e {
                Expr::Sym(_) | Expr::I => Some(c.to_string()),
                _ => None,
            };
            if let Some(name) = fname {
                let save = self.i;
                self.skip_ws();
                let braced = self.peek() == Some('{') && self.c.get(self.i + 1) == Some(&'(');
                if self.peek() == Some('(') || braced {
                    self.i += if braced { 2 } else { 1 };
                    if let Ok(Expr::Func(n, a)) = self.call_args(name) {
                        let atomic = a.iter().all(|x| {
                            matches!(
                                x,
                                Expr::Sym(_)
                                    | Expr::Int(_)
                                    | Expr::Float(_)
                                    | Expr::Rat(_)
                                    | Expr::E
                                    | Expr::Pi
                                    | Expr::I
                            )
                        });
                        if atomic && (!braced || self.eat('}')) {
                            return Ok(Expr::Func(n, a));
                        }
                    }
                }
                self.i = save;
            }
            return Ok(e);
        }
        self.atom_rest(c)
    }

    /// `{d X}{d Y}` with single letters X, Y: `Derivative(x, (y, 1))`; the position is left
    /// unchanged when the text is not of that form.
    fn derivative(&mut self) -> Option<Expr> {
        let rest: String = self.c[self.i..].iter().take(40).collect();
        let t: Vec<char> = rest.chars().filter(|c| !c.is_whitespace()).collect();
        // {dX}{dY}
        if t.len() >= 8
            && t[0] == '{'
            && t[1] == 'd'
            && t[2].is_ascii_alphabetic()
            && t[3] == '}'
            && t[4] == '{'
            && t[5] == 'd'
            && t[6].is_ascii_alphabetic()
            && t[7] == '}'
        {
            let (x, y) = (letter(t[2]), letter(t[6]));
            // Consume exactly the chars that made the 8 non-space characters.
            let mut seen = 0;
            while seen < 8 {
                if !self.c.get(self.i)?.is_whitespace() {
                    seen += 1;
                }
                self.i += 1;
            }
            return Some(Expr::Func("Derivative".into(), vec![x, Expr::Tuple(vec![y, int(1)])]));
        }
        None
    }

    /// After `name(`: the arguments and `)`.
    fn call_args(&mut self, name: String) -> R<Expr> {
        let mut args = vec![self.relation()?];
        while self.eat(',') {
            args.push(self.relation()?);
        }
        self.expect(')')?;
        Ok(Expr::Func(name, args))
    }

    /// Atoms that start with a bracket, a bar or a command.
    fn atom_rest(&mut self, c: char) -> R<Expr> {
        match c {
            '(' | '[' => return self.bracket(),
            '{' => {
                self.i += 1;
                let e = self.top()?;
                self.expect('}')?;
                return Ok(e);
            }
            '|' => {
                self.i += 1;
                let was = self.abs_open;
                self.abs_open = true;
                let e = self.additive();
                self.abs_open = was;
                let e = e?;
                self.expect('|')?;
                return Ok(Expr::Func("abs".into(), vec![e]));
            }
            '\\' => {}
            _ => return Err(ParseError),
        }
        // Commands.
        let name = self.cmd_name_at(self.i);
        if name.is_empty() {
            // `\{ ... \}` is a set.
            if self.c.get(self.i + 1) == Some(&'{') {
                self.i += 2;
                self.skip_ws();
                if self.peek() == Some('\\') && self.c.get(self.i + 1) == Some(&'}') {
                    self.i += 2;
                    return Ok(Expr::EmptySet);
                }
                let mut items = vec![self.relation()?];
                while self.eat(',') || self.eat(';') {
                    items.push(self.relation()?);
                }
                self.skip_ws();
                if self.peek() == Some('\\') && self.c.get(self.i + 1) == Some(&'}') {
                    self.i += 2;
                    return Ok(Expr::Set(items));
                }
                return Err(ParseError);
            }
            return Err(ParseError);
        }
        self.i += 1 + name.len();
        match name.as_str() {
            "frac" | "dfrac" | "tfrac" | "cfrac" => {
                // `\frac{dM}{dt}` is a derivative for latex2sympy.
                if let Some(d) = self.derivative() {
                    return Ok(d);
                }
                let a = self.braced()?;
                let b = self.braced()?;
                divide(a, b)
            }
            "binom" | "dbinom" | "tbinom" => {
                // latex2sympy needs braced arguments here (`\dbinom52` does not parse).
                self.skip_ws();
                if self.peek() != Some('{') {
                    return Err(ParseError);
                }
                let a = self.braced()?;
                self.skip_ws();
                if self.peek() != Some('{') {
                    return Err(ParseError);
                }
                let b = self.braced()?;
                if let (Some(n), Some(k)) = (a.exact(), b.exact()) {
                    if n.is_integer() && k.is_integer() {
                        if let (Some(n), Some(k)) = (n.to_integer().to_i64(), k.to_integer().to_i64()) {
                            if (0..=10_000).contains(&n) && (0..=n).contains(&k) {
                                let mut acc = BigInt::from(1);
                                for j in 0..k {
                                    acc = acc * BigInt::from(n - j) / BigInt::from(j + 1);
                                }
                                return Ok(Expr::Int(acc));
                            }
                        }
                    }
                }
                Ok(Expr::Func("binom".into(), vec![a, b]))
            }
            "sqrt" => {
                self.skip_ws();
                let idx = if self.peek() == Some('[') {
                    self.i += 1;
                    let e = self.additive()?;
                    self.expect(']')?;
                    Some(e)
                } else {
                    None
                };
                let x = self.braced()?;
                let p = match idx {
                    None => Expr::Rat(BigRational::new(BigInt::from(1), BigInt::from(2))),
                    Some(n) => match n.exact() {
                        Some(r) if !r.is_zero() => rational(r.recip()),
                        _ => Expr::Pow(Box::new(n), Box::new(int(-1))),
                    },
                };
                Ok(Expr::Pow(Box::new(x), Box::new(p)))
            }
            "pi" => Ok(Expr::Pi),
            "infty" | "infin" => Ok(Expr::Inf),
            "emptyset" => Ok(Expr::EmptySet),
            "varnothing" => Ok(Expr::Sym("varnothing".into())),
            "imath" => Ok(Expr::I),
            "circ" => Ok(Expr::Sym("circ".into())),
            "prime" => Ok(Expr::Sym("prime".into())),
            "triangle" | "angle" => Ok(Expr::Sym(name.clone())),
            "mathbb" => {
                let g = self.raw_group()?;
                match g.trim() {
                    "R" => Ok(Expr::Reals),
                    other => Ok(Expr::Sym(format!("mathbb{{{other}}}"))),
                }
            }
            "text" | "mbox" | "textrm" | "textit" | "mathit" | "operatorname" | "mathcal" | "mathsf" => {
                let g = self.raw_group()?;
                if name == "operatorname" {
                    return self.function_call(&g.to_lowercase());
                }
                text_atom(&g)
            }
            "overline" | "bar" | "hat" | "vec" | "widehat" | "tilde" | "overrightarrow" => {
                let g = self.raw_group()?;
                let key = if name == "overline" { "bar" } else { name.as_str() };
                Ok(Expr::Sym(format!("{key}{{{}}}", g.trim().to_lowercase())))
            }
            "lfloor" | "lceil" => {
                let e = self.additive()?;
                let close = if name == "lfloor" { "rfloor" } else { "rceil" };
                if !self.eat_cmd(close) {
                    return Err(ParseError);
                }
                Ok(Expr::Func(if name == "lfloor" { "floor" } else { "ceil" }.into(), vec![e]))
            }
            "lvert" | "vert" | "lVert" => {
                let e = self.additive()?;
                if !(self.eat_cmd("rvert") || self.eat_cmd("vert") || self.eat_cmd("rVert")) {
                    return Err(ParseError);
                }
                Ok(Expr::Func("abs".into(), vec![e]))
            }
            "lbrace" => {
                let mut items = vec![self.relation()?];
                while self.eat(',') {
                    items.push(self.relation()?);
                }
                if !self.eat_cmd("rbrace") {
                    return Err(ParseError);
                }
                Ok(Expr::Set(items))
            }
            "begin" => self.matrix(),
            "max" | "min" | "gcd" | "lcm" => self.function_call(&name),
            n if GREEK.contains(&n) => Ok(Expr::Sym(n.to_lowercase())),
            n => {
                if let Some((_, f)) = FUNCS.iter().find(|(k, _)| *k == n) {
                    return self.function_call_named(n, f);
                }
                Err(ParseError)
            }
        }
    }

    fn at_function(&self) -> bool {
        if self.peek() != Some('\\') {
            return false;
        }
        let n = self.cmd_name_at(self.i);
        FUNCS.iter().any(|(k, _)| *k == n) || matches!(n.as_str(), "max" | "min" | "gcd" | "lcm" | "operatorname")
    }

    fn function_call(&mut self, name: &str) -> R<Expr> {
        self.skip_ws();
        if !self.eat('(') {
            return Ok(Expr::Sym(name.to_string()));
        }
        let mut args = vec![self.relation()?];
        while self.eat(',') {
            args.push(self.relation()?);
        }
        self.expect(')')?;
        if matches!(name, "gcd" | "lcm") {
            if let Some(v) = args
                .iter()
                .map(|a| a.exact().filter(|r| r.is_integer()).map(|r| r.to_integer()))
                .collect::<Option<Vec<_>>>()
            {
                use num_integer::Integer;
                let mut acc = v[0].clone();
                for x in &v[1..] {
                    acc = if name == "gcd" { acc.gcd(x) } else { acc.lcm(x) };
                }
                return Ok(Expr::Int(acc));
            }
        }
        Ok(Expr::Func(name.to_string(), args))
    }

    /// `\sin x`, `\sin^2(x)`, `\log_2 8`, `\ln(x)`.
    fn function_call_named(&mut self, latex: &str, f: &str) -> R<Expr> {
        self.skip_ws();
        let mut power = None;
        let mut base = None;
        for _ in 0..2 {
            self.skip_ws();
            if self.peek() == Some('^') {
                self.i += 1;
                power = Some(self.script_arg()?);
            } else if self.peek() == Some('_') {
                self.i += 1;
                base = Some(self.script_arg()?);
            }
        }
        self.skip_ws();
        let arg = if self.peek() == Some('(') {
            self.i += 1;
            let e = self.top()?;
            self.expect(')')?;
            e
        } else {
            // `\sin 2x` is sin(2x): juxtaposed factors up to an operator or the next function.
            let mut e = self.postfix()?;
            while self.starts_atom() && !self.at_function() {
                let r = self.postfix()?;
                e = mul(e, r);
            }
            e
        };
        let mut args = vec![arg];
        if f == "log" {
            match (latex, base) {
                ("ln", _) => {}
                (_, Some(b)) => args.push(b),
                ("lg", None) | ("log", None) => args.push(int(10)),
                _ => {}
            }
        }
        let call = Expr::Func(f.to_string(), args);
        Ok(match power {
            Some(p) => {
                if p == int(-1) && !matches!(f, "log" | "exp") {
                    // `\sin^{-1}` is the inverse function.
                    let inv = format!("a{f}");
                    if let Expr::Func(_, a) = call {
                        return Ok(Expr::Func(inv, a));
                    }
                    return Err(ParseError);
                }
                Expr::Pow(Box::new(call), Box::new(p))
            }
            None => call,
        })
    }

    /// `(a, b)`, `[a, b)`, `(a)`: intervals, tuples, groups.
    fn bracket(&mut self) -> R<Expr> {
        let open = self.peek().ok_or(ParseError)?;
        self.i += 1;
        self.skip_ws();
        let first = self.relation()?;
        let mut items = vec![first];
        let mut semis = false;
        loop {
            if self.eat(',') {
            } else if self.eat(';') {
                semis = true;
            } else {
                break;
            }
            items.push(self.relation()?);
        }
        self.skip_ws();
        let close = self.peek().ok_or(ParseError)?;
        if close != ')' && close != ']' {
            return Err(ParseError);
        }
        self.i += 1;
        if semis {
            // `(0;-2;6)` is a tuple; semicolons in any other bracket do not parse.
            if open == '(' && close == ')' {
                return Ok(Expr::Tuple(items));
            }
            return Err(ParseError);
        }
        if items.len() == 1 {
            if open == '(' && close == ')' {
                return Ok(items.pop().unwrap_or(Expr::EmptySet));
            }
            if open == '[' && close == ']' {
                return Ok(items.pop().unwrap_or(Expr::EmptySet));
            }
            return Err(ParseError);
        }
        if items.len() == 2 {
            let lopen = open == '(';
            let ropen = close == ')';
            let ordered = match (order_key(&items[0]), order_key(&items[1])) {
                (Some(a), Some(b)) => a < b,
                // Symbolic ends: sympy builds an interval unless it can tell they are out of order.
                _ => !(items[0].is_number() && items[1].is_number()),
            };
            if !(lopen && ropen) || ordered {
                if !(ordered || lopen && ropen) && order_key(&items[0]).is_some() && order_key(&items[1]).is_some() {
                    // `[3, 1]` is an empty interval in sympy.
                    return Ok(Expr::EmptySet);
                }
                let hi = items.pop().unwrap_or(Expr::EmptySet);
                let lo = items.pop().unwrap_or(Expr::EmptySet);
                return Ok(Expr::Interval { lo: Box::new(lo), hi: Box::new(hi), lopen, ropen });
            }
            return Ok(Expr::Tuple(items));
        }
        if open == '(' && close == ')' {
            return Ok(Expr::Tuple(items));
        }
        Err(ParseError)
    }

    fn matrix(&mut self) -> R<Expr> {
        let env = self.raw_group()?;
        let env = env.trim().to_string();
        if !env.ends_with("matrix") && env != "array" {
            return Err(ParseError);
        }
        if env == "array" {
            // Column spec `{cc}`.
            self.raw_group()?;
        }
        let mut rows: Vec<Vec<Expr>> = vec![vec![]];
        loop {
            self.skip_ws();
            if self.at_cmd("end") {
                self.i += 4;
                self.raw_group()?;
                break;
            }
            let e = self.relation()?;
            rows.last_mut().ok_or(ParseError)?.push(e);
            self.skip_ws();
            if self.eat('&') {
                continue;
            }
            if self.peek() == Some('\\') && self.c.get(self.i + 1) == Some(&'\\') {
                self.i += 2;
                self.skip_ws();
                if self.at_cmd("end") {
                    continue;
                }
                rows.push(vec![]);
                continue;
            }
            if !self.at_cmd("end") {
                return Err(ParseError);
            }
        }
        rows.retain(|r| !r.is_empty());
        if rows.is_empty() || rows.iter().any(|r| r.len() != rows[0].len()) {
            return Err(ParseError);
        }
        Ok(Expr::Matrix(rows))
    }
}

/// The relation `terms[0] ops[0] terms[1] ...` as built so far (a term alone, a relation, or a
/// chain), for the `\approx` rule.
fn build_relation(terms: &[Expr], ops: &[RelOp]) -> R<Expr> {
    if ops.is_empty() {
        return terms.first().cloned().ok_or(ParseError);
    }
    let rels: Vec<Expr> = ops
        .iter()
        .enumerate()
        .map(|(k, op)| Expr::Rel(*op, Box::new(terms[k].clone()), Box::new(terms[k + 1].clone())))
        .collect();
    Ok(if rels.len() == 1 { rels.into_iter().next().ok_or(ParseError)? } else { Expr::And(rels) })
}

fn letter(c: char) -> Expr {
    match c {
        'e' => Expr::E,
        'I' => Expr::I,
        _ => Expr::Sym(c.to_ascii_lowercase().to_string()),
    }
}

/// `\text{...}`: a number if it is one, else one symbol named by its lowercase letters and
/// digits (`\text{(A)}` is `a`, `\text{Hello World}` is `helloworld`).
fn text_atom(g: &str) -> R<Expr> {
    let t = g.trim();
    if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return parse_decimal(t);
    }
    let name: String =
        t.chars().filter(|c| !c.is_whitespace() && *c != '(' && *c != ')').flat_map(|c| c.to_lowercase()).collect();
    if name.is_empty() {
        return Err(ParseError);
    }
    Ok(Expr::Sym(name))
}

fn flatten_sets(items: Vec<Expr>) -> Vec<Expr> {
    let mut out = Vec::new();
    for it in items {
        match it {
            Expr::Set(v) => out.extend(v),
            x => out.push(x),
        }
    }
    out
}

/// A real number to order interval ends (±∞ included); `None` when not a known constant.
pub(crate) fn order_key(e: &Expr) -> Option<f64> {
    match e {
        Expr::Inf => Some(f64::INFINITY),
        Expr::Mul(v) if v.len() == 2 && v[0] == int(-1) && v[1] == Expr::Inf => Some(f64::NEG_INFINITY),
        _ => {
            let mut syms = Vec::new();
            e.symbols(&mut syms);
            if !syms.is_empty() {
                return None;
            }
            let c = crate::expr::eval(e, &[], 0)?;
            (c.im == 0.0).then_some(c.re)
        }
    }
}

fn mul(a: Expr, b: Expr) -> Expr {
    match a {
        Expr::Mul(mut v) => {
            v.push(b);
            Expr::Mul(v)
        }
        a => Expr::Mul(vec![a, b]),
    }
}

/// `a / b`: exact integers and rationals divide into a rational (as sympy does); anything else
/// is `a * b^-1`. Division by an exact zero is an error (sympy's `zoo` fails the comparison).
fn divide(a: Expr, b: Expr) -> R<Expr> {
    match (&a, &b) {
        (Expr::Int(_) | Expr::Rat(_), Expr::Int(_) | Expr::Rat(_)) => {
            let (x, y) = (a.exact().ok_or(ParseError)?, b.exact().ok_or(ParseError)?);
            if y.is_zero() {
                return Err(ParseError);
            }
            Ok(rational(x / y))
        }
        _ => {
            if b.exact().is_some_and(|r| r.is_zero()) {
                return Err(ParseError);
            }
            if a == int(1) {
                return Ok(Expr::Pow(Box::new(b), Box::new(int(-1))));
            }
            Ok(mul(a, Expr::Pow(Box::new(b), Box::new(int(-1)))))
        }
    }
}
