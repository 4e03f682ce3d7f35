/* ONNX pointwise ops: Relu, LeakyRelu, Tanh, Sigmoid, Softplus, Erf, Elu, Identity and
 * Dropout (inference form: the identity); for MobileNet-style exports also Clip (ReLU6,
 * Hardtanh), HardSigmoid and HardSwish; for decomposed layer norms, hand-written attention
 * and GELU exports Exp, Log, Neg, Reciprocal, Sqrt and Pow with a constant exponent. The
 * contract is in onnx_impl.h.
 *
 * Every op is y = f(x) elementwise on one input, batched (rows of `size` per sample) or
 * not (the parameter phase: one row). Its passes, with r the row of a block and r / k
 * the row of x it belongs to (k = nb for the backward, b for jvp and sot):
 *   forward   y = f(x)
 *   backward  dx[r] += dy[r] f'(x[r / nb])
 *   jvp       ty[r]  = f'(x[r / b]) tx[r]
 *   sot       dx[r] += dy[r / b] f''(x[r / b]) tx[r]     (NULL where f'' = 0 a.e.)
 * f, f' and f'' are one case each in Value, Slope and Curvature: a new op is a kind, its
 * three cases and a row of the table at the end.
 * At kinks the derivatives are PyTorch's: relu'(0) = 0, leaky_relu'(0) = alpha,
 * elu'(0) = alpha (torch takes the x <= 0 branch), clip' = 0 on its bounds (hardtanh),
 * hardswish' = x/3 + 1/2 on [-3, 3] with hardswish'' = 1/3 on (-3, 3). ONNX Softplus is log(1 + exp(x))
 * without PyTorch's threshold (above 20 the two differ by less than 2.1e-9); it is
 * computed as max(x, 0) + log1p(exp(-|x|)), which neither overflows nor cancels.
 * Tanh, Sigmoid, Exp, Reciprocal and Sqrt take their derivatives from y, which the
 * forward already computed. Pow's exponent is a constant: one number, or a tensor that
 * broadcasts into the base's shape without varying along the batch (then one exponent
 * per element of a row). No op keeps aux: the other passes read x and y.
 */
#include "onnx_impl.h"
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { PW_RELU, PW_LEAKY_RELU, PW_TANH, PW_SIGMOID, PW_SOFTPLUS, PW_ERF, PW_ELU, PW_IDENTITY, PW_CLIP, PW_HARD_SIGMOID, PW_HARD_SWISH, PW_EXP, PW_LOG, PW_NEG, PW_RECIPROCAL, PW_SQRT, PW_POW } PointwiseKind;

/* what infer parsed (node->op_data, calloc'd with Pow's exponents behind it) */
typedef struct {
  PointwiseKind kind;
  double        alpha;     /* LeakyRelu's slope for x <= 0, Elu's scale, HardSigmoid's slope */
  double        beta;      /* HardSigmoid's offset */
  double        lo, hi;    /* Clip's bounds (-inf, inf when absent) */
  double        exponent;  /* Pow: the exponent when it is one number */
  const double *exponents; /* Pow: [size] the exponent of each element of a row, or NULL (one number) */
} Pointwise;

/* ---- scalar functions and their derivatives ---------------------------------------- */

static inline double SigmoidStable(double x)
{
  if (x >= 0) return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}

/* x^e with the exact products PyTorch uses for small integer powers */
static inline double PowExact(double x, double e)
{
  if (e == 0.0) return 1.0;
  if (e == 1.0) return x;
  if (e == 2.0) return x * x;
  if (e == 3.0) return x * x * x;
  if (e == 0.5) return sqrt(x);
  return pow(x, e);
}

/* Pow's exponent for element k of a row */
static inline double Exponent(const Pointwise *p, size_t k)
{
  return p->exponents ? p->exponents[k] : p->exponent;
}

