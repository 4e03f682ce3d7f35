/* Trace estimates with Rademacher probes: Hutchinson, E[z^T H z] = tr H, and Hutch++
 * (Meyer, Musco, Musco & Woodruff 2021): the trace of H on the range of H S computed
 * exactly, Hutchinson on the deflated rest. Probes are rank-independent random vectors, so
 * the estimate does not depend on the number of ranks.
 */
#include "spectrum_impl.h"
#include <slepcbv.h>

#define TRACE_BLOCK 16 /* probes per block product */

/* z_i^T H z_i for *done <= i < count, probes from streams HESSA_STREAM_TRACE + i; when Q is
 * given each probe is first deflated: z <- (I - Q Q^T) z. Blocks start at multiples of
 * TRACE_BLOCK counted from 0, so a resumed run forms the same blocks. With stoppable the
 * ranks agree after every block whether to stop (*stopped); *done counts finished forms. */
static PetscErrorCode QuadraticForms(HessaOperator op, PetscInt count, uint64_t seed, BV Q, double *q, PetscInt *done, PetscBool stoppable, PetscBool *stopped, HessaProgress *prog)
{
  Vec      Z[TRACE_BLOCK], HZ[TRACE_BLOCK];
  double  *h;
  PetscInt nq = 0;

  PetscFunctionBegin;
  if (Q) PetscCall(BVGetActiveColumns(Q, NULL, &nq));
  PetscCall(PetscMalloc1(nq + 1, &h));
  for (PetscInt j = 0; j < TRACE_BLOCK; j++) {
    PetscCall(HessaOperatorCreateVec(op, &Z[j]));
    PetscCall(VecDuplicate(Z[j], &HZ[j]));
  }
  for (PetscInt i0 = *done; i0 < count; i0 += TRACE_BLOCK) {
    PetscInt b = PetscMin(TRACE_BLOCK, count - i0);
    char     what[96];
    for (PetscInt j = 0; j < b; j++) {
      PetscCall(HessaVecSetRandom(Z[j], HESSA_RANDOM_RADEMACHER, seed, HESSA_STREAM_TRACE + (uint64_t)(i0 + j)));
      if (nq > 0) PetscCall(BVOrthogonalizeVec(Q, Z[j], h, NULL, NULL));
    }
    PetscCall(HessaOperatorApplyBlock(op, b, Z, HZ));
    for (PetscInt j = 0; j < b; j++) PetscCall(VecDot(HZ[j], Z[j], &q[i0 + j]));
    {
      double sum = 0; /* running mean of the quadratic forms so far */
      for (PetscInt i = 0; i < i0 + b; i++) sum += q[i];
      PetscCall(PetscSNPrintf(what, sizeof what, "probe %" PetscInt_FMT "/%" PetscInt_FMT ", mean z'Hz %.6g", i0 + b, count, sum / (double)(i0 + b)));
    }
    PetscCall(HessaProgressUpdate(prog, op, (double)(i0 + b) / count, what));
    *done = i0 + b;
    if (stoppable && *done < count) PetscCall(HessaStopAgree(op->comm, stopped));
    if (*stopped) break;
  }
  for (PetscInt j = 0; j < TRACE_BLOCK; j++) {
    PetscCall(VecDestroy(&Z[j]));
    PetscCall(VecDestroy(&HZ[j]));
  }
  PetscCall(PetscFree(h));
  PetscFunctionReturn(0);
}

/* Hutch++ with k = samples / 3: Q = orth(H S) for k probes S (columns that add nothing
 * new, e.g. when k exceeds the rank of H or n, are dropped: r <= k columns remain);
 * tr(Q^T H Q) with r products; Hutchinson with k deflated probes. */
