//! y = x Wᵀ for the few rows of a decoding step (CPU, f32, inference only).
//!
//! Why: a decoding step multiplies a handful of rows (the batch) by every weight matrix. gemm,
//! which candle calls, first packs the whole weight into its panel layout — on a 2-core machine
//! that copy took three times the multiply at batch 8 — although the multiply reads each weight
//! once anyway. Here each weight row meets every input row as a dot product straight from the
//! checkpoint's (out, in) layout: W is streamed once, the input rows stay in cache.
//!
//! Every output element is one dot product summed in a fixed order (lane-wise partial sums, the
//! lanes added pairwise, then the tail), whatever the tile or the thread it falls in: so a row's
//! result does not depend on the batch it is in. The SIMD width is chosen once at run time
//! (AVX-512, else AVX2 + FMA, else portable code), so a binary built for any x86-64 uses what the
//! CPU has.

use candle_core::{CpuStorage, CustomOp2, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Rows for which a decoding matmul takes this kernel rather than gemm. Measured on one core
/// against candle's matmul (SmolLM2's shapes): gemm's own single-row path is as fast at 1 row,
/// this kernel 2.4× faster at 8 rows, even at 32 and slower at 64, where packing is amortised.
pub const ROWS: std::ops::RangeInclusive<usize> = 2..=32;

/// x (m, k) · wᵀ with w (n, k), both contiguous f32 on the CPU → (m, n).
pub fn matmul_wt(x: &Tensor, w: &Tensor) -> Result<Tensor> {
    x.apply_op2_no_bwd(w, &SmallMatmul)
}

/// Whether [`matmul_wt`] serves `x` (rows, k) against `w`.
pub fn applies(x: &Tensor, w: &Tensor, rows: usize) -> bool {
    ROWS.contains(&rows)
        && x.device().is_cpu()
        && x.dtype() == candle_core::DType::F32
        && w.dtype() == candle_core::DType::F32
        && w.is_contiguous()
}

struct SmallMatmul;

impl CustomOp2 for SmallMatmul {
    fn name(&self) -> &'static str {
        "small-matmul"
    }

    fn cpu_fwd(&self, xs: &CpuStorage, lx: &Layout, ws: &CpuStorage, lw: &Layout) -> Result<(CpuStorage, Shape)> {
        let (m, k) = lx.shape().dims2()?;
        let (n, kw) = lw.shape().dims2()?;
        if k != kw {
            candle_core::bail!("small-matmul: x has {k} columns, w has {kw}")
        }
        let x = contiguous(xs, lx)?;
        let w = contiguous(ws, lw)?;
        Ok((CpuStorage::F32(multiply(x, w, m, n, k)), Shape::from((m, n))))
    }
}

fn contiguous<'a>(s: &'a CpuStorage, l: &Layout) -> Result<&'a [f32]> {
    match (s, l.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((a, b))) => Ok(&v[a..b]),
        (CpuStorage::F32(_), None) => candle_core::bail!("small-matmul: input not contiguous"),
        _ => candle_core::bail!("small-matmul: f32 only"),
    }
}

/// Weight rows per parallel task: enough to amortise the task, few enough for both cores to share
/// the smallest projection (576 rows).
const ROWS_PER_TASK: usize = 64;

/// y (m, n) row-major from x (m, k) and w (n, k).
pub(crate) fn multiply(x: &[f32], w: &[f32], m: usize, n: usize, k: usize) -> Vec<f32> {
    let mut y = vec![0f32; m * n];
    let kernel = Kernel::detect();
    if m == 1 {
        // yᵀ is y: tasks write disjoint chunks directly.
        y.par_chunks_mut(ROWS_PER_TASK).enumerate().for_each(|(t, out)| {
            let j0 = t * ROWS_PER_TASK;
            kernel.run(x, &w[j0 * k..(j0 + out.len()) * k], 1, out.len(), k, out);
        });
        return y;
    }
    // A task owns a range of weight rows, i.e. of y's columns: it fills a small (rows, m) block
    // of yᵀ and copies it into its columns of every row of y.
    let tasks = n.div_ceil(ROWS_PER_TASK);
    let cols: Vec<Vec<f32>> = (0..tasks)
        .into_par_iter()
        .map(|t| {
            let j0 = t * ROWS_PER_TASK;
            let rows = ROWS_PER_TASK.min(n - j0);
            let mut out = vec![0f32; rows * m];
            kernel.run(x, &w[j0 * k..(j0 + rows) * k], m, rows, k, &mut out);
            out
        })
        .collect();
    for (t, block) in cols.iter().enumerate() {
        let j0 = t * ROWS_PER_TASK;
        let rows = block.len() / m;
        for (i, yrow) in y.chunks_exact_mut(n).enumerate() {
            for (r, v) in yrow[j0..j0 + rows].iter_mut().enumerate() {
                *v = block[r * m + i];
            }
        }
    }
    y
}

