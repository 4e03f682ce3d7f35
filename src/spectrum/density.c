/* Eigenvalue density by stochastic Lanczos quadrature (SLQ).
 *
 * For each of n_v Rademacher probes z_p (normalised), m Lanczos steps with FULL
 * reorthogonalization (classical Gram-Schmidt, always refined, against every earlier
 * basis vector in a SLEPc BV) build a tridiagonal T_p. Its eigen-decomposition
 * T_p = Z diag(theta) Z^T gives Gauss nodes theta_i and weights Z[0,i]^2: the quadrature
 * of the spectral measure of H seen from z_p. The average over probes estimates the
 * spectral measure (1/n) sum_k delta(lambda_k).
 *
 * Probe-at-a-time mode keeps one basis; block mode keeps all n_v bases and advances every
 * probe one step with ONE block product, so the forward pass and the collectives are
 * shared. Both perform the same arithmetic per probe, so they agree to round-off.
 * Memory: block mode holds n_v * m vectors of n/P doubles per rank, probe mode m.
 */
#include "spectrum_impl.h"
#include <petscblaslapack.h>
#include <slepcbv.h>
#include <math.h>

/* HessaDensitySettingsDefault - not collective. */
PetscErrorCode HessaDensitySettingsDefault(HessaDensitySettings *s)
{
  PetscFunctionBegin;
  PetscCall(PetscMemzero(s, sizeof *s));
  s->probes     = 10;
  s->steps      = 80;
  s->seed       = 1;
  s->block      = PETSC_TRUE;
  s->block_size = 0;
  s->n_grid     = 1000;
  s->smoothing  = HESSA_SMOOTHING_RELATIVE;
  s->sigma      = 0;
  s->sigma_rel  = 0.01;
  s->zero_width = 0;
  PetscFunctionReturn(0);
}

/* HessaDensitySettingsSetFromOptions - collective on comm. Reads the -hessa_slq_* options
 * (see spectrum.h) over the values in s and checks them. */
PetscErrorCode HessaDensitySettingsSetFromOptions(MPI_Comm comm, HessaDensitySettings *s)
{
  const char *smoothings[] = {"relative", "pyhessian", "HessaSmoothing", "HESSA_SMOOTHING_", NULL};
  PetscEnum   sm           = (PetscEnum)s->smoothing;
  PetscInt    seed         = (PetscInt)s->seed;

  PetscFunctionBegin;
  PetscOptionsBegin(comm, NULL, "hessa stochastic Lanczos quadrature options", NULL);
  PetscCall(PetscOptionsInt("-hessa_slq_probes", "number of Rademacher probe vectors n_v", "HessaSpectrumDensity", s->probes, &s->probes, NULL));
  PetscCall(PetscOptionsInt("-hessa_slq_steps", "Lanczos steps m per probe (m <= n)", "HessaSpectrumDensity", s->steps, &s->steps, NULL));
  PetscCall(PetscOptionsInt("-hessa_slq_seed", "seed of the probe vectors", "HessaSpectrumDensity", seed, &seed, NULL));
  PetscCall(PetscOptionsBool("-hessa_slq_block", "advance all probes together with block products", "HessaSpectrumDensity", s->block, &s->block, NULL));
  PetscCall(PetscOptionsInt("-hessa_slq_block_size", "block mode: probes per group (0: all); a graceful stop keeps only finished groups", "HessaSpectrumDensityContinue", s->block_size, &s->block_size, NULL));
  PetscCall(PetscOptionsInt("-hessa_slq_grid", "grid points of the smoothed density", "HessaDensitySmooth", s->n_grid, &s->n_grid, NULL));
  PetscCall(PetscOptionsEnum("-hessa_slq_smoothing", "Gaussian width: relative to the node range, or PyHessian's variance 1e-5 max(1, range)", "HessaDensitySmooth", smoothings, sm, &sm, NULL));
  PetscCall(PetscOptionsReal("-hessa_slq_sigma", "absolute Gaussian width (> 0 overrides -hessa_slq_smoothing)", "HessaDensitySmooth", s->sigma, &s->sigma, NULL));
  PetscCall(PetscOptionsReal("-hessa_slq_sigma_rel", "Gaussian width relative to the node range (smoothing relative)", "HessaDensitySmooth", s->sigma_rel, &s->sigma_rel, NULL));
  PetscCall(PetscOptionsReal("-hessa_slq_zero_width", "|lambda| <= width counts as near zero (<= 0: 1e-3 max|node|)", "HessaSpectrumDensity", s->zero_width, &s->zero_width, NULL));
  PetscOptionsEnd();
  PetscCheck(seed >= 0, comm, HESSA_ERR_ARG, "-hessa_slq_seed %" PetscInt_FMT ": the seed must be >= 0", seed);
  PetscCheck(s->block_size >= 0, comm, HESSA_ERR_ARG, "-hessa_slq_block_size %" PetscInt_FMT ": must be >= 0 (0: all probes in one group)", s->block_size);
  PetscCheck(s->n_grid >= 2, comm, HESSA_ERR_ARG, "-hessa_slq_grid %" PetscInt_FMT ": need at least 2 grid points", s->n_grid);
  PetscCheck(s->sigma_rel > 0, comm, HESSA_ERR_ARG, "-hessa_slq_sigma_rel %g: must be > 0", (double)s->sigma_rel);
  s->seed      = (uint64_t)seed;
  s->smoothing = (HessaSmoothing)sm;
  PetscFunctionReturn(0);
}