/* f(x) for element k of a row */
static inline double Value(const Pointwise *p, size_t k, double x)
{
  switch (p->kind) {
  case PW_RELU:
    return x > 0 || isnan(x) ? x : 0.0; /* a NaN stays visible (as in PyTorch) */
  case PW_LEAKY_RELU:
    return x > 0 ? x : p->alpha * x;
  case PW_TANH:
    return tanh(x);
  case PW_SIGMOID:
    return SigmoidStable(x);
  case PW_SOFTPLUS:
    return (x > 0 ? x : 0.0) + log1p(exp(-fabs(x)));
  case PW_ERF:
    return erf(x);
  case PW_ELU:
    return x > 0 ? x : p->alpha * expm1(x);
  case PW_IDENTITY:
    return x;
  case PW_CLIP: {
    double v = x < p->lo ? p->lo : x;
    return v > p->hi ? p->hi : v;
  }
  case PW_HARD_SIGMOID: {
    double t = p->alpha * x + p->beta;
    return t <= 0 ? 0.0 : t >= 1 ? 1.0 : t; /* a NaN falls through */
  }
  case PW_HARD_SWISH:
    return x <= -3 ? 0.0 : x >= 3 ? x : x * (x + 3) / 6;
  case PW_EXP:
    return exp(x);
  case PW_LOG:
    return log(x);
  case PW_NEG:
    return -x;
  case PW_RECIPROCAL:
    return 1.0 / x;
  case PW_SQRT:
    return sqrt(x);
  case PW_POW:
    return PowExact(x, Exponent(p, k));
  }
  return x;
}

/* f'(x) given y = f(x), for element k of a row */
static inline double Slope(const Pointwise *p, size_t k, double x, double y)
{
  switch (p->kind) {
  case PW_RELU:
    return x > 0 ? 1.0 : 0.0;
  case PW_LEAKY_RELU:
    return x > 0 ? 1.0 : p->alpha;
  case PW_TANH:
    return 1.0 - y * y;
  case PW_SIGMOID:
    return y * (1.0 - y);
  case PW_SOFTPLUS: {
    double s = SigmoidStable(x);
    return s;
  }
  case PW_ERF:
    return M_2_SQRTPI * exp(-x * x);
  case PW_ELU:
    return x > 0 ? 1.0 : p->alpha * exp(x);
  case PW_IDENTITY:
    return 1.0;
  case PW_CLIP: /* torch's hardtanh (relu6): 0 on the bounds */
    return x > p->lo && x < p->hi ? 1.0 : 0.0;
  case PW_HARD_SIGMOID: {
    double t = p->alpha * x + p->beta;
    return t > 0 && t < 1 ? p->alpha : 0.0;
  }
  case PW_HARD_SWISH: /* torch: 0 below -3, x/3 + 1/2 on [-3, 3], 1 above */
    return x < -3 ? 0.0 : x <= 3 ? x / 3 + 0.5 : 1.0;
  case PW_EXP:
    return y;
  case PW_LOG:
    return 1.0 / x;
  case PW_NEG:
    return -1.0;
  case PW_RECIPROCAL:
    return -y * y;
  case PW_SQRT:
    return 0.5 / y;
  case PW_POW: {
    double e = Exponent(p, k);
    return e * PowExact(x, e - 1.0);
  }
  }
  return 1.0;
}

/* f''(x) given y = f(x), for element k of a row; only for the ops with a sot */
static inline double Curvature(const Pointwise *p, size_t k, double x, double y)
{
  switch (p->kind) {
  case PW_TANH:
    return -2.0 * y * (1.0 - y * y);
  case PW_SIGMOID:
    return y * (1.0 - y) * (1.0 - 2.0 * y);
  case PW_SOFTPLUS: {
    double s = SigmoidStable(x);
    return s * (1.0 - s);
  }
  case PW_ERF:
    return -2.0 * x * M_2_SQRTPI * exp(-x * x);
  case PW_ELU:
    return x > 0 ? 0.0 : p->alpha * exp(x);
  case PW_HARD_SWISH: /* torch's double backward: 1/3 on the open interval */
    return x > -3 && x < 3 ? 1.0 / 3.0 : 0.0;
  case PW_EXP:
    return y;
  case PW_LOG:
    return -1.0 / (x * x);
  case PW_RECIPROCAL:
    return 2.0 * y * y * y;
  case PW_SQRT:
    return -0.25 / (y * y * y);
  case PW_POW: {
    double e = Exponent(p, k);
    return e * (e - 1.0) * PowExact(x, e - 2.0);
  }
  default:
    return 0.0;
  }
}

