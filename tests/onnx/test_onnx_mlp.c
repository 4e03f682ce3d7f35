/* The ONNX executor against the MLP objective: a hand-built graph
 *   x -> Gemm(W0, b0, transB) -> Tanh -> Gemm(W1, b1, transB) [-> Tanh -> Gemm(W2, b2, transB)]
 * is the MLP 5-7-3 (and 5-7-6-4) with tanh, with the same flat theta (PyTorch nn.Linear order
 * is Gemm's B with transB = 1, then the bias C). On 50 random samples and a random theta:
 *  - loss, gradient, H V and G V (block of 11: two direction groups) equal HessaMLPCreate's,
 *    relative <= 1e-12, for cross-entropy and MSE;
 *  - HessaONNXForward equals HessaMLPForward (1e-13); theta0 is the initializers;
 *  - chunk 7 (8 chunks, the last of 1) with no cache, a full cache, and a cache of 3 of the
 *    8 chunks, through a sequence (products at theta, twice; a gradient and a product at
 *    another theta; products back at theta; the loss alone elsewhere) equals one chunk,
 *    relative <= 1e-13; so do R passes over one sample at a time (-hessa_onnx_tangent_mb);
 *  - the derivative checker (gradient and Hv against central differences, 1e-6; symmetry
 *    of H and G, 1e-12; G positive semi-definite; blocks equal single products, 1e-13). */
#include "onnx_check.h"
#include "objective_test.h"
#include <string.h>

#define CHECK(cond, ...) PetscCheck(cond, PETSC_COMM_SELF, PETSC_ERR_PLIB, __VA_ARGS__)

/* The MLP widths[0..L] with tanh as a graph; initializers from init (the MLP's theta layout). */
static PetscErrorCode BuildMLPGraph(PetscInt L, const PetscInt *widths, const double *init, HessaOnnxGraph **g)
{
  int           x, cur;
  PetscInt      off = 0;
  HessaOnnxAttr tb  = OnnxTestAttrInt("transB", 1);

  PetscFunctionBegin;
  PetscCall(OnnxTestGraphCreate("mlp.onnx", g));
  PetscCall(OnnxTestAddValue(*g, "input", HESSA_ONNX_INPUT, 2, (int64_t[]){0, widths[0]}, 1, NULL, &x));
  cur = x;
  for (PetscInt l = 1; l <= L; l++) {
    int  W, b, out[1];
    char name[64], zname[64];
    snprintf(name, sizeof name, "layers.%d.weight", (int)l - 1);
    PetscCall(OnnxTestAddValue(*g, name, HESSA_ONNX_PARAM, 2, (int64_t[]){widths[l], widths[l - 1]}, 0, init + off, &W));
    off += widths[l] * widths[l - 1];
    snprintf(name, sizeof name, "layers.%d.bias", (int)l - 1);
    PetscCall(OnnxTestAddValue(*g, name, HESSA_ONNX_PARAM, 1, (int64_t[]){widths[l]}, 0, init + off, &b));
    off += widths[l];
    snprintf(zname, sizeof zname, "z%d", (int)l);
    PetscCall(OnnxTestAddNode(*g, "Gemm", NULL, 3, (int[]){cur, W, b}, 1, (const char *[]){zname}, 1, &tb, out, NULL));
    cur = out[0];
    if (l < L) {
      snprintf(zname, sizeof zname, "a%d", (int)l);
      PetscCall(OnnxTestAddNode(*g, "Tanh", &OnnxTestTanh, 1, (int[]){cur}, 1, (const char *[]){zname}, 0, NULL, out, NULL));
      cur = out[0];
    }
  }
  PetscCall(OnnxTestGraphFinish(*g, x, cur));
  PetscFunctionReturn(0);
}

static PetscErrorCode CreateONNX(HessaOnnxGraph *g, HessaLossKind loss, PetscInt chunk, PetscReal cache_mb, HessaData data, HessaObjective *obj, double **theta0)
{
  HessaONNXArch arch = {0};
  HessaStatus   st   = {0};

  PetscFunctionBegin;
  arch.loss     = loss;
  arch.chunk    = chunk;
  arch.cache_mb = cache_mb;
  PetscCall(HessaOnnxObjectiveCreate(&arch, g, PETSC_FALSE, data, obj, theta0, &st));
  CHECK(!st.code && *obj, "HessaOnnxObjectiveCreate: %s", st.msg);
  PetscFunctionReturn(0);
}

