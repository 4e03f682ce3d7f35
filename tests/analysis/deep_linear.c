/* A deep linear network at a critical point of known index (Baldi & Hornik 1989), as a
 * hessa objective plugin (hessa/plugin.h):
 *
 *   L(W1, W2) = 1/2 |W2 W1 - A|_F^2,   A = diag(sigma_1 .. sigma_d),  W1: p x d,  W2: d x p,
 *
 * the two-layer linear network with whitened inputs (Sigma_XX = I) and Sigma_YX = A. Its
 * critical points of full rank keep p of the principal directions: for a subset I of
 * {0..d-1} with |I| = p, W1 row k = sqrt(sigma_{i_k}) e_{i_k}^T and W2 column
 * k = sqrt(sigma_{i_k}) e_{i_k}. The Hessian there splits into 2 x 2 blocks (the test
 * script derives them), so its whole spectrum is known in closed form:
 *   for every ordered (a, b) in I x I:      sigma_a + sigma_b and 0 (the GL(p) symmetry)
 *   for every a in I and j not in I:        sigma_a + sigma_j and sigma_a - sigma_j
 * and the index is #{(a, j): a in I, j not in I, sigma_j > sigma_a}.
 *
 * theta = (W1 row-major, W2 row-major), n = 2 p d. One sample, owned by one rank.
 * Options (-hessa_plugin_options): "sigma=s1,s2,...,sd subset=i1,...,ip". */
#include <hessa/plugin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  int      owns;
  int64_t  d, p;
  double  *sigma;  /* [d] */
  int64_t *subset; /* [p] */
  double  *r, *t;  /* [d*d] work: residual W2 W1 - A, tangent W2 E1 + E2 W1 */
} DeepLinear;

#define W1(th, k, j) (th)[(k)*dl->d + (j)]
#define W2(th, j, k) (th)[dl->p * dl->d + (j)*dl->p + (k)]

static int ParseList(const char *s, double *out, int max)
{
  int   count = 0;
  char *end;
  while (*s && *s != ' ' && count < max) {
    out[count++] = strtod(s, &end);
    if (end == s) return -1;
    s = end;
    if (*s == ',') s++;
  }
  return count;
}

static int Create(const HessaPluginData *data, const char *options, void **ctx, int64_t *n, char *err, size_t err_len)
{
  DeepLinear *dl;
  double      vals[256];
  const char *s, *u;
  int         d, p;

  s = options ? strstr(options, "sigma=") : NULL;
  u = options ? strstr(options, "subset=") : NULL;
  if (!s || !u) {
    snprintf(err, err_len, "options must be \"sigma=s1,...,sd subset=i1,...,ip\", found \"%s\"", options ? options : "");
    return 1;
  }
  d = ParseList(s + 6, vals, 256);
  if (d < 1) {
    snprintf(err, err_len, "sigma: expected 1 to 256 numbers");
    return 1;
  }
  dl        = calloc(1, sizeof *dl);
  dl->owns  = data->n_local > 0;
  dl->d     = d;
  dl->sigma = malloc((size_t)d * sizeof(double));
  memcpy(dl->sigma, vals, (size_t)d * sizeof(double));
  p = ParseList(u + 7, vals, 256);
  if (p < 1 || p > d) {
    snprintf(err, err_len, "subset: expected 1 to %d indices", d);
    free(dl->sigma), free(dl);
    return 1;
  }
  dl->p      = p;
  dl->subset = malloc((size_t)p * sizeof(int64_t));
  for (int k = 0; k < p; k++) {
    dl->subset[k] = (int64_t)vals[k];
    if (dl->subset[k] < 0 || dl->subset[k] >= d) {
      snprintf(err, err_len, "subset index %g outside [0, %d)", vals[k], d);
      free(dl->sigma), free(dl->subset), free(dl);
      return 1;
    }
  }
  dl->r = malloc((size_t)d * d * sizeof(double));
  dl->t = malloc((size_t)d * d * sizeof(double));
  *ctx  = dl;
  *n    = 2 * (int64_t)p * d;
  return 0;
}