/* ---- load time ------------------------------------------------------------------------- */

/* Clip's bounds: constant scalar inputs 1 and 2 (opset >= 11) or the min and max
 * attributes; absent means unbounded. */
static void ClipBounds(HessaOnnxGraph *g, HessaOnnxNode *node, const char *label, Pointwise *p, HessaStatus *st)
{
  p->lo = -INFINITY, p->hi = INFINITY;
  for (int i = 1; i <= 2; i++) {
    const HessaOnnxValue *c;

    if (node->n_in <= i || node->in[i] < 0) continue;
    c = &g->values[node->in[i]];
    if (c->kind != HESSA_ONNX_CONST || c->size != 1 || (c->is_int ? !c->ivalue : !c->value)) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected a constant scalar %s (input %d), found '%s' that is not one", label, i == 1 ? "min" : "max", i, c->name);
      return;
    }
    *(i == 1 ? &p->lo : &p->hi) = c->is_int ? (double)c->ivalue[0] : c->value[0];
  }
  if (HessaOnnxAttrGet(node, "min")) p->lo = HessaOnnxAttrFloat(node, "min", p->lo);
  if (HessaOnnxAttrGet(node, "max")) p->hi = HessaOnnxAttrFloat(node, "max", p->hi);
  if (isnan(p->lo) || isnan(p->hi) || p->lo > p->hi) HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected min <= max, found min %g and max %g", label, p->lo, p->hi);
}

/* Dropout's optional inputs: ratio (ignored at inference, but must not be a parameter or
 * a run-time value) and training_mode (must be a constant false, or true with a constant
 * ratio 0: a model exported in train mode with dropout 0). */
static void DropoutCheck(HessaOnnxGraph *g, HessaOnnxNode *node, const char *label, HessaStatus *st)
{
  const HessaOnnxAttr *is_test = HessaOnnxAttrGet(node, "is_test");

  if (is_test && is_test->type == HESSA_ONNX_ATTR_INT && is_test->i == 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: is_test = 0 asks for training-mode dropout; hessa analyses the inference graph (export the model in eval mode)", label);
    return;
  }
  if (node->n_in > 1 && node->in[1] >= 0 && g->values[node->in[1]].kind != HESSA_ONNX_CONST) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected a constant ratio (input 1), found '%s' computed at run time or a parameter", label, g->values[node->in[1]].name);
    return;
  }
  if (node->n_in > 2 && node->in[2] >= 0) {
    const HessaOnnxValue *t  = &g->values[node->in[2]];
    int                   on = 0;

    if (t->kind != HESSA_ONNX_CONST || t->size != 1 || (t->is_int ? !t->ivalue : !t->value)) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected a constant scalar training_mode (input 2), found '%s' that is not one", label, t->name);
      return;
    }
    on = t->is_int ? t->ivalue[0] != 0 : t->value[0] != 0.0;
    if (on && node->n_in > 1 && node->in[1] >= 0) { /* ratio 0 in training mode: the identity (nn.Dropout(0.0) of a model exported in train mode) */
      const HessaOnnxValue *r = &g->values[node->in[1]];
      if (r->size == 1 && (r->is_int ? r->ivalue && r->ivalue[0] == 0 : r->value && r->value[0] == 0.0)) on = 0;
    }
    if (on) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: training_mode is true (random dropout); hessa analyses the inference graph (export the model in eval mode)", label);
      return;
    }
  }
  if (node->n_out > 1 && HessaOnnxValueIsRead(g, node->out[1])) { /* an unread mask is harmless; a read one would need training-mode semantics */
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: its mask output '%s' is used; expected an inference-mode Dropout with no mask", label, g->values[node->out[1]].name);
    return;
  }
}

/* Pow's exponent (input 1): a constant of finite numbers that broadcasts into the base's
 * shape (the output keeps the base's shape) and not along the batch. Returns the op data
 * with the exponent as one number, or with the exponent of each element of a row behind
 * it; NULL (st set) otherwise. */
