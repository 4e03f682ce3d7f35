/* The whole spectrum of an operator that fits in memory: assembly from block products of
 * unit vectors into a distributed dense matrix, then a dense parallel eigensolver (ELPA's
 * two-stage solver by default; ScaLAPACK pdsyevd, pdsyevr, pdsyev or SLEPc's scalapack EPS).
 *
 * Column c of H is H e_c. A block of b unit vectors costs one block product (one forward
 * pass). Each rank keeps its rows of every column in a MATMPIDENSE whose row and column
 * split is ScaLAPACK's "equal" one (ceil(n/P) rows per rank, the last one shorter): then
 * MatConvert to the 2-D block-cyclic MATSCALAPACK layout is one pdgemr2d. (With the
 * operator's own split, n/P + 1 rows on the first n mod P ranks, PETSc falls back to
 * MatSetValues, which stashes a second copy of the matrix and is much slower.) When the
 * two splits differ, each column is moved by a VecScatter that only shifts the boundary
 * rows. In MATSCALAPACK the transpose, the asymmetry and the symmetrization are PBLAS calls.
 * Memory per rank: two n^2/P matrices during conversion and symmetrization, then the
 * matrix plus the solver's work space (HessaFullSpectrumMemory, docs/spectrum.md).
 */
#include "spectrum_impl.h"
#include <slepceps.h>
#include <slepc/private/slepcscalapack.h>
#include <elpa/elpa.h>
#include <cblas.h>
#include <math.h>

const char *const HessaFullSolverNames[] = {"elpa", "pdsyevd", "pdsyevr", "pdsyev", "eps", "HessaFullSolver", "HESSA_FULL_", NULL};

/* ScaLAPACK's pdsyevd and pdsyevr (Fortran; pdsyev is SLEPc's SCALAPACKsyev_) */
extern void pdsyevd_(const char *jobz, const char *uplo, const PetscBLASInt *n, double *a, const PetscBLASInt *ia, const PetscBLASInt *ja, const PetscBLASInt *desca, double *w, double *z, const PetscBLASInt *iz, const PetscBLASInt *jz,
                     const PetscBLASInt *descz, double *work, const PetscBLASInt *lwork, PetscBLASInt *iwork, const PetscBLASInt *liwork, PetscBLASInt *info);
extern void pdsyevr_(const char *jobz, const char *range, const char *uplo, const PetscBLASInt *n, double *a, const PetscBLASInt *ia, const PetscBLASInt *ja, const PetscBLASInt *desca, const double *vl, const double *vu, const PetscBLASInt *il,
                     const PetscBLASInt *iu, PetscBLASInt *m, PetscBLASInt *nz, double *w, double *z, const PetscBLASInt *iz, const PetscBLASInt *jz, const PetscBLASInt *descz, double *work, const PetscBLASInt *lwork, PetscBLASInt *iwork,
                     const PetscBLASInt *liwork, PetscBLASInt *info);

#define MIB 1048576.0
#define GIB 1073741824.0

/* HessaFullSettingsDefault - not collective; see spectrum.h. */
void HessaFullSettingsDefault(HessaFullSettings *s)
{
  s->solver    = HESSA_FULL_ELPA;
  s->block     = 16;
  s->nb        = 64;
  s->vectors   = PETSC_FALSE;
  s->max_n     = PETSC_MAX_INT;
  s->memory_mb = -1;
}

/* HessaFullSettingsSetFromOptions - collective on comm; see spectrum.h. */
PetscErrorCode HessaFullSettingsSetFromOptions(MPI_Comm comm, HessaFullSettings *s)
{
  PetscEnum solver;

  PetscFunctionBegin;
  HessaFullSettingsDefault(s);
  solver = (PetscEnum)s->solver;
  PetscOptionsBegin(comm, NULL, "hessa full spectrum options", NULL);
  PetscCall(PetscOptionsEnum("-hessa_full_solver", "dense eigensolver: ELPA two-stage, ScaLAPACK pdsyevd / pdsyevr / pdsyev, or SLEPc's scalapack EPS", "HessaSpectrumFull", HessaFullSolverNames, solver, &solver, NULL));
  PetscCall(PetscOptionsInt("-hessa_full_block", "unit vectors per block product during assembly", "HessaSpectrumFull", s->block, &s->block, NULL));
  PetscCall(PetscOptionsInt("-hessa_full_nb", "block size of the block-cyclic dense matrix (ELPA's nblk)", "HessaSpectrumFull", s->nb, &s->nb, NULL));
  PetscCall(PetscOptionsBool("-hessa_full_vectors", "also compute the eigenvectors", "HessaSpectrumFull", s->vectors, &s->vectors, NULL));
  PetscCall(PetscOptionsInt("-hessa_full_max_n", "largest operator size to assemble (default: no limit, the memory budget decides)", "HessaSpectrumFull", s->max_n, &s->max_n, NULL));
  PetscCall(PetscOptionsReal("-hessa_full_memory_mb", "cap of the per-rank memory budget of the full spectrum, MiB (-1: the node's available memory shared by its ranks)", "HessaSpectrumFull", s->memory_mb, &s->memory_mb, NULL));
  PetscOptionsEnd();
  s->solver = (HessaFullSolver)solver;
  PetscCheck(s->block >= 1, comm, HESSA_ERR_ARG, "-hessa_full_block %" PetscInt_FMT ": need at least 1", s->block);
  PetscCheck(s->nb >= 1, comm, HESSA_ERR_ARG, "-hessa_full_nb %" PetscInt_FMT ": need at least 1", s->nb);
  PetscCheck(!(s->vectors && s->solver == HESSA_FULL_EPS), comm, HESSA_ERR_ARG, "-hessa_full_vectors: not available with -hessa_full_solver eps (use elpa, pdsyevd, pdsyevr or pdsyev)");
  PetscFunctionReturn(0);
}

