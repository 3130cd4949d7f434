/* wrap_tensor.c - the `tensor` module: float32 tensors for Lua.
 *
 * Dimensions and indices are 1-based here (Torch7's convention) and become
 * 0-based at this boundary only.  Negative indices count from the end. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpl.h"

/* ====================================================================== */
/* Shared helpers (declared in cpl.h)                                      */
/* ====================================================================== */

int cpl_error(lua_State *L, const char *fname, const cp_err *e) {
  return luaL_error(L, "%s: %s", fname, e->msg);
}

int cpl_argerror(lua_State *L, const char *fname, int arg, const char *what,
                 const char *fmt, ...) {
  char reason[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  if (what)
    return luaL_error(L, "%s: bad argument #%d '%s': %s", fname, arg, what,
                      reason);
  return luaL_error(L, "%s: bad argument #%d: %s", fname, arg, reason);
}

lua_Integer cpl_checkint_arg(lua_State *L, int idx, int arg,
                             const char *fname, const char *what,
                             lua_Integer lo, lua_Integer hi) {
  int isnum = 0;
  lua_Integer v = lua_tointegerx(L, idx, &isnum);
  if (!isnum || lua_type(L, idx) != LUA_TNUMBER) {
    if (lua_type(L, idx) == LUA_TNUMBER)
      cpl_argerror(L, fname, arg, what, "expected a whole number, got %s",
                   lua_tostring(L, idx));
    else
      cpl_argerror(L, fname, arg, what, "expected a whole number, got %s",
                   luaL_typename(L, idx));
  }
  if (v < lo || v > hi)
    cpl_argerror(L, fname, arg, what, "%lld is out of range %lld..%lld",
                 (long long)v, (long long)lo, (long long)hi);
  return v;
}

lua_Integer cpl_checkint(lua_State *L, int idx, const char *fname,
                         const char *what, lua_Integer lo, lua_Integer hi) {
  return cpl_checkint_arg(L, idx, idx, fname, what, lo, hi);
}

int cpl_checkcoord(lua_State *L, int idx) {
  lua_Number v = luaL_checknumber(L, idx);
  if (v != v) luaL_argerror(L, idx, "coordinate is NaN");
  return (int)(v < -1e6 ? -1e6 : v > 1e6 ? 1e6 : v);
}

/* External memory pressure: the collector cannot see malloc'ed storage, so
 * once as many bytes were allocated since the last full collection as were
 * live right after it (at least 64 MiB), collect.  A loop that drops large
 * tensors thus stays near twice its working set. */
static size_t allocated_since_gc, live_after_gc;

void cpl_account(lua_State *L, size_t n) {
  allocated_since_gc += n;
  size_t threshold = (size_t)64 << 20;
  if (live_after_gc > threshold) threshold = live_after_gc;
  if (allocated_since_gc > threshold) {
    lua_gc(L, LUA_GCCOLLECT);
    allocated_since_gc = 0;
    live_after_gc = cp_tensor_live_bytes();
  }
}

/* ====================================================================== */
/* The userdata                                                            */
/* ====================================================================== */

static void tensor_free(void *t) { cp_tensor_release(t); }

static int tensor_release(lua_State *L) {
  cp_tensor *t = luaL_checkudata(L, 1, CPL_TENSOR);
  if (!cpl_release_later(t, tensor_free)) cp_tensor_release(t);
  return 0;
}

cp_tensor *cpl_newtensor(lua_State *L) {
  cp_tensor *t = lua_newuserdatauv(L, sizeof *t, 0);
  memset(t, 0, sizeof *t);
  luaL_setmetatable(L, CPL_TENSOR);
  return t;
}

void cpl_pushtensor(lua_State *L, cp_tensor *t) {
  /* Moves t's reference into a new userdata.  Prefer creating the result
   * with cpl_newtensor before the core call: if Lua cannot allocate the
   * userdata here, t's storage is lost. */
  cp_tensor *u = cpl_newtensor(L);
  *u = *t;
  memset(t, 0, sizeof *t);
  if (u->st && !cp_tensor_is_contiguous(u)) return; /* a view: no new bytes */
  if (u->st && u->st->refs == 1) cpl_account(L, u->st->cap);
}

/* The metatable is also kept in the registry under this address, so the
 * type check on every argument needs no string lookup. */
static const char tensor_mt_key = 0;

cp_tensor *cpl_totensor(lua_State *L, int idx) {
  cp_tensor *t = lua_touserdata(L, idx);
  if (t == NULL || !lua_getmetatable(L, idx)) return NULL;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &tensor_mt_key);
  if (!lua_rawequal(L, -1, -2)) t = NULL;
  lua_pop(L, 2);
  if (t && t->st == NULL) luaL_error(L, "tensor: use of a closed tensor");
  if (t) cpl_keep(L, idx); /* held until the calling function returns */
  return t;
}

cp_tensor *cpl_checktensor(lua_State *L, int idx) {
  cp_tensor *t = cpl_totensor(L, idx);
  if (t == NULL) luaL_typeerror(L, idx, "tensor");
  return t;
}