/* One probe's Lanczos state. */
typedef struct {
  BV        bv;           /* [m] orthonormal basis q_0..q_{m-1}, sharded */
  Vec       w;            /* work: H q_j, then the next residual */
  PetscInt  j;            /* steps taken */
  PetscBool done;         /* m steps, or a breakdown */
  double   *alpha, *beta; /* [m] diagonal, [m] off-diagonal (beta[j] couples q_j and q_{j+1}) */
  double    scale;        /* max |alpha|, beta so far: the breakdown threshold scales with it */
} Probe;

static PetscErrorCode ProbeCreate(HessaOperator op, const HessaDensitySettings *s, PetscInt p, double *alpha, double *beta, Probe *pr)
{
  Vec q0;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(pr, sizeof *pr));
  pr->alpha = alpha;
  pr->beta  = beta;
  PetscCall(HessaOperatorCreateVec(op, &pr->w));
  PetscCall(BVCreate(op->comm, &pr->bv));
  PetscCall(BVSetSizesFromVec(pr->bv, pr->w, s->steps));
  PetscCall(BVSetType(pr->bv, BVSVEC));
  /* always refine: the same arithmetic whatever the rank count or the mode */
  PetscCall(BVSetOrthogonalization(pr->bv, BV_ORTHOG_CGS, BV_ORTHOG_REFINE_ALWAYS, PETSC_DEFAULT, BV_ORTHOG_BLOCK_GS));
  PetscCall(BVGetColumn(pr->bv, 0, &q0));
  PetscCall(HessaVecSetRandom(q0, HESSA_RANDOM_RADEMACHER, s->seed, HESSA_STREAM_SLQ + (uint64_t)p));
  PetscCall(VecNormalize(q0, NULL));
  PetscCall(BVRestoreColumn(pr->bv, 0, &q0));
  PetscFunctionReturn(0);
}

static PetscErrorCode ProbeDestroy(Probe *pr)
{
  PetscFunctionBegin;
  PetscCall(BVDestroy(&pr->bv));
  PetscCall(VecDestroy(&pr->w));
  PetscFunctionReturn(0);
}

/* After w = H q_j: orthogonalize w against q_0..q_j (twice), record alpha_j, beta_j, and
 * either store q_{j+1} = w / beta_j or mark the probe done (m steps or breakdown). */