/* PETSc's default ScaLAPACK grid for `size` ranks (MatCreate_ScaLAPACK): a square grid when
 * sqrt(size) divides size, else one row. */
/* The process grid of the block-cyclic matrix: tall (nprow >= npcol, npcol the largest divisor
 * of size not above sqrt(size)), the shape ELPA's own drivers use. Measured at n = 4096 on 2
 * ranks: ELPA's eigenvalues take 15 % less time on 2 x 1 than on PETSc's default 1 x 2
 * (docs/spectrum.md). -mat_scalapack_grid_height, when given, wins. */
static PetscErrorCode FullGrid(PetscMPIInt size, PetscInt *nprow, PetscInt *npcol)
{
  PetscInt  c = (PetscInt)(PetscSqrtReal((PetscReal)size) + 0.001), height;
  PetscBool set;

  PetscFunctionBegin;
  while (c > 1 && size % c) c--;
  *npcol = PetscMax(c, 1);
  *nprow = size / *npcol;
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-mat_scalapack_grid_height", &height, &set));
  if (set && height >= 1 && size % height == 0) {
    *nprow = height;
    *npcol = size / height;
  }
  PetscFunctionReturn(0);
}

/* The largest local piece of an n x n block-cyclic matrix with block nb on a grid, bytes. */
static uint64_t LocalBytes(PetscInt n, PetscInt nb, PetscInt nprow, PetscInt npcol)
{
  uint64_t blocks = (uint64_t)((n + nb - 1) / nb);
  uint64_t rows   = PetscMin((uint64_t)n, (blocks + nprow - 1) / nprow * nb);
  uint64_t cols   = PetscMin((uint64_t)n, (blocks + npcol - 1) / npcol * nb);
  return 8 * rows * cols;
}

/* HessaFullSpectrumMemory - collective on op->comm; see spectrum.h. The phases (m: the
 * block-cyclic matrix per rank, d: the row-split dense matrix per rank):
 *   assembly + conversion   d + m
 *   symmetrization          2 m (the matrix and its transpose)
 *   eigensolve              m + the solver's extra: ELPA m (its internal eigenvector
 *                           matrix, allocated also for eigenvalues only; measured) plus m
 *                           for returned vectors; pdsyevd 3 m (vectors always + work
 *                           2 NP NQ); pdsyevr 2 m (vectors always); pdsyev small for
 *                           values, 2 m with vectors;
 *                           EPS 3 m. */