cp_tensor *cpl_checktensor_arg(lua_State *L, int idx, int arg,
                               const char *fname, const char *what) {
  cp_tensor *t = cpl_totensor(L, idx);
  if (t == NULL)
    cpl_argerror(L, fname, arg, what, "tensor expected, got %s",
                 luaL_typename(L, idx));
  return t;
}

/* The result userdata is created (empty) before the core call fills it,
 * so an error raised at any point leaves nothing to leak; this finishes:
 * raise on failure, otherwise report the new bytes and return it. */
static int finish(lua_State *L, const char *fname, int rc, cp_tensor *out,
                  const cp_err *e) {
  if (rc) return cpl_error(L, fname, e);
  if (out->st && out->st->refs == 1) cpl_account(L, out->st->cap);
  return 1;
}

/* ---- nested tables ---------------------------------------------------------- */

/* Shape of a nested table (following first elements). */
static int table_shape(lua_State *L, int idx, const char *fname, int arg,
                       const char *what, int64_t *shape) {
  int nd = 0;
  lua_pushvalue(L, idx);
  while (lua_type(L, -1) == LUA_TTABLE) {
    if (nd == CP_MAXDIM)
      cpl_argerror(L, fname, arg, what, "more than %d nesting levels",
                   CP_MAXDIM);
    shape[nd++] = (int64_t)lua_rawlen(L, -1);
    lua_rawgeti(L, -1, 1);
    lua_remove(L, -2);
  }
  lua_pop(L, 1);
  return nd;
}

static void table_fill(lua_State *L, int depth, int nd, const int64_t *shape,
                       float **p, const char *fname, int arg, const char *what,
                       char *path, size_t pathlen) {
  if (depth == nd) {
    int isnum;
    lua_Number v = lua_tonumberx(L, -1, &isnum);
    if (!isnum)
      cpl_argerror(L, fname, arg, what, "%s is %s, expected a number",
                   path[0] ? path : "value", luaL_typename(L, -1));
    *(*p)++ = (float)v;
    return;
  }
  if (lua_type(L, -1) != LUA_TTABLE)
    cpl_argerror(L, fname, arg, what,
                 "ragged nested table: %s is %s, expected a table of %lld",
                 path, luaL_typename(L, -1), (long long)shape[depth]);
  if ((int64_t)lua_rawlen(L, -1) != shape[depth])
    cpl_argerror(L, fname, arg, what,
                 "ragged nested table: %s has %lld entries, expected %lld",
                 path[0] ? path : "the table", (long long)lua_rawlen(L, -1),
                 (long long)shape[depth]);
  size_t base = strlen(path);
  for (int64_t i = 1; i <= shape[depth]; i++) {
    snprintf(path + base, pathlen - base, "[%lld]", (long long)i);
    lua_rawgeti(L, -1, (lua_Integer)i);
    table_fill(L, depth + 1, nd, shape, p, fname, arg, what, path, pathlen);
    lua_pop(L, 1);
  }
  path[base] = '\0';
}

/* Tensor from a number or nested table at idx; pushes the new userdata.
 * Errors name argument #arg of fname as `what` (NULL: "data" for the
 * contents, no name for the type). */
static cp_tensor *from_table(lua_State *L, int idx, const char *fname,
                             int arg, const char *what) {
  idx = lua_absindex(L, idx);
  cp_err e;
  cp_tensor *u = cpl_newtensor(L);
  cpl_keep(L, -1); /* held until the call returns, even if popped */
  if (lua_type(L, idx) == LUA_TNUMBER) {
    if (cp_tensor_full(u, 0, NULL, (float)lua_tonumber(L, idx), &e))
      cpl_error(L, fname, &e);
    return u;
  }
  if (lua_type(L, idx) != LUA_TTABLE)
    cpl_argerror(L, fname, arg, what,
                 "tensor, number or nested table expected, got %s",
                 luaL_typename(L, idx));
  int64_t shape[CP_MAXDIM];
  if (what == NULL) what = "data";
  int nd = table_shape(L, idx, fname, arg, what, shape);
  if (cp_tensor_empty(u, nd, shape, &e)) cpl_error(L, fname, &e);
  float *p = cp_tensor_data(u);
  char path[128] = "";
  lua_pushvalue(L, idx);
  table_fill(L, 0, nd, shape, &p, fname, arg, what, path, sizeof path);
  lua_pop(L, 1);
  cpl_account(L, u->st->cap);
  return u;
}

cp_tensor *cpl_checktensorlike(lua_State *L, int idx, const char *fname,
                                int arg, const char *what) {
  cp_tensor *t = cpl_totensor(L, idx);
  return t ? t : from_table(L, idx, fname, arg, what);
}

/* ====================================================================== */
/* Argument helpers                                                        */
/* ====================================================================== */

/* The number of the argument at stack index idx, as lauxlib counts it: a
 * method ("tensor:narrow") does not count self. */
static int argno(const char *fname, int idx) {
  return strchr(fname, ':') ? idx - 1 : idx;
}

