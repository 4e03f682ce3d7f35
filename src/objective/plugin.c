/* Objective plugins: a user's shared library that implements hessa/plugin.h, loaded
 * with dlopen and wrapped as a HessaObjective, so that any C objective (a PDE model,
 * a custom network) gets the whole pipeline.
 *
 * The wrapper checks what hessa cannot trust blindly: the API version, the parameter
 * count, and that every value the plugin returns is finite (a NaN would otherwise pass
 * through the reductions into the spectrum silently).
 */
#include <hessa/objective.h>
#include <hessa/plugin.h>
#include <dlfcn.h>
#include <math.h>
#include <string.h>

typedef struct {
  void              *handle; /* dlopen handle */
  const HessaPlugin *api;
  void              *ctx;  /* the plugin's context */
  HessaPluginData    data; /* the shard as the plugin sees it */
  char               path[PETSC_MAX_PATH_LEN];
  char               err[512]; /* the plugin's last message */
} PluginImpl;

/* Raise "plugin '<path>' (<name>): <fn> failed: <message>" on this rank. */
static PetscErrorCode Failed(const PluginImpl *p, const char fn[], int code)
{
  PetscFunctionBegin;
  SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "plugin '%s' (%s): %s failed (returned %d)%s%s", p->path, p->api->name ? p->api->name : "unnamed", fn, code, p->err[0] ? ": " : "", p->err);
}

/* Every value a plugin hands back must be finite. */
static PetscErrorCode CheckFinite(const PluginImpl *p, const char fn[], PetscInt count, const double *v)
{
  PetscFunctionBegin;
  for (PetscInt i = 0; i < count; i++) PetscCheck(isfinite(v[i]), PETSC_COMM_SELF, PETSC_ERR_FP, "plugin '%s': %s returned a non-finite value (%g) at entry %" PetscInt_FMT " of %" PetscInt_FMT, p->path, fn, v[i], i, count);
  PetscFunctionReturn(0);
}

static PetscErrorCode PluginLoss(HessaObjective obj, const double *theta, double *loss)
{
  PluginImpl *p = (PluginImpl *)obj->impl;
  int         rc;

  PetscFunctionBegin;
  p->err[0] = 0;
  rc        = p->api->loss(p->ctx, theta, loss, p->err, sizeof p->err);
  if (rc) PetscCall(Failed(p, "loss", rc));
  PetscCall(CheckFinite(p, "loss", 1, loss));
  PetscFunctionReturn(0);
}

static PetscErrorCode PluginGradient(HessaObjective obj, const double *theta, double *loss, double *grad)
{
  PluginImpl *p = (PluginImpl *)obj->impl;
  int         rc;

  PetscFunctionBegin;
  p->err[0] = 0;
  rc        = p->api->gradient(p->ctx, theta, loss, grad, p->err, sizeof p->err);
  if (rc) PetscCall(Failed(p, "gradient", rc));
  PetscCall(CheckFinite(p, "gradient (loss)", 1, loss));
  PetscCall(CheckFinite(p, "gradient", obj->n, grad));
  PetscFunctionReturn(0);
}

static PetscErrorCode PluginHessianBlock(HessaObjective obj, const double *theta, PetscInt b, const double *V, double *HV)
{
  PluginImpl *p = (PluginImpl *)obj->impl;
  int         rc;

  PetscFunctionBegin;
  p->err[0] = 0;
  rc        = p->api->hessian_block(p->ctx, theta, (int64_t)b, V, HV, p->err, sizeof p->err);
  if (rc) PetscCall(Failed(p, "hessian_block", rc));
  PetscCall(CheckFinite(p, "hessian_block", b * obj->n, HV));
  PetscFunctionReturn(0);
}

static PetscErrorCode PluginGGNBlock(HessaObjective obj, const double *theta, PetscInt b, const double *V, double *GV)
{
  PluginImpl *p = (PluginImpl *)obj->impl;
  int         rc;

  PetscFunctionBegin;
  p->err[0] = 0;
  rc        = p->api->ggn_block(p->ctx, theta, (int64_t)b, V, GV, p->err, sizeof p->err);
  if (rc) PetscCall(Failed(p, "ggn_block", rc));
  PetscCall(CheckFinite(p, "ggn_block", b * obj->n, GV));
  PetscFunctionReturn(0);
}

static PetscErrorCode PluginDestroy(HessaObjective obj)
{
  PluginImpl *p = (PluginImpl *)obj->impl;

  PetscFunctionBegin;
  if (!p) PetscFunctionReturn(0);
  if (p->api && p->api->destroy && p->ctx) p->api->destroy(p->ctx);
  if (p->handle) dlclose(p->handle);
  PetscCall(PetscFree(p));
  obj->impl = NULL;
  PetscFunctionReturn(0);
}

