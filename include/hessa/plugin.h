/* hessa objective plugins: the C interface a shared library implements so that
 * `hessa -hessa_model plugin -hessa_plugin_file libmine.so` analyses its objective
 * with the whole pipeline (spectrum, classification, reports, training, studies).
 *
 * This header is self-contained (standard C only: no PETSc, no MPI) and versioned.
 * A plugin includes it, fills one HessaPlugin table and exports it through
 *
 *     const HessaPlugin *hessa_plugin(void);
 *
 * hessa checks api_version against HESSA_PLUGIN_API_VERSION and refuses a mismatch
 * with a clear message. Build a plugin against an installed hessa with
 *     cc -shared -fPIC mine.c $(pkg-config --cflags hessa) -o libmine.so
 * (tests/plugin/ has a complete example with CMake).
 *
 * The contract is the one of hessa's own objectives (docs/design.md):
 *  - theta and every direction are full-length arrays of n doubles;
 *  - results are LOCAL SUMS over the samples of the shard the plugin was given; hessa
 *    adds them over the ranks and divides by the global sample count, so a plugin never
 *    calls MPI and its numbers do not depend on the number of ranks;
 *  - without data (no -hessa_data_source), the plugin is a data set of one sample: the
 *    shard of the rank that owns it has n_local = 1 (x and y NULL), the others
 *    n_local = 0 and must return zeros;
 *  - a block of b directions is b contiguous vectors: V[j*n + i] is entry i of direction j;
 *  - every function returns 0 on success; on failure it returns non-zero and may write a
 *    message into err[0..err_len) (hessa names the plugin and the function);
 *  - functions are called from one thread; a plugin may cache its forward pass at the
 *    last theta (hessa calls loss/gradient/hessian_block many times at the same theta).
 */
#ifndef HESSA_PLUGIN_H
#define HESSA_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version 1: the functions and fields below. A new field or function means a new version. */
#define HESSA_PLUGIN_API_VERSION 1

/* The rank's shard of the data set (read-only; valid until destroy). */
typedef struct {
  int64_t       n_global;   /* samples over all ranks (the divisor of the local sums) */
  int64_t       first;      /* global index of this shard's first sample */
  int64_t       n_local;    /* samples in this shard (may be 0) */
  int64_t       n_features; /* values per sample (0 without data) */
  int64_t       n_classes;  /* classification: labels in [0, n_classes); 0 for regression */
  int64_t       n_targets;  /* regression: values per target; 0 for classification */
  const double *x;          /* [n_local][n_features], row-major; NULL when empty */
  const int    *labels;     /* [n_local] class labels (classification), else NULL */
  const double *y;          /* [n_local][n_targets] (regression), else NULL */
} HessaPluginData;

typedef struct {
  int         api_version; /* set to HESSA_PLUGIN_API_VERSION */
  const char *name;        /* short name for messages and reports, e.g. "logistic" */

  /* Build the objective on this shard. options: the text of -hessa_plugin_options ("" if
   * not given), for the plugin to parse. Outputs: *ctx (passed to every other call) and
   * *n (number of parameters, > 0). Required. */
  int (*create)(const HessaPluginData *data, const char *options, void **ctx, int64_t *n, char *err, size_t err_len);
  /* The starting point theta[0..n) when no -hessa_model_point or weights are given.
   * Optional (NULL: zeros). Must be the same on every rank. */
  int (*initial_point)(void *ctx, double *theta, char *err, size_t err_len);
  /* Local sum of the per-sample losses at theta. Required. */
  int (*loss)(void *ctx, const double *theta, double *loss, char *err, size_t err_len);
  /* Local sums of the loss and its gradient grad[0..n). Required. */
  int (*gradient)(void *ctx, const double *theta, double *loss, double *grad, char *err, size_t err_len);
  /* Local sums of H v_j for b directions: V and HV are [b][n]. Required. */
  int (*hessian_block)(void *ctx, const double *theta, int64_t b, const double *V, double *HV, char *err, size_t err_len);
  /* Local sums of G v_j (generalized Gauss-Newton), as hessian_block. Optional (NULL:
   * -hessa_operator ggn is refused for this plugin). */
  int (*ggn_block)(void *ctx, const double *theta, int64_t b, const double *V, double *GV, char *err, size_t err_len);
  /* Release ctx. Optional. */
  void (*destroy)(void *ctx);
} HessaPlugin;

/* The one symbol a plugin exports (its name is HESSA_PLUGIN_SYMBOL). */
typedef const HessaPlugin *(*HessaPluginEntry)(void);
#define HESSA_PLUGIN_SYMBOL "hessa_plugin"

#ifdef __cplusplus
}
#endif
#endif