PetscErrorCode HessaFullSpectrumMemory(HessaOperator op, const HessaFullSettings *s, HessaFullMemory *m)
{
  PetscMPIInt size;
  PetscInt    n = op->n_op, nprow, npcol, nb;
  uint64_t    mat, dense, small, extra = 0, need;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(m, sizeof *m));
  PetscCallMPI(MPI_Comm_size(op->comm, &size));
  PetscCall(FullGrid(size, &nprow, &npcol));
  nb    = PetscMax(1, PetscMin(s->nb, n / PetscMax(nprow, npcol)));
  mat   = LocalBytes(n, nb, nprow, npcol);
  dense = 8 * (uint64_t)n * (uint64_t)((n + size - 1) / size);
  /* eigenvalues on every rank, the block vectors, ScaLAPACK's O(n nb) work arrays */
  small = 8 * (uint64_t)n * (uint64_t)(4 + 2 * s->block / size + 8 * nb);
  switch (s->solver) {
  case HESSA_FULL_ELPA:
    extra = mat * (s->vectors ? 2 : 1);
    break;
  case HESSA_FULL_PDSYEVD:
    extra = 3 * mat;
    break;
  case HESSA_FULL_PDSYEVR: /* vectors always (see EigenPdsyevr) + work */
    extra = 2 * mat;
    break;
  case HESSA_FULL_PDSYEV:
    extra = s->vectors ? 2 * mat : 0;
    break;
  case HESSA_FULL_EPS:
    extra = 3 * mat;
    break;
  }
  /* + 3 mat: the measured peak RSS was about 6 mat (embedded default, n = 12730 on 2 ranks,
     ELPA: 3.9 GB for mat = 0.65 GB): conversion and transpose buffers, ELPA's own copies */
  need    = PetscMax(PetscMax(dense + mat, 2 * mat), mat + extra) + 3 * mat + small + (uint64_t)(16 * MIB);
  m->need = need;
  PetscCall(HessaMemoryPerRank(op->comm, &m->available));
  m->budget = m->available;
  if (s->memory_mb >= 0) {
    uint64_t cap = (uint64_t)(s->memory_mb * MIB);
    if (!m->budget || cap < m->budget) m->budget = cap;
  }
  m->fits = !m->budget || need <= m->budget ? PETSC_TRUE : PETSC_FALSE;
  PetscFunctionReturn(0);
}

/* HessaFullSpectrumFits - collective on op->comm; see spectrum.h. */
PetscErrorCode HessaFullSpectrumFits(HessaOperator op, PetscBool *fits)
{
  HessaFullSettings s;
  HessaFullMemory   m;

  PetscFunctionBegin;
  PetscCall(HessaFullSettingsSetFromOptions(op->comm, &s));
  PetscCall(HessaFullSpectrumMemory(op, &s, &m));
  *fits = m.fits;
  if (m.fits)
    PetscCall(HessaLog(op->comm, "full spectrum: n = %" PetscInt_FMT " needs about %.2f GiB per rank of a budget of %.2f GiB: exact spectrum by %s", op->n_op, (double)m.need / GIB, (double)m.budget / GIB, HessaFullSolverNames[s.solver]));
  else
    PetscCall(HessaLog(op->comm, "full spectrum: n = %" PetscInt_FMT " needs about %llu bytes (%.2f GiB) per rank, more than the budget of %llu bytes (%.2f GiB): extremes and estimates instead", op->n_op, (unsigned long long)m.need,
                       (double)m.need / GIB, (unsigned long long)m.budget, (double)m.budget / GIB));
  PetscFunctionReturn(0);
}

/* Collective: the dense matrix A with A[:, c] = H e_c, in blocks of `block` columns, with
 * ScaLAPACK's equal row and column split (see the top of the file). */