static Pointwise *PowExponent(HessaOnnxGraph *g, const HessaOnnxNode *node, const char *label, const HessaOnnxValue *x, HessaStatus *st)
{
  char                  s1[160], s2[160];
  const HessaOnnxValue *e     = node->in[1] >= 0 ? &g->values[node->in[1]] : NULL;
  const int             first = x->batched ? 1 : 0;
  int64_t               stride[HESSA_ONNX_MAX_DIMS], idx[HESSA_ONNX_MAX_DIMS] = {0}, s = 1;
  Pointwise            *p;
  double               *exponents;
  int                   same = 1;

  if (!e) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: the exponent (input 1) is missing", label);
    return NULL;
  }
  if (e->kind != HESSA_ONNX_CONST || (e->is_int ? !e->ivalue : !e->value)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected a constant exponent (input 1), found '%s' that is %s; hessa differentiates x^p for a constant p only (export x ** 2 with a number, not a tensor that depends on the data or the weights)", label,
                   e->name, e->kind == HESSA_ONNX_PARAM ? "a parameter" : "computed at run time");
    return NULL;
  }
  for (int64_t k = 0; k < e->size; k++) {
    double v = e->is_int ? (double)e->ivalue[k] : e->value[k];
    if (!isfinite(v)) {
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: the exponent '%s' holds %g at element %" PRId64 "; expected finite numbers", label, e->name, v, k);
      return NULL;
    }
    if (v != (e->is_int ? (double)e->ivalue[0] : e->value[0])) same = 0;
  }
  /* e's strides aligned to x's dims (0 where e broadcasts) */
  if (e->ndim > x->ndim) goto nobcast;
  for (int d = x->ndim - 1; d >= 0; d--) {
    const int q = d - (x->ndim - e->ndim);
    stride[d]   = 0;
    if (q < 0) continue;
    if (e->dims[q] != 1) {
      if (d < first || e->dims[q] != x->dims[d]) goto nobcast;
      stride[d] = s;
    }
    s *= e->dims[q];
  }
  if (!(p = (Pointwise *)calloc(1, sizeof *p + (same ? 0 : (size_t)x->size * sizeof(double))))) {
    HessaStatusSet(st, PETSC_ERR_MEM, "%s: out of memory", label);
    return NULL;
  }
  p->exponent = e->size ? (e->is_int ? (double)e->ivalue[0] : e->value[0]) : 1.0;
  if (!same) {
    p->exponents = exponents = (double *)(p + 1);
    for (int64_t k = 0; k < x->size; k++) {
      int64_t o = 0;
      for (int d = first; d < x->ndim; d++) o += idx[d] * stride[d];
      exponents[k] = e->is_int ? (double)e->ivalue[o] : e->value[o];
      for (int d = x->ndim - 1; d >= first; d--) {
        if (++idx[d] < x->dims[d]) break;
        idx[d] = 0;
      }
    }
  }
  return p;
nobcast:
  HessaStatusSet(st, HESSA_ERR_INPUT, "%s: the exponent '%s' of shape %s does not broadcast to the base '%s' of shape %s (hessa needs an exponent that keeps the base's shape and does not vary along the batch)", label, e->name,
                 HessaOnnxDimsString(e->ndim, e->dims, s1, sizeof s1), x->name, HessaOnnxDimsString(x->ndim, x->dims, s2, sizeof s2));
  return NULL;
}

