//! Evaluating a normalised answer to a number when it is a closed numeric expression:
//! integers, decimals, `\frac`, `a/b`, powers, `\sqrt`, `\pi`, products and sums of these.
//!
//! Values are kept exactly (i128 rationals) while they can be, and as f64 always; exact values
//! are compared exactly, the rest with a tight relative tolerance. Anything else (a variable, an
//! unknown command, unbalanced input, overflow to infinity) is "not a number" and is compared
//! as text instead. Recursion depth is capped, so adversarial nesting cannot blow the stack.

/// Maximum nesting of the expression parser.
const MAX_DEPTH: usize = 48;
/// Relative tolerance for values that are not exact rationals (radicals, π).
const REL_TOL: f64 = 1e-9;
/// Literals with more digits than this are kept only as f64.
const MAX_EXACT_DIGITS: usize = 36;

/// An exact rational: `n / d`, `d > 0`, in lowest terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rat {
    pub n: i128,
    pub d: i128,
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs()
}

impl Rat {
    fn new(n: i128, d: i128) -> Option<Rat> {
        if d == 0 {
            return None;
        }
        let g = gcd(n, d).max(1);
        let (n, d) = (n / g, d / g);
        if d < 0 {
            Some(Rat { n: n.checked_neg()?, d: d.checked_neg()? })
        } else {
            Some(Rat { n, d })
        }
    }
    fn int(n: i128) -> Rat {
        Rat { n, d: 1 }
    }
    fn add(self, o: Rat) -> Option<Rat> {
        let n = self.n.checked_mul(o.d)?.checked_add(o.n.checked_mul(self.d)?)?;
        Rat::new(n, self.d.checked_mul(o.d)?)
    }
    fn mul(self, o: Rat) -> Option<Rat> {
        Rat::new(self.n.checked_mul(o.n)?, self.d.checked_mul(o.d)?)
    }
    fn recip(self) -> Option<Rat> {
        Rat::new(self.d, self.n)
    }
    fn neg(self) -> Option<Rat> {
        Some(Rat { n: self.n.checked_neg()?, d: self.d })
    }
    fn to_f64(self) -> f64 {
        self.n as f64 / self.d as f64
    }
}

/// A value: always an f64, and an exact rational while one is known.
#[derive(Debug, Clone, Copy)]
pub struct Num {
    pub exact: Option<Rat>,
    pub approx: f64,
}

impl Num {
    fn exact(r: Rat) -> Num {
        Num { exact: Some(r), approx: r.to_f64() }
    }
    fn approx(x: f64) -> Num {
        Num { exact: None, approx: x }
    }
    fn finite(self) -> Option<Num> {
        self.approx.is_finite().then_some(self)
    }
    fn add(self, o: Num) -> Option<Num> {
        let exact = self.exact.zip(o.exact).and_then(|(a, b)| a.add(b));
        Num { exact, approx: self.approx + o.approx }.finite()
    }
    fn neg(self) -> Num {
        Num { exact: self.exact.and_then(Rat::neg), approx: -self.approx }
    }
    fn mul(self, o: Num) -> Option<Num> {
        let exact = self.exact.zip(o.exact).and_then(|(a, b)| a.mul(b));
        Num { exact, approx: self.approx * o.approx }.finite()
    }
    fn div(self, o: Num) -> Option<Num> {
        if o.approx == 0.0 || o.exact.is_some_and(|r| r.n == 0) {
            return None;
        }
        let exact = self.exact.zip(o.exact.and_then(Rat::recip)).and_then(|(a, b)| a.mul(b));
        Num { exact, approx: self.approx / o.approx }.finite()
    }
    fn pow(self, e: Num) -> Option<Num> {
        let int_exp = e.exact.filter(|r| r.d == 1 && r.n.abs() <= 256).map(|r| r.n);
        let exact = match (self.exact, int_exp) {
            (Some(b), Some(k)) => {
                let mut acc = Some(Rat::int(1));
                for _ in 0..k.unsigned_abs() {
                    acc = acc.and_then(|a| a.mul(b));
                }
                if k < 0 {
                    acc.and_then(Rat::recip)
                } else {
                    acc
                }
            }
            _ => None,
        };
        let approx = match int_exp {
            Some(k) => self.approx.powi(k as i32),
            None => self.approx.powf(e.approx),
        };
        Num { exact, approx }.finite()
    }
    /// The n-th root; exact when numerator and denominator are perfect powers.
    fn root(self, n: u32) -> Option<Num> {
        if n == 0 || (self.approx < 0.0 && n % 2 == 0) {
            return None;
        }
        let approx =
            if n == 2 { self.approx.sqrt() } else { self.approx.signum() * self.approx.abs().powf(1.0 / n as f64) };
        let exact = self.exact.and_then(|r| {
            let rn = int_root(r.n, n)?;
            let rd = int_root(r.d, n)?;
            Rat::new(rn, rd)
        });
        Num { exact, approx }.finite()
    }
}

