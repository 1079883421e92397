//! The expression tree both parsers produce, with exact and numeric evaluation.
//!
//! The tree keeps what Math-Verify's comparison looks at: whether a number was written as a
//! decimal (a sympy `Float`) or exactly (an `Integer`/`Rational`), whether a percentage was
//! applied, and the containers (sets, tuples, intervals, matrices, relations).

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::fmt;

/// Relation operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl RelOp {
    /// The same relation read right to left (`a < b` is `b > a`).
    pub fn mirrored(self) -> RelOp {
        match self {
            RelOp::Lt => RelOp::Gt,
            RelOp::Gt => RelOp::Lt,
            RelOp::Le => RelOp::Ge,
            RelOp::Ge => RelOp::Le,
            o => o,
        }
    }
    fn symbol(self) -> &'static str {
        match self {
            RelOp::Eq => "=",
            RelOp::Ne => "!=",
            RelOp::Lt => "<",
            RelOp::Le => "<=",
            RelOp::Gt => ">",
            RelOp::Ge => ">=",
        }
    }
}

/// A parsed answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Int(BigInt),
    /// A non-integer rational (`\frac{1}{2}`), always in lowest terms.
    Rat(BigRational),
    /// A decimal literal (sympy `Float`), kept exactly as the rational it denotes.
    Float(BigRational),
    Sym(String),
    /// Euler's number (a lowercase `e` in LaTeX).
    E,
    Pi,
    /// Positive infinity; negative infinity is `-1 * Inf`.
    Inf,
    /// The imaginary unit (`I` in LaTeX).
    I,
    Add(Vec<Expr>),
    Mul(Vec<Expr>),
    Pow(Box<Expr>, Box<Expr>),
    /// `x%`: the value times 1/100, kept apart because Math-Verify treats a percentage of a
    /// number like a number.
    Percent(Box<Expr>),
    /// A named function (`sin`, `log`, `f`, ...).
    Func(String, Vec<Expr>),
    Set(Vec<Expr>),
    Tuple(Vec<Expr>),
    Interval {
        lo: Box<Expr>,
        hi: Box<Expr>,
        lopen: bool,
        ropen: bool,
    },
    Union(Vec<Expr>),
    EmptySet,
    Reals,
    Matrix(Vec<Vec<Expr>>),
    Rel(RelOp, Box<Expr>, Box<Expr>),
    /// A chain of relations (`a < x < b`).
    And(Vec<Expr>),
}

pub(crate) fn int(i: i64) -> Expr {
    Expr::Int(BigInt::from(i))
}

/// A rational as sympy would hold it: an `Int` when the denominator is 1.
pub(crate) fn rational(r: BigRational) -> Expr {
    if r.is_integer() {
        Expr::Int(r.to_integer())
    } else {
        Expr::Rat(r)
    }
}

pub(crate) fn neg(e: Expr) -> Expr {
    match e {
        Expr::Int(i) => Expr::Int(-i),
        Expr::Rat(r) => Expr::Rat(-r),
        Expr::Float(f) => Expr::Float(-f),
        other => Expr::Mul(vec![int(-1), other]),
    }
}

pub(crate) fn sub(a: Expr, b: Expr) -> Expr {
    Expr::Add(vec![a, neg(b)])
}

impl Expr {
    pub fn is_number(&self) -> bool {
        matches!(self, Expr::Int(_) | Expr::Rat(_) | Expr::Float(_))
    }
    /// A number or a percentage of one (Math-Verify's `is_atomic_or_pct_atomic(_, Number)`).
    pub fn is_number_or_pct(&self) -> bool {
        match self {
            Expr::Percent(x) => x.is_number(),
            e => e.is_number(),
        }
    }
    pub fn is_float_or_pct(&self) -> bool {
        match self {
            Expr::Percent(x) => matches!(**x, Expr::Float(_)),
            e => matches!(e, Expr::Float(_)),
        }
    }
    pub fn is_relation(&self) -> bool {
        matches!(self, Expr::Rel(..) | Expr::And(_))
    }
    pub fn is_set_like(&self) -> bool {
        matches!(
            self,
            Expr::Set(_) | Expr::Tuple(_) | Expr::Interval { .. } | Expr::Union(_) | Expr::EmptySet | Expr::Reals
        )
    }