/* Sizes given as numbers from `first` on, or as one table. */
static int check_sizes(lua_State *L, int first, const char *fname,
                       int64_t *shape) {
  int top = lua_gettop(L), nd = 0;
  if (lua_type(L, first) == LUA_TTABLE) {
    int n = (int)lua_rawlen(L, first);
    if (n > CP_MAXDIM)
      cpl_argerror(L, fname, argno(fname, first), "size",
                   "at most %d dimensions", CP_MAXDIM);
    for (int i = 1; i <= n; i++) {
      lua_rawgeti(L, first, i);
      int isnum;
      lua_Integer v = lua_tointegerx(L, -1, &isnum);
      if (!isnum || lua_type(L, -1) != LUA_TNUMBER)
        cpl_argerror(L, fname, argno(fname, first), "size",
                     "entry %d must be a whole number, got %s", i,
                     luaL_tolstring(L, -1, NULL));
      shape[nd++] = v;
      lua_pop(L, 1);
    }
    return nd;
  }
  for (int i = first; i <= top; i++) {
    if (nd == CP_MAXDIM)
      cpl_argerror(L, fname, argno(fname, i), "size", "at most %d dimensions",
                   CP_MAXDIM);
    shape[nd++] = cpl_checkint_arg(L, i, argno(fname, i), fname, "size",
                                   INT64_MIN / 8, INT64_MAX / 8);
  }
  return nd;
}

/* A 1-based (possibly negative) dimension argument -> 0-based. */
static int check_dimarg_at(lua_State *L, int idx, int arg, int ndim,
                           const char *fname, const char *what) {
  lua_Integer d = cpl_checkint_arg(L, idx, arg, fname, what, -CP_MAXDIM,
                                   CP_MAXDIM);
  if (d < 0) d += ndim + 1;
  if (d < 1 || d > ndim)
    cpl_argerror(L, fname, arg, what,
                 "dimension %lld out of range (tensor has %d dimensions)",
                 (long long)lua_tointeger(L, idx), ndim);
  return (int)d - 1;
}
static int check_dimarg(lua_State *L, int idx, int ndim, const char *fname,
                        const char *what) {
  return check_dimarg_at(L, idx, argno(fname, idx), ndim, fname, what);
}

static int64_t check_index(lua_State *L, int idx, int64_t size, int dim,
                           const char *fname) {
  lua_Integer i = cpl_checkint_arg(L, idx, argno(fname, idx), fname, "index",
                                   INT64_MIN / 2, INT64_MAX / 2);
  if (i < 0) i += size + 1;
  if (i < 1 || i > size)
    cpl_argerror(L, fname, argno(fname, idx), "index",
                 "index %lld is out of bounds for dimension %d with size %lld",
                 (long long)lua_tointeger(L, idx), dim + 1, (long long)size);
  return i - 1;
}

/* ====================================================================== */
/* Constructors                                                            */
/* ====================================================================== */

static int t_new(lua_State *L) {
  if (cpl_totensor(L, 1)) { /* tensor.new(t) copies */
    cp_err e;
    cp_tensor *out = cpl_newtensor(L);
    return finish(L, "tensor.new", cp_tensor_clone(out, cpl_totensor(L, 1), &e), out, &e);
  }
  luaL_checkany(L, 1);
  from_table(L, 1, "tensor.new", 1, NULL);
  return 1;
}

static int make_filled(lua_State *L, const char *fname, int first, float v,
                       int fill) {
  int64_t shape[CP_MAXDIM];
  int nd = check_sizes(L, first, fname, shape);
  for (int d = 0; d < nd; d++)
    if (shape[d] < 0)
      return cpl_argerror(L, fname, first, "size",
                          "negative size %lld at dimension %d",
                          (long long)shape[d], d + 1);
  cp_err e;
  cp_tensor *u = cpl_newtensor(L);
  if ((fill ? cp_tensor_full(u, nd, shape, v, &e)
            : cp_tensor_empty(u, nd, shape, &e)))
    return cpl_error(L, fname, &e);
  cpl_account(L, u->st->cap);
  return 1;
}

static int t_zeros(lua_State *L) {
  return make_filled(L, "tensor.zeros", 1, 0.0f, 1);
}
static int t_ones(lua_State *L) {
  return make_filled(L, "tensor.ones", 1, 1.0f, 1);
}
static int t_full(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  float v = (float)luaL_checknumber(L, 2);
  lua_settop(L, 1);
  return make_filled(L, "tensor.full", 1, v, 1);
}

