//! Equality of two parsed answers, following Math-Verify's `sympy_expr_eq` (strict, 6-decimal
//! float rounding). Where sympy simplifies symbolically, this crate evaluates: exact rational
//! arithmetic for constants built from numbers, and otherwise floating-point evaluation of
//! `gold - pred` at seeded pseudo-random points (complex arithmetic, so `\sqrt{-x}` is defined).

use crate::expr::{eval, int, round_decimal, sub, Expr, RelOp, C};
use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};

/// Comparison settings. `Default` is Math-Verify as the authors call it.
#[derive(Clone, Copy, Debug)]
pub struct CompareOptions {
    /// Decimals to which floats are rounded before comparing (Math-Verify: 6).
    pub float_rounding: u32,
    /// Whether to compare by value beyond Math-Verify's symbolic abilities; turning this off
    /// (a mutation check) keeps only structural and exact-number equality.
    pub symbolic: bool,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions { float_rounding: 6, symbolic: true }
    }
}

const MAX_DEPTH: usize = 24;

/// Whether `gold` and `pred` are the same answer.
pub fn expr_eq(gold: &Expr, pred: &Expr, o: &CompareOptions) -> bool {
    eq_depth(gold, pred, o, 0)
}

use crate::expr::is_only_symbols;

fn is_equation(e: &Expr) -> bool {
    match e {
        Expr::Rel(RelOp::Eq, ..) => true,
        Expr::And(v) => !v.is_empty() && v.iter().all(|r| matches!(r, Expr::Rel(RelOp::Eq, ..))),
        _ => false,
    }
}

fn is_assignment(e: &Expr) -> bool {
    match e {
        Expr::Rel(RelOp::Eq, l, _) => is_only_symbols(l),
        Expr::And(v) => {
            !v.is_empty()
                && v.iter().all(|r| matches!(r, Expr::Rel(RelOp::Eq, ..)))
                && matches!(&v[0], Expr::Rel(_, l, _) if is_only_symbols(l))
        }
        _ => false,
    }
}

fn first_rel(e: &Expr) -> Option<&Expr> {
    match e {
        Expr::And(v) => v.first(),
        r => Some(r),
    }
}

fn last_rel(e: &Expr) -> Option<&Expr> {
    match e {
        Expr::And(v) => v.last().and_then(last_rel),
        r => Some(r),
    }
}

fn sides(e: &Expr) -> Option<(&Expr, &Expr)> {
    match e {
        Expr::Rel(_, l, r) => Some((l, r)),
        _ => None,
    }
}

/// A sympy `Set` (not a `Tuple`).
fn is_sympy_set(e: &Expr) -> bool {
    matches!(e, Expr::Set(_) | Expr::Interval { .. } | Expr::Union(_) | Expr::EmptySet | Expr::Reals)
}

fn collapse_assignment(e: &Expr) -> Option<Expr> {
    let (l, _) = sides(first_rel(e)?)?;
    let (_, r) = sides(last_rel(e)?)?;
    Some(Expr::Rel(RelOp::Eq, Box::new(l.clone()), Box::new(r.clone())))
}

fn eq_depth(gold: &Expr, pred: &Expr, o: &CompareOptions, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    let mut g = gold.clone();
    let mut p = pred.clone();
    let g_assign = is_assignment(&g);
    let p_assign = is_assignment(&p);
    let g_eq = is_equation(&g);
    let p_eq = is_equation(&p);
    if g_assign {
        if let Some(c) = collapse_assignment(&g) {
            g = c;
        }
    }
    if p_assign {
        if let Some(c) = collapse_assignment(&p) {
            p = c;
        }
    }
    if p_eq && !g_eq {
        if let Some((_, r)) = last_rel(&p).and_then(sides) {
            p = r.clone();
        }
    } else if g_assign && !p_eq {
        if let Some((_, r)) = last_rel(&g).and_then(sides) {
            g = r.clone();
        }
    }
    if g.is_relation() && is_sympy_set(&p) {
        if let Some(s) = relation_as_set(&g) {
            g = s;
        }
    }
    if structural_eq(&g, &p) {
        return true;
    }
    if g.is_relation() && p.is_relation() {
        return compare_relational(&g, &p, o, depth);
    }
    if g.is_set_like() || p.is_set_like() {
        return compare_sets(&g, &p, o, depth);
    }
    if matches!(g, Expr::Sym(_)) || matches!(p, Expr::Sym(_)) {
        return compare_symbols(&g, &p);
    }
    if g.is_relation() || p.is_relation() {
        // sympy's numeric and symbolic steps fail on a relation minus an expression.
        return false;
    }
    numeric_eq(&g, &p, o) || symbolic_eq(&g, &p, o)
}