static void PointwiseInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st, PointwiseKind kind)
{
  char                  label[256], s1[160];
  const HessaOnnxValue *x;
  HessaOnnxValue       *y;
  Pointwise            *p;
  int                   is_dropout = !strcmp(node->op_type, "Dropout");
  int                   min_in = kind == PW_POW ? 2 : 1, max_in = is_dropout || kind == PW_CLIP ? 3 : min_in; /* Pow: base, exponent; Dropout: ratio, training_mode; Clip: min, max */

  HessaOnnxNodeLabel(node, label, sizeof label);
  if (node->n_in < min_in || node->n_in > max_in || node->in[0] < 0 || node->n_out < 1 || node->out[0] < 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected %d%s input%s and an output, found %d inputs and %d outputs", label, min_in, max_in > min_in ? " to 3" : "", max_in > 1 ? "s" : "", node->n_in, node->n_out);
    return;
  }
  if (node->n_out > (is_dropout ? 2 : 1)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected %s output, found %d", label, is_dropout ? "at most 2 (output, mask)" : "1", node->n_out);
    return;
  }
  x = &g->values[node->in[0]];
  if (x->is_int) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected a floating-point input, found '%s' of integer type %d", label, x->name, x->elem_type);
    return;
  }
  for (int d = x->batched ? 1 : 0; d < x->ndim; d++) {
    if (x->dims[d] < 1) { /* an empty tensor here is an export fault, not a model */
      HessaStatusSet(st, HESSA_ERR_INPUT, "%s: input '%s' of shape %s needs a known, non-zero size along axis %d", label, x->name, HessaOnnxDimsString(x->ndim, x->dims, s1, sizeof s1), d);
      return;
    }
  }
  if (is_dropout) {
    DropoutCheck(g, node, label, st);
    if (st->code) return;
    /* an absent optional mask (empty name): the node has one output, as the executor expects */
    if (node->n_out == 2 && node->out[1] < 0) node->n_out = 1;
  }
  if (kind == PW_POW) {
    if (!(p = PowExponent(g, node, label, x, st))) return;
  } else if (!(p = (Pointwise *)calloc(1, sizeof *p))) {
    HessaStatusSet(st, PETSC_ERR_MEM, "%s: out of memory", label);
    return;
  }
  p->kind  = kind;
  p->alpha = kind == PW_LEAKY_RELU ? HessaOnnxAttrDecimal(node, "alpha", 0.01) : kind == PW_ELU ? HessaOnnxAttrDecimal(node, "alpha", 1.0) : kind == PW_HARD_SIGMOID ? HessaOnnxAttrDecimal(node, "alpha", 0.2) : 0.0;
  p->beta  = kind == PW_HARD_SIGMOID ? HessaOnnxAttrDecimal(node, "beta", 0.5) : 0.0;
  if (kind == PW_CLIP) ClipBounds(g, node, label, p, st);
  if (st->code) {
    free(p);
    return;
  }
  if (!isfinite(p->alpha) || !isfinite(p->beta)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected a finite alpha and beta, found %g and %g", label, p->alpha, p->beta);
    free(p);
    return;
  }
  free(node->op_data);
  node->op_data        = p;
  node->aux_per_sample = 0;

  y = &g->values[node->out[0]];
  HessaOnnxValueSetShape(y, x->ndim, x->dims, x->batched);
  y->elem_type      = x->elem_type;
  y->is_int         = 0;
  y->differentiable = x->differentiable; /* Pow's exponent, Clip's bounds, Dropout's ratio are constants */
  if (is_dropout && node->n_out > 1 && node->out[1] >= 0) {
    /* an unread mask: give it a shape so the graph is complete; never computed */
    HessaOnnxValue *mask = &g->values[node->out[1]];

    HessaOnnxValueSetShape(mask, x->ndim, x->dims, x->batched);
    mask->elem_type      = 9; /* bool */
    mask->is_int         = 1;
    mask->differentiable = 0;
  }
}