/* Rank-local: open the library and check its table; faults into st. */
static void Open(PluginImpl *p, HessaStatus *st)
{
  HessaPluginEntry entry;
  void            *sym;

  p->handle = dlopen(p->path, RTLD_NOW | RTLD_LOCAL);
  if (!p->handle) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "plugin '%s': cannot load: %s", p->path, dlerror());
    return;
  }
  sym = dlsym(p->handle, HESSA_PLUGIN_SYMBOL);
  if (!sym) {
    HessaStatusSet(st, HESSA_ERR_INPUT, "plugin '%s': no symbol '%s' (a plugin exports const HessaPlugin *%s(void), see hessa/plugin.h)", p->path, HESSA_PLUGIN_SYMBOL, HESSA_PLUGIN_SYMBOL);
    return;
  }
  memcpy(&entry, &sym, sizeof entry); /* object pointer to function pointer, as POSIX allows */
  p->api = entry();
  if (!p->api)
    HessaStatusSet(st, HESSA_ERR_INPUT, "plugin '%s': %s() returned NULL", p->path, HESSA_PLUGIN_SYMBOL);
  else if (p->api->api_version != HESSA_PLUGIN_API_VERSION)
    HessaStatusSet(st, HESSA_ERR_INPUT, "plugin '%s': built for plugin API version %d, this hessa implements version %d (rebuild it against this hessa's plugin.h)", p->path, p->api->api_version, HESSA_PLUGIN_API_VERSION);
  else if (!p->api->create || !p->api->loss || !p->api->gradient || !p->api->hessian_block)
    HessaStatusSet(st, HESSA_ERR_INPUT, "plugin '%s': create, loss, gradient and hessian_block are required, found %s%s%s%s missing", p->path, p->api->create ? "" : "create ", p->api->loss ? "" : "loss ", p->api->gradient ? "" : "gradient ",
                   p->api->hessian_block ? "" : "hessian_block");
}

/* HessaPluginCreate - not collective (every rank loads the library). Loads the plugin at
 * path and builds its objective on the local shard (data NULL or without a source: one
 * sample, owned by the rank with owns_sample). options is handed to the plugin's create.
 * Output: *obj, and the plugin's starting point into *theta0 (PetscMalloc'd, length n;
 * zeros without initial_point) when theta0 is not NULL. On a fault (file, symbol,
 * version, create) st names the plugin and the reason and *obj is NULL. */
PetscErrorCode HessaPluginCreate(const char path[], const char options[], HessaData data, PetscBool owns_sample, HessaObjective *obj, double **theta0, HessaStatus *st)
{
  PluginImpl *p;
  int64_t     n  = 0;
  int         rc = 0;

  PetscFunctionBegin;
  *obj = NULL;
  if (theta0) *theta0 = NULL;
  if (st->code) PetscFunctionReturn(0);
  PetscCall(PetscNew(&p));
  PetscCall(PetscStrncpy(p->path, path ? path : "", sizeof p->path));
  if (!p->path[0])
    HessaStatusSet(st, HESSA_ERR_ARG, "-hessa_model plugin needs -hessa_plugin_file (a shared library implementing hessa/plugin.h)");
  else
    Open(p, st);
  if (!st->code) {
    HessaPluginData *d = &p->data;
    if (data && data->source != HESSA_DATA_NONE) {
      d->n_global   = data->n_global;
      d->first      = data->first;
      d->n_local    = data->n_local;
      d->n_features = data->n_features;
      d->n_classes  = data->task == HESSA_TASK_CLASSIFICATION ? data->n_classes : 0;
      d->n_targets  = data->task == HESSA_TASK_REGRESSION ? data->n_targets : 0;
      d->x          = data->x;
      d->labels     = data->labels;
      d->y          = data->y;
    } else {
      d->n_global = 1;
      d->first    = 0;
      d->n_local  = owns_sample ? 1 : 0;
    }
    rc = p->api->create(d, options ? options : "", &p->ctx, &n, p->err, sizeof p->err);
    if (rc)
      HessaStatusSet(st, HESSA_ERR_INPUT, "plugin '%s' (%s): create failed (returned %d)%s%s", p->path, p->api->name ? p->api->name : "unnamed", rc, p->err[0] ? ": " : "", p->err);
    else if (n <= 0 || n > PETSC_MAX_INT)
      HessaStatusSet(st, HESSA_ERR_INPUT, "plugin '%s': create gave %lld parameters, expected 1 .. %d", p->path, (long long)n, (int)PETSC_MAX_INT);
  }
  if (st->code) {
    if (p->api && p->api->destroy && p->ctx) p->api->destroy(p->ctx);
    if (p->handle) dlclose(p->handle);
    PetscCall(PetscFree(p));
    PetscFunctionReturn(0);
  }
  PetscCall(HessaObjectiveCreateEmpty("plugin", (PetscInt)n, obj));
  (*obj)->impl              = p;
  (*obj)->n_samples         = (PetscInt)p->data.n_global;
  (*obj)->data              = data && data->source != HESSA_DATA_NONE ? data : NULL;
  (*obj)->ops.loss          = PluginLoss;
  (*obj)->ops.gradient      = PluginGradient;
  (*obj)->ops.hessian_block = PluginHessianBlock;
  (*obj)->ops.ggn_block     = p->api->ggn_block ? PluginGGNBlock : NULL;
  (*obj)->ops.destroy       = PluginDestroy;
  PetscCall(PetscSNPrintf((*obj)->description, sizeof(*obj)->description, "plugin %s (%s), %" PetscInt_FMT " parameters", p->api->name ? p->api->name : "unnamed", p->path, (PetscInt)n));
  if (theta0) {
    PetscCall(PetscCalloc1(n, theta0));
    if (p->api->initial_point) {
      p->err[0] = 0;
      rc        = p->api->initial_point(p->ctx, *theta0, p->err, sizeof p->err);
      if (rc) HessaStatusSet(st, HESSA_ERR_INPUT, "plugin '%s': initial_point failed (returned %d)%s%s", p->path, rc, p->err[0] ? ": " : "", p->err);
      for (int64_t i = 0; i < n && !st->code; i++)
        if (!isfinite((*theta0)[i])) HessaStatusSet(st, HESSA_ERR_INPUT, "plugin '%s': initial_point gave a non-finite value at entry %lld", p->path, (long long)i);
    }
  }
  PetscFunctionReturn(0);
}