static PetscErrorCode ProbeAdvance(Probe *pr, PetscInt m, double *h)
{
  PetscReal norm;
  PetscBool lindep;
  PetscInt  j = pr->j;

  PetscFunctionBegin;
  PetscCall(BVSetActiveColumns(pr->bv, 0, j + 1));
  PetscCall(BVOrthogonalizeVec(pr->bv, pr->w, h, &norm, &lindep));
  pr->alpha[j] = PetscRealPart(h[j]);
  pr->beta[j]  = norm;
  pr->scale    = PetscMax(pr->scale, PetscMax(PetscAbsReal(pr->alpha[j]), norm));
  pr->j        = j + 1;
  /* breakdown: the Krylov space is invariant (to round-off); more steps add only noise */
  if (pr->j == m || lindep || norm <= 1e-10 * pr->scale) {
    pr->done = PETSC_TRUE;
    PetscFunctionReturn(0);
  }
  PetscCall(VecScale(pr->w, 1.0 / norm));
  PetscCall(BVInsertVec(pr->bv, j + 1, pr->w));
  PetscFunctionReturn(0);
}

/* Gauss quadrature of one tridiagonal (s steps): nodes and weights (first components^2). */
static PetscErrorCode GaussQuadrature(PetscInt s, const double *alpha, const double *beta, double *nodes, double *weights)
{
  PetscBLASInt n, ldz, info;
  double      *d, *e, *z, *work;

  PetscFunctionBegin;
  PetscCall(PetscBLASIntCast(s, &n));
  ldz = n;
  PetscCall(PetscMalloc4(s, &d, PetscMax(s, 1), &e, (size_t)s * s, &z, PetscMax(2 * s - 2, 1), &work));
  PetscCall(PetscArraycpy(d, alpha, s));
  for (PetscInt i = 0; i + 1 < s; i++) e[i] = beta[i];
  PetscCallBLAS("LAPACKsteqr", LAPACKsteqr_("I", &n, d, e, z, &ldz, work, &info));
  PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "LAPACK steqr failed on the Lanczos tridiagonal: info %d", (int)info);
  for (PetscInt i = 0; i < s; i++) {
    nodes[i]   = d[i];
    weights[i] = z[(size_t)i * s] * z[(size_t)i * s]; /* column i, row 0 */
  }
  PetscCall(PetscFree4(d, e, z, work));
  PetscFunctionReturn(0);
}

/* Probes per group: block mode advances a group together, probe mode one probe at a time. */
static PetscInt DensityGroup(const HessaDensitySettings *s)
{
  if (!s->block) return 1;
  return s->block_size > 0 ? PetscMin(s->block_size, s->probes) : s->probes;
}

/* Run the Lanczos recurrences of probes [probes_done, nv) and store each tridiagonal in out:
 * block mode advances every unfinished probe of a group with one block product per step;
 * probe mode runs each probe to the end in turn (and holds only its basis). With stoppable,
 * the ranks agree after every step (no product in flight) whether to stop; a stop discards
 * the group in progress, since its vectors are too large to keep. */