static PetscErrorCode HutchPlusPlus(HessaOperator op, PetscBool stoppable, HessaTrace *out, HessaProgress *prog)
{
  PetscInt samples = out->samples, k = out->n_q, r = 0;
  uint64_t seed = out->seed;
  BV       Q;
  Vec      tmpl, s, hs, *HQ, *Qv;
  double   low_rank = 0, mean, se;

  PetscFunctionBegin;
  PetscCall(HessaOperatorCreateVec(op, &tmpl));
  PetscCall(VecDuplicate(tmpl, &s));
  PetscCall(VecDuplicate(tmpl, &hs));
  PetscCall(BVCreate(op->comm, &Q));
  PetscCall(BVSetSizesFromVec(Q, tmpl, k));
  PetscCall(BVSetType(Q, BVSVEC));
  PetscCall(BVSetOrthogonalization(Q, BV_ORTHOG_CGS, BV_ORTHOG_REFINE_ALWAYS, PETSC_DEFAULT, BV_ORTHOG_BLOCK_GS));
  /* sketch: Q = orth(H S), S from streams [samples, samples + k) so it shares no probe with the residual part */
  for (PetscInt i = 0; i < k; i++) {
    double    before, after;
    PetscBool lindep;
    PetscCall(HessaVecSetRandom(s, HESSA_RANDOM_RADEMACHER, seed, HESSA_STREAM_TRACE + (uint64_t)(samples + i)));
    PetscCall(HessaOperatorApply(op, s, hs));
    PetscCall(VecNorm(hs, NORM_2, &before));
    PetscCall(BVInsertVec(Q, r, hs));
    PetscCall(BVSetActiveColumns(Q, 0, r + 1));
    PetscCall(BVOrthonormalizeColumn(Q, r, PETSC_TRUE, &after, &lindep));
    if (!lindep && after > 1e-10 * before) r++; /* else: nothing new, the column is overwritten next */
    /* a stop here loses only the sketch, which a resumed run recomputes anyway */
    if (stoppable) PetscCall(HessaStopAgree(op->comm, &out->stopped));
    if (out->stopped) break;
  }
  PetscCall(BVSetActiveColumns(Q, 0, r));
  /* exact part: tr(Q^T H Q), unless a stopped run already finished it */
  if (!out->stopped && !out->low_rank_done && r > 0) {
    PetscCall(VecDuplicateVecs(tmpl, r, &HQ));
    PetscCall(VecDuplicateVecs(tmpl, r, &Qv));
    for (PetscInt i = 0; i < r; i++) PetscCall(BVCopyVec(Q, i, Qv[i]));
    for (PetscInt i0 = 0; i0 < r; i0 += TRACE_BLOCK) PetscCall(HessaOperatorApplyBlock(op, PetscMin(TRACE_BLOCK, r - i0), Qv + i0, HQ + i0));
    for (PetscInt i = 0; i < r; i++) {
      double d;
      PetscCall(VecDot(HQ[i], Qv[i], &d));
      low_rank += d;
    }
    PetscCall(VecDestroyVecs(r, &Qv));
    PetscCall(VecDestroyVecs(r, &HQ));
  }
  if (!out->stopped && !out->low_rank_done) {
    out->low_rank      = low_rank;
    out->low_rank_done = PETSC_TRUE;
    if (stoppable) PetscCall(HessaStopAgree(op->comm, &out->stopped));
  }
  /* residual part: Hutchinson on (I - QQ^T) H (I - QQ^T) */
  if (!out->stopped) PetscCall(QuadraticForms(op, k, seed, Q, out->q, &out->done, stoppable, &out->stopped, prog));
  if (!out->stopped) {
    HessaMeanSE(k, out->q, &mean, &se);
    out->estimate       = out->low_rank + mean;
    out->standard_error = se;
  }
  PetscCall(BVDestroy(&Q));
  PetscCall(VecDestroy(&s));
  PetscCall(VecDestroy(&hs));
  PetscCall(VecDestroy(&tmpl));
  PetscFunctionReturn(0);
}