static int t_arange(lua_State *L) {
  /* arange(n) = 0..n-1; arange(start, stop [, step]) as torch.arange */
  double start = 0, stop, step = 1;
  if (lua_gettop(L) <= 1) {
    stop = luaL_checknumber(L, 1);
  } else {
    start = luaL_checknumber(L, 1);
    stop = luaL_checknumber(L, 2);
    step = luaL_optnumber(L, 3, 1);
  }
  int one = lua_gettop(L) <= 1; /* arange(end) */
  if (!isfinite(start))
    return cpl_argerror(L, "tensor.arange", 1, "start", "must be finite, got %g",
                        start);
  if (!isfinite(stop))
    return cpl_argerror(L, "tensor.arange", one ? 1 : 2, "end",
                        "must be finite, got %g", stop);
  if (step == 0 || !isfinite(step))
    return cpl_argerror(L, "tensor.arange", 3, "step",
                        "must be finite and non-zero, got %g", step);
  if ((step > 0 && stop < start) || (step < 0 && stop > start))
    return cpl_argerror(L, "tensor.arange", one ? 1 : 2, "end",
                        "upper bound and larger bound inconsistent with step "
                        "sign (start %g, end %g, step %g)",
                        start, stop, step);
  double n = ceil((stop - start) / step);
  if (n < 0) n = 0;
  if (n > 4e9)
    return cpl_argerror(L, "tensor.arange", 1, "end", "too many elements");
  int64_t shape[1] = {(int64_t)n};
  cp_err e;
  cp_tensor *u = cpl_newtensor(L);
  if (cp_tensor_empty(u, 1, shape, &e)) return cpl_error(L, "tensor.arange", &e);
  float *p = cp_tensor_data(u);
  for (int64_t i = 0; i < shape[0]; i++) p[i] = (float)(start + i * step);
  cpl_account(L, u->st->cap);
  return 1;
}

static cp_rng *get_rng(lua_State *L) {
  static cp_rng rng;
  static int seeded;
  (void)L;
  if (!seeded) {
    cp_rng_seed(&rng, 0x5eed);
    seeded = 1;
  }
  return &rng;
}

static int t_manual_seed(lua_State *L) {
  lua_Integer s = cpl_checkint(L, 1, "tensor.manual_seed", "seed",
                               LUA_MININTEGER, LUA_MAXINTEGER);
  cp_rng_seed(get_rng(L), (uint64_t)s);
  return 0;
}

static int random_tensor(lua_State *L, const char *fname, int normal) {
  make_filled(L, fname, 1, 0, 0);
  cp_tensor *u = cpl_checktensor(L, -1);
  float *p = cp_tensor_data(u);
  int64_t n = cp_tensor_numel(u);
  cp_rng *r = get_rng(L);
  for (int64_t i = 0; i < n; i++)
    p[i] = (float)(normal ? cp_rng_normal(r) : cp_rng_uniform(r));
  return 1;
}
static int t_rand(lua_State *L) { return random_tensor(L, "tensor.rand", 0); }
static int t_randn(lua_State *L) {
  return random_tensor(L, "tensor.randn", 1);
}

static int t_cat(lua_State *L) {
  const char *fname = "tensor.cat";
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2); /* the pointer array below goes at index 3 */
  int n = (int)lua_rawlen(L, 1);
  if (n < 1)
    return cpl_argerror(L, fname, 1, "tensors", "expected a non-empty list");
  const cp_tensor **ts = lua_newuserdatauv(L, sizeof *ts * (size_t)n, 0);
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, 1, i);
    ts[i - 1] = cpl_totensor(L, -1);
    if (ts[i - 1] == NULL)
      return cpl_argerror(L, fname, 1, "tensors",
                          "entry %d is %s, expected a tensor", i,
                          luaL_typename(L, -1));
    lua_pop(L, 1); /* anchored by the list */
  }
  int dim = lua_isnoneornil(L, 2)
                ? 0
                : check_dimarg(L, 2, ts[0]->ndim, fname, "dim");
  cp_err e;
  cp_tensor *out = cpl_newtensor(L);
  return finish(L, fname,
                     cp_tensor_cat(out, n, (const cp_tensor *const *)ts, dim,
                                   &e),
                     out, &e);
}

/* ====================================================================== */
/* Methods                                                                 */
/* ====================================================================== */

static int m_shape(lua_State *L) {
  cp_tensor *t = cpl_checktensor(L, 1);
  lua_createtable(L, t->ndim, 0);
  for (int d = 0; d < t->ndim; d++) {
    lua_pushinteger(L, t->shape[d]);
    lua_rawseti(L, -2, d + 1);
  }
  return 1;
}

static int m_size(lua_State *L) { /* t:size() -> shape table; t:size(d) */
  cp_tensor *t = cpl_checktensor(L, 1);
  if (lua_isnoneornil(L, 2)) return m_shape(L);
  int d = check_dimarg(L, 2, t->ndim, "tensor:size", "dim");
  lua_pushinteger(L, t->shape[d]);
  return 1;
}

static int m_dim(lua_State *L) {
  lua_pushinteger(L, cpl_checktensor(L, 1)->ndim);
  return 1;
}

static int m_numel(lua_State *L) {
  lua_pushinteger(L, cp_tensor_numel(cpl_checktensor(L, 1)));
  return 1;
}