static void ReluInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  PointwiseInfer(g, node, st, PW_RELU);
}
static void LeakyReluInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  PointwiseInfer(g, node, st, PW_LEAKY_RELU);
}
static void TanhInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  PointwiseInfer(g, node, st, PW_TANH);
}
static void SigmoidInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  PointwiseInfer(g, node, st, PW_SIGMOID);
}
static void SoftplusInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  PointwiseInfer(g, node, st, PW_SOFTPLUS);
}
static void ErfInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  PointwiseInfer(g, node, st, PW_ERF);
}
static void EluInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  PointwiseInfer(g, node, st, PW_ELU);
}
static void ClipInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  PointwiseInfer(g, node, st, PW_CLIP);
}
static void HardSigmoidInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  PointwiseInfer(g, node, st, PW_HARD_SIGMOID);
}
static void HardSwishInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  PointwiseInfer(g, node, st, PW_HARD_SWISH);
}
static void IdentityInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  PointwiseInfer(g, node, st, PW_IDENTITY);
}
static void ExpInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  PointwiseInfer(g, node, st, PW_EXP);
}
static void LogInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  PointwiseInfer(g, node, st, PW_LOG);
}
static void NegInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  PointwiseInfer(g, node, st, PW_NEG);
}
static void ReciprocalInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  PointwiseInfer(g, node, st, PW_RECIPROCAL);
}
static void SqrtInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  PointwiseInfer(g, node, st, PW_SQRT);
}
static void PowInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  PointwiseInfer(g, node, st, PW_POW);
}

/* ---- kernels ------------------------------------------------------------------------- */

/* rows of x: m samples when batched, one row in the parameter phase */
static inline size_t InputRows(const HessaOnnxKernel *K)
{
  return K->g->values[K->node->in[0]].batched ? (size_t)K->m : 1;
}

static inline size_t RowSize(const HessaOnnxKernel *K)
{
  return (size_t)K->g->values[K->node->in[0]].size;
}

/* y [rows][size] = f(x) */
static PetscErrorCode PointwiseForward(HessaOnnxKernel *K)
{
  const Pointwise *p    = (const Pointwise *)K->node->op_data;
  const double    *x    = K->x[0];
  double          *y    = K->y[0];
  size_t           rows = InputRows(K), size = RowSize(K);

  PetscFunctionBegin;
  if (p->kind == PW_IDENTITY) {
    if (y != x) memcpy(y, x, rows * size * sizeof(double));
  } else {
    for (size_t r = 0; r < rows; r++)
      for (size_t k = 0; k < size; k++) y[r * size + k] = Value(p, k, x[r * size + k]);
  }
  PetscFunctionReturn(0);
}

/* dx [rows*nb][size] += dy [rows*nb][size] f'(x [rows][size]) */
static PetscErrorCode PointwiseBackward(HessaOnnxKernel *K)
{
  const Pointwise *p = (const Pointwise *)K->node->op_data;
  const double    *x = K->x[0], *y = K->y[0], *dy = K->dy[0];
  double          *dx   = K->dx[0];
  size_t           rows = InputRows(K), size = RowSize(K), nb = (size_t)K->nb;

  PetscFunctionBegin;
  if (!dx) PetscFunctionReturn(0);
  for (size_t r = 0; r < rows * nb; r++) {
    const double *xr = x + (r / nb) * size, *yr = y + (r / nb) * size, *dyr = dy + r * size;
    double       *dxr = dx + r * size;

    if (p->kind == PW_IDENTITY)
      for (size_t k = 0; k < size; k++) dxr[k] += dyr[k];
    else
      for (size_t k = 0; k < size; k++) dxr[k] += dyr[k] * Slope(p, k, xr[k], yr[k]);
  }
  PetscFunctionReturn(0);
}

/* ty [rows*b][size] = f'(x [rows][size]) tx [rows*b][size] */
static PetscErrorCode PointwiseJvp(HessaOnnxKernel *K)
{
  const Pointwise *p = (const Pointwise *)K->node->op_data;
  const double    *x = K->x[0], *y = K->y[0], *tx = K->tx[0];
  double          *ty   = K->ty[0];
  size_t           rows = InputRows(K), size = RowSize(K), b = (size_t)K->nb;

  PetscFunctionBegin;
  if (!tx) { /* a constant input: no tangent */
    memset(ty, 0, rows * b * size * sizeof(double));
    PetscFunctionReturn(0);
  }
  for (size_t r = 0; r < rows * b; r++) {
    const double *xr = x + (r / b) * size, *yr = y + (r / b) * size, *txr = tx + r * size;
    double       *tyr = ty + r * size;

    if (p->kind == PW_IDENTITY)
      memcpy(tyr, txr, size * sizeof(double));
    else
      for (size_t k = 0; k < size; k++) tyr[k] = Slope(p, k, xr[k], yr[k]) * txr[k];
  }
  PetscFunctionReturn(0);
}

