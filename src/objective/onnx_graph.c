/* Helpers shared by the ONNX loader, the executor and the kernels' infer functions:
 * attribute look-up, node labels and shapes for messages, value shapes, readers of a
 * value. Nothing here allocates. */
#include "onnx_impl.h"
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* HessaOnnxAttrGet - the attribute `name` of a node, or NULL when the node has none.
 * Not collective. */
const HessaOnnxAttr *HessaOnnxAttrGet(const HessaOnnxNode *node, const char name[])
{
  for (int i = 0; i < node->n_attr; i++)
    if (!strcmp(node->attr[i].name, name)) return &node->attr[i];
  return NULL;
}

/* HessaOnnxAttrInt - an INT attribute's value, dflt when absent (or of another type:
 * infer functions that must refuse a wrong type check HessaOnnxAttrGet first). */
int64_t HessaOnnxAttrInt(const HessaOnnxNode *node, const char name[], int64_t dflt)
{
  const HessaOnnxAttr *a = HessaOnnxAttrGet(node, name);
  return a && a->type == HESSA_ONNX_ATTR_INT ? a->i : dflt;
}

/* HessaOnnxAttrFloat - a FLOAT attribute's value (an INT one converted), dflt when absent. */
double HessaOnnxAttrFloat(const HessaOnnxNode *node, const char name[], double dflt)
{
  const HessaOnnxAttr *a = HessaOnnxAttrGet(node, name);
  if (!a) return dflt;
  if (a->type == HESSA_ONNX_ATTR_FLOAT) return a->f;
  if (a->type == HESSA_ONNX_ATTR_INT) return (double)a->i;
  return dflt;
}

/* HessaOnnxAttrDecimal - a FLOAT attribute as the decimal the model was written with
 * (dflt when absent). Not collective. ONNX stores attributes in float32, so
 * nn.LeakyReLU(0.1) arrives as 0.100000001490116 and nn.LayerNorm's eps 1e-5 as
 * 9.99999974738e-06, while PyTorch computed with the doubles 0.1 and 1e-5: a relative
 * difference of 1e-8 in every output. The reciprocal of an integer (nn.Hardsigmoid's 1/6
 * has no short decimal) or else the shortest decimal that rounds to the same float32 is
 * what the exporter was given (for eps = m 10^-k, m < 100, the two readings are the same
 * double); a value that is not a float32 (a loader that already did this) is kept. */
double HessaOnnxAttrDecimal(const HessaOnnxNode *node, const char name[], double dflt)
{
  double f = HessaOnnxAttrFloat(node, name, dflt);
  float  s = (float)f;
  char   buf[32];

  if (!isfinite(f) || (double)s != f) return f;
  if (f != 0 && fabs(1 / f) < 1e6) {
    double n = round(1 / f);
    if (n != 0 && (float)(1 / n) == s) return 1 / n;
  }
  for (int digits = 1; digits <= 9; digits++) {
    double d;
    snprintf(buf, sizeof buf, "%.*g", digits, f);
    d = strtod(buf, NULL);
    if ((float)d == s) return d;
  }
  return f;
}

/* HessaOnnxNodeLabel - "node 'conv1' (Conv)", or "node #3 (Conv)" (its position in the
 * model file) when the model does not name it, into buf; returns buf. */
const char *HessaOnnxNodeLabel(const HessaOnnxNode *node, char *buf, size_t len)
{
  if (node->name && node->name[0])
    snprintf(buf, len, "node '%s' (%s)", node->name, node->op_type ? node->op_type : "?");
  else
    snprintf(buf, len, "node #%d (%s)", node->file_index, node->op_type ? node->op_type : "?");
  return buf;
}

/* The dims with the batch entry shown as N (c*N entries as cN), between open and close. */
static const char *DimsFormat(int ndim, const int64_t *dims, const char *open, const char *close, char *buf, size_t len)
{
  size_t used = (size_t)snprintf(buf, len, "%s", open);
  for (int d = 0; d < ndim && used < len; d++) {
    if (dims[d] == HESSA_ONNX_BATCH)
      used += (size_t)snprintf(buf + used, len - used, "%sN", d ? ", " : "");
    else if (HessaOnnxIsBatchEntry(dims[d]))
      used += (size_t)snprintf(buf + used, len - used, "%s%" PRId64 "N", d ? ", " : "", HessaOnnxBatchFactor(dims[d]));
    else
      used += (size_t)snprintf(buf + used, len - used, "%s%" PRId64, d ? ", " : "", dims[d]);
  }
  if (used < len) snprintf(buf + used, len - used, "%s", close);
  return buf;
}

/* HessaOnnxDimsString - "[N, 3, 4]" (N: the batch entry) into buf, cut to len; returns
 * buf. Not collective. */
const char *HessaOnnxDimsString(int ndim, const int64_t *dims, char *buf, size_t len)
{
  return DimsFormat(ndim, dims, "[", "]", buf, len);
}

/* HessaOnnxDimsTuple - the same as a Python shape tuple, "(N, 3, 4)" or "(N,)", as the
 * shape ops' messages print it. Not collective. */
const char *HessaOnnxDimsTuple(int ndim, const int64_t *dims, char *buf, size_t len)
{
  return DimsFormat(ndim, dims, "(", ndim == 1 ? ",)" : ")", buf, len);
}

/* HessaOnnxValueIsRead - whether value v (-1: absent) is an input of some node or the
 * graph's output. Not collective. Infer functions use it to refuse a node whose
 * training-time outputs (Dropout's mask, LayerNormalization's Mean) are used. */
int HessaOnnxValueIsRead(const HessaOnnxGraph *g, int v)
{
  if (v < 0) return 0;
  if (g->output == v) return 1;
  for (int n = 0; n < g->n_nodes; n++)
    for (int i = 0; i < g->nodes[n].n_in; i++)
      if (g->nodes[n].in[i] == v) return 1;
  return 0;
}

/* HessaOnnxValueSetShape - set v's rank, dims and size. When batched, dims[0] becomes
 * HESSA_ONNX_BATCH whatever was passed and size counts the elements of one sample;
 * otherwise size is the product of all dims (1 for a scalar). ndim is clamped to
 * [0, HESSA_ONNX_MAX_DIMS]; dims must be >= 0 (infer functions check before calling). */
void HessaOnnxValueSetShape(HessaOnnxValue *v, int ndim, const int64_t *dims, int batched)
{
  int64_t size = 1;

  if (ndim < 0) ndim = 0;
  if (ndim > HESSA_ONNX_MAX_DIMS) ndim = HESSA_ONNX_MAX_DIMS;
  v->ndim    = ndim;
  v->batched = batched && ndim > 0;
  for (int d = 0; d < ndim; d++) {
    v->dims[d] = dims[d];
    if (d == 0 && v->batched) {
      v->dims[0] = HESSA_ONNX_BATCH;
      continue;
    }
    size *= dims[d];
  }
  for (int d = ndim; d < HESSA_ONNX_MAX_DIMS; d++) v->dims[d] = 0;
  v->size = size;
}