    /// Free symbol names, in first-seen order (bounded by the tree size).
    pub fn symbols(&self, out: &mut Vec<String>) {
        match self {
            Expr::Sym(s) => {
                if !out.contains(s) {
                    out.push(s.clone())
                }
            }
            Expr::Func(name, args) => {
                // An undefined function f(x) is evaluated as a symbol named by its text.
                if !is_known_function(name) {
                    let key = format!("{self}");
                    if !out.contains(&key) {
                        out.push(key);
                    }
                    return;
                }
                for a in args {
                    a.symbols(out)
                }
            }
            _ => self.for_each_child(|c| c.symbols(out)),
        }
    }

    fn for_each_child(&self, mut f: impl FnMut(&Expr)) {
        match self {
            Expr::Add(v)
            | Expr::Mul(v)
            | Expr::Set(v)
            | Expr::Tuple(v)
            | Expr::Union(v)
            | Expr::And(v)
            | Expr::Func(_, v) => v.iter().for_each(&mut f),
            Expr::Pow(a, b) | Expr::Rel(_, a, b) => {
                f(a);
                f(b)
            }
            Expr::Interval { lo, hi, .. } => {
                f(lo);
                f(hi)
            }
            Expr::Percent(x) => f(x),
            Expr::Matrix(rows) => rows.iter().flatten().for_each(&mut f),
            _ => {}
        }
    }

    /// The exact rational value of a constant expression built from integers, fractions and
    /// decimals with `+ - * /` and small integer powers; `None` otherwise. Sizes are capped so
    /// that `10^{10^{9}}` cannot exhaust memory.
    pub fn exact(&self) -> Option<BigRational> {
        self.exact_depth(0, false)
    }

    /// The value as sympy's `evalf` sees it, in exact rational arithmetic: decimals are the
    /// binary doubles they are stored as (sympy Floats have 53 bits), and `e`, `π` are 40-digit
    /// rationals. Equal up to ~1e-38 relative means equal at any precision sympy would use; the
    /// double rounding of decimals is kept (`5 \cdot 5.47` is not `27.35` there).
    pub(crate) fn binary_value(&self) -> Option<BigRational> {
        self.exact_depth(0, true)
    }

    fn exact_depth(&self, depth: usize, binary: bool) -> Option<BigRational> {
        if depth > 200 {
            return None;
        }
        let d = depth + 1;
        let r = match self {
            Expr::Int(i) => BigRational::from_integer(i.clone()),
            Expr::Float(r) if binary => BigRational::from_float(r.to_f64()?)?,
            Expr::Rat(r) | Expr::Float(r) => r.clone(),
            Expr::E if binary => {
                BigRational::new("2718281828459045235360287471352662497757".parse().ok()?, BigInt::from(10u32).pow(39))
            }
            Expr::Pi if binary => {
                BigRational::new("3141592653589793238462643383279502884197".parse().ok()?, BigInt::from(10u32).pow(39))
            }
            Expr::Percent(x) => x.exact_depth(d, binary)? / BigRational::from_integer(BigInt::from(100)),
            Expr::Add(v) => {
                // sympy collects the numbers of a sum first; with a Float among them the result
                // is a double.
                let (nums, rest): (Vec<&Expr>, Vec<&Expr>) = v.iter().partition(|t| t.is_number());
                let mut acc = BigRational::zero();
                for t in &nums {
                    acc += t.exact_depth(d, binary)?;
                }
                if binary && nums.iter().any(|t| matches!(t, Expr::Float(_))) {
                    acc = BigRational::from_float(acc.to_f64()?)?;
                }
                for t in rest {
                    acc += t.exact_depth(d, binary)?;
                }
                acc
            }
            Expr::Mul(v) => {
                // Likewise the numeric coefficient of a product (`5 \cdot 5.47` is the double
                // 27.349999999999998, not 27.35).
                let (nums, rest): (Vec<&Expr>, Vec<&Expr>) = v.iter().partition(|t| t.is_number());
                let mut acc = BigRational::one();
                for t in &nums {
                    acc *= t.exact_depth(d, binary)?;
                }
                if binary && nums.iter().any(|t| matches!(t, Expr::Float(_))) {
                    acc = BigRational::from_float(acc.to_f64()?)?;
                }
                for t in rest {
                    acc *= t.exact_depth(d, binary)?;
                }
                acc
            }
            Expr::Pow(b, e) => {
                let base = b.exact_depth(d, binary)?;
                let e = e.exact_depth(d, binary)?;
                if !e.is_integer() {
                    return None;
                }
                let n = e.to_integer().to_i64()?;
                let bits = base.numer().bits().max(base.denom().bits()) as i64;
                if n.unsigned_abs() > 10_000 || bits.saturating_mul(n.abs()) > 200_000 {
                    return None;
                }
                if base.is_zero() && n < 0 {
                    return None;
                }
                num_traits::pow::Pow::pow(&base, n as i32)
            }
            _ => return None,
        };
        Some(r)
    }