static PetscErrorCode Assemble(HessaOperator op, PetscInt block, Mat *A)
{
  PetscInt      n = op->n_op, N = op->n_op, lo, hi, alo, ahi, lda, m_eq = PETSC_DECIDE;
  PetscBool     same;
  Vec          *E, *Y, Yeq = NULL;
  VecScatter    shift = NULL;
  double       *a;
  HessaProgress prog;

  PetscFunctionBegin;
  PetscCall(VecGetOwnershipRange(op->op_template, &lo, &hi));
  PetscCall(PetscSplitOwnershipEqual(op->comm, &m_eq, &N));
  PetscCall(MatCreateDense(op->comm, m_eq, m_eq, n, n, NULL, A));
  PetscCall(MatGetOwnershipRange(*A, &alo, &ahi));
  PetscCall(MatDenseGetLDA(*A, &lda));
  same = alo == lo && ahi == hi ? PETSC_TRUE : PETSC_FALSE;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, &same, 1, MPIU_BOOL, MPI_LAND, op->comm));
  PetscCall(VecDuplicateVecs(op->op_template, block, &E));
  PetscCall(VecDuplicateVecs(op->op_template, block, &Y));
  if (!same) {
    IS rows;
    PetscCall(VecCreateMPI(op->comm, ahi - alo, n, &Yeq));
    PetscCall(ISCreateStride(PETSC_COMM_SELF, hi - lo, lo, 1, &rows));
    PetscCall(VecScatterCreate(Y[0], rows, Yeq, rows, &shift));
    PetscCall(ISDestroy(&rows));
  }
  for (PetscInt j = 0; j < block; j++) PetscCall(VecSet(E[j], 0.0));
  HessaProgressStart(&prog, "full spectrum: assembly", op);
  for (PetscInt c0 = 0; c0 < n; c0 += block) {
    PetscInt b = PetscMin(block, n - c0);
    char     what[64];
    for (PetscInt j = 0; j < b; j++) {
      PetscInt c = c0 + j;
      if (c >= lo && c < hi) PetscCall(VecSetValue(E[j], c, 1.0, INSERT_VALUES));
      PetscCall(VecAssemblyBegin(E[j]));
      PetscCall(VecAssemblyEnd(E[j]));
    }
    PetscCall(HessaOperatorApplyBlock(op, b, E, Y));
    PetscCall(MatDenseGetArray(*A, &a));
    for (PetscInt j = 0; j < b; j++) {
      const double *y;
      PetscInt      c   = c0 + j;
      Vec           col = Y[j];
      if (shift) {
        PetscCall(VecScatterBegin(shift, Y[j], Yeq, INSERT_VALUES, SCATTER_FORWARD));
        PetscCall(VecScatterEnd(shift, Y[j], Yeq, INSERT_VALUES, SCATTER_FORWARD));
        col = Yeq;
      }
      PetscCall(VecGetArrayRead(col, &y));
      PetscCall(PetscArraycpy(a + (size_t)c * lda, y, ahi - alo));
      PetscCall(VecRestoreArrayRead(col, &y));
      if (c >= lo && c < hi) PetscCall(VecSetValue(E[j], c, 0.0, INSERT_VALUES));
      PetscCall(VecAssemblyBegin(E[j]));
      PetscCall(VecAssemblyEnd(E[j]));
    }
    PetscCall(MatDenseRestoreArray(*A, &a));
    PetscCall(PetscSNPrintf(what, sizeof what, "column %" PetscInt_FMT "/%" PetscInt_FMT, c0 + b, n));
    PetscCall(HessaProgressUpdate(&prog, op, (double)(c0 + b) / n, what));
  }
  PetscCall(MatAssemblyBegin(*A, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(*A, MAT_FINAL_ASSEMBLY));
  PetscCall(VecScatterDestroy(&shift));
  PetscCall(VecDestroy(&Yeq));
  PetscCall(VecDestroyVecs(block, &E));
  PetscCall(VecDestroyVecs(block, &Y));
  PetscFunctionReturn(0);
}

/* Collective: an n x n MATSCALAPACK with block nb on FullGrid's grid. PETSc reads the grid
 * height from the options once per communicator, when its first MATSCALAPACK is created: the
 * height is put in the options for that moment only, unless the user gave one. */
static PetscErrorCode CreateBlockCyclic(MPI_Comm comm, PetscInt n, PetscInt nb, Mat *S)
{
  PetscMPIInt size;
  PetscInt    nprow, npcol;
  PetscBool   set;
  char        height[32];

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(comm, &size));
  PetscCall(FullGrid(size, &nprow, &npcol));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-mat_scalapack_grid_height", &set));
  if (!set) {
    PetscCall(PetscSNPrintf(height, sizeof height, "%" PetscInt_FMT, nprow));
    PetscCall(PetscOptionsSetValue(NULL, "-mat_scalapack_grid_height", height));
  }
  PetscCall(MatCreateScaLAPACK(comm, nb, nb, n, n, 0, 0, S));
  if (!set) PetscCall(PetscOptionsClearValue(NULL, "-mat_scalapack_grid_height"));
  PetscFunctionReturn(0);
}

/* Collective: the dense A (destroyed) as a MATSCALAPACK with block size nb, lowered so that
 * every process row and column holds at least one block when n allows it (ELPA and the
 * ScaLAPACK solvers want no empty local piece). */
static PetscErrorCode ToBlockCyclic(Mat *A, PetscInt nb, Mat *S)
{
  PetscInt       n;
  Mat_ScaLAPACK *s;

  PetscFunctionBegin;
  PetscCall(MatGetSize(*A, &n, NULL));
  PetscCall(CreateBlockCyclic(PetscObjectComm((PetscObject)*A), n, nb, S));
  s = (Mat_ScaLAPACK *)(*S)->data;
  if (n < nb * PetscMax(s->grid->nprow, s->grid->npcol) && nb > 1) {
    nb = PetscMax(1, n / PetscMax(s->grid->nprow, s->grid->npcol));
    PetscCall(MatDestroy(S));
    PetscCall(CreateBlockCyclic(PetscObjectComm((PetscObject)*A), n, nb, S));
  }
  PetscCall(MatConvert(*A, MATSCALAPACK, MAT_REUSE_MATRIX, S));
  PetscCall(MatDestroy(A));
  PetscFunctionReturn(0);
}

