;; The ATN op's per-entry loops (impl/ops/atn_host.ts) as WebAssembly SIMD, for the wasm backend. The module imports
;; tfjs-backend-wasm's memory: every pointer is a byte offset into it, and the tensors are read and written where the
;; backend keeps them (no copies). The O(rows) window arithmetic stays in TypeScript (atn_wasm.ts).
;;
;; Two arithmetics per row, chosen by the caller (atn_wasm.ts, one flag per row, a float64 0 or 1):
;; - float64, two lanes at a time (f64x2): atn_host.ts's arithmetic in another summation order. Always correct:
;;   atn_host.ts's header says why float32 data in float64 needs no scaling.
;; - float32, four lanes at a time (f32x4), from the float64 row statistics rounded once to float32: what a plain
;;   float32 implementation does after its statistics, on rows the caller has checked are ordinary (magnitudes,
;;   spread and gradients well inside the float32 range, H >= 16): ATN-7.6 (e) says why ATN-7.2/7.3 hold there.
;; The row statistics (row_stats) are always float64.
;;
;; Layout: rows of H contiguous float32 entries, R rows. Per-row arrays (mean, m2, mu, rs, s1, s2, sv, kk, ok) and
;; the float64 per-feature arrays (g, b, dg, db) are float64; g32, b32, dg32, db32 are their float32 counterparts.
;; Loops run 4 (float64) or 8 (float32) entries per iteration and finish the row one entry at a time; loads and
;; stores need no alignment.
;;
;; Build: node tools/build-wasm.mjs (wabt) writes impl/ops/atn_kernel_wasm.ts; a test checks that it is this file's
;; build.
(module
  (import "env" "memory" (memory 1))

  ;; The four lanes of two f64x2, summed.
  (func $hsum64 (param $x v128) (param $y v128) (result f64)
    (f64.add
      (f64.add (f64x2.extract_lane 0 (local.get $x)) (f64x2.extract_lane 1 (local.get $x)))
      (f64.add (f64x2.extract_lane 0 (local.get $y)) (f64x2.extract_lane 1 (local.get $y)))))

  ;; The largest of the four unsigned lanes of an i32x4.
  (func $hmax_u (param $x v128) (result i32)
    (local.set $x (i32x4.max_u (local.get $x) (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))))
    (i32x4.extract_lane 0 (i32x4.max_u (local.get $x) (i8x16.shuffle 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 (local.get $x) (local.get $x)))))

  ;; The four lanes of an f32x4, summed in float64.
  (func $hsum32 (param $x v128) (result f64)
    (f64.add
      (f64.add (f64.promote_f32 (f32x4.extract_lane 0 (local.get $x))) (f64.promote_f32 (f32x4.extract_lane 1 (local.get $x))))
      (f64.add (f64.promote_f32 (f32x4.extract_lane 2 (local.get $x))) (f64.promote_f32 (f32x4.extract_lane 3 (local.get $x))))))

  ;; ---- Row statistics: mean[r] = sum_h a[r,h] / H and m2[r] = sum_h (a[r,h] - mean[r])^2, two passes over the row
  ;; (rowStats of atn_host.ts), in float64, or in float32 with the correction below where the row allows it.

  ;; Float64, one row at $i: eight entries per iteration into four f64x2 sums.
  (func $stats_row64 (param $i i32) (param $H i32) (param $pm i32) (param $pq i32)
    (local $i0 i32) (local $e8 i32) (local $e i32) (local $x v128) (local $y v128) (local $m v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $d v128) (local $s f64) (local $mf f64)
    (local $df f64)
    (local.set $i0 (local.get $i))
    (local.set $e (i32.add (local.get $i) (i32.shl (local.get $H) (i32.const 2))))
    (local.set $e8 (i32.sub (local.get $e) (i32.shl (i32.and (local.get $H) (i32.const 7)) (i32.const 2))))
    (block $b1 (loop $l1
      (br_if $b1 (i32.ge_u (local.get $i) (local.get $e8)))
      (local.set $x (v128.load (local.get $i)))
      (local.set $y (v128.load offset=16 (local.get $i)))
      (local.set $s0 (f64x2.add (local.get $s0) (f64x2.promote_low_f32x4 (local.get $x))))
      (local.set $s1 (f64x2.add (local.get $s1) (f64x2.promote_low_f32x4
        (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x)))))
      (local.set $s2 (f64x2.add (local.get $s2) (f64x2.promote_low_f32x4 (local.get $y))))
      (local.set $s3 (f64x2.add (local.get $s3) (f64x2.promote_low_f32x4
        (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $y) (local.get $y)))))
      (local.set $i (i32.add (local.get $i) (i32.const 32)))
      (br $l1)))
    (local.set $s (call $hsum64 (f64x2.add (local.get $s0) (local.get $s2)) (f64x2.add (local.get $s1) (local.get $s3))))
    (block $b2 (loop $l2
      (br_if $b2 (i32.ge_u (local.get $i) (local.get $e)))
      (local.set $s (f64.add (local.get $s) (f64.promote_f32 (f32.load (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l2)))
    (local.set $mf (f64.div (local.get $s) (f64.convert_i32_u (local.get $H))))
    (local.set $m (f64x2.splat (local.get $mf)))
    (local.set $i (local.get $i0))
    (local.set $s0 (v128.const f64x2 0 0))
    (local.set $s1 (v128.const f64x2 0 0))
    (local.set $s2 (v128.const f64x2 0 0))
    (local.set $s3 (v128.const f64x2 0 0))
    (block $b3 (loop $l3
      (br_if $b3 (i32.ge_u (local.get $i) (local.get $e8)))
      (local.set $x (v128.load (local.get $i)))
      (local.set $y (v128.load offset=16 (local.get $i)))
      (local.set $d (f64x2.sub (f64x2.promote_low_f32x4 (local.get $x)) (local.get $m)))
      (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $d) (local.get $d))))
      (local.set $d (f64x2.sub (f64x2.promote_low_f32x4
        (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))) (local.get $m)))
      (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $d) (local.get $d))))
      (local.set $d (f64x2.sub (f64x2.promote_low_f32x4 (local.get $y)) (local.get $m)))
      (local.set $s2 (f64x2.add (local.get $s2) (f64x2.mul (local.get $d) (local.get $d))))
      (local.set $d (f64x2.sub (f64x2.promote_low_f32x4
        (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $y) (local.get $y))) (local.get $m)))
      (local.set $s3 (f64x2.add (local.get $s3) (f64x2.mul (local.get $d) (local.get $d))))
      (local.set $i (i32.add (local.get $i) (i32.const 32)))
      (br $l3)))
    (local.set $s (call $hsum64 (f64x2.add (local.get $s0) (local.get $s2)) (f64x2.add (local.get $s1) (local.get $s3))))
    (block $b4 (loop $l4
      (br_if $b4 (i32.ge_u (local.get $i) (local.get $e)))
      (local.set $df (f64.sub (f64.promote_f32 (f32.load (local.get $i))) (local.get $mf)))
      (local.set $s (f64.add (local.get $s) (f64.mul (local.get $df) (local.get $df))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l4)))
    (f64.store (local.get $pm) (local.get $mf))
    (f64.store (local.get $pq) (local.get $s)))

  ;; Float32, one row at $i, sixteen entries per iteration into four f32x4 sums: pass 1 gives m~ = sum/H; pass 2
  ;; sums d = a - m~ and d^2; then mean = m~ + sum d / H and M2 = sum d^2 - (sum d)^2 / H (the corrected two-pass
  ;; algorithm of Chan, Golub and LeVeque, 1983: the pair stays consistent, and accurate to the rounding of d, however
  ;; far m~ is off). Returns 0 without storing when the row is not ordinary: an entry beyond 2^40 in magnitude (or
  ;; non-finite) or M2 below 2^-60 (constant rows, whose float64 statistics are exact, and rows where squares of
  ;; deviations could underflow). The caller then takes $stats_row64.
  (func $stats_row32 (param $i i32) (param $H i32) (param $pm i32) (param $pq i32) (result i32)
    (local $i0 i32) (local $e16 i32) (local $e i32) (local $m v128) (local $d v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $q0 v128) (local $q1 v128) (local $q2 v128) (local $q3 v128)
    (local $s f32) (local $mf f32) (local $df f32) (local $q f32) (local $sd f64) (local $mean f64) (local $m2 f64)
    (local.set $i0 (local.get $i))
    (local.set $e (i32.add (local.get $i) (i32.shl (local.get $H) (i32.const 2))))
    (local.set $e16 (i32.sub (local.get $e) (i32.shl (i32.and (local.get $H) (i32.const 15)) (i32.const 2))))
    (block $b1 (loop $l1
      (br_if $b1 (i32.ge_u (local.get $i) (local.get $e16)))
      (local.set $s0 (f32x4.add (local.get $s0) (v128.load (local.get $i))))
      (local.set $s1 (f32x4.add (local.get $s1) (v128.load offset=16 (local.get $i))))
      (local.set $s2 (f32x4.add (local.get $s2) (v128.load offset=32 (local.get $i))))
      (local.set $s3 (f32x4.add (local.get $s3) (v128.load offset=48 (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 64)))
      (br $l1)))
    (block $b2 (loop $l2
      (br_if $b2 (i32.ge_u (local.get $i) (local.get $e)))
      (local.set $s (f32.add (local.get $s) (f32.load (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l2)))
    (local.set $mf (f32.demote_f64 (f64.div
      (f64.add (call $hsum32 (f32x4.add (f32x4.add (local.get $s0) (local.get $s1)) (f32x4.add (local.get $s2) (local.get $s3))))
        (f64.promote_f32 (local.get $s)))
      (f64.convert_i32_u (local.get $H)))))
    (local.set $m (f32x4.splat (local.get $mf)))
    (local.set $i (local.get $i0))
    (local.set $s0 (v128.const f32x4 0 0 0 0))
    (local.set $s1 (v128.const f32x4 0 0 0 0))
    (local.set $s2 (v128.const f32x4 0 0 0 0))
    (local.set $s3 (v128.const f32x4 0 0 0 0))
    (block $b3 (loop $l3
      (br_if $b3 (i32.ge_u (local.get $i) (local.get $e16)))
      (local.set $d (f32x4.sub (v128.load (local.get $i)) (local.get $m)))
      (local.set $s0 (f32x4.add (local.get $s0) (local.get $d)))
      (local.set $q0 (f32x4.add (local.get $q0) (f32x4.mul (local.get $d) (local.get $d))))
      (local.set $d (f32x4.sub (v128.load offset=16 (local.get $i)) (local.get $m)))
      (local.set $s1 (f32x4.add (local.get $s1) (local.get $d)))
      (local.set $q1 (f32x4.add (local.get $q1) (f32x4.mul (local.get $d) (local.get $d))))
      (local.set $d (f32x4.sub (v128.load offset=32 (local.get $i)) (local.get $m)))
      (local.set $s2 (f32x4.add (local.get $s2) (local.get $d)))
      (local.set $q2 (f32x4.add (local.get $q2) (f32x4.mul (local.get $d) (local.get $d))))
      (local.set $d (f32x4.sub (v128.load offset=48 (local.get $i)) (local.get $m)))
      (local.set $s3 (f32x4.add (local.get $s3) (local.get $d)))
      (local.set $q3 (f32x4.add (local.get $q3) (f32x4.mul (local.get $d) (local.get $d))))
      (local.set $i (i32.add (local.get $i) (i32.const 64)))
      (br $l3)))
    (local.set $s (f32.const 0))
    (block $b4 (loop $l4
      (br_if $b4 (i32.ge_u (local.get $i) (local.get $e)))
      (local.set $df (f32.sub (f32.load (local.get $i)) (local.get $mf)))
      (local.set $s (f32.add (local.get $s) (local.get $df)))
      (local.set $q (f32.add (local.get $q) (f32.mul (local.get $df) (local.get $df))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $l4)))
    (local.set $sd (f64.add
      (call $hsum32 (f32x4.add (f32x4.add (local.get $s0) (local.get $s1)) (f32x4.add (local.get $s2) (local.get $s3))))
      (f64.promote_f32 (local.get $s))))
    (local.set $m2 (f64.sub
      (f64.add
        (call $hsum32 (f32x4.add (f32x4.add (local.get $q0) (local.get $q1)) (f32x4.add (local.get $q2) (local.get $q3))))
        (f64.promote_f32 (local.get $q)))
      (f64.div (f64.mul (local.get $sd) (local.get $sd)) (f64.convert_i32_u (local.get $H)))))
    (local.set $mean (f64.add (f64.promote_f32 (local.get $mf)) (f64.div (local.get $sd) (f64.convert_i32_u (local.get $H)))))
    ;; ordinary: |mean| + sqrt(M2) <= 2^40 (bounds every entry; NaN fails) and M2 >= 2^-60
    (if (i32.eqz (i32.and
          (f64.le (f64.add (f64.abs (local.get $mean)) (f64.sqrt (local.get $m2))) (f64.const 0x1p40))
          (f64.ge (local.get $m2) (f64.const 0x1p-60))))
      (then (return (i32.const 0))))
    (f64.store (local.get $pm) (local.get $mean))
    (f64.store (local.get $pq) (local.get $m2))
    (i32.const 1))

  ;; Rows [0, R): float32 where $fast and the row allows it, float64 otherwise.
  (func (export "row_stats") (param $a i32) (param $R i32) (param $H i32) (param $mean i32) (param $m2 i32) (param $fast i32)
    (local $r i32) (local $p i32) (local $q i32) (local $done32 i32)
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $r) (local.get $R)))
      (local.set $p (i32.add (local.get $a) (i32.shl (i32.mul (local.get $r) (local.get $H)) (i32.const 2))))
      (local.set $q (i32.shl (local.get $r) (i32.const 3)))
      (local.set $done32 (i32.const 0))
      (if (local.get $fast)
        (then (local.set $done32
          (call $stats_row32 (local.get $p) (local.get $H) (i32.add (local.get $mean) (local.get $q)) (i32.add (local.get $m2) (local.get $q))))))
      (if (i32.eqz (local.get $done32))
        (then (call $stats_row64 (local.get $p) (local.get $H) (i32.add (local.get $mean) (local.get $q)) (i32.add (local.get $m2) (local.get $q)))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rows))))

  ;; ---- y[r,h] = g[h] * ((a[r,h] - mu[r]) * rs[r]) + b[h] (rs = 1/s, s the window's sd), one row.

  (func $y_row64 (param $i i32) (param $o i32) (param $H i32) (param $pg i32) (param $pb i32) (param $mf f64) (param $cf f64)
    (local $e4 i32) (local $e i32) (local $x v128) (local $m v128) (local $c v128) (local $lo v128) (local $hi v128)
    (local.set $e (i32.add (local.get $i) (i32.shl (local.get $H) (i32.const 2))))
    (local.set $e4 (i32.sub (local.get $e) (i32.shl (i32.and (local.get $H) (i32.const 3)) (i32.const 2))))
    (local.set $m (f64x2.splat (local.get $mf)))
    (local.set $c (f64x2.splat (local.get $cf)))
    (block $b1 (loop $l1
      (br_if $b1 (i32.ge_u (local.get $i) (local.get $e4)))
      (local.set $x (v128.load (local.get $i)))
      (local.set $lo
        (f64x2.add (f64x2.mul (v128.load (local.get $pg))
            (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (local.get $x)) (local.get $m)) (local.get $c)))
          (v128.load (local.get $pb))))
      (local.set $hi
        (f64x2.add (f64x2.mul (v128.load offset=16 (local.get $pg))
            (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))) (local.get $m)) (local.get $c)))
          (v128.load offset=16 (local.get $pb))))
      (v128.store (local.get $o) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
        (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (local.set $o (i32.add (local.get $o) (i32.const 16)))
      (local.set $pg (i32.add (local.get $pg) (i32.const 32)))
      (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
      (br $l1)))
    (block $b2 (loop $l2
      (br_if $b2 (i32.ge_u (local.get $i) (local.get $e)))
      (f32.store (local.get $o) (f32.demote_f64 (f64.add (f64.mul (f64.load (local.get $pg))
          (f64.mul (f64.sub (f64.promote_f32 (f32.load (local.get $i))) (local.get $mf)) (local.get $cf)))
        (f64.load (local.get $pb)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (local.set $o (i32.add (local.get $o) (i32.const 4)))
      (local.set $pg (i32.add (local.get $pg) (i32.const 8)))
      (local.set $pb (i32.add (local.get $pb) (i32.const 8)))
      (br $l2))))

  (func $y_row32 (param $i i32) (param $o i32) (param $H i32) (param $pg i32) (param $pb i32) (param $mf f32) (param $cf f32)
    (local $e16 i32) (local $e8 i32) (local $e i32) (local $m v128) (local $c v128)
    (local.set $e (i32.add (local.get $i) (i32.shl (local.get $H) (i32.const 2))))
    (local.set $e8 (i32.sub (local.get $e) (i32.shl (i32.and (local.get $H) (i32.const 7)) (i32.const 2))))
    (local.set $e16 (i32.sub (local.get $e) (i32.shl (i32.and (local.get $H) (i32.const 15)) (i32.const 2))))
    (local.set $m (f32x4.splat (local.get $mf)))
    (local.set $c (f32x4.splat (local.get $cf)))
    ;; sixteen entries per iteration, then eight, then one at a time
    (block $b0 (loop $l0
      (br_if $b0 (i32.ge_u (local.get $i) (local.get $e16)))
      (v128.store (local.get $o) (f32x4.add (f32x4.mul (v128.load (local.get $pg))
          (f32x4.mul (f32x4.sub (v128.load (local.get $i)) (local.get $m)) (local.get $c)))
        (v128.load (local.get $pb))))
      (v128.store offset=16 (local.get $o) (f32x4.add (f32x4.mul (v128.load offset=16 (local.get $pg))
          (f32x4.mul (f32x4.sub (v128.load offset=16 (local.get $i)) (local.get $m)) (local.get $c)))
        (v128.load offset=16 (local.get $pb))))
      (v128.store offset=32 (local.get $o) (f32x4.add (f32x4.mul (v128.load offset=32 (local.get $pg))
          (f32x4.mul (f32x4.sub (v128.load offset=32 (local.get $i)) (local.get $m)) (local.get $c)))
        (v128.load offset=32 (local.get $pb))))
      (v128.store offset=48 (local.get $o) (f32x4.add (f32x4.mul (v128.load offset=48 (local.get $pg))
          (f32x4.mul (f32x4.sub (v128.load offset=48 (local.get $i)) (local.get $m)) (local.get $c)))
        (v128.load offset=48 (local.get $pb))))
      (local.set $i (i32.add (local.get $i) (i32.const 64)))
      (local.set $o (i32.add (local.get $o) (i32.const 64)))
      (local.set $pg (i32.add (local.get $pg) (i32.const 64)))
      (local.set $pb (i32.add (local.get $pb) (i32.const 64)))
      (br $l0)))
    (block $b1 (loop $l1
      (br_if $b1 (i32.ge_u (local.get $i) (local.get $e8)))
      (v128.store (local.get $o) (f32x4.add (f32x4.mul (v128.load (local.get $pg))
          (f32x4.mul (f32x4.sub (v128.load (local.get $i)) (local.get $m)) (local.get $c)))
        (v128.load (local.get $pb))))
      (v128.store offset=16 (local.get $o) (f32x4.add (f32x4.mul (v128.load offset=16 (local.get $pg))
          (f32x4.mul (f32x4.sub (v128.load offset=16 (local.get $i)) (local.get $m)) (local.get $c)))
        (v128.load offset=16 (local.get $pb))))
      (local.set $i (i32.add (local.get $i) (i32.const 32)))
      (local.set $o (i32.add (local.get $o) (i32.const 32)))
      (local.set $pg (i32.add (local.get $pg) (i32.const 32)))
      (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
      (br $l1)))
    (block $b2 (loop $l2
      (br_if $b2 (i32.ge_u (local.get $i) (local.get $e)))
      (f32.store (local.get $o) (f32.add (f32.mul (f32.load (local.get $pg))
          (f32.mul (f32.sub (f32.load (local.get $i)) (local.get $mf)) (local.get $cf)))
        (f32.load (local.get $pb))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (local.set $o (i32.add (local.get $o) (i32.const 4)))
      (local.set $pg (i32.add (local.get $pg) (i32.const 4)))
      (local.set $pb (i32.add (local.get $pb) (i32.const 4)))
      (br $l2))))

  (func (export "forward_y") (param $a i32) (param $y i32) (param $R i32) (param $H i32) (param $g i32) (param $b i32)
    (param $g32 i32) (param $b32 i32) (param $mu i32) (param $rs i32) (param $ok i32)
    (local $r i32) (local $off i32) (local $q i32)
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $r) (local.get $R)))
      (local.set $off (i32.shl (i32.mul (local.get $r) (local.get $H)) (i32.const 2)))
      (local.set $q (i32.shl (local.get $r) (i32.const 3)))
      (if (f64.ne (f64.load (i32.add (local.get $ok) (local.get $q))) (f64.const 0))
        (then (call $y_row32 (i32.add (local.get $a) (local.get $off)) (i32.add (local.get $y) (local.get $off))
          (local.get $H) (local.get $g32) (local.get $b32)
          (f32.demote_f64 (f64.load (i32.add (local.get $mu) (local.get $q))))
          (f32.demote_f64 (f64.load (i32.add (local.get $rs) (local.get $q))))))
        (else (call $y_row64 (i32.add (local.get $a) (local.get $off)) (i32.add (local.get $y) (local.get $off))
          (local.get $H) (local.get $g) (local.get $b)
          (f64.load (i32.add (local.get $mu) (local.get $q))) (f64.load (i32.add (local.get $rs) (local.get $q))))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rows))))

  ;; ---- The backward's row sums (ATN-4.1), one row: with z = (a - mu) * rs and ghat = g dy, *o1 = sum_h ghat,
  ;; *o2 = sum_h ghat z (as float64); dg[h] += dy z and db[h] += dy (the affine gradients, summed over the rows).

  (func $sums_row64 (param $i i32) (param $j i32) (param $H i32) (param $pg i32) (param $mf f64) (param $cf f64)
    (param $pdg i32) (param $pdb i32) (param $o1 i32) (param $o2 i32)
    (local $e4 i32) (local $e i32) (local $x v128) (local $dd v128) (local $m v128) (local $c v128)
    (local $dlo v128) (local $dhi v128) (local $zlo v128) (local $zhi v128) (local $glo v128) (local $ghi v128)
    (local $a1lo v128) (local $a1hi v128) (local $a2lo v128) (local $a2hi v128)
    (local $df f64) (local $zf f64) (local $gf f64) (local $t1 f64) (local $t2 f64)
    (local.set $e (i32.add (local.get $i) (i32.shl (local.get $H) (i32.const 2))))
    (local.set $e4 (i32.sub (local.get $e) (i32.shl (i32.and (local.get $H) (i32.const 3)) (i32.const 2))))
    (local.set $m (f64x2.splat (local.get $mf)))
    (local.set $c (f64x2.splat (local.get $cf)))
    (block $b1 (loop $l1
      (br_if $b1 (i32.ge_u (local.get $i) (local.get $e4)))
      (local.set $x (v128.load (local.get $i)))
      (local.set $dd (v128.load (local.get $j)))
      (local.set $dlo (f64x2.promote_low_f32x4 (local.get $dd)))
      (local.set $dhi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $dd) (local.get $dd))))
      (local.set $zlo (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (local.get $x)) (local.get $m)) (local.get $c)))
      (local.set $zhi (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))) (local.get $m)) (local.get $c)))
      (local.set $glo (f64x2.mul (v128.load (local.get $pg)) (local.get $dlo)))
      (local.set $ghi (f64x2.mul (v128.load offset=16 (local.get $pg)) (local.get $dhi)))
      (local.set $a1lo (f64x2.add (local.get $a1lo) (local.get $glo)))
      (local.set $a1hi (f64x2.add (local.get $a1hi) (local.get $ghi)))
      (local.set $a2lo (f64x2.add (local.get $a2lo) (f64x2.mul (local.get $glo) (local.get $zlo))))
      (local.set $a2hi (f64x2.add (local.get $a2hi) (f64x2.mul (local.get $ghi) (local.get $zhi))))
      (v128.store (local.get $pdg) (f64x2.add (v128.load (local.get $pdg)) (f64x2.mul (local.get $dlo) (local.get $zlo))))
      (v128.store offset=16 (local.get $pdg)
        (f64x2.add (v128.load offset=16 (local.get $pdg)) (f64x2.mul (local.get $dhi) (local.get $zhi))))
      (v128.store (local.get $pdb) (f64x2.add (v128.load (local.get $pdb)) (local.get $dlo)))
      (v128.store offset=16 (local.get $pdb) (f64x2.add (v128.load offset=16 (local.get $pdb)) (local.get $dhi)))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (local.set $j (i32.add (local.get $j) (i32.const 16)))
      (local.set $pg (i32.add (local.get $pg) (i32.const 32)))
      (local.set $pdg (i32.add (local.get $pdg) (i32.const 32)))
      (local.set $pdb (i32.add (local.get $pdb) (i32.const 32)))
      (br $l1)))
    (local.set $t1 (call $hsum64 (local.get $a1lo) (local.get $a1hi)))
    (local.set $t2 (call $hsum64 (local.get $a2lo) (local.get $a2hi)))
    (block $b2 (loop $l2
      (br_if $b2 (i32.ge_u (local.get $i) (local.get $e)))
      (local.set $df (f64.promote_f32 (f32.load (local.get $j))))
      (local.set $zf (f64.mul (f64.sub (f64.promote_f32 (f32.load (local.get $i))) (local.get $mf)) (local.get $cf)))
      (local.set $gf (f64.mul (f64.load (local.get $pg)) (local.get $df)))
      (local.set $t1 (f64.add (local.get $t1) (local.get $gf)))
      (local.set $t2 (f64.add (local.get $t2) (f64.mul (local.get $gf) (local.get $zf))))
      (f64.store (local.get $pdg) (f64.add (f64.load (local.get $pdg)) (f64.mul (local.get $df) (local.get $zf))))
      (f64.store (local.get $pdb) (f64.add (f64.load (local.get $pdb)) (local.get $df)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (local.set $pg (i32.add (local.get $pg) (i32.const 8)))
      (local.set $pdg (i32.add (local.get $pdg) (i32.const 8)))
      (local.set $pdb (i32.add (local.get $pdb) (i32.const 8)))
      (br $l2)))
    (f64.store (local.get $o1) (local.get $t1))
    (f64.store (local.get $o2) (local.get $t2)))

  ;; Float32 also tests the row on the way (on bit patterns: for |x|, sign cleared, the unsigned integer order is the
  ;; order of the values, NaNs above Infinity): returns 0 when an entry of dy lies beyond 2^40 in magnitude (or is NaN),
  ;; or when the largest |ghat| of the row is non-zero but below 2^-60 (then products in the float32 subnormal range
  ;; could be all the row has); the caller then redoes the whole backward in float64.
  (func $sums_row32 (param $i i32) (param $j i32) (param $H i32) (param $pg i32) (param $mf f32) (param $cf f32)
    (param $pdg i32) (param $pdb i32) (param $o1 i32) (param $o2 i32) (result i32)
    (local $bx v128) (local $bg v128) (local $bits i32) (local $fx i32) (local $fg i32)
    (local $e8 i32) (local $e i32) (local $m v128) (local $c v128) (local $d0 v128) (local $d1 v128)
    (local $z0 v128) (local $z1 v128) (local $g0 v128) (local $g1 v128)
    (local $a10 v128) (local $a11 v128) (local $a20 v128) (local $a21 v128)
    (local $df f32) (local $zf f32) (local $gf f32) (local $t1 f32) (local $t2 f32)
    (local.set $e (i32.add (local.get $i) (i32.shl (local.get $H) (i32.const 2))))
    (local.set $e8 (i32.sub (local.get $e) (i32.shl (i32.and (local.get $H) (i32.const 7)) (i32.const 2))))
    (local.set $m (f32x4.splat (local.get $mf)))
    (local.set $c (f32x4.splat (local.get $cf)))
    (block $b1 (loop $l1
      (br_if $b1 (i32.ge_u (local.get $i) (local.get $e8)))
      (local.set $d0 (v128.load (local.get $j)))
      (local.set $d1 (v128.load offset=16 (local.get $j)))
      (local.set $bx (i32x4.max_u (local.get $bx) (i32x4.max_u
        (v128.and (local.get $d0) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff))
        (v128.and (local.get $d1) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff)))))
      (local.set $z0 (f32x4.mul (f32x4.sub (v128.load (local.get $i)) (local.get $m)) (local.get $c)))
      (local.set $z1 (f32x4.mul (f32x4.sub (v128.load offset=16 (local.get $i)) (local.get $m)) (local.get $c)))
      (local.set $g0 (f32x4.mul (v128.load (local.get $pg)) (local.get $d0)))
      (local.set $g1 (f32x4.mul (v128.load offset=16 (local.get $pg)) (local.get $d1)))
      (local.set $bg (i32x4.max_u (local.get $bg) (i32x4.max_u
        (v128.and (local.get $g0) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff))
        (v128.and (local.get $g1) (v128.const i32x4 0x7fffffff 0x7fffffff 0x7fffffff 0x7fffffff)))))
      (local.set $a10 (f32x4.add (local.get $a10) (local.get $g0)))
      (local.set $a11 (f32x4.add (local.get $a11) (local.get $g1)))
      (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $g0) (local.get $z0))))
      (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $g1) (local.get $z1))))
      (v128.store (local.get $pdg) (f32x4.add (v128.load (local.get $pdg)) (f32x4.mul (local.get $d0) (local.get $z0))))
      (v128.store offset=16 (local.get $pdg)
        (f32x4.add (v128.load offset=16 (local.get $pdg)) (f32x4.mul (local.get $d1) (local.get $z1))))
      (v128.store (local.get $pdb) (f32x4.add (v128.load (local.get $pdb)) (local.get $d0)))
      (v128.store offset=16 (local.get $pdb) (f32x4.add (v128.load offset=16 (local.get $pdb)) (local.get $d1)))
      (local.set $i (i32.add (local.get $i) (i32.const 32)))
      (local.set $j (i32.add (local.get $j) (i32.const 32)))
      (local.set $pg (i32.add (local.get $pg) (i32.const 32)))
      (local.set $pdg (i32.add (local.get $pdg) (i32.const 32)))
      (local.set $pdb (i32.add (local.get $pdb) (i32.const 32)))
      (br $l1)))
    (block $b2 (loop $l2
      (br_if $b2 (i32.ge_u (local.get $i) (local.get $e)))
      (local.set $df (f32.load (local.get $j)))
      (local.set $bits (i32.and (i32.reinterpret_f32 (local.get $df)) (i32.const 0x7fffffff)))
      (if (i32.gt_u (local.get $bits) (local.get $fx)) (then (local.set $fx (local.get $bits))))
      (local.set $zf (f32.mul (f32.sub (f32.load (local.get $i)) (local.get $mf)) (local.get $cf)))
      (local.set $gf (f32.mul (f32.load (local.get $pg)) (local.get $df)))
      (local.set $bits (i32.and (i32.reinterpret_f32 (local.get $gf)) (i32.const 0x7fffffff)))
      (if (i32.gt_u (local.get $bits) (local.get $fg)) (then (local.set $fg (local.get $bits))))
      (local.set $t1 (f32.add (local.get $t1) (local.get $gf)))
      (local.set $t2 (f32.add (local.get $t2) (f32.mul (local.get $gf) (local.get $zf))))
      (f32.store (local.get $pdg) (f32.add (f32.load (local.get $pdg)) (f32.mul (local.get $df) (local.get $zf))))
      (f32.store (local.get $pdb) (f32.add (f32.load (local.get $pdb)) (local.get $df)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (local.set $pg (i32.add (local.get $pg) (i32.const 4)))
      (local.set $pdg (i32.add (local.get $pdg) (i32.const 4)))
      (local.set $pdb (i32.add (local.get $pdb) (i32.const 4)))
      (br $l2)))
    (f64.store (local.get $o1) (f64.add (call $hsum32 (f32x4.add (local.get $a10) (local.get $a11))) (f64.promote_f32 (local.get $t1))))
    (f64.store (local.get $o2) (f64.add (call $hsum32 (f32x4.add (local.get $a20) (local.get $a21))) (f64.promote_f32 (local.get $t2))))
    ;; the maxima: |dy| <= 2^40 (bits 0x53800000); max |ghat| = 0 or >= 2^-60 (bits 0x21800000)
    (local.set $bits (call $hmax_u (local.get $bx)))
    (if (i32.gt_u (local.get $bits) (local.get $fx)) (then (local.set $fx (local.get $bits))))
    (local.set $bits (call $hmax_u (local.get $bg)))
    (if (i32.gt_u (local.get $bits) (local.get $fg)) (then (local.set $fg (local.get $bits))))
    (i32.and
      (i32.le_u (local.get $fx) (i32.const 0x53800000))
      (i32.or (i32.eqz (local.get $fg)) (i32.ge_u (local.get $fg) (i32.const 0x21800000)))))

  (func (export "backward_sums") (param $a i32) (param $dy i32) (param $R i32) (param $H i32) (param $g i32)
    (param $g32 i32) (param $mu i32) (param $rs i32) (param $s1 i32) (param $s2 i32) (param $dg i32) (param $db i32)
    (param $dg32 i32) (param $db32 i32) (param $ok i32) (result i32)
    (local $r i32) (local $off i32) (local $q i32) (local $all i32)
    (local.set $all (i32.const 1))
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $r) (local.get $R)))
      (local.set $off (i32.shl (i32.mul (local.get $r) (local.get $H)) (i32.const 2)))
      (local.set $q (i32.shl (local.get $r) (i32.const 3)))
      (if (f64.ne (f64.load (i32.add (local.get $ok) (local.get $q))) (f64.const 0))
        (then (local.set $all (i32.and (local.get $all)
          (call $sums_row32 (i32.add (local.get $a) (local.get $off)) (i32.add (local.get $dy) (local.get $off))
            (local.get $H) (local.get $g32)
            (f32.demote_f64 (f64.load (i32.add (local.get $mu) (local.get $q))))
            (f32.demote_f64 (f64.load (i32.add (local.get $rs) (local.get $q))))
            (local.get $dg32) (local.get $db32) (i32.add (local.get $s1) (local.get $q)) (i32.add (local.get $s2) (local.get $q))))))
        (else (call $sums_row64 (i32.add (local.get $a) (local.get $off)) (i32.add (local.get $dy) (local.get $off))
          (local.get $H) (local.get $g)
          (f64.load (i32.add (local.get $mu) (local.get $q))) (f64.load (i32.add (local.get $rs) (local.get $q)))
          (local.get $dg) (local.get $db) (i32.add (local.get $s1) (local.get $q)) (i32.add (local.get $s2) (local.get $q)))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rows)))
    (local.get $all))

  ;; ---- da[r,h] = g[h] dy[r,h] rs[r] - (a[r,h] - mean[r]) sv[r] - kk[r], one row (atnBackwardHost's last loop: mean
  ;; is the step's own mean, sv and kk come from the forward-looking window sums).

  (func $da_row64 (param $i i32) (param $j i32) (param $o i32) (param $H i32) (param $pg i32)
    (param $mf f64) (param $cf f64) (param $vf f64) (param $kf f64)
    (local $e4 i32) (local $e i32) (local $x v128) (local $dd v128) (local $m v128) (local $c v128) (local $v v128)
    (local $k v128) (local $lo v128) (local $hi v128)
    (local.set $e (i32.add (local.get $i) (i32.shl (local.get $H) (i32.const 2))))
    (local.set $e4 (i32.sub (local.get $e) (i32.shl (i32.and (local.get $H) (i32.const 3)) (i32.const 2))))
    (local.set $m (f64x2.splat (local.get $mf)))
    (local.set $c (f64x2.splat (local.get $cf)))
    (local.set $v (f64x2.splat (local.get $vf)))
    (local.set $k (f64x2.splat (local.get $kf)))
    (block $b1 (loop $l1
      (br_if $b1 (i32.ge_u (local.get $i) (local.get $e4)))
      (local.set $x (v128.load (local.get $i)))
      (local.set $dd (v128.load (local.get $j)))
      (local.set $lo
        (f64x2.sub (f64x2.sub
            (f64x2.mul (f64x2.mul (v128.load (local.get $pg)) (f64x2.promote_low_f32x4 (local.get $dd))) (local.get $c))
            (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (local.get $x)) (local.get $m)) (local.get $v)))
          (local.get $k)))
      (local.set $hi
        (f64x2.sub (f64x2.sub
            (f64x2.mul (f64x2.mul (v128.load offset=16 (local.get $pg)) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $dd) (local.get $dd))))
              (local.get $c))
            (f64x2.mul (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x))) (local.get $m)) (local.get $v)))
          (local.get $k)))
      (v128.store (local.get $o) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
        (f32x4.demote_f64x2_zero (local.get $lo)) (f32x4.demote_f64x2_zero (local.get $hi))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (local.set $j (i32.add (local.get $j) (i32.const 16)))
      (local.set $o (i32.add (local.get $o) (i32.const 16)))
      (local.set $pg (i32.add (local.get $pg) (i32.const 32)))
      (br $l1)))
    (block $b2 (loop $l2
      (br_if $b2 (i32.ge_u (local.get $i) (local.get $e)))
      (f32.store (local.get $o) (f32.demote_f64 (f64.sub (f64.sub
          (f64.mul (f64.mul (f64.load (local.get $pg)) (f64.promote_f32 (f32.load (local.get $j)))) (local.get $cf))
          (f64.mul (f64.sub (f64.promote_f32 (f32.load (local.get $i))) (local.get $mf)) (local.get $vf)))
        (local.get $kf))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (local.set $o (i32.add (local.get $o) (i32.const 4)))
      (local.set $pg (i32.add (local.get $pg) (i32.const 8)))
      (br $l2))))

  (func $da_row32 (param $i i32) (param $j i32) (param $o i32) (param $H i32) (param $pg i32)
    (param $mf f32) (param $cf f32) (param $vf f32) (param $kf f32)
    (local $e16 i32) (local $e8 i32) (local $e i32) (local $m v128) (local $c v128) (local $v v128) (local $k v128)
    (local.set $e (i32.add (local.get $i) (i32.shl (local.get $H) (i32.const 2))))
    (local.set $e8 (i32.sub (local.get $e) (i32.shl (i32.and (local.get $H) (i32.const 7)) (i32.const 2))))
    (local.set $e16 (i32.sub (local.get $e) (i32.shl (i32.and (local.get $H) (i32.const 15)) (i32.const 2))))
    (local.set $m (f32x4.splat (local.get $mf)))
    (local.set $c (f32x4.splat (local.get $cf)))
    (local.set $v (f32x4.splat (local.get $vf)))
    (local.set $k (f32x4.splat (local.get $kf)))
    ;; sixteen entries per iteration, then eight, then one at a time
    (block $b0 (loop $l0
      (br_if $b0 (i32.ge_u (local.get $i) (local.get $e16)))
      (v128.store (local.get $o) (f32x4.sub (f32x4.sub
          (f32x4.mul (f32x4.mul (v128.load (local.get $pg)) (v128.load (local.get $j))) (local.get $c))
          (f32x4.mul (f32x4.sub (v128.load (local.get $i)) (local.get $m)) (local.get $v)))
        (local.get $k)))
      (v128.store offset=16 (local.get $o) (f32x4.sub (f32x4.sub
          (f32x4.mul (f32x4.mul (v128.load offset=16 (local.get $pg)) (v128.load offset=16 (local.get $j))) (local.get $c))
          (f32x4.mul (f32x4.sub (v128.load offset=16 (local.get $i)) (local.get $m)) (local.get $v)))
        (local.get $k)))
      (v128.store offset=32 (local.get $o) (f32x4.sub (f32x4.sub
          (f32x4.mul (f32x4.mul (v128.load offset=32 (local.get $pg)) (v128.load offset=32 (local.get $j))) (local.get $c))
          (f32x4.mul (f32x4.sub (v128.load offset=32 (local.get $i)) (local.get $m)) (local.get $v)))
        (local.get $k)))
      (v128.store offset=48 (local.get $o) (f32x4.sub (f32x4.sub
          (f32x4.mul (f32x4.mul (v128.load offset=48 (local.get $pg)) (v128.load offset=48 (local.get $j))) (local.get $c))
          (f32x4.mul (f32x4.sub (v128.load offset=48 (local.get $i)) (local.get $m)) (local.get $v)))
        (local.get $k)))
      (local.set $i (i32.add (local.get $i) (i32.const 64)))
      (local.set $j (i32.add (local.get $j) (i32.const 64)))
      (local.set $o (i32.add (local.get $o) (i32.const 64)))
      (local.set $pg (i32.add (local.get $pg) (i32.const 64)))
      (br $l0)))
    (block $b1 (loop $l1
      (br_if $b1 (i32.ge_u (local.get $i) (local.get $e8)))
      (v128.store (local.get $o) (f32x4.sub (f32x4.sub
          (f32x4.mul (f32x4.mul (v128.load (local.get $pg)) (v128.load (local.get $j))) (local.get $c))
          (f32x4.mul (f32x4.sub (v128.load (local.get $i)) (local.get $m)) (local.get $v)))
        (local.get $k)))
      (v128.store offset=16 (local.get $o) (f32x4.sub (f32x4.sub
          (f32x4.mul (f32x4.mul (v128.load offset=16 (local.get $pg)) (v128.load offset=16 (local.get $j))) (local.get $c))
          (f32x4.mul (f32x4.sub (v128.load offset=16 (local.get $i)) (local.get $m)) (local.get $v)))
        (local.get $k)))
      (local.set $i (i32.add (local.get $i) (i32.const 32)))
      (local.set $j (i32.add (local.get $j) (i32.const 32)))
      (local.set $o (i32.add (local.get $o) (i32.const 32)))
      (local.set $pg (i32.add (local.get $pg) (i32.const 32)))
      (br $l1)))
    (block $b2 (loop $l2
      (br_if $b2 (i32.ge_u (local.get $i) (local.get $e)))
      (f32.store (local.get $o) (f32.sub (f32.sub
          (f32.mul (f32.mul (f32.load (local.get $pg)) (f32.load (local.get $j))) (local.get $cf))
          (f32.mul (f32.sub (f32.load (local.get $i)) (local.get $mf)) (local.get $vf)))
        (local.get $kf)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (local.set $j (i32.add (local.get $j) (i32.const 4)))
      (local.set $o (i32.add (local.get $o) (i32.const 4)))
      (local.set $pg (i32.add (local.get $pg) (i32.const 4)))
      (br $l2))))

  (func (export "backward_da") (param $a i32) (param $dy i32) (param $da i32) (param $R i32) (param $H i32)
    (param $g i32) (param $g32 i32) (param $mean i32) (param $rs i32) (param $sv i32) (param $kk i32) (param $ok i32)
    (local $r i32) (local $off i32) (local $q i32)
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $r) (local.get $R)))
      (local.set $off (i32.shl (i32.mul (local.get $r) (local.get $H)) (i32.const 2)))
      (local.set $q (i32.shl (local.get $r) (i32.const 3)))
      (if (f64.ne (f64.load (i32.add (local.get $ok) (local.get $q))) (f64.const 0))
        (then (call $da_row32 (i32.add (local.get $a) (local.get $off)) (i32.add (local.get $dy) (local.get $off))
          (i32.add (local.get $da) (local.get $off)) (local.get $H) (local.get $g32)
          (f32.demote_f64 (f64.load (i32.add (local.get $mean) (local.get $q))))
          (f32.demote_f64 (f64.load (i32.add (local.get $rs) (local.get $q))))
          (f32.demote_f64 (f64.load (i32.add (local.get $sv) (local.get $q))))
          (f32.demote_f64 (f64.load (i32.add (local.get $kk) (local.get $q))))))
        (else (call $da_row64 (i32.add (local.get $a) (local.get $off)) (i32.add (local.get $dy) (local.get $off))
          (i32.add (local.get $da) (local.get $off)) (local.get $H) (local.get $g)
          (f64.load (i32.add (local.get $mean) (local.get $q))) (f64.load (i32.add (local.get $rs) (local.get $q)))
          (f64.load (i32.add (local.get $sv) (local.get $q))) (f64.load (i32.add (local.get $kk) (local.get $q))))))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rows))))
  ;; ---- The O(rows) window arithmetic (atn_window.ts, atn_host.ts's rowVjp and daTerms), scalar float64: the same
  ;; operations in the same order as the TypeScript, so the same bits (a test compares them). Per-row arrays are
  ;; float64 at row r = t sT + b sB (sT, sB in entries: the layout); the partial aggregates are indexed t B + b.
  ;; Why here: in JS every typed-array access of these loops costs a bounds check and a few cycles more than the
  ;; arithmetic (about 2 ns an entry); here the loops cost their divisions.

  ;; Window statistics (atn_window.ts windowStats): mu, s = sqrt(var + eps), rs = 1 / s and N per row, from the step
  ;; means and M2. Scratch: pm, pq, sm, sq (R each), pc, sc (T each). Returns 0 when some window has var + eps not > 0 (the
  ;; caller then runs windowStats, which names it), else 1.
  (func (export "window_stats") (param $mean i32) (param $m2 i32) (param $T i32) (param $B i32) (param $sT i32)
    (param $sB i32) (param $k i32) (param $H f64) (param $eps f64) (param $mu i32) (param $s i32) (param $rs i32) (param $n i32)
    (param $pm i32) (param $pq i32) (param $sm i32) (param $sq i32) (param $pc i32) (param $sc i32) (result i32)
    (local $t i32) (local $pos i32) (local $b i32) (local $r i32) (local $i i32) (local $j i32) (local $B8 i32)
    (local $sT8 i32) (local $sB8 i32) (local $from i32) (local $ok i32)
    (local $c f64) (local $w f64) (local $d f64) (local $ca f64) (local $cp f64) (local $tot f64) (local $wm f64)
    (local $wq f64) (local $N f64) (local $s2 f64) (local $m f64) (local $sd f64)
    (local.set $B8 (i32.shl (local.get $B) (i32.const 3)))
    (local.set $sT8 (i32.shl (local.get $sT) (i32.const 3)))
    (local.set $sB8 (i32.shl (local.get $sB) (i32.const 3)))
    (local.set $ok (i32.const 1))
    ;; prefixes, restarting at each block start
    (local.set $t (i32.const 0))
    (local.set $pos (i32.const 0))
    (block $pd (loop $pl
      (br_if $pd (i32.ge_u (local.get $t) (local.get $T)))
      (local.set $r (i32.mul (local.get $t) (local.get $sT8)))
      (local.set $i (i32.mul (local.get $t) (local.get $B8)))
      (local.set $b (i32.const 0))
      (if (i32.eqz (local.get $pos))
        (then
          (f64.store (i32.add (local.get $pc) (i32.shl (local.get $t) (i32.const 3))) (f64.const 1))
          (block $d0 (loop $l0
            (br_if $d0 (i32.ge_u (local.get $b) (local.get $B)))
            (f64.store (i32.add (local.get $pm) (local.get $i)) (f64.load (i32.add (local.get $mean) (local.get $r))))
            (f64.store (i32.add (local.get $pq) (local.get $i)) (f64.load (i32.add (local.get $m2) (local.get $r))))
            (local.set $r (i32.add (local.get $r) (local.get $sB8)))
            (local.set $i (i32.add (local.get $i) (i32.const 8)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $l0))))
        (else
          (local.set $c (f64.add (f64.load (i32.add (local.get $pc) (i32.shl (i32.sub (local.get $t) (i32.const 1)) (i32.const 3)))) (f64.const 1)))
          (local.set $w (f64.div (f64.sub (local.get $c) (f64.const 1)) (local.get $c)))
          (f64.store (i32.add (local.get $pc) (i32.shl (local.get $t) (i32.const 3))) (local.get $c))
          (block $d1 (loop $l1
            (br_if $d1 (i32.ge_u (local.get $b) (local.get $B)))
            (local.set $j (i32.sub (local.get $i) (local.get $B8)))
            (local.set $d (f64.sub (f64.load (i32.add (local.get $mean) (local.get $r))) (f64.load (i32.add (local.get $pm) (local.get $j)))))
            (f64.store (i32.add (local.get $pm) (local.get $i))
              (f64.add (f64.load (i32.add (local.get $pm) (local.get $j))) (f64.div (local.get $d) (local.get $c))))
            (f64.store (i32.add (local.get $pq) (local.get $i))
              (f64.add
                (f64.add (f64.load (i32.add (local.get $pq) (local.get $j))) (f64.load (i32.add (local.get $m2) (local.get $r))))
                (f64.mul (f64.mul (f64.mul (local.get $d) (local.get $d)) (local.get $H)) (local.get $w))))
            (local.set $r (i32.add (local.get $r) (local.get $sB8)))
            (local.set $i (i32.add (local.get $i) (i32.const 8)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $l1)))))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (local.set $pos (select (i32.const 0) (i32.add (local.get $pos) (i32.const 1))
        (i32.eq (local.get $pos) (i32.sub (local.get $k) (i32.const 1)))))
      (br $pl)))
    ;; suffixes, restarting at each block end
    (local.set $t (i32.sub (local.get $T) (i32.const 1)))
    (local.set $pos (i32.rem_u (local.get $t) (local.get $k)))
    (block $sd (loop $sl
      (br_if $sd (i32.lt_s (local.get $t) (i32.const 0)))
      (local.set $r (i32.mul (local.get $t) (local.get $sT8)))
      (local.set $i (i32.mul (local.get $t) (local.get $B8)))
      (local.set $b (i32.const 0))
      (if (i32.or (i32.eq (local.get $pos) (i32.sub (local.get $k) (i32.const 1)))
                  (i32.eq (local.get $t) (i32.sub (local.get $T) (i32.const 1))))
        (then
          (f64.store (i32.add (local.get $sc) (i32.shl (local.get $t) (i32.const 3))) (f64.const 1))
          (block $d2 (loop $l2
            (br_if $d2 (i32.ge_u (local.get $b) (local.get $B)))
            (f64.store (i32.add (local.get $sm) (local.get $i)) (f64.load (i32.add (local.get $mean) (local.get $r))))
            (f64.store (i32.add (local.get $sq) (local.get $i)) (f64.load (i32.add (local.get $m2) (local.get $r))))
            (local.set $r (i32.add (local.get $r) (local.get $sB8)))
            (local.set $i (i32.add (local.get $i) (i32.const 8)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $l2))))
        (else
          (local.set $c (f64.add (f64.load (i32.add (local.get $sc) (i32.shl (i32.add (local.get $t) (i32.const 1)) (i32.const 3)))) (f64.const 1)))
          (local.set $w (f64.div (f64.sub (local.get $c) (f64.const 1)) (local.get $c)))
          (f64.store (i32.add (local.get $sc) (i32.shl (local.get $t) (i32.const 3))) (local.get $c))
          (block $d3 (loop $l3
            (br_if $d3 (i32.ge_u (local.get $b) (local.get $B)))
            (local.set $j (i32.add (local.get $i) (local.get $B8)))
            (local.set $d (f64.sub (f64.load (i32.add (local.get $mean) (local.get $r))) (f64.load (i32.add (local.get $sm) (local.get $j)))))
            (f64.store (i32.add (local.get $sm) (local.get $i))
              (f64.add (f64.load (i32.add (local.get $sm) (local.get $j))) (f64.div (local.get $d) (local.get $c))))
            (f64.store (i32.add (local.get $sq) (local.get $i))
              (f64.add
                (f64.add (f64.load (i32.add (local.get $sq) (local.get $j))) (f64.load (i32.add (local.get $m2) (local.get $r))))
                (f64.mul (f64.mul (f64.mul (local.get $d) (local.get $d)) (local.get $H)) (local.get $w))))
            (local.set $r (i32.add (local.get $r) (local.get $sB8)))
            (local.set $i (i32.add (local.get $i) (i32.const 8)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $l3)))))
      (local.set $t (i32.sub (local.get $t) (i32.const 1)))
      (local.set $pos (select (i32.sub (local.get $k) (i32.const 1)) (i32.sub (local.get $pos) (i32.const 1))
        (i32.eqz (local.get $pos))))
      (br $sl)))
    ;; each window: the prefix alone (from < 0), or joined with suffix[from] (Chan et al.)
    (local.set $t (i32.const 0))
    (local.set $pos (i32.const 0))
    (block $wd (loop $wl
      (br_if $wd (i32.ge_u (local.get $t) (local.get $T)))
      (local.set $from (i32.sub (i32.add (local.get $t) (i32.const 1)) (local.get $k)))
      (if (i32.or (i32.le_s (local.get $from) (i32.const 0)) (i32.eq (local.get $pos) (i32.sub (local.get $k) (i32.const 1))))
        (then (local.set $from (i32.const -1))))
      (local.set $r (i32.mul (local.get $t) (local.get $sT8)))
      (local.set $i (i32.mul (local.get $t) (local.get $B8)))
      (local.set $b (i32.const 0))
      (local.set $cp (f64.load (i32.add (local.get $pc) (i32.shl (local.get $t) (i32.const 3)))))
      (if (i32.lt_s (local.get $from) (i32.const 0))
        (then
          (local.set $N (f64.mul (local.get $cp) (local.get $H)))
          (block $d4 (loop $l4
            (br_if $d4 (i32.ge_u (local.get $b) (local.get $B)))
            (local.set $s2 (f64.add (f64.div (f64.load (i32.add (local.get $pq) (local.get $i))) (local.get $N)) (local.get $eps)))
            (if (i32.eqz (f64.gt (local.get $s2) (f64.const 0))) (then (local.set $ok (i32.const 0))))
            (f64.store (i32.add (local.get $mu) (local.get $r)) (f64.load (i32.add (local.get $pm) (local.get $i))))
            (local.set $sd (f64.sqrt (local.get $s2)))
            (f64.store (i32.add (local.get $s) (local.get $r)) (local.get $sd))
            (f64.store (i32.add (local.get $rs) (local.get $r)) (f64.div (f64.const 1) (local.get $sd)))
            (f64.store (i32.add (local.get $n) (local.get $r)) (local.get $N))
            (local.set $r (i32.add (local.get $r) (local.get $sB8)))
            (local.set $i (i32.add (local.get $i) (i32.const 8)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $l4))))
        (else
          (local.set $ca (f64.load (i32.add (local.get $sc) (i32.shl (local.get $from) (i32.const 3)))))
          (local.set $tot (f64.add (local.get $ca) (local.get $cp)))
          (local.set $wm (f64.div (local.get $cp) (local.get $tot)))
          (local.set $wq (f64.div (f64.mul (local.get $ca) (local.get $cp)) (local.get $tot)))
          (local.set $N (f64.mul (local.get $tot) (local.get $H)))
          (local.set $j (i32.mul (local.get $from) (local.get $B8)))
          (block $d5 (loop $l5
            (br_if $d5 (i32.ge_u (local.get $b) (local.get $B)))
            (local.set $d (f64.sub (f64.load (i32.add (local.get $pm) (local.get $i))) (f64.load (i32.add (local.get $sm) (local.get $j)))))
            (local.set $m (f64.add (f64.load (i32.add (local.get $sm) (local.get $j))) (f64.mul (local.get $d) (local.get $wm))))
            (local.set $s2 (f64.add
              (f64.div
                (f64.add
                  (f64.add (f64.load (i32.add (local.get $sq) (local.get $j))) (f64.load (i32.add (local.get $pq) (local.get $i))))
                  (f64.mul (f64.mul (f64.mul (local.get $d) (local.get $d)) (local.get $H)) (local.get $wq)))
                (local.get $N))
              (local.get $eps)))
            (if (i32.eqz (f64.gt (local.get $s2) (f64.const 0))) (then (local.set $ok (i32.const 0))))
            (f64.store (i32.add (local.get $mu) (local.get $r)) (local.get $m))
            (local.set $sd (f64.sqrt (local.get $s2)))
            (f64.store (i32.add (local.get $s) (local.get $r)) (local.get $sd))
            (f64.store (i32.add (local.get $rs) (local.get $r)) (f64.div (f64.const 1) (local.get $sd)))
            (f64.store (i32.add (local.get $n) (local.get $r)) (local.get $N))
            (local.set $r (i32.add (local.get $r) (local.get $sB8)))
            (local.set $i (i32.add (local.get $i) (i32.const 8)))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $l5)))))
      (local.set $t (i32.add (local.get $t) (i32.const 1)))
      (local.set $pos (select (i32.const 0) (i32.add (local.get $pos) (i32.const 1))
        (i32.eq (local.get $pos) (i32.sub (local.get $k) (i32.const 1)))))
      (br $wl)))
    (local.get $ok))

  ;; Forward-looking window sums of one per-row array (atn_window.ts forwardWindowSums): dst[row(s, b)] = the sum of
  ;; src[row(t, b)] over t = s..min(T-1, s+k-1), by blocks of the reversed sequence. Scratch: pre, suf (R each).
  (func (export "window_sums") (param $src i32) (param $dst i32) (param $T i32) (param $B i32) (param $sT i32)
    (param $sB i32) (param $k i32) (param $pre i32) (param $suf i32)
    (local $u i32) (local $pos i32) (local $b i32) (local $r i32) (local $i i32) (local $j i32) (local $B8 i32)
    (local $sT8 i32) (local $sB8 i32) (local $from i32) (local $top i32)
    (local.set $B8 (i32.shl (local.get $B) (i32.const 3)))
    (local.set $sT8 (i32.shl (local.get $sT) (i32.const 3)))
    (local.set $sB8 (i32.shl (local.get $sB) (i32.const 3)))
    ;; row of reversed step u: (T-1-u) sT
    (local.set $top (i32.mul (i32.sub (local.get $T) (i32.const 1)) (local.get $sT8)))
    (local.set $u (i32.const 0))
    (local.set $pos (i32.const 0))
    (block $pd (loop $pl
      (br_if $pd (i32.ge_u (local.get $u) (local.get $T)))
      (local.set $r (i32.sub (local.get $top) (i32.mul (local.get $u) (local.get $sT8))))
      (local.set $i (i32.mul (local.get $u) (local.get $B8)))
      (local.set $b (i32.const 0))
      (block $d0 (loop $l0
        (br_if $d0 (i32.ge_u (local.get $b) (local.get $B)))
        (f64.store (i32.add (local.get $pre) (local.get $i))
          (f64.add
            (if (result f64) (i32.eqz (local.get $pos)) (then (f64.const 0))
              (else (f64.load (i32.add (local.get $pre) (i32.sub (local.get $i) (local.get $B8))))))
            (f64.load (i32.add (local.get $src) (local.get $r)))))
        (local.set $r (i32.add (local.get $r) (local.get $sB8)))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $l0)))
      (local.set $u (i32.add (local.get $u) (i32.const 1)))
      (local.set $pos (select (i32.const 0) (i32.add (local.get $pos) (i32.const 1))
        (i32.eq (local.get $pos) (i32.sub (local.get $k) (i32.const 1)))))
      (br $pl)))
    (local.set $u (i32.sub (local.get $T) (i32.const 1)))
    (local.set $pos (i32.rem_u (local.get $u) (local.get $k)))
    (block $sd (loop $sl
      (br_if $sd (i32.lt_s (local.get $u) (i32.const 0)))
      (local.set $r (i32.sub (local.get $top) (i32.mul (local.get $u) (local.get $sT8))))
      (local.set $i (i32.mul (local.get $u) (local.get $B8)))
      (local.set $b (i32.const 0))
      (block $d1 (loop $l1
        (br_if $d1 (i32.ge_u (local.get $b) (local.get $B)))
        (f64.store (i32.add (local.get $suf) (local.get $i))
          (f64.add
            (if (result f64) (i32.or (i32.eq (local.get $pos) (i32.sub (local.get $k) (i32.const 1)))
                                     (i32.eq (local.get $u) (i32.sub (local.get $T) (i32.const 1))))
              (then (f64.const 0))
              (else (f64.load (i32.add (local.get $suf) (i32.add (local.get $i) (local.get $B8))))))
            (f64.load (i32.add (local.get $src) (local.get $r)))))
        (local.set $r (i32.add (local.get $r) (local.get $sB8)))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $l1)))
      (local.set $u (i32.sub (local.get $u) (i32.const 1)))
      (local.set $pos (select (i32.sub (local.get $k) (i32.const 1)) (i32.sub (local.get $pos) (i32.const 1))
        (i32.eqz (local.get $pos))))
      (br $sl)))
    (local.set $u (i32.const 0))
    (local.set $pos (i32.const 0))
    (block $wd (loop $wl
      (br_if $wd (i32.ge_u (local.get $u) (local.get $T)))
      (local.set $from (i32.sub (i32.add (local.get $u) (i32.const 1)) (local.get $k)))
      (if (i32.or (i32.le_s (local.get $from) (i32.const 0)) (i32.eq (local.get $pos) (i32.sub (local.get $k) (i32.const 1))))
        (then (local.set $from (i32.const -1))))
      (local.set $r (i32.sub (local.get $top) (i32.mul (local.get $u) (local.get $sT8))))
      (local.set $i (i32.mul (local.get $u) (local.get $B8)))
      (local.set $j (i32.mul (local.get $from) (local.get $B8)))
      (local.set $b (i32.const 0))
      (block $d2 (loop $l2
        (br_if $d2 (i32.ge_u (local.get $b) (local.get $B)))
        (f64.store (i32.add (local.get $dst) (local.get $r))
          (if (result f64) (i32.lt_s (local.get $from) (i32.const 0))
            (then (f64.load (i32.add (local.get $pre) (local.get $i))))
            (else (f64.add (f64.load (i32.add (local.get $suf) (local.get $j))) (f64.load (i32.add (local.get $pre) (local.get $i)))))))
        (local.set $r (i32.add (local.get $r) (local.get $sB8)))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (local.set $j (i32.add (local.get $j) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $l2)))
      (local.set $u (i32.add (local.get $u) (i32.const 1)))
      (local.set $pos (select (i32.const 0) (i32.add (local.get $pos) (i32.const 1))
        (i32.eq (local.get $pos) (i32.sub (local.get $k) (i32.const 1)))))
      (br $wl))))

  ;; Per row (atn_host.ts rowVjp): u = s1 / N / s, v = s2 / N / (s s), q = mu v.
  (func (export "row_vjp") (param $s1 i32) (param $s2 i32) (param $mu i32) (param $sd i32) (param $n i32)
    (param $u i32) (param $v i32) (param $q i32) (param $R i32)
    (local $o i32) (local $e i32) (local $s f64) (local $N f64) (local $vv f64)
    (local.set $e (i32.shl (local.get $R) (i32.const 3)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $o) (local.get $e)))
      (local.set $s (f64.load (i32.add (local.get $sd) (local.get $o))))
      (local.set $N (f64.load (i32.add (local.get $n) (local.get $o))))
      (f64.store (i32.add (local.get $u) (local.get $o))
        (f64.div (f64.div (f64.load (i32.add (local.get $s1) (local.get $o))) (local.get $N)) (local.get $s)))
      (local.set $vv (f64.div (f64.div (f64.load (i32.add (local.get $s2) (local.get $o))) (local.get $N))
        (f64.mul (local.get $s) (local.get $s))))
      (f64.store (i32.add (local.get $v) (local.get $o)) (local.get $vv))
      (f64.store (i32.add (local.get $q) (local.get $o)) (f64.mul (f64.load (i32.add (local.get $mu) (local.get $o))) (local.get $vv)))
      (local.set $o (i32.add (local.get $o) (i32.const 8)))
      (br $l))))

  ;; Per row (atn_host.ts daTerms): kk = Su + m Sv - Sq, m the step's own mean.
  (func (export "da_terms") (param $su i32) (param $sv i32) (param $sq i32) (param $mean i32) (param $kk i32) (param $R i32)
    (local $o i32) (local $e i32)
    (local.set $e (i32.shl (local.get $R) (i32.const 3)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $o) (local.get $e)))
      (f64.store (i32.add (local.get $kk) (local.get $o))
        (f64.sub
          (f64.add (f64.load (i32.add (local.get $su) (local.get $o)))
            (f64.mul (f64.load (i32.add (local.get $mean) (local.get $o))) (f64.load (i32.add (local.get $sv) (local.get $o)))))
          (f64.load (i32.add (local.get $sq) (local.get $o)))))
      (local.set $o (i32.add (local.get $o) (i32.const 8)))
      (br $l))))

  ;; ---- The per-row float32 tests of atn_wasm.ts (FAST; ATN-7.6 (e)), here for the same reason as above.
  ;; The limits are atn_wasm.ts's FAST, passed in. Forward: ok[r] = 1 where gain and bias allow float32 rows at all
  ;; ($affine), the window's s lies in [1/scale, scale], the step's entries are at most scale (|m| + sqrt(M2) bounds
  ;; them) and its RMS sqrt(m^2 + M2/H) is at least s/scale; else 0 (NaN fails every comparison). Returns the number
  ;; of ok rows.
  (func (export "forward_ok") (param $mean i32) (param $m2 i32) (param $s i32) (param $ok i32) (param $R i32)
    (param $H f64) (param $affine i32) (param $scale f64) (result i32)
    (local $o i32) (local $e i32) (local $m f64) (local $q f64) (local $sd f64) (local $y i32) (local $cnt i32)
    (local.set $e (i32.shl (local.get $R) (i32.const 3)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $o) (local.get $e)))
      (local.set $m (f64.load (i32.add (local.get $mean) (local.get $o))))
      (local.set $q (f64.load (i32.add (local.get $m2) (local.get $o))))
      (local.set $sd (f64.load (i32.add (local.get $s) (local.get $o))))
      (local.set $y (i32.and (i32.and (local.get $affine)
          (i32.and (f64.ge (local.get $sd) (f64.div (f64.const 1) (local.get $scale))) (f64.le (local.get $sd) (local.get $scale))))
        (i32.and (f64.le (f64.add (f64.abs (local.get $m)) (f64.sqrt (local.get $q))) (local.get $scale))
          (f64.ge (f64.mul (f64.sqrt (f64.add (f64.mul (local.get $m) (local.get $m)) (f64.div (local.get $q) (local.get $H))))
            (local.get $scale)) (local.get $sd)))))
      (f64.store (i32.add (local.get $ok) (local.get $o)) (f64.convert_i32_u (local.get $y)))
      (local.set $cnt (i32.add (local.get $cnt) (local.get $y)))
      (local.set $o (i32.add (local.get $o) (i32.const 8)))
      (br $l)))
    (local.get $cnt))

  ;; Backward (da): out[r] = in[r] (the forward's test and dy's) and |sv| at most svMax and zero or at least 1/svMax
  ;; and |kk| at most kMax. Returns the number of ok rows.
  (func (export "da_ok") (param $sv i32) (param $kk i32) (param $in i32) (param $out i32) (param $R i32)
    (param $svMax f64) (param $kMax f64) (result i32)
    (local $o i32) (local $e i32) (local $a f64) (local $y i32) (local $cnt i32)
    (local.set $e (i32.shl (local.get $R) (i32.const 3)))
    (block $d (loop $l
      (br_if $d (i32.ge_u (local.get $o) (local.get $e)))
      (local.set $a (f64.abs (f64.load (i32.add (local.get $sv) (local.get $o)))))
      (local.set $y (i32.and (f64.ne (f64.load (i32.add (local.get $in) (local.get $o))) (f64.const 0))
        (i32.and
          (i32.and (f64.le (local.get $a) (local.get $svMax))
            (i32.or (f64.eq (local.get $a) (f64.const 0)) (f64.ge (local.get $a) (f64.div (f64.const 1) (local.get $svMax)))))
          (f64.le (f64.abs (f64.load (i32.add (local.get $kk) (local.get $o)))) (local.get $kMax)))))
      (f64.store (i32.add (local.get $out) (local.get $o)) (f64.convert_i32_u (local.get $y)))
      (local.set $cnt (i32.add (local.get $cnt) (local.get $y)))
      (local.set $o (i32.add (local.get $o) (i32.const 8)))
      (br $l)))
    (local.get $cnt))
)