    /// Whether any decimal literal occurs (a sympy expression containing a `Float`).
    pub fn has_float(&self) -> bool {
        let mut found = matches!(self, Expr::Float(_));
        self.for_each_child(|c| found |= c.has_float());
        found
    }
}

/// latex2sympy's `is_expr_of_only_symbols`: a symbol, `s^-1` of such, or a compound whose
/// arguments all are (numbers are not).
pub(crate) fn is_only_symbols(e: &Expr) -> bool {
    match e {
        Expr::Sym(_) => true,
        Expr::Pow(b, x) if **x == int(-1) => is_only_symbols(b),
        Expr::Mul(v) | Expr::Add(v) | Expr::Tuple(v) | Expr::Func(_, v) | Expr::Set(v) => {
            !v.is_empty() && v.iter().all(is_only_symbols)
        }
        Expr::Pow(b, x) => is_only_symbols(b) && is_only_symbols(x),
        Expr::Rel(_, a, b) => is_only_symbols(a) && is_only_symbols(b),
        Expr::And(v) => !v.is_empty() && v.iter().all(is_only_symbols),
        _ => false,
    }
}

/// Mark every symbol as complex (latex2sympy's `is_real=False`): a complex `i` is a different
/// symbol from a real `i`.
pub(crate) fn mark_complex(e: &mut Expr, depth: usize) {
    if depth > 300 {
        return;
    }
    match e {
        Expr::Sym(s) if !s.ends_with(COMPLEX_MARK) => s.push_str(COMPLEX_MARK),
        Expr::Add(v)
        | Expr::Mul(v)
        | Expr::Set(v)
        | Expr::Tuple(v)
        | Expr::Union(v)
        | Expr::And(v)
        | Expr::Func(_, v) => v.iter_mut().for_each(|x| mark_complex(x, depth + 1)),
        Expr::Pow(a, b) | Expr::Rel(_, a, b) => {
            mark_complex(a, depth + 1);
            mark_complex(b, depth + 1)
        }
        Expr::Interval { lo, hi, .. } => {
            mark_complex(lo, depth + 1);
            mark_complex(hi, depth + 1)
        }
        Expr::Percent(x) => mark_complex(x, depth + 1),
        Expr::Matrix(rows) => rows.iter_mut().flatten().for_each(|x| mark_complex(x, depth + 1)),
        _ => {}
    }
}

/// The suffix of a complex symbol's name.
pub const COMPLEX_MARK: &str = "[complex]";

pub(crate) fn is_known_function(name: &str) -> bool {
    matches!(
        name,
        "sin"
            | "cos"
            | "tan"
            | "sec"
            | "csc"
            | "cot"
            | "asin"
            | "acos"
            | "atan"
            | "acot"
            | "asec"
            | "acsc"
            | "sinh"
            | "cosh"
            | "tanh"
            | "log"
            | "exp"
            | "abs"
            | "floor"
            | "ceil"
            | "factorial"
            | "binom"
            | "max"
            | "min"
            | "gcd"
            | "lcm"
    )
}

/// A complex number for numeric evaluation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct C {
    pub re: f64,
    pub im: f64,
}