/* Collective: did every rank get a non-empty piece of S (ELPA needs it)? */
static PetscErrorCode NoEmptyPiece(Mat S, PetscBool *ok)
{
  Mat_ScaLAPACK *s = (Mat_ScaLAPACK *)S->data;

  PetscFunctionBegin;
  *ok = s->locr > 0 && s->locc > 0 ? PETSC_TRUE : PETSC_FALSE;
  PetscCallMPI(MPI_Allreduce(MPI_IN_PLACE, ok, 1, MPIU_BOOL, MPI_LAND, PetscObjectComm((PetscObject)S)));
  PetscFunctionReturn(0);
}

/* Collective: a ScaLAPACK/ELPA failure on any rank is one error on every rank. */
static PetscErrorCode CheckInfo(MPI_Comm comm, const char routine[], int info)
{
  int worst = info, best = info;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Allreduce(&info, &worst, 1, MPI_INT, MPI_MAX, comm));
  PetscCallMPI(MPI_Allreduce(&info, &best, 1, MPI_INT, MPI_MIN, comm));
  PetscCheck(!worst && !best, comm, PETSC_ERR_LIB, "full spectrum: %s failed: info %d", routine, worst ? worst : best);
  PetscFunctionReturn(0);
}

/* Collective: ELPA's two-stage solver on S (overwritten); Z (may be NULL) gets the vectors. */
static PetscErrorCode EigenELPA(Mat S, Mat Z, double *w)
{
  Mat_ScaLAPACK *a    = (Mat_ScaLAPACK *)S->data;
  MPI_Comm       comm = PetscObjectComm((PetscObject)S);
  static int     initialized;
  elpa_t         e;
  int            err = ELPA_OK, serr = ELPA_OK;
  const char    *names[] = {"na", "nev", "local_nrows", "local_ncols", "nblk", "process_row", "process_col", "mpi_comm_parent"};
  /* eigenvalues only: nev = 1. ELPA still returns all na eigenvalues (the divide and conquer
   * finds every one), but its last merges compute 1 eigenvector instead of na: 10 % faster at
   * n = 4096, the same values to the last bit (test_full_solvers checks them). */
  int values[] = {a->N, Z ? a->N : 1, a->locr, a->locc, a->mb, a->grid->myrow, a->grid->mycol, (int)MPI_Comm_c2f(comm)};

  PetscFunctionBegin;
  if (!initialized) {
    PetscCall(CheckInfo(comm, "elpa_init", elpa_init(ELPA_API_VERSION) == ELPA_OK ? 0 : 1));
    initialized = 1;
  }
  e = elpa_allocate(&err);
  PetscCall(CheckInfo(comm, "elpa_allocate", err));
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
    elpa_set_integer(e, names[i], values[i], &err);
    if (err != ELPA_OK) serr = err;
  }
  PetscCall(CheckInfo(comm, "ELPA set-up (na, nblk, grid)", serr));
  PetscCall(CheckInfo(comm, "elpa_setup", elpa_setup(e)));
  elpa_set_integer(e, "solver", ELPA_SOLVER_2STAGE, &err);
  PetscCall(CheckInfo(comm, "ELPA solver choice", err));
  if (Z)
    elpa_eigenvectors_double(e, a->loc, w, ((Mat_ScaLAPACK *)Z->data)->loc, &err);
  else
    elpa_eigenvalues_double(e, a->loc, w, &err);
  serr = err;
  elpa_deallocate(e, &err);
  PetscCall(CheckInfo(comm, Z ? "ELPA eigenvectors" : "ELPA eigenvalues", serr));
  PetscFunctionReturn(0);
}

/* Collective: ScaLAPACK pdsyevd (always computes vectors: Zv is a scratch one when Z is NULL). */
static PetscErrorCode EigenPdsyevd(Mat S, Mat Z, double *w)
{
  Mat_ScaLAPACK *a   = (Mat_ScaLAPACK *)S->data, *z;
  Mat            Zv  = Z;
  PetscBLASInt   one = 1, lwork = -1, liwork = -1, info = 0, iquery, *iwork;
  double         query, *work;

  PetscFunctionBegin;
  if (!Zv) PetscCall(MatDuplicate(S, MAT_DO_NOT_COPY_VALUES, &Zv));
  z = (Mat_ScaLAPACK *)Zv->data;
  pdsyevd_("V", "L", &a->N, a->loc, &one, &one, a->desc, w, z->loc, &one, &one, z->desc, &query, &lwork, &iquery, &liwork, &info);
  PetscCall(CheckInfo(PetscObjectComm((PetscObject)S), "pdsyevd workspace query", (int)info));
  PetscCall(PetscBLASIntCast((PetscInt)query + 10 * a->N + 1000, &lwork));
  PetscCall(PetscBLASIntCast((PetscInt)iquery + 1000, &liwork));
  PetscCall(PetscMalloc2(lwork, &work, liwork, &iwork));
  pdsyevd_("V", "L", &a->N, a->loc, &one, &one, a->desc, w, z->loc, &one, &one, z->desc, work, &lwork, iwork, &liwork, &info);
  PetscCall(PetscFree2(work, iwork));
  if (!Z) PetscCall(MatDestroy(&Zv));
  PetscCall(CheckInfo(PetscObjectComm((PetscObject)S), "pdsyevd", (int)info));
  PetscFunctionReturn(0);
}

