/* The MLP objective against PyTorch (torch_reference.py, float64, torch.nn.Linear layers,
 * Hv by double backward, Gv by jvp / loss Hessian / vjp), an independent answer.
 *
 * Five cases on random data of 100 samples, 3 random directions each:
 *   20-16-12-5 tanh cross-entropy; 20-16-12-5 relu MSE; 20-16-12-5 softplus cross-entropy
 *   with weight decay 0.01; 20-16-5 gelu cross-entropy; 20-16-12-5 sigmoid MSE.
 * hessa's objective returns local sums without weight decay; the operator layer divides
 * by n_samples and adds weight_decay theta (gradient), weight_decay v (H v, G v) and
 * weight_decay/2 |theta|^2 (loss). This test does the same by hand, then asserts that
 * loss, gradient, H v and G v agree with PyTorch to 1e-10 relative (norm of the
 * difference over the norm of PyTorch's vector, per direction).
 *
 * Usage: test_mlp_torch [path/to/torch_reference.py]; default
 * $HESSA_SOURCE/tests/objective/torch_reference.py. Runs /usr/bin/python3. */
#define _POSIX_C_SOURCE 200809L
#include "objective_test.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)
#define N_CASES 5
#define N_DIRS 3
#define N_SAMPLES 100

typedef struct {
  PetscInt        L, widths[4];
  HessaActivation act;
  HessaLossKind   loss;
  double          weight_decay;
} Case;

static const Case cases[N_CASES] = {
    {3, {20, 16, 12, 5}, HESSA_ACT_TANH, HESSA_LOSS_CROSS_ENTROPY, 0.0}, {3, {20, 16, 12, 5}, HESSA_ACT_RELU, HESSA_LOSS_MSE, 0.0},    {3, {20, 16, 12, 5}, HESSA_ACT_SOFTPLUS, HESSA_LOSS_CROSS_ENTROPY, 0.01},
    {2, {20, 16, 5, 0}, HESSA_ACT_GELU, HESSA_LOSS_CROSS_ENTROPY, 0.0},  {3, {20, 16, 12, 5}, HESSA_ACT_SIGMOID, HESSA_LOSS_MSE, 0.0},
};

/* A minimal NPY (version 1.0) writer: float64 or int64, C order. */
static PetscErrorCode WriteNPY(const char *path, int ndim, const PetscInt *shape, const double *dvalues, const int *ivalues)
{
  char   header[256], dims[128] = "";
  size_t count = 1, len;
  FILE  *f;

  PetscFunctionBegin;
  for (int k = 0; k < ndim; k++) {
    size_t used = strlen(dims);
    snprintf(dims + used, sizeof dims - used, "%d,%s", (int)shape[k], k + 1 < ndim ? " " : "");
    count *= (size_t)shape[k];
  }
  snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", ivalues ? "<i8" : "<f8", dims);
  len = strlen(header);
  while ((10 + len + 1) % 64) header[len++] = ' '; /* pad so the data starts 64-byte aligned */
  header[len++] = '\n';
  f             = fopen(path, "wb");
  CHECK(f, "cannot write %s", path);
  {
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(len & 0xff), (unsigned char)(len >> 8)};
    fwrite(pre, 1, 10, f);
  }
  fwrite(header, 1, len, f);
  for (size_t i = 0; i < count; i++) {
    if (ivalues) {
      int64_t v = ivalues[i];
      fwrite(&v, sizeof v, 1, f);
    } else
      fwrite(&dvalues[i], sizeof(double), 1, f);
  }
  CHECK(fclose(f) == 0, "error writing %s", path);
  PetscFunctionReturn(0);
}

/* Read a float64 NPY file of exactly count values (little-endian, C order). */
static PetscErrorCode ReadNPY(const char *path, size_t count, double *values)
{
  unsigned char pre[10];
  char          header[1024];
  size_t        len;
  FILE         *f = fopen(path, "rb");

  PetscFunctionBegin;
  CHECK(f, "PyTorch reference did not write %s", path);
  CHECK(fread(pre, 1, 10, f) == 10 && pre[0] == 0x93 && !memcmp(pre + 1, "NUMPY", 5) && pre[6] == 1, "%s is not an NPY 1.x file", path);
  len = (size_t)pre[8] | ((size_t)pre[9] << 8);
  CHECK(len < sizeof header && fread(header, 1, len, f) == len, "%s: bad header", path);
  header[len] = 0;
  CHECK(strstr(header, "'<f8'") && strstr(header, "'fortran_order': False"), "%s: expected C-order float64, header %s", path, header);
  CHECK(fread(values, sizeof(double), count, f) == count && fgetc(f) == EOF, "%s: expected %zu values", path, count);
  fclose(f);
  PetscFunctionReturn(0);
}