impl C {
    pub fn real(x: f64) -> C {
        C { re: x, im: 0.0 }
    }
    fn add(self, o: C) -> C {
        C { re: self.re + o.re, im: self.im + o.im }
    }
    fn mul(self, o: C) -> C {
        C { re: self.re * o.re - self.im * o.im, im: self.re * o.im + self.im * o.re }
    }
    fn div(self, o: C) -> C {
        let d = o.re * o.re + o.im * o.im;
        C { re: (self.re * o.re + self.im * o.im) / d, im: (self.im * o.re - self.re * o.im) / d }
    }
    pub fn abs(self) -> f64 {
        self.re.hypot(self.im)
    }
    fn ln(self) -> C {
        C { re: self.abs().ln(), im: self.im.atan2(self.re) }
    }
    fn exp(self) -> C {
        let m = self.re.exp();
        C { re: m * self.im.cos(), im: m * self.im.sin() }
    }
    fn powc(self, e: C) -> C {
        if e.im == 0.0 && e.re.fract() == 0.0 && e.re.abs() <= 64.0 {
            // Integer powers by repeated multiplication keep negative bases real.
            let n = e.re as i64;
            let mut acc = C::real(1.0);
            for _ in 0..n.unsigned_abs() {
                acc = acc.mul(self);
            }
            return if n < 0 { C::real(1.0).div(acc) } else { acc };
        }
        if self.re == 0.0 && self.im == 0.0 {
            return if e.re > 0.0 { C::real(0.0) } else { C::real(f64::NAN) };
        }
        if self.im == 0.0 && e.im == 0.0 && self.re > 0.0 {
            return C::real(self.re.powf(e.re));
        }
        self.ln().mul(e).exp()
    }
    fn is_finite(self) -> bool {
        self.re.is_finite() && self.im.is_finite()
    }
}

/// Evaluate numerically with `vars` giving values for symbols (by the names [`Expr::symbols`]
/// lists). `None` when something has no numeric value here (a set, an unknown function, an
/// overflow).
pub fn eval(e: &Expr, vars: &[(String, C)], depth: usize) -> Option<C> {
    if depth > 200 {
        return None;
    }
    let d = depth + 1;
    let v = match e {
        Expr::Int(_) | Expr::Rat(_) | Expr::Float(_) => C::real(e.exact()?.to_f64()?),
        Expr::Sym(s) => vars.iter().find(|(n, _)| n == s)?.1,
        Expr::E => C::real(std::f64::consts::E),
        Expr::Pi => C::real(std::f64::consts::PI),
        Expr::Inf => return None,
        Expr::I => C { re: 0.0, im: 1.0 },
        Expr::Percent(x) => eval(x, vars, d)?.mul(C::real(0.01)),
        Expr::Add(v) => {
            let mut acc = C::real(0.0);
            for t in v {
                acc = acc.add(eval(t, vars, d)?);
            }
            acc
        }
        Expr::Mul(v) => {
            let mut acc = C::real(1.0);
            for t in v {
                acc = acc.mul(eval(t, vars, d)?);
            }
            acc
        }
        Expr::Pow(b, x) => eval(b, vars, d)?.powc(eval(x, vars, d)?),
        Expr::Func(name, args) => {
            if !is_known_function(name) {
                let key = format!("{e}");
                return vars.iter().find(|(n, _)| *n == key).map(|x| x.1);
            }
            let a: Vec<C> = args.iter().map(|x| eval(x, vars, d)).collect::<Option<_>>()?;
            let x = *a.first()?;
            let real = |f: fn(f64) -> f64| if x.im == 0.0 { Some(C::real(f(x.re))) } else { None };
            // Complex arguments (a square root of a negative number inside) for the circular
            // functions: sin z = (e^{iz} - e^{-iz}) / 2i, cos z = (e^{iz} + e^{-iz}) / 2.
            let iz = C { re: -x.im, im: x.re };
            let (ep, em) = (iz.exp(), C { re: x.im, im: -x.re }.exp());
            let sin_c = C { re: (ep.im - em.im) / 2.0, im: -(ep.re - em.re) / 2.0 };
            let cos_c = C { re: (ep.re + em.re) / 2.0, im: (ep.im + em.im) / 2.0 };
            let one = C::real(1.0);
            match name.as_str() {
                "sin" => sin_c,
                "cos" => cos_c,
                "tan" => sin_c.div(cos_c),
                "sec" => one.div(cos_c),
                "csc" => one.div(sin_c),
                "cot" => cos_c.div(sin_c),
                "asin" => real(f64::asin)?,
                "acos" => real(f64::acos)?,
                "atan" => real(f64::atan)?,
                "acot" => real(|t| (1.0 / t).atan())?,
                "asec" => real(|t| (1.0 / t).acos())?,
                "acsc" => real(|t| (1.0 / t).asin())?,
                "sinh" => real(f64::sinh)?,
                "cosh" => real(f64::cosh)?,
                "tanh" => real(f64::tanh)?,
                "exp" => x.exp(),
                "abs" => C::real(x.abs()),
                "floor" => real(f64::floor)?,
                "ceil" => real(f64::ceil)?,
                "log" => {
                    let l = x.ln();
                    match a.get(1) {
                        Some(b) => l.div(b.ln()),
                        None => l,
                    }
                }
                "factorial" => {
                    if x.im != 0.0 || x.re.fract() != 0.0 || !(0.0..=170.0).contains(&x.re) {
                        return None;
                    }
                    C::real((1..=x.re as u64).map(|k| k as f64).product())
                }
                "binom" => {
                    let k = *a.get(1)?;
                    if x.im != 0.0 || k.im != 0.0 || k.re.fract() != 0.0 || !(0.0..=170.0).contains(&k.re) {
                        return None;
                    }
                    let mut acc = 1.0;
                    for j in 0..k.re as u64 {
                        acc = acc * (x.re - j as f64) / (j as f64 + 1.0);
                    }
                    C::real(acc)
                }
                "max" | "min" | "gcd" | "lcm" => {
                    if a.iter().any(|c| c.im != 0.0) {
                        return None;
                    }
                    let it = a.iter().map(|c| c.re);
                    C::real(match name.as_str() {
                        "max" => it.fold(f64::NEG_INFINITY, f64::max),
                        "min" => it.fold(f64::INFINITY, f64::min),
                        _ => return None,
                    })
                }
                _ => return None,
            }
        }
        _ => return None,
    };
    v.is_finite().then_some(v)
}