#[derive(Clone, Copy)]
enum Kernel {
    #[cfg(target_arch = "x86_64")]
    Avx512,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    Portable,
}

impl Kernel {
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Kernel::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                return Kernel::Avx2;
            }
        }
        Kernel::Portable
    }

    /// out (rows, m) = w (rows, k) · xᵀ.
    fn run(self, x: &[f32], w: &[f32], m: usize, rows: usize, k: usize, out: &mut [f32]) {
        match self {
            // SAFETY: `detect` saw the features these functions are compiled for.
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => unsafe { block_avx512(x, w, m, rows, k, out) },
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => unsafe { block_avx2(x, w, m, rows, k, out) },
            Kernel::Portable => block_portable(x, w, m, rows, k, out),
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn block_avx512(x: &[f32], w: &[f32], m: usize, rows: usize, k: usize, out: &mut [f32]) {
    use std::arch::x86_64::*;
    block!(x, w, m, rows, k, out, 16, __m512, _mm512_setzero_ps, _mm512_loadu_ps, _mm512_fmadd_ps, _mm512_storeu_ps)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn block_avx2(x: &[f32], w: &[f32], m: usize, rows: usize, k: usize, out: &mut [f32]) {
    use std::arch::x86_64::*;
    block!(x, w, m, rows, k, out, 8, __m256, _mm256_setzero_ps, _mm256_loadu_ps, _mm256_fmadd_ps, _mm256_storeu_ps)
}

/// Weight rows and input rows per register tile: 4 × 6 dot products, one vector register each
/// (24 of AVX-512's 32 registers; more input rows per tile beat fewer at 32 rows).
const TW: usize = 4;
const TX: usize = 6;

/// out (rows, m) for `rows` weight rows, tile by tile (the ragged edges one dot at a time), with
/// the given SIMD width and intrinsics: L lanes of partial sums over k, stored, added pairwise
/// ([`reduce`]), then the tail of k.
#[cfg(target_arch = "x86_64")]
macro_rules! block {
    ($x:ident, $w:ident, $m:ident, $rows:ident, $k:ident, $out:ident, $l:literal, $v:ty, $zero:ident, $load:ident, $fma:ident, $store:ident) => {{
        #[inline(always)]
        unsafe fn tile<const R: usize, const C: usize>(x: *const f32, w: *const f32, k: usize) -> [[f32; C]; R] {
            let mut acc: [[$v; C]; R] = [[$zero(); C]; R];
            let body = k / $l * $l;
            let mut p = 0;
            while p < body {
                let mut xv: [$v; C] = [$zero(); C];
                for c in 0..C {
                    xv[c] = $load(x.add(c * k + p));
                }
                for r in 0..R {
                    // The next tile's weight rows, a line ahead (prefetching never faults).
                    _mm_prefetch::<_MM_HINT_T0>(w.wrapping_add((R + r) * k + p) as *const i8);
                    let wv = $load(w.add(r * k + p));
                    for c in 0..C {
                        acc[r][c] = $fma(wv, xv[c], acc[r][c]);
                    }
                }
                p += $l;
            }
            let mut sums = [[0f32; C]; R];
            for r in 0..R {
                for c in 0..C {
                    let mut lanes = [0f32; $l];
                    $store(lanes.as_mut_ptr(), acc[r][c]);
                    let mut s = reduce(&lanes);
                    for q in body..k {
                        s = (*w.add(r * k + q)).mul_add(*x.add(c * k + q), s);
                    }
                    sums[r][c] = s;
                }
            }
            sums
        }
        let (x, w, m, rows, k, out) = ($x, $w, $m, $rows, $k, $out);
        assert!(x.len() >= m * k && w.len() >= rows * k && out.len() >= rows * m);
        let mut j = 0;
        while j < rows {
            let tw = TW.min(rows - j);
            let mut i = 0;
            while i < m {
                let tx = TX.min(m - i);
                let (xp, wp) = (x.as_ptr().add(i * k), w.as_ptr().add(j * k));
                macro_rules! full {
                    ($c:literal) => {{
                        let s = tile::<TW, $c>(xp, wp, k);
                        for r in 0..TW {
                            out[(j + r) * m + i..(j + r) * m + i + $c].copy_from_slice(&s[r]);
                        }
                    }};
                }
                if tw == TW {
                    match tx {
                        6 => full!(6),
                        5 => full!(5),
                        4 => full!(4),
                        3 => full!(3),
                        2 => full!(2),
                        _ => full!(1),
                    }
                } else {
                    for r in 0..tw {
                        for c in 0..tx {
                            out[(j + r) * m + i + c] = tile::<1, 1>(xp.add(c * k), wp.add(r * k), k)[0][0];
                        }
                    }
                }
                i += tx;
            }
            j += tw;
        }
    }};
}
#[cfg(target_arch = "x86_64")]
use block;

/// The portable kernel: one dot product at a time, in the same order as the SIMD ones with 8 lanes.
fn block_portable(x: &[f32], w: &[f32], m: usize, rows: usize, k: usize, out: &mut [f32]) {
    const L: usize = 8;
    let body = k / L * L;
    for j in 0..rows {
        let wr = &w[j * k..(j + 1) * k];
        for i in 0..m {
            let xr = &x[i * k..(i + 1) * k];
            let mut lanes = [0f32; L];
            for (wc, xc) in wr[..body].chunks_exact(L).zip(xr[..body].chunks_exact(L)) {
                for l in 0..L {
                    lanes[l] = wc[l].mul_add(xc[l], lanes[l]);
                }
            }
            let mut s = reduce(&lanes);
            for q in body..k {
                s = wr[q].mul_add(xr[q], s);
            }
            out[j * m + i] = s;
        }
    }
}

/// The lanes added pairwise (a fixed order).
#[inline(always)]
fn reduce<const L: usize>(a: &[f32; L]) -> f32 {
    let mut v = *a;
    let mut width = L;
    while width > 1 {
        width /= 2;
        for l in 0..width {
            v[l] += v[l + width];
        }
    }
    v[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(x: &[f32], w: &[f32], m: usize, n: usize, k: usize) -> Vec<f64> {
        let mut y = vec![0f64; m * n];
        for i in 0..m {
            for j in 0..n {
                y[i * n + j] = (0..k).map(|q| x[i * k + q] as f64 * w[j * k + q] as f64).sum();
            }
        }
        y
    }

    fn data(len: usize, seed: u32) -> Vec<f32> {
        (0..len).map(|i| (((i as u32).wrapping_mul(2654435761) ^ seed) % 2001) as f32 / 1000.0 - 1.0).collect()
    }

    #[test]
    fn matches_f64_on_ragged_shapes_and_every_kernel() {
        for &(m, n, k) in &[(1, 1, 1), (1, 70, 37), (5, 131, 64), (8, 64, 576), (33, 9, 17), (64, 130, 100)] {
            let (x, w) = (data(m * k, 1), data(n * k, 7));
            let want = reference(&x, &w, m, n, k);
            let mut kernels = vec![Kernel::Portable, Kernel::detect()];
            kernels.dedup_by_key(|k| *k as u8);
            for kernel in kernels {
                let mut yt = vec![0f32; n * m];
                kernel.run(&x, &w, m, n, k, &mut yt);
                for i in 0..m {
                    for j in 0..n {
                        let (got, want) = (yt[j * m + i] as f64, want[i * n + j]);
                        assert!(
                            (got - want).abs() <= 1e-5 * (k as f64).sqrt() * 4.0,
                            "{m}x{n}x{k} ({i},{j}): {got} vs {want}"
                        );
                    }
                }
            }
            let y = multiply(&x, &w, m, n, k);
            for (g, w) in y.iter().zip(&want) {
                assert!((*g as f64 - w).abs() <= 1e-5 * (k as f64).sqrt() * 4.0);
            }
        }
    }

    #[test]
    fn a_row_gives_the_same_bits_alone_and_in_a_batch() {
        let (m, n, k) = (13, 200, 577);
        let (x, w) = (data(m * k, 3), data(n * k, 5));
        let all = multiply(&x, &w, m, n, k);
        for i in 0..m {
            let one = multiply(&x[i * k..(i + 1) * k], &w, 1, n, k);
            assert_eq!(one, all[i * n..(i + 1) * n].to_vec(), "row {i}");
        }
    }
}