static PetscErrorCode WriteCase(const char *dir, const Case *c, HessaData data, PetscInt n, const double *theta, const double *V)
{
  char     path[128];
  PetscInt shape[2];
  FILE    *f;

  PetscFunctionBegin;
  CHECK(mkdir(dir, 0700) == 0, "cannot create %s", dir);
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/arch.json", dir));
  f = fopen(path, "w");
  CHECK(f, "cannot write %s", path);
  fprintf(f, "{\"widths\": [");
  for (PetscInt l = 0; l <= c->L; l++) fprintf(f, "%d%s", (int)c->widths[l], l < c->L ? ", " : "");
  fprintf(f, "], \"activation\": \"%s\", \"loss\": \"%s\", \"weight_decay\": %.17g}\n", HessaActivationName(c->act), HessaLossName(c->loss), c->weight_decay);
  CHECK(fclose(f) == 0, "error writing %s", path);
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/theta.npy", dir));
  PetscCall(WriteNPY(path, 1, &n, theta, NULL));
  shape[0] = N_DIRS, shape[1] = n;
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/v.npy", dir));
  PetscCall(WriteNPY(path, 2, shape, V, NULL));
  shape[0] = data->n_local, shape[1] = data->n_features;
  PetscCall(PetscSNPrintf(path, sizeof path, "%s/x.npy", dir));
  PetscCall(WriteNPY(path, 2, shape, data->x, NULL));
  if (c->loss == HESSA_LOSS_CROSS_ENTROPY) {
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/labels.npy", dir));
    PetscCall(WriteNPY(path, 1, shape, NULL, data->labels));
  } else {
    shape[1] = data->n_targets;
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/y.npy", dir));
    PetscCall(WriteNPY(path, 2, shape, data->y, NULL));
  }
  PetscFunctionReturn(0);
}

