/* ONNX embedding ops: Gather at run time. The contract is in onnx_impl.h.
 *
 * Gather(data, indices, axis) picks slices of data along axis:
 *   y[o, k, n] = data[o, indices[k], n]   (o: the axes before `axis`, n: those after)
 * Three forms run (Gather of constants only is folded at load):
 *   - an embedding: data a parameter (or a parameter-phase value) [V, D...], axis 0, the
 *     indices the batched token ids [N, T...] of the data input: y [N, T..., D...];
 *   - a positional embedding: data a parameter, constant indices (an arange): y is not
 *     batched and runs once per theta in the parameter phase;
 *   - a selection from a batched value with constant indices (x[:, -1, :] exports as
 *     Gather(x, -1, axis 1)), axis >= 1 so that the batch stays first.
 * Gather is linear in data, so there is no sot; the jvp is the forward applied to the
 * tangents and the backward scatter-adds the output adjoints into the rows used (a row
 * used twice gets both). Indices are never differentiable.
 *
 * Token ids come from the data: an id outside [0, V) is an error naming the id, the
 * sample, the position and the table size. HessaOnnxGatherCheckIds does that check for the
 * whole local shard when the objective is created, so that every rank fails together
 * with the message; the kernels check again (a hand-built graph, a direct executor call).
 * Constant indices follow ONNX: negative values count from the end, checked at load.
 */
#include "onnx_impl.h"
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  int64_t outer, dim, inner; /* per sample (data batched) or in total: data = [outer][dim][inner] */
  int64_t q;                 /* indices per sample (batched indices) or in total (constant) */
  int     data_batched;      /* data rows per sample */
  int     idx_batched;       /* indices come from the batched data input (doubles) */
  int64_t idx_stride;        /* doubles between two samples' indices (batched) */
} GatherData;

/* GatherInfer - load time: the forms above, the output shape, the constant indices in range. */
static void GatherInfer(HessaOnnxGraph *g, HessaOnnxNode *node, HessaStatus *st)
{
  char                  label[300];
  const HessaOnnxValue *x, *ix;
  HessaOnnxValue       *y;
  GatherData           *gd;
  int64_t               axis, dims[HESSA_ONNX_MAX_DIMS];
  int                   r, nd = 0, xoff;

  HessaOnnxNodeLabel(node, label, sizeof label);
  if (node->n_in != 2 || node->in[0] < 0 || node->in[1] < 0 || node->n_out != 1 || node->out[0] < 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: expected 2 inputs (data, indices) and 1 output, found %d inputs and %d outputs", label, node->n_in, node->n_out);
    return;
  }
  x  = &g->values[node->in[0]];
  ix = &g->values[node->in[1]];
  y  = &g->values[node->out[0]];
  r  = x->ndim;
  if (x->is_int) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: Gather of the integer tensor '%s' at run time; hessa gathers float tensors (embedding tables, activations)", label, x->name);
    return;
  }
  if (!ix->is_int) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: the indices '%s' are not integers", label, ix->name);
    return;
  }
  if (!ix->batched && (ix->kind != HESSA_ONNX_CONST || !ix->ivalue)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: the indices '%s' must be the token ids of the data input or a constant; integer values computed at run time are not supported", label, ix->name);
    return;
  }
  if (ix->batched && (ix->kind != HESSA_ONNX_INPUT)) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: batched indices '%s' must be the graph's data input (token ids) itself", label, ix->name);
    return;
  }
  axis = HessaOnnxAttrInt(node, "axis", 0);
  if (r < 1 || axis < -r || axis >= r) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: axis %" PRId64 " is out of range for data '%s' of rank %d", label, axis, x->name, r);
    return;
  }
  if (axis < 0) axis += r;
  if (x->batched && axis == 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: Gather along the batch axis of '%s' (axis 0); hessa keeps the batch first", label, x->name);
    return;
  }
  if (x->batched && ix->batched) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: both the data '%s' and the indices '%s' depend on the sample; hessa gathers from a parameter table or with constant indices", label, x->name, ix->name);
    return;
  }
  if (ix->batched && axis != 0) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: token ids '%s' index axis %" PRId64 " of '%s'; an embedding table is indexed along axis 0", label, ix->name, axis, x->name);
    return;
  }
  if (r - 1 + ix->ndim > HESSA_ONNX_MAX_DIMS) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "%s: the result would have more than %d dimensions", label, HESSA_ONNX_MAX_DIMS);
    return;
  }
  if (!(gd = calloc(1, sizeof *gd))) {
    HessaStatusSet(st, PETSC_ERR_MEM, "%s: out of memory", label);
    return;
  }
  gd->data_batched = x->batched;
  gd->idx_batched  = ix->batched;
  gd->outer = gd->inner = 1;
  xoff                  = x->batched ? 1 : 0;
  for (int d = xoff; d < axis; d++) gd->outer *= x->dims[d];
  gd->dim = x->dims[axis];
  for (int d = (int)axis + 1; d < r; d++) gd->inner *= x->dims[d];
  gd->q          = ix->size; /* per sample when batched */
  gd->idx_stride = ix->batched ? ix->size : 0;
  /* y = data.dims[:axis] + indices.dims + data.dims[axis+1:] (the batch first in every form) */
  for (int d = 0; d < axis; d++) dims[nd++] = x->dims[d];
  for (int d = 0; d < ix->ndim; d++) dims[nd++] = ix->dims[d];
  for (int d = (int)axis + 1; d < r; d++) dims[nd++] = x->dims[d];
  if (!ix->batched)
    for (int64_t k = 0; k < ix->size; k++)
      if (ix->ivalue[k] < -gd->dim || ix->ivalue[k] >= gd->dim) {
        HessaStatusSet(st, HESSA_ERR_INPUT, "%s: index %" PRId64 " (entry %" PRId64 " of '%s') is out of range for axis %" PRId64 " of '%s' with %" PRId64 " entries", label, ix->ivalue[k], k, ix->name, axis, x->name, gd->dim);
        free(gd);
        return;
      }
  HessaOnnxValueSetShape(y, nd, dims, x->batched || ix->batched);
  y->elem_type         = x->elem_type;
  y->is_int            = 0;
  y->differentiable    = x->differentiable;
  node->aux_per_sample = 0;
  free(node->op_data);
  node->op_data = gd;
}