/// The integer n-th root of `v` if `v` is a perfect n-th power (sign kept for odd n).
fn int_root(v: i128, n: u32) -> Option<i128> {
    let guess = (v.unsigned_abs() as f64).powf(1.0 / n as f64).round() as i128;
    let sign = if v < 0 { -1 } else { 1 };
    for cand in [guess - 1, guess, guess + 1] {
        if cand < 0 {
            continue;
        }
        let mut p: Option<i128> = Some(1);
        for _ in 0..n {
            p = p.and_then(|p| p.checked_mul(cand));
        }
        if p == Some(v.abs()) {
            return Some(sign * cand);
        }
    }
    None
}

/// Whether two values are equal: exactly when both are exact, else within `REL_TOL`.
pub fn num_eq(a: Num, b: Num) -> bool {
    if let (Some(x), Some(y)) = (a.exact, b.exact) {
        return x == y;
    }
    let (x, y) = (a.approx, b.approx);
    x == y || (x - y).abs() <= REL_TOL * x.abs().max(y.abs())
}

/// Divide by 100 (a percentage read as a fraction).
pub fn percent_of(a: Num) -> Option<Num> {
    a.div(Num::exact(Rat::int(100)))
}

/// Evaluate a normalised answer, or `None` if it is not a closed numeric expression.
pub fn evaluate(s: &str) -> Option<Num> {
    if s.is_empty() || !s.is_ascii() {
        return None;
    }
    let mut p = Parser { s: s.as_bytes(), i: 0 };
    let v = p.expr(0)?;
    (p.i == p.s.len()).then_some(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, lit: &str) -> bool {
        let ok = self.s[self.i..].starts_with(lit.as_bytes())
            && !self.s.get(self.i + lit.len()).is_some_and(|c| lit.starts_with('\\') && c.is_ascii_alphabetic());
        if ok {
            self.i += lit.len();
        }
        ok
    }

    fn expr(&mut self, depth: usize) -> Option<Num> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut v = self.term(depth + 1)?;
        loop {
            if self.eat("+") {
                v = v.add(self.term(depth + 1)?)?;
            } else if self.eat("-") {
                v = v.add(self.term(depth + 1)?.neg())?;
            } else {
                return Some(v);
            }
        }
    }

    fn term(&mut self, depth: usize) -> Option<Num> {
        let mut v = self.unary(depth + 1)?;
        loop {
            if self.eat("*") || self.eat("\\times") || self.eat("\\cdot") {
                v = v.mul(self.unary(depth + 1)?)?;
            } else if self.eat("/") || self.eat("\\div") {
                v = v.div(self.unary(depth + 1)?)?;
            } else if self.starts_atom() {
                // Implicit product: `2\sqrt{3}`, `3\pi`, `2(4)`.
                v = v.mul(self.power(depth + 1)?)?;
            } else {
                return Some(v);
            }
        }
    }

    fn starts_atom(&self) -> bool {
        match self.peek() {
            Some(c) if c.is_ascii_digit() || c == b'(' || c == b'{' => true,
            Some(b'\\') => {
                let rest = &self.s[self.i..];
                [&b"\\frac"[..], b"\\sqrt", b"\\pi"].iter().any(|c| rest.starts_with(c))
            }
            _ => false,
        }
    }

    fn unary(&mut self, depth: usize) -> Option<Num> {
        if depth > MAX_DEPTH {
            return None;
        }
        if self.eat("-") {
            return Some(self.unary(depth + 1)?.neg());
        }
        if self.eat("+") {
            return self.unary(depth + 1);
        }
        self.power(depth + 1)
    }

    fn power(&mut self, depth: usize) -> Option<Num> {
        let base = self.atom(depth + 1)?;
        if !self.eat("^") {
            return Some(base);
        }
        let exp = if self.peek() == Some(b'{') {
            self.group(b'{', b'}', depth + 1)?
        } else if self.eat("-") {
            self.atom(depth + 1)?.neg()
        } else {
            self.atom(depth + 1)?
        };
        base.pow(exp)
    }

    fn group(&mut self, open: u8, close: u8, depth: usize) -> Option<Num> {
        if self.peek() != Some(open) {
            return None;
        }
        self.i += 1;
        let v = self.expr(depth + 1)?;
        (self.peek() == Some(close)).then(|| self.i += 1)?;
        Some(v)
    }

    fn atom(&mut self, depth: usize) -> Option<Num> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'(' => self.group(b'(', b')', depth),
            b'{' => self.group(b'{', b'}', depth),
            c if c.is_ascii_digit() || c == b'.' => self.number(),
            b'\\' => {
                if self.eat("\\frac") {
                    let a = self.group(b'{', b'}', depth)?;
                    let b = self.group(b'{', b'}', depth)?;
                    a.div(b)
                } else if self.eat("\\sqrt") {
                    let n = if self.peek() == Some(b'[') {
                        let k = self.group(b'[', b']', depth)?.exact.filter(|r| r.d == 1 && (2..=16).contains(&r.n))?;
                        k.n as u32
                    } else {
                        2
                    };
                    self.group(b'{', b'}', depth)?.root(n)
                } else if self.eat("\\pi") {
                    Some(Num::approx(std::f64::consts::PI))
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// A decimal literal with an optional `e±k` exponent: `12`, `0.5`, `.5`, `4.5e33`.
    fn number(&mut self) -> Option<Num> {
        let start = self.i;
        let digits = |p: &mut Self| {
            let s = p.i;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.i += 1;
            }
            p.i - s
        };
        let int_len = digits(self);
        let mut frac_len = 0;
        if self.peek() == Some(b'.') && self.s.get(self.i + 1).is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
            frac_len = digits(self);
        }
        if int_len + frac_len == 0 {
            return None;
        }
        let mantissa_end = self.i;
        let mut exp: i64 = 0;
        if self.peek() == Some(b'e') {
            let save = self.i;
            self.i += 1;
            let neg = self.eat("-");
            if !neg {
                self.eat("+");
            }
            let es = self.i;
            let n = digits(self);
            if n == 0 || n > 4 {
                self.i = save;
            } else {
                let e: i64 = std::str::from_utf8(&self.s[es..self.i]).ok()?.parse().ok()?;
                exp = if neg { -e } else { e };
            }
        }
        let text = std::str::from_utf8(&self.s[start..mantissa_end]).ok()?;
        let approx: f64 = format!("{text}e{exp}").parse().ok()?;
        let exact = (int_len + frac_len <= MAX_EXACT_DIGITS && exp.abs() <= 38).then(|| {
            let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
            let n: i128 = digits.parse().ok()?;
            let scale = exp - frac_len as i64;
            let ten = 10i128.checked_pow(scale.unsigned_abs() as u32)?;
            if scale >= 0 {
                Some(Rat::int(n.checked_mul(ten)?))
            } else {
                Rat::new(n, ten)
            }
        });
        let value = Num { exact: exact.flatten(), approx }.finite()?;
        if frac_len == 0 && mantissa_end == self.i {
            if let Some(part) = self.mixed_fraction() {
                return value.add(part);
            }
        }
        Some(value)
    }

    /// `2\frac{1}{2}` is the mixed number 2½ (how MATH writes them), not 2 × ½. Only a fraction
    /// of two digit strings right after an integer literal is read this way.
    fn mixed_fraction(&mut self) -> Option<Num> {
        let rest = &self.s[self.i..];
        let body = rest.strip_prefix(&b"\\frac{"[..])?;
        let a = body.iter().take_while(|c| c.is_ascii_digit()).count();
        let body2 = body[a..].strip_prefix(&b"}{"[..])?;
        let b = body2.iter().take_while(|c| c.is_ascii_digit()).count();
        if a == 0 || b == 0 || body2.get(b) != Some(&b'}') {
            return None;
        }
        let save = self.i;
        let v = self.atom(0);
        if v.is_none() {
            self.i = save;
        }
        v
    }
}