static PetscErrorCode RunLanczos(HessaOperator op, const HessaDensitySettings *s, PetscBool stoppable, HessaDensity *out)
{
  PetscInt      nv = s->probes, m = s->steps, group = DensityGroup(s);
  Vec          *Q, *W;
  double       *h;
  Probe        *pr;
  HessaProgress prog;
  char          what[64];

  PetscFunctionBegin;
  PetscCall(PetscMalloc4(group, &Q, group, &W, m + 1, &h, group, &pr));
  HessaProgressStart(&prog, "slq", op);
  for (PetscInt first = out->probes_done; first < nv && !out->stopped; first += group) {
    PetscInt last = PetscMin(first + group, nv), all_done = 1;
    for (PetscInt p = first; p < last; p++) PetscCall(ProbeCreate(op, s, p, out->alpha + (size_t)p * m, out->beta + (size_t)p * m, &pr[p - first]));
    for (;;) {
      PetscInt b = 0;
      for (PetscInt p = 0; p < last - first; p++) {
        if (pr[p].done) continue;
        PetscCall(BVGetColumn(pr[p].bv, pr[p].j, &Q[b]));
        W[b++] = pr[p].w;
      }
      if (!b) break;
      PetscCall(HessaOperatorApplyBlock(op, b, Q, W));
      b = 0;
      for (PetscInt p = 0; p < last - first; p++) {
        if (pr[p].done) continue;
        PetscCall(BVRestoreColumn(pr[p].bv, pr[p].j, &Q[b++]));
        PetscCall(ProbeAdvance(&pr[p], m, h));
      }
      PetscCall(PetscSNPrintf(what, sizeof what, "probes %" PetscInt_FMT "-%" PetscInt_FMT " of %" PetscInt_FMT ", step %" PetscInt_FMT "/%" PetscInt_FMT, first + 1, last, nv, pr[0].j, m));
      PetscCall(HessaProgressUpdate(&prog, op, ((double)first + (double)pr[0].j / m * (double)(last - first)) / nv, what));
      if (stoppable) PetscCall(HessaStopAgree(op->comm, &out->stopped));
      if (out->stopped) break;
    }
    for (PetscInt p = first; p < last; p++) {
      if (!pr[p - first].done) all_done = 0;
      out->probe_steps[p] = pr[p - first].j;
      PetscCall(ProbeDestroy(&pr[p - first]));
    }
    /* a group whose last step was the one before the stop is finished all the same */
    if (all_done) out->probes_done = last;
  }
  if (out->probes_done == nv) out->stopped = PETSC_FALSE; /* nothing left: the next phase stops */
  PetscCall(PetscFree4(Q, W, h, pr));
  PetscFunctionReturn(0);
}

/* HessaDensityAllocate - collective on comm (checks: probes >= 1, 1 <= steps <= n_op).
 * Output: out with room for every probe and nothing finished. */
PetscErrorCode HessaDensityAllocate(MPI_Comm comm, const HessaDensitySettings *s, PetscInt n_op, HessaDensity *out)
{
  PetscInt nv = s->probes, m = s->steps;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(out, sizeof *out));
  PetscCheck(nv >= 1, comm, HESSA_ERR_ARG, "density: %" PetscInt_FMT " probe vectors requested (-hessa_slq_probes); need at least 1", nv);
  PetscCheck(m >= 1, comm, HESSA_ERR_ARG, "density: %" PetscInt_FMT " Lanczos steps requested (-hessa_slq_steps); need at least 1", m);
  PetscCheck(m <= n_op, comm, HESSA_ERR_ARG, "density: %" PetscInt_FMT " Lanczos steps requested (-hessa_slq_steps) but the operator has only n = %" PetscInt_FMT " (need steps <= n)", m, n_op);
  out->probes = nv;
  out->steps  = m;
  out->seed   = s->seed;
  PetscCall(PetscCalloc5(nv, &out->probe_steps, (size_t)nv * m, &out->alpha, (size_t)nv * m, &out->beta, (size_t)nv * m, &out->nodes, (size_t)nv * m, &out->weights));
  PetscFunctionReturn(0);
}

/* HessaSpectrumDensityWithSettings - stochastic Lanczos quadrature.
 * Collective on op->comm. Input: s (checked: probes >= 1, 1 <= steps <= n_op).
 * Output: out (free with HessaDensityDestroy). Reads no options. */
PetscErrorCode HessaSpectrumDensityWithSettings(HessaOperator op, const HessaDensitySettings *s, HessaDensity *out)
{
  PetscFunctionBegin;
  PetscCall(HessaDensityAllocate(op->comm, s, op->n_op, out));
  PetscCall(HessaSpectrumDensityContinue(op, s, PETSC_FALSE, out));
  PetscFunctionReturn(0);
}