fn fmt_list(f: &mut fmt::Formatter<'_>, open: &str, v: &[Expr], sep: &str, close: &str) -> fmt::Result {
    f.write_str(open)?;
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write!(f, "{x}")?;
    }
    f.write_str(close)
}

/// A plain printed form, used by `--explain` and for the symbol comparisons that Math-Verify
/// does on printed forms.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Int(i) => write!(f, "{i}"),
            Expr::Rat(r) => write!(f, "{}/{}", r.numer(), r.denom()),
            Expr::Float(r) => match r.to_f64() {
                Some(x) => write!(f, "{x:?}"),
                None => write!(f, "float({}/{})", r.numer(), r.denom()),
            },
            Expr::Sym(s) => f.write_str(s),
            Expr::E => f.write_str("E"),
            Expr::Pi => f.write_str("pi"),
            Expr::Inf => f.write_str("oo"),
            Expr::I => f.write_str("I"),
            Expr::Add(v) => fmt_list(f, "(", v, " + ", ")"),
            Expr::Mul(v) => fmt_list(f, "(", v, "*", ")"),
            Expr::Pow(a, b) => write!(f, "{a}**{b}"),
            Expr::Percent(x) => write!(f, "{x}%"),
            Expr::Func(n, v) => fmt_list(f, &format!("{n}("), v, ", ", ")"),
            Expr::Set(v) => fmt_list(f, "{", v, ", ", "}"),
            Expr::Tuple(v) => fmt_list(f, "(", v, ", ", ")"),
            Expr::Interval { lo, hi, lopen, ropen } => {
                write!(f, "{}{lo}, {hi}{}", if *lopen { "(" } else { "[" }, if *ropen { ")" } else { "]" })
            }
            Expr::Union(v) => fmt_list(f, "", v, " U ", ""),
            Expr::EmptySet => f.write_str("EmptySet"),
            Expr::Reals => f.write_str("Reals"),
            Expr::Matrix(rows) => {
                f.write_str("Matrix[")?;
                for (i, r) in rows.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    fmt_list(f, "", r, ", ", "")?;
                }
                f.write_str("]")
            }
            Expr::Rel(op, a, b) => write!(f, "{a} {} {b}", op.symbol()),
            Expr::And(v) => fmt_list(f, "", v, " & ", ""),
        }
    }
}

/// `r` rounded to `digits` decimals, half to even, as Math-Verify's `round(6)` does.
pub(crate) fn round_decimal(r: &BigRational, digits: u32) -> BigRational {
    let scale = BigInt::from(10u32).pow(digits);
    let x = r * BigRational::from_integer(scale.clone());
    let fl = x.floor();
    let frac = &x - &fl;
    let half = BigRational::new(BigInt::from(1), BigInt::from(2));
    let mut n = fl.to_integer();
    if frac > half || (frac == half && n.is_odd_big()) {
        n += 1;
    }
    BigRational::new(n, scale)
}

trait OddBig {
    fn is_odd_big(&self) -> bool;
}
impl OddBig for BigInt {
    fn is_odd_big(&self) -> bool {
        (self % BigInt::from(2)).abs().is_one()
    }
}