/* Collective: ScaLAPACK pdsyevr (MRRR), all eigenvalues. Always with vectors (Zv is a scratch
 * matrix when Z is NULL): with JOBZ = N, Debian's ScaLAPACK 2.2 returns wrong eigenvalues on
 * more than one rank (4e-4 relative error at n = 601 on 2 ranks, test_full_solvers). */
static PetscErrorCode EigenPdsyevr(Mat S, Mat Z, double *w)
{
  Mat_ScaLAPACK *a   = (Mat_ScaLAPACK *)S->data, *z;
  Mat            Zv  = Z;
  PetscBLASInt   one = 1, lwork = -1, liwork = -1, info = 0, iquery, *iwork, found = 0, nz = 0;
  double         query, *work, none = 0;

  PetscFunctionBegin;
  if (!Zv) PetscCall(MatDuplicate(S, MAT_DO_NOT_COPY_VALUES, &Zv));
  z = (Mat_ScaLAPACK *)Zv->data;
  pdsyevr_("V", "A", "L", &a->N, a->loc, &one, &one, a->desc, &none, &none, &one, &a->N, &found, &nz, w, z->loc, &one, &one, z->desc, &query, &lwork, &iquery, &liwork, &info);
  PetscCall(CheckInfo(PetscObjectComm((PetscObject)S), "pdsyevr workspace query", (int)info));
  PetscCall(PetscBLASIntCast((PetscInt)query + 10 * a->N + 1000, &lwork));
  PetscCall(PetscBLASIntCast((PetscInt)iquery + 10 * a->N + 1000, &liwork));
  PetscCall(PetscMalloc2(lwork, &work, liwork, &iwork));
  pdsyevr_("V", "A", "L", &a->N, a->loc, &one, &one, a->desc, &none, &none, &one, &a->N, &found, &nz, w, z->loc, &one, &one, z->desc, work, &lwork, iwork, &liwork, &info);
  PetscCall(PetscFree2(work, iwork));
  if (!Z) PetscCall(MatDestroy(&Zv));
  PetscCall(CheckInfo(PetscObjectComm((PetscObject)S), "pdsyevr", (int)info));
  PetscCheck(found == a->N, PetscObjectComm((PetscObject)S), PETSC_ERR_LIB, "full spectrum: pdsyevr found %d of %d eigenvalues", (int)found, (int)a->N);
  PetscFunctionReturn(0);
}

/* Collective: ScaLAPACK pdsyev (QR), vectors into Z when given. */
static PetscErrorCode EigenPdsyev(Mat S, Mat Z, double *w)
{
  Mat_ScaLAPACK *a = (Mat_ScaLAPACK *)S->data, *z = Z ? (Mat_ScaLAPACK *)Z->data : a;
  PetscBLASInt   one = 1, lwork = -1, info = 0;
  double         query[3], *work;
  const char    *jobz = Z ? "V" : "N";

  PetscFunctionBegin;
  (void)SCALAPACKsyev_(jobz, "L", &a->N, a->loc, &one, &one, a->desc, w, z->loc, &one, &one, z->desc, query, &lwork, &info);
  PetscCall(CheckInfo(PetscObjectComm((PetscObject)S), "pdsyev workspace query", (int)info));
  /* the query for JOBZ = N is known to be tight on some builds: add room */
  PetscCall(PetscBLASIntCast((PetscInt)query[0] + 10 * a->N + 1000, &lwork));
  PetscCall(PetscMalloc1(lwork, &work));
  (void)SCALAPACKsyev_(jobz, "L", &a->N, a->loc, &one, &one, a->desc, w, z->loc, &one, &one, z->desc, work, &lwork, &info);
  PetscCall(PetscFree(work));
  PetscCall(CheckInfo(PetscObjectComm((PetscObject)S), "pdsyev", (int)info));
  PetscFunctionReturn(0);
}