/* HessaSpectrumDensityContinue - SLQ for the probes not finished in out (see spectrum.h).
 * Collective on op->comm. */
PetscErrorCode HessaSpectrumDensityContinue(HessaOperator op, const HessaDensitySettings *s, PetscBool stoppable, HessaDensity *out)
{
  PetscInt   nv = s->probes, m = s->steps;
  PetscInt64 products0 = op->n_products;
  double     t0 = MPI_Wtime(), width = s->zero_width, maxabs = 0;
  double    *neg, *pos, *zero;

  PetscFunctionBegin;
  PetscCheck(out->probes == nv && out->steps == m, op->comm, PETSC_ERR_ARG_INCOMP, "density: continuing %" PetscInt_FMT " probes x %" PetscInt_FMT " steps with settings of %" PetscInt_FMT " x %" PetscInt_FMT, out->probes, out->steps, nv, m);
  out->stopped = PETSC_FALSE;
  PetscCall(RunLanczos(op, s, stoppable, out));
  /* every rank must hold the same tridiagonals: take rank 0's (reductions may differ in the
     last bit between ranks on some MPI implementations) */
  PetscCallMPI(MPI_Bcast(out->alpha, (int)(nv * m), MPI_DOUBLE, 0, op->comm));
  PetscCallMPI(MPI_Bcast(out->beta, (int)(nv * m), MPI_DOUBLE, 0, op->comm));
  PetscCallMPI(MPI_Bcast(out->probe_steps, (int)nv, MPIU_INT, 0, op->comm));
  out->products = op->n_products - products0;
  out->seconds  = MPI_Wtime() - t0;
  if (out->stopped) nv = out->probes_done; /* quadrature of the finished probes only */
  for (PetscInt p = 0; p < nv; p++) {
    PetscInt sp = out->probe_steps[p];
    double  *x = out->nodes + (size_t)p * m, *w = out->weights + (size_t)p * m;
    PetscCall(GaussQuadrature(sp, out->alpha + (size_t)p * m, out->beta + (size_t)p * m, x, w));
    for (PetscInt i = sp; i < m; i++) x[i] = x[0]; /* padding: weight 0 at a node inside the range */
    for (PetscInt i = 0; i < sp; i++) maxabs = PetscMax(maxabs, PetscAbsReal(x[i]));
  }
  if (out->stopped) PetscFunctionReturn(0);
  /* per-probe fractions, then mean and standard error across probes */
  if (width <= 0) width = 1e-3 * maxabs;
  PetscCall(PetscMalloc3(nv, &neg, nv, &pos, nv, &zero));
  for (PetscInt p = 0; p < nv; p++) {
    neg[p] = pos[p] = zero[p] = 0;
    for (PetscInt i = 0; i < m; i++) {
      double x = out->nodes[(size_t)p * m + i], w = out->weights[(size_t)p * m + i];
      if (x < -width)
        neg[p] += w;
      else if (x > width)
        pos[p] += w;
      else
        zero[p] += w;
    }
  }
  HessaMeanSE(nv, neg, &out->negative_fraction, &out->negative_fraction_se);
  HessaMeanSE(nv, pos, &out->positive_fraction, &out->positive_fraction_se);
  HessaMeanSE(nv, zero, &out->near_zero_fraction, &out->near_zero_fraction_se);
  out->near_zero_width = width;
  PetscCall(PetscFree3(neg, pos, zero));
  PetscCall(HessaDensitySmooth(out, s));
  out->seconds = MPI_Wtime() - t0;
  PetscFunctionReturn(0);
}

/* HessaSpectrumDensity - SLQ with the defaults, the -hessa_slq_* options, then the given
 * probes, steps and seed. Collective on op->comm. Output: out. */