static int reshape(lua_State *L, const char *fname) {
  cp_tensor *t = cpl_checktensor(L, 1);
  int64_t shape[CP_MAXDIM];
  int nd = check_sizes(L, 2, fname, shape);
  cp_err e;
  cp_tensor *out = cpl_newtensor(L);
  return finish(L, fname, cp_tensor_reshape(out, t, nd, shape, &e), out, &e);
}
static int m_reshape(lua_State *L) { return reshape(L, "tensor:reshape"); }
static int m_view(lua_State *L) { return reshape(L, "tensor:view"); }

static int dims_list(lua_State *L, int first, const cp_tensor *t,
                     const char *fname, int *dims) {
  int n = 0;
  if (lua_type(L, first) == LUA_TTABLE) {
    int len = (int)lua_rawlen(L, first);
    if (len > CP_MAXDIM)
      cpl_argerror(L, fname, argno(fname, first), "dims",
                   "too many dimensions");
    for (int i = 1; i <= len; i++) {
      lua_rawgeti(L, first, i);
      dims[n++] = check_dimarg_at(L, lua_gettop(L), argno(fname, first),
                                  t->ndim, fname, "dims");
      lua_pop(L, 1);
    }
    return n;
  }
  for (int i = first; i <= lua_gettop(L); i++) {
    if (n == CP_MAXDIM)
      cpl_argerror(L, fname, argno(fname, i), "dims", "too many");
    dims[n++] = check_dimarg(L, i, t->ndim, fname, "dims");
  }
  return n;
}

static int m_permute(lua_State *L) {
  cp_tensor *t = cpl_checktensor(L, 1);
  int perm[CP_MAXDIM];
  int n = dims_list(L, 2, t, "tensor:permute", perm);
  if (n != t->ndim)
    return cpl_argerror(L, "tensor:permute", 1, "dims",
                        "expected %d dimensions, got %d", t->ndim, n);
  cp_err e;
  cp_tensor *out = cpl_newtensor(L);
  return finish(L, "tensor:permute", cp_tensor_permute(out, t, perm, &e),
                     out, &e);
}

static int m_transpose(lua_State *L) {
  cp_tensor *t = cpl_checktensor(L, 1);
  int a = check_dimarg(L, 2, t->ndim, "tensor:transpose", "dim0");
  int b = check_dimarg(L, 3, t->ndim, "tensor:transpose", "dim1");
  cp_err e;
  cp_tensor *out = cpl_newtensor(L);
  return finish(L, "tensor:transpose",
                     cp_tensor_transpose(out, t, a, b, &e), out, &e);
}

static int m_flip(lua_State *L) {
  cp_tensor *t = cpl_checktensor(L, 1);
  int dims[CP_MAXDIM];
  int n = dims_list(L, 2, t, "tensor:flip", dims);
  cp_err e;
  cp_tensor *out = cpl_newtensor(L);
  return finish(L, "tensor:flip", cp_tensor_flip(out, t, n, dims, &e),
                     out, &e);
}

static int m_narrow(lua_State *L) {
  cp_tensor *t = cpl_checktensor(L, 1);
  int d = check_dimarg(L, 2, t->ndim, "tensor:narrow", "dim");
  int64_t start = check_index(L, 3, t->shape[d], d, "tensor:narrow");
  lua_Integer len = cpl_checkint_arg(L, 4, 3, "tensor:narrow", "length", 0,
                                 t->shape[d] - start);
  cp_err e;
  cp_tensor *out = cpl_newtensor(L);
  return finish(L, "tensor:narrow",
                     cp_tensor_narrow(out, t, d, start, len, &e), out, &e);
}

static int m_unsqueeze(lua_State *L) {
  cp_tensor *t = cpl_checktensor(L, 1);
  lua_Integer d = cpl_checkint_arg(L, 2, 1, "tensor:unsqueeze", "dim", 1,
                               t->ndim + 1);
  cp_err e;
  cp_tensor *out = cpl_newtensor(L);
  return finish(L, "tensor:unsqueeze",
                     cp_tensor_unsqueeze(out, t, (int)d - 1, &e), out, &e);
}

static int m_squeeze(lua_State *L) {
  cp_tensor *t = cpl_checktensor(L, 1);
  cp_err e;
  if (!lua_isnoneornil(L, 2)) {
    int d = check_dimarg(L, 2, t->ndim, "tensor:squeeze", "dim");
    cp_tensor *out = cpl_newtensor(L);
    return finish(L, "tensor:squeeze", cp_tensor_squeeze(out, t, d, &e), out,
                  &e);
  }
  int64_t shape[CP_MAXDIM];
  int nd = 0;
  for (int d = 0; d < t->ndim; d++)
    if (t->shape[d] != 1) shape[nd++] = t->shape[d];
  cp_tensor *out = cpl_newtensor(L);
  return finish(L, "tensor:squeeze", cp_tensor_reshape(out, t, nd, shape, &e),
                out, &e);
}