/* HessaTraceAllocate - collective on comm (checks samples). Output: out, nothing done. */
PetscErrorCode HessaTraceAllocate(MPI_Comm comm, HessaTraceMethod method, PetscInt samples, uint64_t seed, HessaTrace *out)
{
  PetscFunctionBegin;
  PetscCall(PetscMemzero(out, sizeof *out));
  PetscCheck(samples >= 1, comm, HESSA_ERR_ARG, "trace: %" PetscInt_FMT " samples requested (-hessa_trace_samples); need at least 1", samples);
  PetscCheck(method != HESSA_TRACE_HUTCHPP || samples >= 3, comm, HESSA_ERR_ARG, "Hutch++ needs at least 3 products (-hessa_trace_samples), got %" PetscInt_FMT, samples);
  out->method  = method;
  out->samples = samples;
  out->seed    = seed;
  out->n_q     = method == HESSA_TRACE_HUTCHPP ? samples / 3 : samples;
  PetscCall(PetscCalloc1(out->n_q, &out->q));
  PetscFunctionReturn(0);
}

PetscErrorCode HessaTraceDestroy(HessaTrace *t)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(t->q));
  PetscFunctionReturn(0);
}

/* HessaSpectrumTraceContinue - the unfinished part of a trace estimate (see spectrum.h).
 * Collective on op->comm. */
PetscErrorCode HessaSpectrumTraceContinue(HessaOperator op, PetscBool stoppable, HessaTrace *out)
{
  PetscInt64    products0 = op->n_products;
  double        t0        = MPI_Wtime();
  HessaProgress prog;

  PetscFunctionBegin;
  out->stopped = PETSC_FALSE;
  HessaProgressStart(&prog, out->method == HESSA_TRACE_HUTCHPP ? "trace (Hutch++)" : "trace (Hutchinson)", op);
  if (out->method == HESSA_TRACE_HUTCHPP)
    PetscCall(HutchPlusPlus(op, stoppable, out, &prog));
  else {
    PetscCall(QuadraticForms(op, out->samples, out->seed, NULL, out->q, &out->done, stoppable, &out->stopped, &prog));
    if (!out->stopped) HessaMeanSE(out->samples, out->q, &out->estimate, &out->standard_error);
  }
  out->products = op->n_products - products0;
  out->seconds  = MPI_Wtime() - t0;
  PetscFunctionReturn(0);
}

/* HessaSpectrumTrace - trace of the curvature operator. Collective on op->comm.
 * Input: method, samples (products to spend: >= 1 for Hutchinson, >= 3 for Hutch++), seed.
 * Output: out (estimate, standard error across probes, products, seconds). No options. */
PetscErrorCode HessaSpectrumTrace(HessaOperator op, HessaTraceMethod method, PetscInt samples, uint64_t seed, HessaTrace *out)
{
  PetscFunctionBegin;
  PetscCall(HessaTraceAllocate(op->comm, method, samples, seed, out));
  PetscCall(HessaSpectrumTraceContinue(op, PETSC_FALSE, out));
  PetscCall(HessaTraceDestroy(out));
  PetscFunctionReturn(0);
}

/* HessaTraceFromFullSpectrum - not collective: tr H = sum of the eigenvalues, summed with
 * Kahan compensation (n up to the full-spectrum limit). Input: full (values on every rank).
 * Output: out (exact, standard_error 0, samples 0, products 0; HessaTraceDestroy frees nothing). */
PetscErrorCode HessaTraceFromFullSpectrum(const HessaFullSpectrum *full, HessaTrace *out)
{
  double sum = 0, carry = 0;

  PetscFunctionBegin;
  PetscCheck(full && full->values && full->n > 0, PETSC_COMM_SELF, PETSC_ERR_ARG_NULL, "exact trace: no full spectrum");
  for (PetscInt i = 0; i < full->n; i++) {
    double y = full->values[i] - carry, t = sum + y;
    carry = (t - sum) - y;
    sum   = t;
  }
  PetscCall(PetscMemzero(out, sizeof *out));
  out->method   = HESSA_TRACE_HUTCHINSON; /* not used: exact */
  out->exact    = PETSC_TRUE;
  out->estimate = sum;
  PetscFunctionReturn(0);
}
