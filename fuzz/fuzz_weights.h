/* Shared by the weight-folder harnesses: a tiny 3-4-2 tanh MLP on two hand-made
 * samples, its valid model.json and its four tensors as NPY files. */
#ifndef HESSA_FUZZ_WEIGHTS_H
#define HESSA_FUZZ_WEIGHTS_H

#include "fuzz_common.h"
#include <hessa/objective.h>

static const char fuzz_manifest[] = "{\"format\": \"hessa-weights\", \"version\": 1, \"model\": \"mlp\", \"widths\": [3, 4, 2],"
                                    " \"activation\": \"tanh\", \"loss\": \"cross-entropy\", \"tensors\": ["
                                    "{\"name\": \"layers.0.weight\", \"file\": \"layers.0.weight.npy\", \"shape\": [4, 3]},"
                                    "{\"name\": \"layers.0.bias\", \"file\": \"layers.0.bias.npy\", \"shape\": [4]},"
                                    "{\"name\": \"layers.1.weight\", \"file\": \"layers.1.weight.npy\", \"shape\": [2, 4]},"
                                    "{\"name\": \"layers.1.bias\", \"file\": \"layers.1.bias.npy\", \"shape\": [2]}]}\n";

static HessaObjective fuzz_obj;
static double        *fuzz_theta;

/* The objective and a valid folder in fuzz_dir (model.json and four tensors). */
static void FuzzWeightsInit(void)
{
  static double       x[6]      = {0.1, -0.2, 0.3, 0.4, 0.5, -0.6};
  static int          labels[2] = {0, 1};
  static const double zeros[12] = {0};
  HessaMLPArch        arch      = {.n_layers = 2, .widths = {3, 4, 2}, .activation = HESSA_ACT_TANH, .loss = HESSA_LOSS_CROSS_ENTROPY, .cache_mb = -1};
  HessaData           d;
  char                path[160];

  FuzzInit();
  /* a shard built by hand, as tests/objective/objective_test.h does (never freed:
   * it lives as long as the process) */
  if (PetscNew(&d)) abort();
  d->comm = PETSC_COMM_SELF, d->source = HESSA_DATA_GAUSSIAN, d->task = HESSA_TASK_CLASSIFICATION;
  d->n_global = d->n_local = 2, d->n_features = 3, d->n_classes = 2, d->x = x, d->labels = labels;
  if (HessaMLPCreate(&arch, d, &fuzz_obj) || fuzz_obj->n != 4 * 3 + 4 + 2 * 4 + 2) abort();
  fuzz_theta = calloc((size_t)fuzz_obj->n, sizeof *fuzz_theta);
  for (PetscInt k = 0; k < fuzz_obj->n_blocks; k++) {
    const HessaParamBlock *b       = &fuzz_obj->blocks[k];
    int64_t                dims[2] = {b->shape[0], b->shape[1]};
    snprintf(path, sizeof path, "%s/%s.npy", fuzz_dir, b->name);
    if (HessaWriteNPY(path, b->ndim, dims, zeros, 0)) abort();
  }
  FuzzWrite("model.json", (const uint8_t *)fuzz_manifest, sizeof fuzz_manifest - 1);
}

#endif