/* The row of data index k of sample s; -1 (and a message) when a token id is out of range. */
static PetscErrorCode IndexAt(const HessaOnnxKernel *K, const GatherData *gd, PetscInt s, int64_t k, int64_t *row)
{
  PetscFunctionBegin;
  if (gd->idx_batched) {
    const double id = K->x[1][(size_t)s * (size_t)gd->idx_stride + (size_t)k];
    if (!(id >= 0 && id < (double)gd->dim && id == floor(id))) {
      char label[300];
      SETERRQ(PETSC_COMM_SELF, HESSA_ERR_INPUT, "%s: %s: token id %g at position %" PRId64 " of sample %" PetscInt_FMT " of this chunk is outside the embedding table '%s' of %" PRId64 " rows", K->g->path,
              HessaOnnxNodeLabel(K->node, label, sizeof label), id, k, s, K->g->values[K->node->in[0]].name, gd->dim);
    }
    *row = (int64_t)id;
  } else {
    const int64_t i = K->g->values[K->node->in[1]].ivalue[k];
    *row            = i < 0 ? i + gd->dim : i;
  }
  PetscFunctionReturn(0);
}

/* y rows (samples or, with directions, sample-major direction-minor rows) from x rows:
 * out row r takes sample r / per of the indices and x row xr(r). */
static PetscErrorCode GatherRows(const HessaOnnxKernel *K, const GatherData *gd, PetscInt samples, PetscInt per, const double *x, int x_per_row, double *y)
{
  const size_t xsize = (size_t)(gd->outer * gd->dim * gd->inner), ysize = (size_t)(gd->outer * gd->q * gd->inner);

  PetscFunctionBegin;
  for (PetscInt s = 0; s < samples; s++)
    for (int64_t k = 0; k < gd->q; k++) {
      int64_t i;
      PetscCall(IndexAt(K, gd, s, k, &i));
      for (PetscInt j = 0; j < per; j++) {
        /* x: one row per (sample, direction) when batched, one per direction otherwise */
        const double *xr = x + (size_t)(x_per_row ? (size_t)s * (size_t)per + (size_t)j : (size_t)j) * xsize;
        double       *yr = y + ((size_t)s * (size_t)per + (size_t)j) * ysize;
        for (int64_t o = 0; o < gd->outer; o++) memcpy(yr + (size_t)((o * gd->q + k) * gd->inner), xr + (size_t)((o * gd->dim + i) * gd->inner), (size_t)gd->inner * sizeof(double));
      }
    }
  PetscFunctionReturn(0);
}

static PetscInt Samples(const HessaOnnxKernel *K)
{
  return K->g->values[K->node->out[0]].batched ? K->m : 1;
}