/// sympy's structural `==`, with Add/Mul/FiniteSet arguments compared as multisets (sympy
/// keeps them in canonical order).
pub(crate) fn structural_eq(a: &Expr, b: &Expr) -> bool {
    canon(a, 0) == canon(b, 0)
}

fn canon(e: &Expr, depth: usize) -> String {
    if depth > 60 {
        return format!("{e}");
    }
    let d = depth + 1;
    let list = |tag: &str, v: &[Expr], sort: bool, dedup: bool| -> String {
        let mut parts: Vec<String> = v.iter().map(|x| canon(x, d)).collect();
        if sort {
            parts.sort();
        }
        if dedup {
            parts.dedup();
        }
        format!("{tag}[{}]", parts.join(","))
    };
    match e {
        Expr::Int(i) => format!("I{i}"),
        Expr::Sym(s) => format!("S{s:?}"),
        Expr::Rat(r) => format!("R{}/{}", r.numer(), r.denom()),
        Expr::Float(r) => format!("F{}/{}", r.numer(), r.denom()),
        Expr::Percent(x) => match x.exact() {
            Some(r) if x.is_number() && !x.has_float() => {
                let v = r / BigRational::from_integer(100.into());
                canon(&crate::expr::rational(v), d)
            }
            _ => format!("Pct[{}]", canon(x, d)),
        },
        Expr::Add(v) => list("Add", v, true, false),
        Expr::Mul(v) => list("Mul", v, true, false),
        Expr::Set(v) => list("Set", v, true, true),
        Expr::Tuple(v) => list("Tuple", v, false, false),
        Expr::Union(v) => list("Union", v, true, true),
        Expr::And(v) => list("And", v, true, true),
        Expr::Func(n, v) => list(&format!("Fn:{n}"), v, false, false),
        Expr::Pow(a, b) => format!("Pow[{},{}]", canon(a, d), canon(b, d)),
        Expr::Rel(op, a, b) => {
            // sympy stores `a > b` as written; Eq is symmetric only in value, not structure.
            format!("Rel{op:?}[{},{}]", canon(a, d), canon(b, d))
        }
        Expr::Interval { lo, hi, lopen, ropen } => format!("Iv{lopen}{ropen}[{},{}]", canon(lo, d), canon(hi, d)),
        Expr::Matrix(rows) => {
            let r: Vec<String> = rows.iter().map(|r| list("Row", r, false, false)).collect();
            format!("Mat[{}]", r.join(";"))
        }
        other => format!("{other}"),
    }
}