/* Collective: all eigenvalues of S with SLEPc's scalapack EPS (computes eigenvectors too). */
static PetscErrorCode EigenEPS(Mat S, PetscInt n, double *w)
{
  EPS      eps;
  PetscInt nconv;

  PetscFunctionBegin;
  PetscCall(EPSCreate(PetscObjectComm((PetscObject)S), &eps));
  PetscCall(EPSSetOperators(eps, S, NULL));
  PetscCall(EPSSetProblemType(eps, EPS_HEP));
  PetscCall(EPSSetType(eps, EPSSCALAPACK));
  PetscCall(EPSSetDimensions(eps, n, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(EPSSetWhichEigenpairs(eps, EPS_SMALLEST_REAL));
  PetscCall(EPSSolve(eps));
  PetscCall(EPSGetConverged(eps, &nconv));
  PetscCheck(nconv >= n, PetscObjectComm((PetscObject)S), PETSC_ERR_NOT_CONVERGED, "ScaLAPACK EPS returned %" PetscInt_FMT " of %" PetscInt_FMT " eigenvalues", nconv, n);
  for (PetscInt i = 0; i < n; i++) {
    PetscScalar kr;
    PetscCall(EPSGetEigenvalue(eps, i, &kr, NULL));
    w[i] = PetscRealPart(kr);
  }
  PetscCall(EPSDestroy(&eps));
  PetscFunctionReturn(0);
}

/* Collective: the eigensolve of S (overwritten) with one BLAS thread per rank (the ranks
 * already fill the cores; OpenBLAS threads on top of them only contend). */
static PetscErrorCode Eigensolve(HessaFullSolver solver, Mat S, Mat Z, double *w)
{
  int            threads = openblas_get_num_threads();
  PetscErrorCode ierr    = 0;
  PetscInt       n;

  PetscFunctionBegin;
  PetscCall(MatGetSize(S, &n, NULL));
  openblas_set_num_threads(1);
  PetscCall(PetscFPTrapPush(PETSC_FP_TRAP_OFF));
  switch (solver) {
  case HESSA_FULL_ELPA:
    ierr = EigenELPA(S, Z, w);
    break;
  case HESSA_FULL_PDSYEVD:
    ierr = EigenPdsyevd(S, Z, w);
    break;
  case HESSA_FULL_PDSYEVR:
    ierr = EigenPdsyevr(S, Z, w);
    break;
  case HESSA_FULL_PDSYEV:
    ierr = EigenPdsyev(S, Z, w);
    break;
  case HESSA_FULL_EPS:
    ierr = EigenEPS(S, n, w);
    break;
  }
  PetscCall(PetscFPTrapPop());
  openblas_set_num_threads(threads);
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* HessaSpectrumFullWithSettings - collective on op->comm; see spectrum.h. */
PetscErrorCode HessaSpectrumFullWithSettings(HessaOperator op, const HessaFullSettings *s, double zero_tol, HessaFullSpectrum *out)
{
  PetscInt        n         = op->n_op;
  PetscInt64      products0 = op->n_products;
  double          t0 = MPI_Wtime(), t1, norm, anorm, maxabs = 0;
  HessaFullMemory mem;
  HessaFullSolver solver = s->solver;
  Mat             A, S, At, Z = NULL;
  PetscBool       ok;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(out, sizeof *out));
  PetscCall(HessaFullSpectrumMemory(op, s, &mem));
  PetscCheck(n <= s->max_n, op->comm, HESSA_ERR_ARG,
             "full spectrum: the operator has n = %" PetscInt_FMT " > -hessa_full_max_n %" PetscInt_FMT
             "; assembling needs about %llu bytes (%.2f GiB) per rank at this rank count. Restrict it (-hessa_operator_subset), raise -hessa_full_max_n, or use -hessa_spectrum_extremes / -hessa_spectrum_density",
             n, s->max_n, (unsigned long long)mem.need, (double)mem.need / GIB);
  PetscCheck(
      mem.fits, op->comm, PETSC_ERR_MEM,
      "full spectrum: the operator has n = %" PetscInt_FMT
      " and needs about %llu bytes (%.2f GiB) per rank with %s; the budget is %llu bytes (%.2f GiB) per rank (%s). Use more ranks or nodes, restrict the operator (-hessa_operator_subset), or use -hessa_spectrum_extremes / -hessa_spectrum_density",
      n, (unsigned long long)mem.need, (double)mem.need / GIB, HessaFullSolverNames[solver], (unsigned long long)mem.budget, (double)mem.budget / GIB,
      s->memory_mb >= 0 && (uint64_t)(s->memory_mb * MIB) == mem.budget ? "-hessa_full_memory_mb" : "the node's available memory shared by its ranks");
  PetscCall(HessaLog(op->comm, "full spectrum: n = %" PetscInt_FMT ", about %.2f GiB per rank (budget %.2f GiB); assembling in blocks of %" PetscInt_FMT ", then %s", n, (double)mem.need / GIB, (double)mem.budget / GIB, PetscMin(s->block, n),
                     HessaFullSolverNames[solver]));
  out->n               = n;
  out->memory_estimate = mem.need;
  PetscCall(Assemble(op, PetscMin(s->block, n), &A));
  /* no progress line covers this step: say that it runs (about a tenth of the assembly) */
  PetscCall(HessaLog(op->comm, "full spectrum: %" PetscInt_FMT " columns in %.1f s; converting to the block-cyclic layout and symmetrizing", n, MPI_Wtime() - t0));
  PetscCall(ToBlockCyclic(&A, s->nb, &S));
  /* asymmetry of the products, then the symmetric part (S + S^T) / 2 */
  PetscCall(MatNorm(S, NORM_FROBENIUS, &norm));
  PetscCall(MatTranspose(S, MAT_INITIAL_MATRIX, &At));
  PetscCall(MatAXPY(At, -1.0, S, SAME_NONZERO_PATTERN));
  PetscCall(MatNorm(At, NORM_FROBENIUS, &anorm));
  out->asymmetry = norm > 0 ? anorm / norm : 0;
  PetscCall(MatAXPY(At, 2.0, S, SAME_NONZERO_PATTERN));
  PetscCall(MatScale(At, 0.5));
  PetscCall(MatDestroy(&S));
  t1                    = MPI_Wtime();
  out->seconds_assembly = t1 - t0;
  if (solver == HESSA_FULL_ELPA) {
    PetscCall(NoEmptyPiece(At, &ok));
    if (!ok) {
      solver = HESSA_FULL_PDSYEVR;
      PetscCall(HessaLog(op->comm, "full spectrum: n = %" PetscInt_FMT " is too small for ELPA on this process grid (a rank would hold no block): pdsyevr instead", n));
    }
  }
  out->solver = solver;
  PetscCall(PetscMalloc1(n, &out->values));
  PetscCall(HessaLog(op->comm, "full spectrum: %" PetscInt_FMT " columns assembled in %.1f s; eigen%s with %s", n, out->seconds_assembly, s->vectors ? "pairs" : "values", HessaFullSolverNames[solver]));
  if (s->vectors) PetscCall(MatDuplicate(At, MAT_DO_NOT_COPY_VALUES, &Z));
  PetscCall(Eigensolve(solver, At, Z, out->values));
  PetscCall(MatDestroy(&At));
  out->seconds_eigensolve = MPI_Wtime() - t1;
  out->vectors            = Z;
  /* all ranks hold the eigenvalues; make them bitwise equal (rank 0's) */
  PetscCallMPI(MPI_Bcast(out->values, (int)n, MPI_DOUBLE, 0, op->comm));
  for (PetscInt i = 0; i < n; i++) {
    PetscCheck(isfinite(out->values[i]), op->comm, PETSC_ERR_FP, "full spectrum: %s returned a non-finite eigenvalue (index %" PetscInt_FMT ")", HessaFullSolverNames[solver], i);
    maxabs = PetscMax(maxabs, PetscAbsReal(out->values[i]));
  }
  out->zero_tol = zero_tol >= 0 ? zero_tol : PetscMax(1e-10 * maxabs, 10 * anorm);
  for (PetscInt i = 0; i < n; i++) {
    if (out->values[i] < -out->zero_tol)
      out->n_negative++;
    else if (out->values[i] > out->zero_tol)
      out->n_positive++;
    else
      out->n_zero++;
  }
  out->products = op->n_products - products0;
  out->seconds  = MPI_Wtime() - t0;
  PetscCall(HessaLog(op->comm, "full spectrum: eigensolve %.1f s (%s), total %.1f s", out->seconds_eigensolve, HessaFullSolverNames[solver], out->seconds));
  PetscFunctionReturn(0);
}

/* HessaSpectrumFull - every eigenvalue of the assembled operator. Collective on op->comm.
 * Input: zero_tol (< 0: the default of spectrum.h). Output: out (free with
 * HessaFullSpectrumDestroy). Options: those of HessaFullSettingsSetFromOptions. */
PetscErrorCode HessaSpectrumFull(HessaOperator op, double zero_tol, HessaFullSpectrum *out)
{
  HessaFullSettings s;

  PetscFunctionBegin;
  PetscCall(HessaFullSettingsSetFromOptions(op->comm, &s));
  PetscCall(HessaSpectrumFullWithSettings(op, &s, zero_tol, out));
  PetscFunctionReturn(0);
}

/* HessaFullSpectrumDestroy - collective when f->vectors is set, else not collective. */
PetscErrorCode HessaFullSpectrumDestroy(HessaFullSpectrum *f)
{
  PetscFunctionBegin;
  PetscCall(PetscFree(f->values));
  PetscCall(MatDestroy(&f->vectors));
  PetscFunctionReturn(0);
}