static PetscErrorCode RemoveCase(const char *dir)
{
  const char *files[] = {"arch.json", "theta.npy", "v.npy", "x.npy", "labels.npy", "y.npy", "loss.npy", "grad.npy", "hv.npy", "gv.npy"};
  char        path[128];

  PetscFunctionBegin;
  for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/%s", dir, files[k]));
    unlink(path);
  }
  rmdir(dir);
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(const char *script)
{
  char           root[] = "/tmp/hessa_torch_XXXXXX", dirs[N_CASES][64], cmd[8192];
  HessaData      data[N_CASES];
  HessaObjective obj[N_CASES];
  double        *theta[N_CASES], *V[N_CASES];

  PetscFunctionBeginUser;
  CHECK(access(script, R_OK) == 0, "cannot read the PyTorch reference script %s", script);
  CHECK(mkdtemp(root), "cannot create a temporary folder");
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s", script);
  for (int k = 0; k < N_CASES; k++) {
    const Case  *c    = &cases[k];
    HessaMLPArch arch = {0};
    PetscInt     n;
    arch.n_layers = c->L;
    for (PetscInt l = 0; l <= c->L; l++) arch.widths[l] = c->widths[l];
    arch.activation   = c->act;
    arch.loss         = c->loss;
    arch.weight_decay = c->weight_decay;
    arch.chunk        = 32; /* several chunks, the last one partial */
    arch.cache_mb     = -1;
    PetscCall(TestDataCreate(c->loss == HESSA_LOSS_MSE ? HESSA_TASK_REGRESSION : HESSA_TASK_CLASSIFICATION, N_SAMPLES, c->widths[0], c->widths[c->L], (uint64_t)(100 + k), &data[k]));
    PetscCall(HessaMLPCreate(&arch, data[k], &obj[k]));
    n = obj[k]->n;
    PetscCall(PetscMalloc2(n, &theta[k], N_DIRS * n, &V[k]));
    PetscCall(HessaMLPInitialize(obj[k], "glorot", (uint64_t)k, 0, n, theta[k]));
    for (PetscInt i = 0; i < n; i++) theta[k][i] += 0.1 * HessaRandomNormal(7, (uint64_t)k, (uint64_t)i); /* nonzero biases */
    HessaRandomFill(HESSA_RANDOM_NORMAL, 8, (uint64_t)k, 0, N_DIRS * n, V[k]);
    PetscCall(PetscSNPrintf(dirs[k], sizeof dirs[k], "%s/case%d", root, k));
    PetscCall(WriteCase(dirs[k], c, data[k], n, theta[k], V[k]));
    strncat(cmd, " ", sizeof cmd - strlen(cmd) - 1);
    strncat(cmd, dirs[k], sizeof cmd - strlen(cmd) - 1);
  }
  CHECK(system(cmd) == 0, "the PyTorch reference failed: %s", cmd);

  for (int k = 0; k < N_CASES; k++) {
    const Case    *c = &cases[k];
    const PetscInt n = obj[k]->n, N = obj[k]->n_samples;
    const double   wd = obj[k]->weight_decay;
    const char    *an = HessaActivationName(c->act), *ln = HessaLossName(c->loss);
    double        *g, *HV, *GV, *tg, *tHV, *tGV, loss, tloss;
    char           path[128];

    PetscCall(PetscMalloc6(n, &g, N_DIRS * n, &HV, N_DIRS * n, &GV, n, &tg, N_DIRS * n, &tHV, N_DIRS * n, &tGV));
    CHECK(wd == c->weight_decay, "weight decay was not stored");
    PetscCall(HessaObjectiveGradient(obj[k], theta[k], &loss, g));
    PetscCall(HessaObjectiveHessianBlock(obj[k], theta[k], N_DIRS, V[k], HV));
    PetscCall(HessaObjectiveGGNBlock(obj[k], theta[k], N_DIRS, V[k], GV));
    /* what the operator layer does: divide by n_samples, add the L2 term */
    loss = loss / N + 0.5 * wd * TestDot(n, theta[k], theta[k]);
    for (PetscInt i = 0; i < n; i++) g[i] = g[i] / N + wd * theta[k][i];
    for (PetscInt i = 0; i < N_DIRS * n; i++) {
      HV[i] = HV[i] / N + wd * V[k][i];
      GV[i] = GV[i] / N + wd * V[k][i];
    }
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/loss.npy", dirs[k]));
    PetscCall(ReadNPY(path, 1, &tloss));
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/grad.npy", dirs[k]));
    PetscCall(ReadNPY(path, (size_t)n, tg));
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/hv.npy", dirs[k]));
    PetscCall(ReadNPY(path, (size_t)N_DIRS * n, tHV));
    PetscCall(PetscSNPrintf(path, sizeof path, "%s/gv.npy", dirs[k]));
    PetscCall(ReadNPY(path, (size_t)N_DIRS * n, tGV));
    CHECK(fabs(loss - tloss) <= 1e-10 * fabs(tloss), "%s/%s: loss %.17g, PyTorch %.17g", an, ln, loss, tloss);
    CHECK(TestRelErr(n, g, tg) <= 1e-10, "%s/%s: gradient differs from PyTorch by %g", an, ln, TestRelErr(n, g, tg));
    for (int j = 0; j < N_DIRS; j++) {
      CHECK(TestRelErr(n, HV + j * n, tHV + j * n) <= 1e-10, "%s/%s: Hv differs from PyTorch by %g", an, ln, TestRelErr(n, HV + j * n, tHV + j * n));
      CHECK(TestRelErr(n, GV + j * n, tGV + j * n) <= 1e-10, "%s/%s: Gv differs from PyTorch by %g", an, ln, TestRelErr(n, GV + j * n, tGV + j * n));
    }
    PetscCall(PetscFree6(g, HV, GV, tg, tHV, tGV));
    PetscCall(RemoveCase(dirs[k]));
    PetscCall(PetscFree2(theta[k], V[k]));
    PetscCall(HessaObjectiveDestroy(&obj[k]));
    PetscCall(TestDataDestroy(&data[k]));
  }
  rmdir(root);
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  char           script[PETSC_MAX_PATH_LEN];
  const char    *src = getenv("HESSA_SOURCE");
  PetscErrorCode ierr;

  if (argc > 1 && argv[1][0] != '-')
    snprintf(script, sizeof script, "%s", argv[1]);
  else
    snprintf(script, sizeof script, "%s/tests/objective/torch_reference.py", src ? src : ".");
  ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run(script);
  return HessaFinalize(ierr);
}