/// A relation in one variable as the set of its solutions (sympy's `as_set`).
fn relation_as_set(e: &Expr) -> Option<Expr> {
    let neg_inf = || Expr::Mul(vec![int(-1), Expr::Inf]);
    let one = |r: &Expr| -> Option<Expr> {
        let Expr::Rel(op, l, rhs) = r else { return None };
        // Undefined functions count as symbols (Math-Verify's `unwrap_fcs`).
        let var =
            |e: &Expr| matches!(e, Expr::Sym(_)) || matches!(e, Expr::Func(n, _) if !crate::expr::is_known_function(n));
        let (op, c) = if var(l) && const_value(rhs).is_some() {
            (*op, (**rhs).clone())
        } else if var(rhs) && const_value(l).is_some() {
            (op.mirrored(), (**l).clone())
        } else {
            return None;
        };
        let iv = |lo: Expr, hi: Expr, lopen: bool, ropen: bool| Expr::Interval {
            lo: Box::new(lo),
            hi: Box::new(hi),
            lopen,
            ropen,
        };
        Some(match op {
            RelOp::Gt => iv(c, Expr::Inf, true, true),
            RelOp::Ge => iv(c, Expr::Inf, false, true),
            RelOp::Lt => iv(neg_inf(), c, true, true),
            RelOp::Le => iv(neg_inf(), c, true, false),
            RelOp::Eq => Expr::Set(vec![c]),
            RelOp::Ne => Expr::Union(vec![iv(neg_inf(), c.clone(), true, true), iv(c, Expr::Inf, true, true)]),
        })
    };
    match e {
        Expr::Rel(RelOp::Eq, l, r) if one(e).is_none() => quadratic_solutions(&sub((**l).clone(), (**r).clone())),
        Expr::Rel(..) => one(e),
        Expr::And(v) if v.len() == 2 => {
            let (a, b) = (one(&v[0])?, one(&v[1])?);
            match (a, b) {
                (
                    Expr::Interval { lo: l1, hi: h1, lopen: lo1, ropen: ro1 },
                    Expr::Interval { lo: l2, hi: h2, lopen: lo2, ropen: ro2 },
                ) => {
                    // Intersection of two half-lines.
                    let (lo, lopen) = if const_value(&l1)? >= const_value(&l2)? { (l1, lo1) } else { (l2, lo2) };
                    let (hi, ropen) = if const_value(&h1)? <= const_value(&h2)? { (h1, ro1) } else { (h2, ro2) };
                    Some(Expr::Interval { lo, hi, lopen, ropen })
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn substitute(e: &Expr, name: &str, v: &Expr, depth: usize) -> Option<Expr> {
    if depth > 100 {
        return None;
    }
    let d = depth + 1;
    let all = |xs: &[Expr]| xs.iter().map(|x| substitute(x, name, v, d)).collect::<Option<Vec<_>>>();
    Some(match e {
        Expr::Sym(s) if s == name => v.clone(),
        Expr::Add(xs) => Expr::Add(all(xs)?),
        Expr::Mul(xs) => Expr::Mul(all(xs)?),
        Expr::Pow(a, b) => Expr::Pow(Box::new(substitute(a, name, v, d)?), Box::new(substitute(b, name, v, d)?)),
        Expr::Percent(x) => Expr::Percent(Box::new(substitute(x, name, v, d)?)),
        x => x.clone(),
    })
}

/// The real solutions of `f = 0` for a polynomial `f` of degree at most 2 in one variable with
/// rational coefficients (sympy's `as_set` for such equations, e.g. `x^2 = 4` is {-2, 2}).
fn quadratic_solutions(f: &Expr) -> Option<Expr> {
    let mut syms = Vec::new();
    f.symbols(&mut syms);
    if syms.len() != 1 || f.has_float() {
        return None;
    }
    let at = |k: i64| substitute(f, &syms[0], &int(k), 0).and_then(|x| x.exact());
    let vals: Vec<BigRational> = (-2..=2).map(at).collect::<Option<_>>()?;
    // Third and fourth finite differences vanish for a polynomial of degree <= 2.
    let d1: Vec<BigRational> = vals.windows(2).map(|w| &w[1] - &w[0]).collect();
    let d2: Vec<BigRational> = d1.windows(2).map(|w| &w[1] - &w[0]).collect();
    if d2.windows(2).any(|w| w[0] != w[1]) {
        return None;
    }
    let two = BigRational::from_integer(2.into());
    let (fm1, f0, f1) = (&vals[1], &vals[2], &vals[3]);
    let a = (f1 + fm1 - &two * f0) / &two;
    let b = (f1 - fm1) / &two;
    let c = f0.clone();
    if a.is_zero() {
        if b.is_zero() {
            return None;
        }
        return Some(Expr::Set(vec![crate::expr::rational(-c / b)]));
    }
    let disc = &b * &b - BigRational::from_integer(4.into()) * &a * &c;
    let two_a = &two * &a;
    if disc < BigRational::zero() {
        return Some(Expr::EmptySet);
    }
    let center = crate::expr::rational(-&b / &two_a);
    if disc.is_zero() {
        return Some(Expr::Set(vec![center]));
    }
    let half = crate::expr::rational(BigRational::new(1.into(), 2.into()));
    let root = Expr::Pow(Box::new(crate::expr::rational(disc)), Box::new(half));
    let scale = crate::expr::rational(BigRational::from_integer(1.into()) / &two_a);
    let plus = Expr::Add(vec![center.clone(), Expr::Mul(vec![scale.clone(), root.clone()])]);
    let minus = Expr::Add(vec![center, Expr::Mul(vec![crate::expr::neg(scale), root])]);
    Some(Expr::Set(vec![minus, plus]))
}

fn const_value(e: &Expr) -> Option<f64> {
    crate::latex::order_key(e)
}

fn compare_relational(g: &Expr, p: &Expr, o: &CompareOptions, depth: usize) -> bool {
    match (g, p) {
        (Expr::And(a), Expr::And(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| compare_relational(x, y, o, depth + 1))
        }
        (Expr::Rel(go, gl, gr), Expr::Rel(po, pl, pr)) => {
            let gd = sub((**gl).clone(), (**gr).clone());
            if go == po && eq_depth(&gd, &sub((**pl).clone(), (**pr).clone()), o, depth + 1) {
                return true;
            }
            if go.mirrored() == *po && eq_depth(&gd, &sub((**pr).clone(), (**pl).clone()), o, depth + 1) {
                return true;
            }
            // sympy's solve-and-compare succeeds for equations in two or more variables with
            // the same solutions; for these answers that means proportional equations.
            if *go == RelOp::Eq && *po == RelOp::Eq && o.symbolic {
                return proportional(&gd, &sub((**pl).clone(), (**pr).clone()));
            }
            false
        }
        _ => false,
    }
}

fn compare_symbols(g: &Expr, p: &Expr) -> bool {
    let name = |e: &Expr| -> Option<String> {
        match e {
            Expr::Sym(s) => Some(s.clone()),
            _ => None,
        }
    };
    if (name(g).is_some_and(|n| n.to_lowercase() == "e") && *p == Expr::E)
        || (name(p).is_some_and(|n| n.to_lowercase() == "e") && *g == Expr::E)
    {
        return true;
    }
    let concat = |v: &[Expr]| -> Option<String> {
        v.iter()
            .map(|x| match x {
                Expr::Sym(s) => Some(s.clone()),
                Expr::E => Some("e".into()),
                _ => None,
            })
            .collect()
    };
    if let (Some(gn), Expr::Mul(v)) = (name(g), p) {
        if let Some(c) = concat(v) {
            return gn.to_lowercase() == c.to_lowercase();
        }
    }
    if let (Expr::Mul(v), Some(pn)) = (g, name(p)) {
        if let Some(c) = concat(v) {
            return pn.to_lowercase() == c.to_lowercase();
        }
    }
    if let (Some(a), Some(b)) = (name(g), name(p)) {
        let f = |s: String| if s.chars().count() > 1 { s.to_lowercase() } else { s };
        return f(a) == f(b);
    }
    format!("{g}") == format!("{p}")
}

/// Numeric sort key of a set element (sympy's `default_sort_key` of `evalf`): numbers by value
/// first, then everything else by its printed form.
fn sort_key(e: &Expr) -> (u8, f64, String) {
    // Math-Verify sorts by `unwrap_eq`: an assignment (or a chain of them) by its last value.
    let inner = if is_assignment(e) { last_rel(e).and_then(sides).map_or(e, |(_, r)| r) } else { e };
    match crate::latex::order_key(inner) {
        Some(v) if !v.is_nan() => (0, v, String::new()),
        _ => (1, 0.0, canon(e, 0)),
    }
}

fn sorted(v: &[Expr]) -> Vec<Expr> {
    let mut w: Vec<Expr> = v.to_vec();
    w.sort_by(|a, b| {
        let (ka, kb) = (sort_key(a), sort_key(b));
        ka.0.cmp(&kb.0).then(ka.1.partial_cmp(&kb.1).unwrap_or(std::cmp::Ordering::Equal)).then(ka.2.cmp(&kb.2))
    });
    w
}

/// A sympy FiniteSet drops structurally equal duplicates.
fn dedup_set(v: &[Expr]) -> Vec<Expr> {
    // sympy's FiniteSet also merges a Float with the non-integer Rational of the same (binary)
    // value: {0.25, 1/4} has one element (an Integer and a Float stay apart).
    let key = |x: &Expr| match x {
        Expr::Float(r) => match r.to_f64().and_then(BigRational::from_float) {
            Some(b) if !b.is_integer() => canon(&Expr::Rat(b), 0),
            _ => canon(x, 0),
        },
        _ => canon(x, 0),
    };
    let mut seen = std::collections::HashSet::new();
    v.iter().filter(|x| seen.insert(key(x))).cloned().collect()
}

fn compare_sets(g: &Expr, p: &Expr, o: &CompareOptions, depth: usize) -> bool {
    let wrap = |e: &Expr| -> Expr {
        if e.is_set_like() {
            match e {
                Expr::Set(v) => Expr::Set(dedup_set(v)),
                x => x.clone(),
            }
        } else {
            Expr::Set(vec![e.clone()])
        }
    };
    let (a, b) = (wrap(g), wrap(p));
    if let (
        Expr::Interval { lo: l1, hi: h1, lopen: a1, ropen: b1 },
        Expr::Interval { lo: l2, hi: h2, lopen: a2, ropen: b2 },
    ) = (&a, &b)
    {
        return a1 == a2 && b1 == b2 && eq_depth(l1, l2, o, depth + 1) && eq_depth(h1, h2, o, depth + 1);
    }
    if structural_eq(&a, &b) {
        return true;
    }
    let finite = |e: &Expr| -> Option<(bool, Vec<Expr>)> {
        match e {
            Expr::Set(v) => Some((true, v.clone())),
            Expr::Tuple(v) => Some((false, v.clone())),
            _ => None,
        }
    };
    match (finite(&a), finite(&b)) {
        (Some((ga_set, ga)), Some((pb_set, pb))) => {
            if ga.len() != pb.len() {
                return false;
            }
            let (ga, pb) = if ga_set {
                (sorted(&ga), sorted(&pb))
            } else if pb_set {
                // A tuple gold against a set: the set in written order.
                (ga, pb)
            } else {
                (ga, pb)
            };
            ga.iter().zip(&pb).all(|(x, y)| eq_depth(x, y, o, depth + 1))
        }
        (None, Some((_, pb))) => match &a {
            Expr::Interval { lo, hi, lopen: true, ropen: true } if pb.len() == 2 => {
                eq_depth(lo, &pb[0], o, depth + 1) && eq_depth(hi, &pb[1], o, depth + 1)
            }
            _ => false,
        },
        (Some((_, ga)), None) => match &b {
            Expr::Interval { lo, hi, lopen: true, ropen: true } if ga.len() == 2 => {
                eq_depth(&ga[0], lo, o, depth + 1) && eq_depth(&ga[1], hi, o, depth + 1)
            }
            _ => false,
        },
        _ => false,
    }
}

/// What a number rounds to: sympy's `Integer.round()` stays an Integer (and an Integer never
/// equals a Float), everything else becomes a Float rounded half-even.
#[derive(PartialEq)]
enum Rounded {
    Int(num_bigint::BigInt),
    Float(BigRational),
}

fn rounded(e: &Expr, digits: u32) -> Option<Rounded> {
    if let Some(r) = e.exact() {
        if r.is_integer() && !e.has_float() {
            return Some(Rounded::Int(r.to_integer()));
        }
        return Some(Rounded::Float(round_decimal(&r, digits)));
    }
    let c = eval(e, &[], 0)?;
    if c.im.abs() > 1e-12 * c.re.abs().max(1.0) {
        return None;
    }
    let r = BigRational::from_float(c.re)?;
    Some(Rounded::Float(round_decimal(&r, digits)))
}

/// A matrix expression carried out (sympy's `doit`): sums, scalar multiples and products of
/// matrices become one matrix; `None` when `e` is not a matrix expression.
fn matrix_value(e: &Expr, depth: usize) -> Option<Vec<Vec<Expr>>> {
    if depth > 20 {
        return None;
    }
    match e {
        Expr::Matrix(m) => Some(m.clone()),
        Expr::Add(v) => {
            let mut acc: Option<Vec<Vec<Expr>>> = None;
            for t in v {
                let m = matrix_value(t, depth + 1)?;
                acc = Some(match acc {
                    None => m,
                    Some(a) => {
                        if a.len() != m.len() || a.iter().zip(&m).any(|(x, y)| x.len() != y.len()) {
                            return None;
                        }
                        a.into_iter()
                            .zip(m)
                            .map(|(r1, r2)| r1.into_iter().zip(r2).map(|(x, y)| Expr::Add(vec![x, y])).collect())
                            .collect()
                    }
                });
            }
            acc
        }
        Expr::Mul(v) => {
            let mut scalars = Vec::new();
            let mut acc: Option<Vec<Vec<Expr>>> = None;
            for t in v {
                if let Some(m) = matrix_value(t, depth + 1) {
                    acc = Some(match acc {
                        None => m,
                        Some(a) => {
                            let (n, k, q) = (a.len(), m.len(), m.first().map_or(0, Vec::len));
                            if a.iter().any(|r| r.len() != k) || n * q * k > 10_000 {
                                return None;
                            }
                            (0..n)
                                .map(|i| {
                                    (0..q)
                                        .map(|j| {
                                            Expr::Add(
                                                (0..k)
                                                    .map(|l| Expr::Mul(vec![a[i][l].clone(), m[l][j].clone()]))
                                                    .collect(),
                                            )
                                        })
                                        .collect()
                                })
                                .collect()
                        }
                    });
                } else {
                    scalars.push(t.clone());
                }
            }
            let m = acc?;
            Some(
                m.into_iter()
                    .map(|r| {
                        r.into_iter()
                            .map(|x| {
                                let mut f = scalars.clone();
                                f.push(x);
                                Expr::Mul(f)
                            })
                            .collect()
                    })
                    .collect(),
            )
        }
        _ => None,
    }
}

fn numeric_eq(g: &Expr, p: &Expr, o: &CompareOptions) -> bool {
    let gm = matrix_value(g, 0).map(Expr::Matrix);
    let pm = matrix_value(p, 0).map(Expr::Matrix);
    if let (Some(Expr::Matrix(a)), Some(Expr::Matrix(b))) = (&gm, &pm) {
        if a.len() != b.len() || a.iter().zip(b).any(|(x, y)| x.len() != y.len()) {
            return false;
        }
        return a.iter().flatten().zip(b.iter().flatten()).all(|(x, y)| numeric_eq(x, y, o) || symbolic_eq(x, y, o));
    }
    if matches!(g, Expr::Matrix(_)) || matches!(p, Expr::Matrix(_)) {
        return false;
    }
    if g.is_number_or_pct() || p.is_number_or_pct() {
        if g.is_float_or_pct() || p.is_float_or_pct() {
            return match (rounded(g, o.float_rounding), rounded(p, o.float_rounding)) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            };
        }
        // sympy's `==` after `doit`: a Float (from a decimal inside an expression) never equals
        // an Integer or Rational.
        if g.has_float() != p.has_float() {
            return false;
        }
        return match (g.exact(), p.exact()) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        };
    }
    if !o.symbolic {
        return false;
    }
    constant_diff_is_zero(g, p)
}

/// `(g - p).evalf(15, chop=True) == 0` for constants.
fn constant_diff_is_zero(g: &Expr, p: &Expr) -> bool {
    let mut syms = Vec::new();
    g.symbols(&mut syms);
    p.symbols(&mut syms);
    if !syms.is_empty() {
        return false;
    }
    if g.has_float() || p.has_float() {
        return float_exprs_equal(g, p, &[]);
    }
    if let (Some(a), Some(b)) = (g.exact(), p.exact()) {
        return (a - b).is_zero();
    }
    match (eval(g, &[], 0), eval(p, &[], 0)) {
        (Some(a), Some(b)) => close(a, b, 1e-12),
        _ => false,
    }
}

/// sympy's Floats are binary doubles: expressions with decimals are equal only when their
/// double-precision values agree exactly (`5 \cdot 5.47` is not `27.35` there).
fn float_exprs_equal(g: &Expr, p: &Expr, vars: &[(String, C)]) -> bool {
    if vars.is_empty() {
        if let (Some(a), Some(b)) = (g.binary_value(), p.binary_value()) {
            let scale = a.abs().max(b.abs()).max(BigRational::one());
            let tol = BigRational::new(1.into(), BigInt::from(10u32).pow(36));
            return (a - b).abs() <= scale * tol;
        }
    }
    match (eval(g, vars, 0), eval(p, vars, 0)) {
        (Some(a), Some(b)) => {
            close(a, b, 1e-15) && (a.re == b.re || (a.re - b.re).abs() <= f64::EPSILON * a.re.abs() * 0.5)
        }
        _ => false,
    }
}

fn close(a: C, b: C, tol: f64) -> bool {
    let scale = a.abs().max(b.abs()).max(1.0);
    (a.re - b.re).abs() <= tol * scale && (a.im - b.im).abs() <= tol * scale
}

/// splitmix64: a small seeded generator so that every call is deterministic.
fn points(n_vars: usize, k: usize) -> Vec<f64> {
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15 ^ ((n_vars as u64) << 32) ^ k as u64;
    (0..n_vars)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            // Values in [0.3, 2.3): away from 0 and the branch cuts that sympy's real symbols
            // avoid.
            0.3 + 2.0 * (z >> 11) as f64 / (1u64 << 53) as f64
        })
        .collect()
}

/// `simplify(g - p) == 0`, decided by evaluation: exactly for number-only expressions, else at
/// up to 10 seeded points until 6 are defined (all must agree, and at least 3 must be defined).
fn symbolic_eq(g: &Expr, p: &Expr, o: &CompareOptions) -> bool {
    if structural_eq(g, p) {
        return true;
    }
    if !o.symbolic {
        return false;
    }
    let floats = g.has_float() || p.has_float();
    if !floats {
        if let (Some(a), Some(b)) = (g.exact(), p.exact()) {
            return (a - b).is_zero();
        }
    }
    let mut syms = Vec::new();
    g.symbols(&mut syms);
    p.symbols(&mut syms);
    if syms.is_empty() && floats {
        return float_exprs_equal(g, p, &[]);
    }
    if syms.is_empty() {
        return match (eval(g, &[], 0), eval(p, &[], 0)) {
            (Some(a), Some(b)) => close(a, b, 1e-10),
            _ => false,
        };
    }
    let mut defined = 0;
    for k in 0..10 {
        if defined >= 6 {
            break;
        }
        let vals = points(syms.len(), k);
        let vars: Vec<(String, C)> = syms.iter().cloned().zip(vals.into_iter().map(C::real)).collect();
        match (eval(g, &vars, 0), eval(p, &vars, 0)) {
            (Some(a), Some(b)) => {
                if !close(a, b, 1e-9) {
                    return false;
                }
                defined += 1;
            }
            (None, None) => {}
            _ => return false,
        }
    }
    defined >= 3
}

/// Whether `a` and `b` (both `lhs - rhs` of equations in 2+ variables) are nonzero constant
/// multiples of each other.
fn proportional(a: &Expr, b: &Expr) -> bool {
    let mut syms = Vec::new();
    a.symbols(&mut syms);
    let mut sb = Vec::new();
    b.symbols(&mut sb);
    if syms.len() < 2 || sb.len() != syms.len() || sb.iter().any(|s| !syms.contains(s)) {
        return false;
    }
    let mut ratio: Option<C> = None;
    let mut defined = 0;
    for k in 0..6 {
        let vals = points(syms.len(), k + 100);
        let vars: Vec<(String, C)> = syms.iter().cloned().zip(vals.into_iter().map(C::real)).collect();
        let (Some(x), Some(y)) = (eval(a, &vars, 0), eval(b, &vars, 0)) else { continue };
        if y.abs() < 1e-12 || x.abs() < 1e-12 {
            return false;
        }
        let r = C {
            re: (x.re * y.re + x.im * y.im) / (y.abs() * y.abs()),
            im: (x.im * y.re - x.re * y.im) / (y.abs() * y.abs()),
        };
        match ratio {
            None => ratio = Some(r),
            Some(r0) => {
                if !close(r0, r, 1e-9) {
                    return false;
                }
            }
        }
        defined += 1;
    }
    defined >= 3 && ratio.is_some_and(|r| r.abs() > 1e-12)
}