static float *element(lua_State *L, cp_tensor *t, int first, int count,
                      const char *fname) {
  if (count != t->ndim)
    cpl_argerror(L, fname, argno(fname, first), "index",
                 "expected %d indices for a %d-D tensor, got %d", t->ndim,
                 t->ndim, count);
  int64_t idx[CP_MAXDIM];
  for (int d = 0; d < t->ndim; d++)
    idx[d] = check_index(L, first + d, t->shape[d], d, fname);
  return cp_tensor_ptr(t, idx);
}

static int m_get(lua_State *L) {
  cp_tensor *t = cpl_checktensor(L, 1);
  lua_pushnumber(L, *element(L, t, 2, lua_gettop(L) - 1, "tensor:get"));
  return 1;
}

static int m_set(lua_State *L) {
  cp_tensor *t = cpl_checktensor(L, 1);
  int top = lua_gettop(L);
  if (top < 2)
    return cpl_argerror(L, "tensor:set", 1, "value", "expected a value");
  float v = (float)luaL_checknumber(L, top);
  *element(L, t, 2, top - 2, "tensor:set") = v;
  lua_settop(L, 1);
  return 1;
}

static int m_clone(lua_State *L) {
  cp_err e;
  cp_tensor *out = cpl_newtensor(L);
  return finish(L, "tensor:clone",
                     cp_tensor_clone(out, cpl_checktensor(L, 1), &e), out,
                     &e);
}

static int m_contiguous(lua_State *L) {
  cp_tensor *t = cpl_checktensor(L, 1);
  if (cp_tensor_is_contiguous(t)) {
    lua_settop(L, 1);
    return 1;
  }
  return m_clone(L);
}