static PetscErrorCode GatherForward(HessaOnnxKernel *K)
{
  const GatherData *gd = (const GatherData *)K->node->op_data;

  PetscFunctionBegin;
  PetscCall(GatherRows(K, gd, Samples(K), 1, K->x[0], gd->data_batched, K->y[0]));
  PetscFunctionReturn(0);
}

static PetscErrorCode GatherJvp(HessaOnnxKernel *K)
{
  const GatherData *gd = (const GatherData *)K->node->op_data;

  PetscFunctionBegin;
  if (!K->tx[0]) {
    PetscCall(PetscArrayzero(K->ty[0], (size_t)Samples(K) * (size_t)K->nb * (size_t)(gd->outer * gd->q * gd->inner)));
    PetscFunctionReturn(0);
  }
  PetscCall(GatherRows(K, gd, Samples(K), K->nb, K->tx[0], gd->data_batched, K->ty[0]));
  PetscFunctionReturn(0);
}

/* dx (rows of data: per (sample, row) when batched, else [nb] summed over the samples) +=
 * the scatter of dy [samples * nb] into the rows the indices used. */
static PetscErrorCode GatherBackward(HessaOnnxKernel *K)
{
  const GatherData *gd      = (const GatherData *)K->node->op_data;
  const PetscInt    samples = Samples(K), nb = K->nb;
  const size_t      xsize = (size_t)(gd->outer * gd->dim * gd->inner), ysize = (size_t)(gd->outer * gd->q * gd->inner);

  PetscFunctionBegin;
  if (!K->dx[0]) PetscFunctionReturn(0);
  for (PetscInt s = 0; s < samples; s++)
    for (int64_t k = 0; k < gd->q; k++) {
      int64_t i;
      PetscCall(IndexAt(K, gd, s, k, &i));
      for (PetscInt j = 0; j < nb; j++) {
        double       *dx = K->dx[0] + (gd->data_batched ? (size_t)s * (size_t)nb + (size_t)j : (size_t)j) * xsize;
        const double *dy = K->dy[0] + ((size_t)s * (size_t)nb + (size_t)j) * ysize;
        for (int64_t o = 0; o < gd->outer; o++) {
          double       *d = dx + (size_t)((o * gd->dim + i) * gd->inner);
          const double *e = dy + (size_t)((o * gd->q + k) * gd->inner);
          for (int64_t n = 0; n < gd->inner; n++) d[n] += e[n];
        }
      }
    }
  PetscFunctionReturn(0);
}

/* HessaOnnxGatherCheckIds - not collective. Every Gather whose indices are the graph's data
 * input (token ids) checks the n samples x [n][input size] (global index of the first: first)
 * against its table: a token id outside [0, rows) sets st with the id, the sample, the
 * position, the table and its size. Callers share st over the ranks (HessaSyncError). */
void HessaOnnxGatherCheckIds(const HessaOnnxGraph *g, const double *x, PetscInt n, PetscInt first, HessaStatus *st)
{
  const HessaOnnxValue *in;

  if (g->input < 0) return;
  in = &g->values[g->input];
  for (int k = 0; k < g->n_nodes && !st->code; k++) {
    const HessaOnnxNode  *nd = &g->nodes[k];
    const HessaOnnxValue *table;
    char                  label[300];
    if (!nd->op_type || strcmp(nd->op_type, "Gather") || nd->n_in != 2 || nd->in[1] != g->input || nd->in[0] < 0) continue;
    table = &g->values[nd->in[0]];
    for (PetscInt i = 0; i < n && !st->code; i++)
      for (int64_t t = 0; t < in->size; t++) {
        const double id = x[(size_t)i * (size_t)in->size + (size_t)t];
        if (id >= 0 && id < (double)table->dims[0] && id == floor(id)) continue;
        HessaStatusSet(st, HESSA_ERR_INPUT, "ONNX model %s: token id %g at sequence %" PetscInt_FMT ", position %" PRId64 " is outside the embedding table '%s' of %" PRId64 " rows (%s): ids must be in [0, %" PRId64 ")", g->path, id, first + i, t,
                       table->name, table->dims[0], HessaOnnxNodeLabel(nd, label, sizeof label), table->dims[0]);
        break;
      }
  }
}

const HessaOnnxOp HessaOnnxOpsEmbedding[] = {
    {"Gather", GatherInfer, GatherForward, GatherBackward, GatherJvp, NULL, 1u << 1},
};
const int HessaOnnxOpsEmbeddingCount = (int)(sizeof HessaOnnxOpsEmbedding / sizeof HessaOnnxOpsEmbedding[0]);