static int InitialPoint(void *ctx, double *theta, char *err, size_t err_len)
{
  DeepLinear *dl = ctx;
  (void)err, (void)err_len;
  memset(theta, 0, (size_t)(2 * dl->p * dl->d) * sizeof(double));
  for (int64_t k = 0; k < dl->p; k++) {
    int64_t i       = dl->subset[k];
    W1(theta, k, i) = sqrt(dl->sigma[i]);
    W2(theta, i, k) = sqrt(dl->sigma[i]);
  }
  return 0;
}

/* r = W2 W1 - A; returns 1/2 |r|^2 */
static double Residual(DeepLinear *dl, const double *th)
{
  double f = 0;
  for (int64_t i = 0; i < dl->d; i++)
    for (int64_t j = 0; j < dl->d; j++) {
      double s = i == j ? -dl->sigma[i] : 0;
      for (int64_t k = 0; k < dl->p; k++) s += W2(th, i, k) * W1(th, k, j);
      dl->r[i * dl->d + j] = s;
      f += 0.5 * s * s;
    }
  return f;
}

static int Loss(void *ctx, const double *th, double *loss, char *err, size_t err_len)
{
  DeepLinear *dl = ctx;
  (void)err, (void)err_len;
  *loss = dl->owns ? Residual(dl, th) : 0;
  return 0;
}

/* dL/dW1 = W2^T R, dL/dW2 = R W1^T */
static int Gradient(void *ctx, const double *th, double *loss, double *g, char *err, size_t err_len)
{
  DeepLinear *dl = ctx;
  int64_t     d = dl->d, p = dl->p;
  (void)err, (void)err_len;
  memset(g, 0, (size_t)(2 * p * d) * sizeof(double));
  *loss = 0;
  if (!dl->owns) return 0;
  *loss = Residual(dl, th);
  for (int64_t k = 0; k < p; k++)
    for (int64_t j = 0; j < d; j++) {
      double s = 0;
      for (int64_t i = 0; i < d; i++) s += W2(th, i, k) * dl->r[i * d + j];
      W1(g, k, j) = s;
    }
  for (int64_t i = 0; i < d; i++)
    for (int64_t k = 0; k < p; k++) {
      double s = 0;
      for (int64_t j = 0; j < d; j++) s += dl->r[i * d + j] * W1(th, k, j);
      W2(g, i, k) = s;
    }
  return 0;
}

/* H (E1, E2): d(dL/dW1) = E2^T R + W2^T T, d(dL/dW2) = R E1^T + T W1^T, T = W2 E1 + E2 W1 */
static int HessianBlock(void *ctx, const double *th, int64_t b, const double *V, double *HV, char *err, size_t err_len)
{
  DeepLinear *dl = ctx;
  int64_t     d = dl->d, p = dl->p, n = 2 * p * d;
  (void)err, (void)err_len;
  memset(HV, 0, (size_t)(b * n) * sizeof(double));
  if (!dl->owns) return 0;
  Residual(dl, th);
  for (int64_t c = 0; c < b; c++) {
    const double *e = V + c * n;
    double       *h = HV + c * n;
    for (int64_t i = 0; i < d; i++)
      for (int64_t j = 0; j < d; j++) {
        double s = 0;
        for (int64_t k = 0; k < p; k++) s += W2(th, i, k) * W1(e, k, j) + W2(e, i, k) * W1(th, k, j);
        dl->t[i * d + j] = s;
      }
    for (int64_t k = 0; k < p; k++)
      for (int64_t j = 0; j < d; j++) {
        double s = 0;
        for (int64_t i = 0; i < d; i++) s += W2(e, i, k) * dl->r[i * d + j] + W2(th, i, k) * dl->t[i * d + j];
        W1(h, k, j) = s;
      }
    for (int64_t i = 0; i < d; i++)
      for (int64_t k = 0; k < p; k++) {
        double s = 0;
        for (int64_t j = 0; j < d; j++) s += dl->r[i * d + j] * W1(e, k, j) + dl->t[i * d + j] * W1(th, k, j);
        W2(h, i, k) = s;
      }
  }
  return 0;
}

static void Destroy(void *ctx)
{
  DeepLinear *dl = ctx;
  free(dl->sigma);
  free(dl->subset);
  free(dl->r);
  free(dl->t);
  free(dl);
}

static const HessaPlugin plugin = {HESSA_PLUGIN_API_VERSION, "deep-linear", Create, InitialPoint, Loss, Gradient, HessianBlock, NULL, Destroy};

const HessaPlugin *hessa_plugin(void)
{
  return &plugin;
}