/* All four quantities of obj at theta with the block V [b][n] into out: loss, grad [n], HV, GV. */
static PetscErrorCode Quantities(HessaObjective obj, const double *theta, PetscInt b, const double *V, double *out)
{
  const PetscInt n = obj->n;

  PetscFunctionBegin;
  PetscCall(HessaObjectiveGradient(obj, theta, out, out + 1));
  PetscCall(HessaObjectiveHessianBlock(obj, theta, b, V, out + 1 + n));
  PetscCall(HessaObjectiveGGNBlock(obj, theta, b, V, out + 1 + n + (size_t)b * n));
  PetscFunctionReturn(0);
}

static PetscErrorCode CompareWithMLP(PetscInt L, const PetscInt *widths, HessaLossKind loss)
{
  const PetscInt  N = 50, b = 11;
  HessaData       data  = NULL;
  HessaMLPArch    march = {0};
  HessaObjective  mlp, onnx, chunked;
  HessaOnnxGraph *g;
  double         *theta, *theta2, *theta0, *V, *ref, *got, *zm, *zo;
  PetscInt        n, len;
  const char     *lname = HessaLossName(loss);

  PetscFunctionBegin;
  PetscCall(TestDataCreate(loss == HESSA_LOSS_CROSS_ENTROPY ? HESSA_TASK_CLASSIFICATION : HESSA_TASK_REGRESSION, N, widths[0], widths[L], 11 + (uint64_t)L, &data));
  march.n_layers = L;
  for (PetscInt l = 0; l <= L; l++) march.widths[l] = widths[l];
  march.activation = HESSA_ACT_TANH;
  march.loss       = loss;
  march.chunk      = 1000;
  march.cache_mb   = 0;
  PetscCall(HessaMLPCreate(&march, data, &mlp));
  n   = mlp->n;
  len = 1 + n + 2 * b * n;
  PetscCall(PetscMalloc7(n, &theta, n, &theta2, (size_t)b * n, &V, len, &ref, len, &got, (size_t)N * widths[L], &zm, (size_t)N * widths[L], &zo));
  HessaRandomFill(HESSA_RANDOM_NORMAL, 5, 1, 0, n, theta);
  HessaRandomFill(HESSA_RANDOM_NORMAL, 5, 2, 0, n, theta2);
  HessaRandomFill(HESSA_RANDOM_NORMAL, 5, 3, 0, (PetscInt)b * n, V);
  for (PetscInt i = 0; i < n; i++) theta[i] *= 0.5, theta2[i] = theta[i] + 0.1 * theta2[i];

  PetscCall(BuildMLPGraph(L, widths, theta2, &g));
  PetscCall(CreateONNX(g, loss, 1000, 0, data, &onnx, &theta0));
  CHECK(onnx->n == n && onnx->n_blocks == 2 * L, "ONNX objective: n = %" PetscInt_FMT " with %" PetscInt_FMT " blocks, the MLP has %" PetscInt_FMT, onnx->n, onnx->n_blocks, n);
  for (PetscInt k = 0; k < onnx->n_blocks; k++) {
    PetscBool same;
    PetscCall(PetscStrcmp(onnx->blocks[k].name, mlp->blocks[k].name, &same));
    CHECK(same && onnx->blocks[k].offset == mlp->blocks[k].offset && onnx->blocks[k].count == mlp->blocks[k].count && onnx->blocks[k].ndim == mlp->blocks[k].ndim, "parameter block %" PetscInt_FMT " differs: %s / %s", k, onnx->blocks[k].name,
          mlp->blocks[k].name);
  }
  CHECK(OnnxCheckRelErr(n, theta0, theta2) == 0, "theta0 is not the initializers");
  free(theta0);

  /* the same numbers as the MLP */
  PetscCall(Quantities(mlp, theta, b, V, ref));
  PetscCall(Quantities(onnx, theta, b, V, got));
  CHECK(fabs(got[0] - ref[0]) <= 1e-12 * fabs(ref[0]), "%s: loss %.17g, MLP %.17g", lname, got[0], ref[0]);
  CHECK(OnnxCheckRelErr(n, got + 1, ref + 1) <= 1e-12, "%s: gradient differs from the MLP's: %.3e", lname, OnnxCheckRelErr(n, got + 1, ref + 1));
  for (PetscInt j = 0; j < b; j++) {
    const double eh = OnnxCheckRelErr(n, got + 1 + n + j * n, ref + 1 + n + j * n), eg = OnnxCheckRelErr(n, got + 1 + n + (b + j) * n, ref + 1 + n + (b + j) * n);
    CHECK(eh <= 1e-12, "%s: H v_%" PetscInt_FMT " differs from the MLP's: %.3e", lname, j, eh);
    CHECK(eg <= 1e-12, "%s: G v_%" PetscInt_FMT " differs from the MLP's: %.3e", lname, j, eg);
  }
  PetscCall(HessaMLPForward(mlp, theta, N, data->x, zm));
  PetscCall(HessaONNXForward(onnx, theta, N, data->x, zo));
  CHECK(OnnxCheckRelErr(N * widths[L], zo, zm) <= 1e-13, "%s: forward differs from the MLP's: %.3e", lname, OnnxCheckRelErr(N * widths[L], zo, zm));

  /* chunks and caches: the same numbers as one chunk, through a sequence of points */
  PetscCall(Quantities(onnx, theta, b, V, ref));
  {
    /* caches: none, all 8 chunks, some of 8 (36 doubles a sample for L = 2: 2 chunks); the last: tangent
       buffers of 8 rows, so the R passes take one sample (8 directions) or two (3) at a time */
    const PetscReal caches[4] = {0, 512, 0.005, 512};
    for (int c = 0; c < 4; c++) {
      if (c == 3) PetscCall(PetscOptionsSetValue(NULL, "-hessa_onnx_tangent_mb", "1e-9"));
      PetscCall(CreateONNX(g, loss, 7, caches[c], data, &chunked, NULL));
      if (c == 3) {
        PetscCall(PetscOptionsClearValue(NULL, "-hessa_onnx_tangent_mb"));
        CHECK(strstr(chunked->description, "1 samples x 8 directions per R pass"), "tangent cap not applied: %s", chunked->description);
      }
      if (c == 2 && L == 2) CHECK(strstr(chunked->description, "forward cache 2/8 chunks"), "expected 2 of 8 chunks cached: %s", chunked->description);
      for (int rep = 0; rep < 2; rep++) {
        double e;
        PetscCall(Quantities(chunked, theta, b, V, got));
        e = OnnxCheckRelErr(len, got, ref);
        CHECK(e <= 1e-13, "%s: chunk 7, cache %g MB (%s), pass %d: differs from one chunk by %.3e", lname, (double)caches[c], chunked->description, rep, e);
        if (rep == 0) {
          double l2, l2ref;
          PetscCall(Quantities(chunked, theta2, b, V, got));
          PetscCall(Quantities(onnx, theta2, b, V, ref));
          e = OnnxCheckRelErr(len, got, ref);
          CHECK(e <= 1e-13, "%s: chunk 7, cache %g MB at theta2: differs from one chunk by %.3e", lname, (double)caches[c], e);
          PetscCall(HessaObjectiveLoss(chunked, theta, &l2));
          PetscCall(HessaObjectiveLoss(mlp, theta, &l2ref));
          CHECK(fabs(l2 - l2ref) <= 1e-13 * fabs(l2ref), "%s: loss alone at another theta %.17g vs %.17g", lname, l2, l2ref);
          PetscCall(Quantities(onnx, theta, b, V, ref));
        }
      }
      PetscCall(HessaObjectiveDestroy(&chunked));
    }
  }

  /* derivatives against central differences, symmetry, blocks */
  {
    OnnxCheckOptions opt;
    OnnxCheckOptionsDefault(&opt);
    PetscCall(OnnxCheckDerivatives(onnx, theta, &opt, NULL));
  }
  PetscCall(HessaObjectiveDestroy(&onnx));
  PetscCall(HessaObjectiveDestroy(&mlp));
  PetscCall(OnnxTestGraphDestroy(&g));
  PetscCall(PetscFree7(theta, theta2, V, ref, got, zm, zo));
  PetscCall(TestDataDestroy(&data));
  PetscFunctionReturn(0);
}

static PetscErrorCode Run(void)
{
  const PetscInt w2[3] = {5, 7, 3}, w3[4] = {5, 7, 6, 4};

  PetscFunctionBegin;
  PetscCall(CompareWithMLP(2, w2, HESSA_LOSS_CROSS_ENTROPY));
  PetscCall(CompareWithMLP(2, w2, HESSA_LOSS_MSE));
  PetscCall(CompareWithMLP(3, w3, HESSA_LOSS_CROSS_ENTROPY));
  PetscCall(CompareWithMLP(3, w3, HESSA_LOSS_MSE));
  PetscFunctionReturn(0);
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr = HessaInitialize(&argc, &argv, NULL);
  if (!ierr) ierr = Run();
  return HessaFinalize(ierr);
}