/* dx [rows*b][size] += dy [rows][size] f''(x [rows][size]) tx [rows*b][size] */
static PetscErrorCode PointwiseSot(HessaOnnxKernel *K)
{
  const Pointwise *p = (const Pointwise *)K->node->op_data;
  const double    *x = K->x[0], *y = K->y[0], *dy = K->dy[0], *tx = K->tx[0];
  double          *dx   = K->dx[0];
  size_t           rows = InputRows(K), size = RowSize(K), b = (size_t)K->nb;

  PetscFunctionBegin;
  if (!dx || !tx) PetscFunctionReturn(0);
  for (size_t r = 0; r < rows * b; r++) {
    const double *xr = x + (r / b) * size, *yr = y + (r / b) * size, *dyr = dy + (r / b) * size, *txr = tx + r * size;
    double       *dxr = dx + r * size;

    for (size_t k = 0; k < size; k++) dxr[k] += dyr[k] * Curvature(p, k, xr[k], yr[k]) * txr[k];
  }
  PetscFunctionReturn(0);
}

/* The table: piecewise-linear ops (f'' = 0 almost everywhere) and Neg have no sot.
 * Dropout's ratio and training_mode, Clip's bounds and Pow's exponent are never parameters. */
const HessaOnnxOp HessaOnnxOpsPointwise[] = {
    {"Relu", ReluInfer, PointwiseForward, PointwiseBackward, PointwiseJvp, NULL, 0},
    {"LeakyRelu", LeakyReluInfer, PointwiseForward, PointwiseBackward, PointwiseJvp, NULL, 0},
    {"Tanh", TanhInfer, PointwiseForward, PointwiseBackward, PointwiseJvp, PointwiseSot, 0},
    {"Sigmoid", SigmoidInfer, PointwiseForward, PointwiseBackward, PointwiseJvp, PointwiseSot, 0},
    {"Softplus", SoftplusInfer, PointwiseForward, PointwiseBackward, PointwiseJvp, PointwiseSot, 0},
    {"Erf", ErfInfer, PointwiseForward, PointwiseBackward, PointwiseJvp, PointwiseSot, 0},
    {"Elu", EluInfer, PointwiseForward, PointwiseBackward, PointwiseJvp, PointwiseSot, 0},
    {"Identity", IdentityInfer, PointwiseForward, PointwiseBackward, PointwiseJvp, NULL, 0},
    {"Dropout", IdentityInfer, PointwiseForward, PointwiseBackward, PointwiseJvp, NULL, (1u << 1) | (1u << 2)},
    {"Clip", ClipInfer, PointwiseForward, PointwiseBackward, PointwiseJvp, NULL, (1u << 1) | (1u << 2)},
    {"HardSigmoid", HardSigmoidInfer, PointwiseForward, PointwiseBackward, PointwiseJvp, NULL, 0},
    {"HardSwish", HardSwishInfer, PointwiseForward, PointwiseBackward, PointwiseJvp, PointwiseSot, 0},
    {"Exp", ExpInfer, PointwiseForward, PointwiseBackward, PointwiseJvp, PointwiseSot, 0},
    {"Log", LogInfer, PointwiseForward, PointwiseBackward, PointwiseJvp, PointwiseSot, 0},
    {"Neg", NegInfer, PointwiseForward, PointwiseBackward, PointwiseJvp, NULL, 0},
    {"Reciprocal", ReciprocalInfer, PointwiseForward, PointwiseBackward, PointwiseJvp, PointwiseSot, 0},
    {"Sqrt", SqrtInfer, PointwiseForward, PointwiseBackward, PointwiseJvp, PointwiseSot, 0},
    {"Pow", PowInfer, PointwiseForward, PointwiseBackward, PointwiseJvp, PointwiseSot, 1u << 1},
};
const int HessaOnnxOpsPointwiseCount = (int)(sizeof HessaOnnxOpsPointwise / sizeof HessaOnnxOpsPointwise[0]);
