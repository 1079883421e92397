//! The plain-expression side of extraction: what sympy's `parse_expr` accepts from Math-Verify's
//! expression pattern (digits, `.`, spaces, `+ - * / ** ( )`), as a Python expression. Anything
//! else (`×`, `÷`, two numbers side by side) is a syntax error, as in Python.

use crate::expr::{neg, Expr};
use crate::latex::parse_decimal;

const MAX_DEPTH: usize = 100;

#[derive(Debug, PartialEq, Clone)]
enum Tok {
    Num(String),
    Op(&'static str),
}

fn lex(s: &str) -> Option<Vec<Tok>> {
    let c: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
        } else if ch.is_ascii_digit() || ch == '.' {
            let st = i;
            while i < c.len() && (c[i].is_ascii_digit() || c[i] == '.') {
                i += 1;
            }
            let t: String = c[st..i].iter().collect();
            if t.matches('.').count() > 1 || t == "." {
                return None;
            }
            // Python 3 rejects leading zeros in integer literals ("08").
            if !t.contains('.') && t.len() > 1 && t.starts_with('0') && t.bytes().any(|b| b != b'0') {
                return None;
            }
            out.push(Tok::Num(t));
        } else {
            let op = match ch {
                '+' => "+",
                '-' => "-",
                '/' => "/",
                '(' => "(",
                ')' => ")",
                '*' => {
                    if c.get(i + 1) == Some(&'*') {
                        i += 1;
                        "**"
                    } else {
                        "*"
                    }
                }
                _ => return None,
            };
            out.push(Tok::Op(op));
            i += 1;
        }
    }
    Some(out)
}

struct P {
    t: Vec<Tok>,
    i: usize,
    depth: usize,
}

impl P {
    fn peek_op(&self) -> Option<&'static str> {
        match self.t.get(self.i) {
            Some(Tok::Op(o)) => Some(o),
            _ => None,
        }
    }
    fn sum(&mut self) -> Option<Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let mut terms = vec![self.product()?];
        while let Some(o @ ("+" | "-")) = self.peek_op() {
            self.i += 1;
            let t = self.product()?;
            terms.push(if o == "-" { neg(t) } else { t });
        }
        self.depth -= 1;
        Some(if terms.len() == 1 { terms.pop()? } else { Expr::Add(terms) })
    }
    fn product(&mut self) -> Option<Expr> {
        let mut f = vec![self.unary()?];
        while let Some(o @ ("*" | "/")) = self.peek_op() {
            self.i += 1;
            let x = self.unary()?;
            f.push(if o == "/" { Expr::Pow(Box::new(x), Box::new(crate::expr::int(-1))) } else { x });
        }
        Some(if f.len() == 1 { f.pop()? } else { Expr::Mul(f) })
    }
    fn unary(&mut self) -> Option<Expr> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let r = match self.peek_op() {
            Some("-") => {
                self.i += 1;
                neg(self.unary()?)
            }
            Some("+") => {
                self.i += 1;
                self.unary()?
            }
            _ => self.power()?,
        };
        self.depth -= 1;
        Some(r)
    }
    fn power(&mut self) -> Option<Expr> {
        let base = self.atom()?;
        if self.peek_op() == Some("**") {
            self.i += 1;
            let e = self.unary()?;
            return Some(Expr::Pow(Box::new(base), Box::new(e)));
        }
        Some(base)
    }
    fn atom(&mut self) -> Option<Expr> {
        match self.t.get(self.i)?.clone() {
            Tok::Num(n) => {
                self.i += 1;
                let s = if n.starts_with('.') { format!("0{n}") } else { n.clone() };
                let s = if s.ends_with('.') { format!("{s}0") } else { s };
                parse_decimal(&s).ok()
            }
            Tok::Op("(") => {
                self.i += 1;
                let e = self.sum()?;
                if self.peek_op() != Some(")") {
                    return None;
                }
                self.i += 1;
                Some(e)
            }
            _ => None,
        }
    }
}

/// Parse a Python arithmetic expression; `None` on a syntax error.
pub fn parse_py_expr(s: &str) -> Option<Expr> {
    if s.len() > 10_000 {
        return None;
    }
    let t = lex(s)?;
    let mut p = P { t, i: 0, depth: 0 };
    let e = p.sum()?;
    (p.i == p.t.len()).then_some(e)
}