static void push_table(lua_State *L, const cp_tensor *t, int d, int64_t off) {
  if (d == t->ndim) {
    lua_pushnumber(L, t->st->data[off]);
    return;
  }
  luaL_checkstack(L, 4, "tensor too deep");
  lua_createtable(L, (int)t->shape[d], 0);
  for (int64_t i = 0; i < t->shape[d]; i++) {
    push_table(L, t, d + 1, off + i * t->stride[d]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

static int m_totable(lua_State *L) {
  cp_tensor *t = cpl_checktensor(L, 1);
  push_table(L, t, 0, t->offset);
  return 1;
}

static int m_item(lua_State *L) {
  cp_tensor *t = cpl_checktensor(L, 1);
  if (cp_tensor_numel(t) != 1)
    return cpl_argerror(L, "tensor:item", 1, "self",
                        "a tensor with %lld elements cannot be converted to "
                        "a number",
                        (long long)cp_tensor_numel(t));
  int64_t idx[CP_MAXDIM] = {0};
  lua_pushnumber(L, *cp_tensor_ptr(t, idx));
  return 1;
}

static int m_sum(lua_State *L) {
  lua_pushnumber(L, (float)cp_tensor_sum(cpl_checktensor(L, 1)));
  return 1;
}

static int m_mean(lua_State *L) {
  cp_tensor *t = cpl_checktensor(L, 1);
  int64_t n = cp_tensor_numel(t);
  lua_pushnumber(L, n ? (float)(cp_tensor_sum(t) / (double)n) : NAN);
  return 1;
}

static int minmax(lua_State *L, int max) {
  cp_tensor *t = cpl_checktensor(L, 1);
  if (cp_tensor_numel(t) == 0)
    return cpl_argerror(L, max ? "tensor:max" : "tensor:min", 1, "self",
                        "the tensor is empty");
  lua_pushnumber(L, max ? cp_tensor_max(t) : cp_tensor_min(t));
  return 1;
}
static int m_min(lua_State *L) { return minmax(L, 0); }
static int m_max(lua_State *L) { return minmax(L, 1); }

static int m_fill(lua_State *L) {
  cp_tensor *t = cpl_checktensor(L, 1);
  cp_tensor_fill(t, (float)luaL_checknumber(L, 2));
  lua_settop(L, 1);
  return 1;
}

/* Elementwise map in a fresh tensor. */
static int map_op(lua_State *L, const char *fname, float (*f)(float, float, float),
                  float a, float b) {
  cp_err e;
  cp_tensor *out = cpl_newtensor(L);
  if (cp_tensor_clone(out, cpl_checktensor(L, 1), &e))
    return cpl_error(L, fname, &e);
  float *p = cp_tensor_data(out);
  int64_t n = cp_tensor_numel(out);
  for (int64_t i = 0; i < n; i++) p[i] = f(p[i], a, b);
  return finish(L, fname, 0, out, NULL);
}
static float f_abs(float x, float a, float b) { (void)a, (void)b; return fabsf(x); }
static float f_sqrt(float x, float a, float b) { (void)a, (void)b; return sqrtf(x); }
static float f_clamp(float x, float lo, float hi) {
  return isnan(x) ? x : x < lo ? lo : x > hi ? hi : x;
}
static int m_abs(lua_State *L) { return map_op(L, "tensor:abs", f_abs, 0, 0); }
static int m_sqrt(lua_State *L) { return map_op(L, "tensor:sqrt", f_sqrt, 0, 0); }
static int m_clamp(lua_State *L) {
  float lo = (float)luaL_optnumber(L, 2, -INFINITY);
  float hi = (float)luaL_optnumber(L, 3, INFINITY);
  return map_op(L, "tensor:clamp", f_clamp, lo, hi);
}

/* ---- arithmetic with broadcasting -------------------------------------------- */

static const char *const binop_names[] = {"add", "sub", "mul", "div"};

static int arith(lua_State *L, cp_binop op) {
  char fname[32];
  snprintf(fname, sizeof fname, "tensor:%s", binop_names[op]);
  cp_tensor *a = cpl_totensor(L, 1), *b = cpl_totensor(L, 2);
  if (a && !b && lua_type(L, 2) == LUA_TTABLE) /* nested table: convert */
    b = from_table(L, 2, fname, 1, "other");
  cp_err e;
  cp_tensor *out = cpl_newtensor(L);
  int rc;
  if (a && b) {
    rc = cp_tensor_binop(out, a, b, op, &e);
  } else if (a) {
    {
      int isnum;
      lua_Number s = lua_tonumberx(L, 2, &isnum);
      if (!isnum)
        return cpl_argerror(L, fname, 1, "other",
                            "tensor or number expected, got %s",
                            luaL_typename(L, 2));
      rc = cp_tensor_binop_scalar(out, a, (float)s, op, 0, &e);
    }
  } else if (b) {
    int isnum;
    lua_Number s = lua_tonumberx(L, 1, &isnum);
    if (!isnum)
      return cpl_argerror(L, fname, 1, "self",
                          "tensor or number expected, got %s",
                          luaL_typename(L, 1));
    rc = cp_tensor_binop_scalar(out, b, (float)s, op, 1, &e);
  } else {
    return luaL_typeerror(L, 1, "tensor");
  }
  return finish(L, fname, rc, out, &e);
}
static int m_add(lua_State *L) { return arith(L, CP_ADD); }
static int m_sub(lua_State *L) { return arith(L, CP_SUB); }
static int m_mul(lua_State *L) { return arith(L, CP_MUL); }
static int m_div(lua_State *L) { return arith(L, CP_DIV); }

static int m_unm(lua_State *L) {
  cp_err e;
  cp_tensor *out = cpl_newtensor(L);
  return finish(L, "tensor:neg",
                     cp_tensor_binop_scalar(out, cpl_checktensor(L, 1), -1.0f,
                                            CP_MUL, 0, &e),
                     out, &e);
}

static int m_len(lua_State *L) {
  cp_tensor *t = cpl_checktensor(L, 1);
  lua_pushinteger(L, t->ndim ? t->shape[0] : 0);
  return 1;
}

static int m_eq(lua_State *L) { /* same shape and same values */
  cp_tensor *a = cpl_totensor(L, 1), *b = cpl_totensor(L, 2);
  int same = a && b && cp_tensor_same_shape(a, b);
  if (same) {
    /* Element by element (not a difference: Inf - Inf is NaN), NaN never
     * equal, as torch.equal. */
    int64_t idx[CP_MAXDIM] = {0}, n = cp_tensor_numel(a);
    for (int64_t i = 0; i < n && same; i++) {
      same = *cp_tensor_ptr(a, idx) == *cp_tensor_ptr(b, idx);
      for (int d = a->ndim - 1; d >= 0; d--) {
        if (++idx[d] < a->shape[d]) break;
        idx[d] = 0;
      }
    }
  }
  lua_pushboolean(L, same);
  return 1;
}

/* ---- printing in PyTorch's layout ------------------------------------------- */

typedef struct { luaL_Buffer *b; int width, mode, ndim; } fmt_ctx;

static void fmt_value(fmt_ctx *c, float v, char *out, size_t n) {
  if (isnan(v)) snprintf(out, n, "nan");
  else if (isinf(v)) snprintf(out, n, v > 0 ? "inf" : "-inf");
  else if (c->mode == 0) snprintf(out, n, "%.0f.", v);
  else if (c->mode == 1) snprintf(out, n, "%.4f", v);
  else snprintf(out, n, "%.4e", v);
}

static void fmt_rec(fmt_ctx *c, const cp_tensor *t, int d, int64_t off) {
  char s[64];
  if (d == t->ndim) {
    fmt_value(c, t->st->data[off], s, sizeof s);
    char pad[80];
    snprintf(pad, sizeof pad, "%*s", c->width, s);
    luaL_addstring(c->b, pad);
    return;
  }
  luaL_addchar(c->b, '[');
  int64_t n = t->shape[d];
  int summarize = cp_tensor_numel(t) > 1000 && n > 6;
  for (int64_t i = 0; i < n; i++) {
    if (summarize && i == 3) {
      luaL_addstring(c->b, d == t->ndim - 1 ? "..., " : "...,\n");
      if (d != t->ndim - 1)
        for (int k = 0; k < 8 + d; k++) luaL_addchar(c->b, ' ');
      i = n - 3;
    }
    fmt_rec(c, t, d + 1, off + i * t->stride[d]);
    if (i + 1 < n) {
      luaL_addchar(c->b, ',');
      if (d == t->ndim - 1) {
        luaL_addchar(c->b, ' ');
      } else {
        for (int k = 0; k < t->ndim - 1 - d; k++) luaL_addchar(c->b, '\n');
        for (int k = 0; k < 8 + d; k++) luaL_addchar(c->b, ' ');
      }
    }
  }
  luaL_addchar(c->b, ']');
}

struct scan { int all_int; float maxabs, minabs; };
static void scan_fn(float *p, int64_t i, void *ud) {
  struct scan *s = ud;
  float v = *p;
  (void)i;
  if (!isfinite(v)) return;
  if (v != floorf(v)) s->all_int = 0;
  float a = fabsf(v);
  if (a > s->maxabs) s->maxabs = a;
  if (a > 0 && (s->minabs == 0 || a < s->minabs)) s->minabs = a;
}

static int m_tostring(lua_State *L) {
  cp_tensor *t = luaL_checkudata(L, 1, CPL_TENSOR);
  if (t->st == NULL) {
    lua_pushstring(L, "tensor(closed)");
    return 1;
  }
  struct scan s = {1, 0, 0};
  cp_tensor_foreach(t, scan_fn, &s);
  fmt_ctx c;
  c.mode = s.all_int && s.maxabs < 1e8f ? 0
           : (s.maxabs >= 1e8f || (s.minabs > 0 && s.minabs < 1e-4f)) ? 2
                                                                     : 1;
  /* Width: the widest formatted value. */
  c.width = 1;
  int64_t n = cp_tensor_numel(t);
  int64_t idx[CP_MAXDIM] = {0};
  for (int64_t i = 0; i < n; i++) {
    char v[64];
    fmt_value(&c, *cp_tensor_ptr(t, idx), v, sizeof v);
    int w = (int)strlen(v);
    if (w > c.width) c.width = w;
    for (int d = t->ndim - 1; d >= 0; d--) {
      if (++idx[d] < t->shape[d]) break;
      idx[d] = 0;
    }
    if (i > 200000) break; /* enough to size the columns */
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  c.b = &b;
  luaL_addstring(&b, "tensor(");
  if (n == 0) {
    luaL_addstring(&b, "[]");
  } else {
    fmt_rec(&c, t, 0, t->offset);
  }
  char shape[160];
  luaL_addstring(&b, ")\n[float32 tensor of shape (");
  for (int d = 0; d < t->ndim; d++) {
    snprintf(shape, sizeof shape, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
    luaL_addstring(&b, shape);
  }
  luaL_addstring(&b, t->ndim == 1 ? ",)]" : ")]");
  luaL_pushresult(&b);
  return 1;
}

static int t_istensor(lua_State *L) {
  lua_pushboolean(L, luaL_testudata(L, 1, CPL_TENSOR) != NULL);
  return 1;
}

static const luaL_Reg tensor_methods[] = {
    {"shape", m_shape},         {"size", m_size},
    {"dim", m_dim},             {"numel", m_numel},
    {"reshape", m_reshape},     {"view", m_view},   
    {"permute", m_permute},     {"transpose", m_transpose},
    {"flip", m_flip},           {"narrow", m_narrow},
    {"squeeze", m_squeeze},     {"unsqueeze", m_unsqueeze},
    {"get", m_get},             {"set", m_set},
    {"clone", m_clone},         {"contiguous", m_contiguous},
    {"totable", m_totable},     {"item", m_item},
    {"sum", m_sum},             {"mean", m_mean},
    {"min", m_min},             {"max", m_max},
    {"fill", m_fill},           {"abs", m_abs},
    {"sqrt", m_sqrt},           {"clamp", m_clamp},
    {"add", m_add},             {"sub", m_sub},
    {"mul", m_mul},             {"div", m_div},
    {"neg", m_unm},             {"equal", m_eq},
    {"matmul", cpl_tensor_matmul_method},
    {NULL, NULL}};

static const luaL_Reg tensor_meta[] = {
    {"__gc", tensor_release},  {"__close", tensor_release},
    {"__tostring", m_tostring}, {"__add", m_add},
    {"__sub", m_sub},          {"__mul", m_mul},
    {"__div", m_div},          {"__unm", m_unm},
    {"__len", m_len},          {"__index", NULL},
    {NULL, NULL}};

static const luaL_Reg tensor_funcs[] = {
    {"new", t_new},       {"arange", t_arange},
    {"zeros", t_zeros},   {"ones", t_ones},
    {"full", t_full},     {"rand", t_rand},
    {"randn", t_randn},   {"manual_seed", t_manual_seed},
    {"cat", t_cat},       {"istensor", t_istensor},
    {"matmul", cpl_tensor_matmul},
    {NULL, NULL}};

int luaopen_tensor(lua_State *L) {
  luaL_newmetatable(L, CPL_TENSOR);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &tensor_mt_key);
  cpl_setfuncs(L, tensor_meta);
  cpl_newlib(L, tensor_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  cpl_newlib(L, tensor_funcs);
  return 1;
}
