/* An example hessa objective plugin: binary logistic regression,
 *
 *   loss_i = log(1 + exp(z_i)) - y_i z_i,   z_i = w . x_i + b,   theta = (w, b),
 *
 * with exact gradient sum_i (p_i - y_i) (x_i, 1) and Hessian sum_i p_i (1 - p_i)
 * (x_i, 1)(x_i, 1)^T, p_i = sigmoid(z_i): local sums over the shard, as hessa/plugin.h
 * asks. Built out of tree against an installed hessa (see CMakeLists.txt); it needs
 * nothing but the C library and libm.
 *
 * Options (-hessa_plugin_options): "init=VALUE" sets every entry of the starting point. */
#include <hessa/plugin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const HessaPluginData *data;
  int64_t                n; /* features + 1 */
  double                 init;
} Logistic;

static double Sigmoid(double z)
{
  return z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
}

/* z = w . x + b for sample i */
static double Margin(const Logistic *lr, const double *theta, int64_t i)
{
  const double *x = lr->data->x + i * lr->data->n_features;
  double        z = theta[lr->n - 1];
  for (int64_t j = 0; j < lr->data->n_features; j++) z += theta[j] * x[j];
  return z;
}

static int Create(const HessaPluginData *data, const char *options, void **ctx, int64_t *n, char *err, size_t err_len)
{
  Logistic *lr;

  if (data->n_classes != 2) {
    snprintf(err, err_len, "binary logistic regression needs 2 classes, the data has %lld (and %lld targets)", (long long)data->n_classes, (long long)data->n_targets);
    return 1;
  }
  lr = calloc(1, sizeof *lr);
  if (!lr) return 2;
  lr->data = data;
  lr->n    = data->n_features + 1;
  if (options && !strncmp(options, "init=", 5)) lr->init = atof(options + 5);
  *ctx = lr;
  *n   = lr->n;
  return 0;
}

static int InitialPoint(void *ctx, double *theta, char *err, size_t err_len)
{
  const Logistic *lr = ctx;
  for (int64_t j = 0; j < lr->n; j++) theta[j] = lr->init;
  return 0;
}

static int Gradient(void *ctx, const double *theta, double *loss, double *grad, char *err, size_t err_len)
{
  const Logistic *lr = ctx;

  *loss = 0;
  if (grad) memset(grad, 0, (size_t)lr->n * sizeof *grad);
  for (int64_t i = 0; i < lr->data->n_local; i++) {
    const double *x = lr->data->x + i * lr->data->n_features;
    double        z = Margin(lr, theta, i), y = lr->data->labels[i];
    /* log(1 + e^z) without overflow */
    *loss += (z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))) - y * z;
    if (grad) {
      double r = Sigmoid(z) - y;
      for (int64_t j = 0; j < lr->data->n_features; j++) grad[j] += r * x[j];
      grad[lr->n - 1] += r;
    }
  }
  return 0;
}

static int Loss(void *ctx, const double *theta, double *loss, char *err, size_t err_len)
{
  return Gradient(ctx, theta, loss, NULL, err, err_len);
}

/* H v = sum_i p_i (1 - p_i) ((x_i, 1) . v) (x_i, 1); the GGN equals the Hessian here. */
static int HessianBlock(void *ctx, const double *theta, int64_t b, const double *V, double *HV, char *err, size_t err_len)
{
  const Logistic *lr = ctx;
  const int64_t   n = lr->n, d = lr->data->n_features;

  memset(HV, 0, (size_t)(b * n) * sizeof *HV);
  for (int64_t i = 0; i < lr->data->n_local; i++) {
    const double *x = lr->data->x + i * d;
    double        p = Sigmoid(Margin(lr, theta, i)), w = p * (1 - p);
    for (int64_t k = 0; k < b; k++) {
      const double *v  = V + k * n;
      double       *hv = HV + k * n, s = v[n - 1];
      for (int64_t j = 0; j < d; j++) s += x[j] * v[j];
      for (int64_t j = 0; j < d; j++) hv[j] += w * s * x[j];
      hv[n - 1] += w * s;
    }
  }
  return 0;
}

static void Destroy(void *ctx)
{
  free(ctx);
}

static const HessaPlugin logistic = {
    .api_version   = HESSA_PLUGIN_API_VERSION,
    .name          = "logistic",
    .create        = Create,
    .initial_point = InitialPoint,
    .loss          = Loss,
    .gradient      = Gradient,
    .hessian_block = HessianBlock,
    .ggn_block     = HessianBlock,
    .destroy       = Destroy,
};

const HessaPlugin *hessa_plugin(void)
{
  return &logistic;
}
