/* Test helpers for the ONNX executor and kernels (library hessa_onnx_check, linked by the
 * tests in tests/onnx):
 *  - graphs built by hand in C (values, nodes with attributes, each node's infer run as it
 *    is added), so a kernel can be tested on one node without an .onnx file;
 *  - a derivative checker for any objective: gradient against central differences of the
 *    loss, Hv against central differences of the gradient, symmetry of H and of the GGN,
 *    GGN positive semi-definite, a block product equal to single products;
 *  - a Tanh op (OnnxTestTanh) for graphs that need a nonlinearity before the pointwise
 *    kernels are in the op table.
 * A typical kernel test:
 *    OnnxTestGraphCreate("matmul", &g);
 *    OnnxTestAddValue(g, "x", HESSA_ONNX_INPUT, 3, (int64_t[]){0, 2, 4}, 1, NULL, &x);
 *    OnnxTestAddValue(g, "W", HESSA_ONNX_PARAM, 2, (int64_t[]){4, 5}, 0, w, &W);
 *    OnnxTestAddNode(g, "MatMul", NULL, 2, (int[]){x, W}, 1, (const char *[]){"y"}, 0, NULL, &y, NULL);
 *    OnnxTestGraphFinish(g, x, y);
 *    HessaOnnxObjectiveCreate(&arch, g, PETSC_FALSE, data, &obj, &theta, &st);
 *    OnnxCheckDerivatives(obj, theta, &opt, &err);   (raises an error naming the failed check)
 */
#ifndef HESSA_TEST_ONNX_CHECK_H
#define HESSA_TEST_ONNX_CHECK_H

#include "onnx_impl.h"

/* ---- graphs by hand ---- */
/* An empty graph; path appears in messages. */
PetscErrorCode OnnxTestGraphCreate(const char path[], HessaOnnxGraph **g);
/* A value. dims is the full shape (dims[0] is ignored when batched). PARAM (differentiable,
 * offset in the order added) and CONST: data holds size doubles (copied; NULL: zeros).
 * INPUT: batched, not differentiable. Output: its index *v. */
PetscErrorCode OnnxTestAddValue(HessaOnnxGraph *g, const char name[], HessaOnnxValueKind kind, int ndim, const int64_t dims[], int batched, const double *data, int *v);
/* A node of op_type (its kernels from HessaOnnxOpFind, or op when not NULL), inputs in[]
 * (-1: absent), new runtime outputs named out_names[], attributes (deep-copied). The op's
 * infer runs at once: on failure the message goes into st when st is not NULL (and the call
 * returns 0), else it is raised. Output: the output value indices out[] (may be NULL). */
PetscErrorCode OnnxTestAddNode(HessaOnnxGraph *g, const char op_type[], const HessaOnnxOp *op, int n_in, const int in[], int n_out, const char *const out_names[], int n_attr, const HessaOnnxAttr attr[], int out[], HessaStatus *st);
/* Attributes for OnnxTestAddNode (the pointers are only borrowed until the node copies them). */
HessaOnnxAttr OnnxTestAttrInt(const char name[], int64_t i);
HessaOnnxAttr OnnxTestAttrFloat(const char name[], double f);
HessaOnnxAttr OnnxTestAttrInts(const char name[], int64_t n, const int64_t *ints);
HessaOnnxAttr OnnxTestAttrString(const char name[], const char *s);
/* Set the data input and the output; theta is the PARAM values in the order added. */
PetscErrorCode OnnxTestGraphFinish(HessaOnnxGraph *g, int input, int output);
PetscErrorCode OnnxTestGraphDestroy(HessaOnnxGraph **g);

/* Short builders for graphs written as nested calls: each returns the new value's index, or
 * -1 when it could not be added (the message is raised by the graph code; a later
 * OnnxTestGraphFinish or the caller's check of the index stops the test). Node, Unary and
 * Binary return -2 when an input is a failed one (below -1; -1 in in[] is an absent input,
 * which Unary and Binary do not take), so a failure travels up the nested calls. */
/* The seed of OnnxTestParam's values; the k-th OnnxTestParam of a process draws stream k. */
void OnnxTestParamSeed(uint64_t seed);
/* A PARAM of the given shape: normal random values times 0.5 (at most 4096 of them). */
int OnnxTestParam(HessaOnnxGraph *g, const char *name, int ndim, const int64_t *dims);
/* A float CONST of the given shape (data: its values). */
int OnnxTestConst(HessaOnnxGraph *g, const char *name, int ndim, const int64_t *dims, const double *data);
/* An integer CONST of the given shape: elem_type 7 (int64) or 9 (bool), values ints. */
int OnnxTestIntConst(HessaOnnxGraph *g, const char *name, int ndim, const int64_t *dims, const int64_t *ints, int elem_type);
/* A 1-D int64 CONST of n values (shapes, axes, pads). */
int OnnxTestInts(HessaOnnxGraph *g, const char *name, int n, const int64_t *ints);
/* op on inputs in[0..n) with attributes: its (first) output, named out. */
int OnnxTestNode(HessaOnnxGraph *g, const char *op, int n, const int *in, int n_attr, const HessaOnnxAttr *attr, const char *out);
int OnnxTestUnary(HessaOnnxGraph *g, const char *op, int x, const char *out);
int OnnxTestBinary(HessaOnnxGraph *g, const char *op, int a, int b, const char *out);

/* y = tanh(x), with jvp, backward and sot, for graphs in tests; keeps 1 - y^2 in aux. */
extern const HessaOnnxOp OnnxTestTanh;

/* ---- the derivative checker ---- */
typedef struct {
  double    h;         /* central-difference step along unit directions (1e-5) */
  double    tol_grad;  /* gradient vs differences of the loss, relative (1e-6) */
  double    tol_hv;    /* Hv vs differences of the gradient, relative (1e-6) */
  double    tol_sym;   /* |u^T H v - v^T H u| / (|u| |H v|), also for the GGN (1e-12) */
  double    tol_block; /* a block of `block` directions vs single products, relative (1e-13) */
  PetscInt  n_dirs;    /* random directions for the Hv check (2) */
  PetscInt  block;     /* block size (11: more than one group of 8 directions) */
  uint64_t  seed;      /* random directions */
  PetscBool check_ggn; /* also the GGN: symmetric, positive semi-definite, block = singles (true) */
} OnnxCheckOptions;

typedef struct {
  double grad, hv, hsym, gsym, hblock, gblock, gpsd; /* the measured errors (gpsd: most negative v^T G v / |v|^2 |G|) */
} OnnxCheckErrors;

void OnnxCheckOptionsDefault(OnnxCheckOptions *opt);
/* Not collective. Runs every check on obj at theta; raises PETSC_ERR_PLIB naming the check,
 * the error and the tolerance when one fails. err (may be NULL) gets the measured errors. */
PetscErrorCode OnnxCheckDerivatives(HessaObjective obj, const double *theta, const OnnxCheckOptions *opt, OnnxCheckErrors *err);
/* Not collective. max over `dirs` random v of |G v - H v| / |H v| (the two are equal for
 * models linear in theta). */
PetscErrorCode OnnxCheckGGNEqualsHessian(HessaObjective obj, const double *theta, PetscInt dirs, uint64_t seed, double *err);
/* ||a - b|| / ||b|| (absolute when b = 0) */
double OnnxCheckRelErr(PetscInt n, const double *a, const double *b);

#endif