PetscErrorCode HessaSpectrumDensity(HessaOperator op, PetscInt probes, PetscInt steps, uint64_t seed, HessaDensity *out)
{
  HessaDensitySettings s;

  PetscFunctionBegin;
  PetscCall(HessaDensitySettingsDefault(&s));
  PetscCall(HessaDensitySettingsSetFromOptions(op->comm, &s));
  s.probes = probes;
  s.steps  = steps;
  s.seed   = seed;
  PetscCall(HessaSpectrumDensityWithSettings(op, &s, out));
  PetscFunctionReturn(0);
}

/* HessaDensitySmooth - not collective. The averaged measure (1/n_v) sum_p sum_i w_pi
 * delta(theta_pi) convolved with a Gaussian of width sigma on an even grid, normalised so
 * that sum(density) * step = 1 (as PyHessian does).
 *   relative:  sigma = sigma_rel * (max node - min node), grid [min - 3 sigma, max + 3 sigma]
 *   pyhessian: grid [mean_p max_p + 0.01 ... mean_p min_p - 0.01], variance 1e-5 max(1, range)
 * s->sigma > 0 overrides the width. */
PetscErrorCode HessaDensitySmooth(HessaDensity *d, const HessaDensitySettings *s)
{
  PetscInt nv = d->probes, m = d->steps, ng = s->n_grid;
  double   lo = PETSC_MAX_REAL, hi = -PETSC_MAX_REAL, mean_lo = 0, mean_hi = 0, sigma, a, b, step, total = 0;

  PetscFunctionBegin;
  for (PetscInt p = 0; p < nv; p++) {
    double plo = PETSC_MAX_REAL, phi = -PETSC_MAX_REAL;
    for (PetscInt i = 0; i < d->probe_steps[p]; i++) {
      plo = PetscMin(plo, d->nodes[(size_t)p * m + i]);
      phi = PetscMax(phi, d->nodes[(size_t)p * m + i]);
    }
    lo = PetscMin(lo, plo);
    hi = PetscMax(hi, phi);
    mean_lo += plo / nv;
    mean_hi += phi / nv;
  }
  if (s->smoothing == HESSA_SMOOTHING_PYHESSIAN) {
    a     = mean_lo - 0.01;
    b     = mean_hi + 0.01;
    sigma = sqrt(1e-5 * PetscMax(1.0, b - a));
  } else {
    sigma = s->sigma_rel * (hi - lo);
    if (sigma <= 0) sigma = 1e-3 * PetscMax(1.0, PetscAbsReal(hi));
  }
  if (s->sigma > 0) sigma = s->sigma;
  if (s->smoothing != HESSA_SMOOTHING_PYHESSIAN) {
    a = lo - 3 * sigma;
    b = hi + 3 * sigma;
  }
  PetscCall(PetscFree2(d->grid, d->density));
  PetscCall(PetscMalloc2(ng, &d->grid, ng, &d->density));
  d->n_grid = ng;
  d->sigma  = sigma;
  step      = (b - a) / (double)(ng - 1);
  for (PetscInt g = 0; g < ng; g++) {
    double x = a + step * (double)g, f = 0;
    for (size_t k = 0; k < (size_t)nv * m; k++) {
      double t = (x - d->nodes[k]) / sigma;
      if (d->weights[k] > 0 && t * t < 80) f += d->weights[k] * exp(-0.5 * t * t);
    }
    d->grid[g]    = x;
    d->density[g] = f / (sqrt(2 * PETSC_PI) * sigma * nv);
    total += d->density[g];
  }
  if (total > 0)
    for (PetscInt g = 0; g < ng; g++) d->density[g] /= total * step;
  PetscFunctionReturn(0);
}

/* HessaDensityDestroy - not collective: frees the arrays of d. */
PetscErrorCode HessaDensityDestroy(HessaDensity *d)
{
  PetscFunctionBegin;
  PetscCall(PetscFree5(d->probe_steps, d->alpha, d->beta, d->nodes, d->weights));
  PetscCall(PetscFree2(d->grid, d->density));
  PetscFunctionReturn(0);
}
