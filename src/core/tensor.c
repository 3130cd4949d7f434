/* tensor.c - storage, views, copies and elementwise arithmetic. */
#include "tensor.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ====================================================================== */
/* Storage pool                                                            */
/* ====================================================================== */

/* Freed blocks of at least POOL_MIN bytes are kept (up to POOL_SLOTS of them,
 * POOL_MAX_BYTES in all) and handed to the next request they fit without
 * wasting more than half: a loop that makes and drops same-sized outputs
 * then touches warm pages instead of faulting in fresh ones. */
#define POOL_SLOTS 8
#define POOL_MIN ((size_t)64 << 10)
#define POOL_MAX_BYTES ((size_t)256 << 20)

static struct {
  pthread_mutex_t lock;
  void *block[POOL_SLOTS];    /* cached free blocks (NULL = empty slot) */
  size_t cap[POOL_SLOTS];     /* their sizes in bytes */
  size_t pooled;              /* bytes held in the pool */
  size_t live;                /* bytes held by live storages */
  size_t limit;               /* largest single allocation */
} pool = {PTHREAD_MUTEX_INITIALIZER, {0}, {0}, 0, 0, (size_t)8 << 30};

void cp_tensor_set_limit(size_t bytes) { pool.limit = bytes; }
size_t cp_tensor_limit(void) { return pool.limit; }

size_t cp_tensor_live_bytes(void) {
  pthread_mutex_lock(&pool.lock);
  size_t n = pool.live;
  pthread_mutex_unlock(&pool.lock);
  return n;
}

void cp_tensor_trim_pool(void) {
  pthread_mutex_lock(&pool.lock);
  for (int i = 0; i < POOL_SLOTS; i++) {
    free(pool.block[i]);
    pool.block[i] = NULL;
    pool.cap[i] = 0;
  }
  pool.pooled = 0;
  pthread_mutex_unlock(&pool.lock);
}

static void *block_get(size_t bytes, size_t *cap) {
  void *p = NULL;
  pthread_mutex_lock(&pool.lock);
  if (bytes >= POOL_MIN) {
    int best = -1;
    for (int i = 0; i < POOL_SLOTS; i++)
      if (pool.block[i] && pool.cap[i] >= bytes && pool.cap[i] / 2 <= bytes &&
          (best < 0 || pool.cap[i] < pool.cap[best]))
        best = i;
    if (best >= 0) {
      p = pool.block[best];
      *cap = pool.cap[best];
      pool.pooled -= pool.cap[best];
      pool.block[best] = NULL;
      pool.cap[best] = 0;
    }
  }
  if (p == NULL) {
    size_t rounded = (bytes + 63) & ~(size_t)63;
    if (rounded == 0) rounded = 64;
    if (posix_memalign(&p, 64, rounded) != 0) p = NULL;
    *cap = rounded;
  }
  if (p) pool.live += *cap;
  pthread_mutex_unlock(&pool.lock);
  return p;
}

static void block_put(void *p, size_t cap) {
  pthread_mutex_lock(&pool.lock);
  pool.live -= cap;
  if (cap >= POOL_MIN && cap <= POOL_MAX_BYTES) {
    /* Evict the smallest cached blocks until this one fits. */
    while (pool.pooled + cap > POOL_MAX_BYTES) {
      int small = -1;
      for (int i = 0; i < POOL_SLOTS; i++)
        if (pool.block[i] && (small < 0 || pool.cap[i] < pool.cap[small]))
          small = i;
      if (small < 0) break;
      free(pool.block[small]);
      pool.pooled -= pool.cap[small];
      pool.block[small] = NULL;
      pool.cap[small] = 0;
    }
    int slot = -1;
    for (int i = 0; i < POOL_SLOTS && slot < 0; i++)
      if (pool.block[i] == NULL) slot = i;
    if (slot < 0) { /* full: replace the smallest if this one is larger */
      int small = 0;
      for (int i = 1; i < POOL_SLOTS; i++)
        if (pool.cap[i] < pool.cap[small]) small = i;
      if (pool.cap[small] < cap) {
        free(pool.block[small]);
        pool.pooled -= pool.cap[small];
        slot = small;
      }
    }
    if (slot >= 0) {
      pool.block[slot] = p;
      pool.cap[slot] = cap;
      pool.pooled += cap;
      p = NULL;
    }
  }
  pthread_mutex_unlock(&pool.lock);
  free(p);
}

/* ====================================================================== */
/* Creation and lifetime                                                   */
/* ====================================================================== */

static void set_contiguous_strides(cp_tensor *t) {
  int64_t s = 1;
  for (int d = t->ndim - 1; d >= 0; d--) {
    t->stride[d] = s;
    s *= t->shape[d] > 0 ? t->shape[d] : 1;
  }
}

const char *cp_shape_str(int ndim, const int64_t *shape, char *buf,
                         size_t n) {
  size_t used = 0;
  used += (size_t)snprintf(buf, n, "[");
  for (int d = 0; d < ndim && used < n; d++)
    used += (size_t)snprintf(buf + used, n - used, "%s%lld", d ? ", " : "",
                             (long long)shape[d]);
  if (used < n) snprintf(buf + used, n - used, "]");
  return buf;
}

int cp_tensor_empty(cp_tensor *out, int ndim, const int64_t *shape,
                    cp_err *e) {
  memset(out, 0, sizeof *out);
  if (ndim < 0 || ndim > CP_MAXDIM)
    return cp_fail(e, "shape: %d dimensions (at most %d are supported)", ndim,
                   CP_MAXDIM);
  /* n: the element count; m: the same without the zero sizes, which
   * bounds the strides (an empty (0, 2^62, 4) tensor has no elements but
   * its strides would overflow) */
  uint64_t n = 1, m = 1;
  for (int d = 0; d < ndim; d++) {
    if (shape[d] < 0)
      return cp_fail(e, "shape: negative size %lld at dimension %d",
                     (long long)shape[d], d + 1);
    if (shape[d] > 0 && m > (UINT64_MAX / 8) / (uint64_t)shape[d])
      return cp_fail(e, "shape: the element count overflows");
    n *= (uint64_t)shape[d];
    if (shape[d] > 0) m *= (uint64_t)shape[d];
  }
  if (n * sizeof(float) > pool.limit) {
    char b[160];
    return cp_fail(e,
                   "shape: %s needs %.1f GiB, more than the %.1f GiB limit",
                   cp_shape_str(ndim, shape, b, sizeof b),
                   (double)n * 4 / (1 << 30), (double)pool.limit / (1 << 30));
  }
  size_t bytes = (size_t)n * sizeof(float), cap = 0;
  cp_storage *st;
  if (bytes < POOL_MIN) {
    /* Small: header and data in one malloc'ed block (one plain malloc per
     * tensor matters when a script makes millions of tiny ones; kernels
     * use unaligned loads, so 16-byte alignment is enough here). */
    const size_t hdr = (sizeof(cp_storage) + 15) & ~(size_t)15;
    cap = bytes;
    st = malloc(hdr + cap);
    if (st == NULL) return cp_fail(e, "out of memory");
    st->data = (float *)((char *)st + hdr);
    st->inline_data = 1;
  } else {
    st = malloc(sizeof *st);
    if (st == NULL) return cp_fail(e, "out of memory");
    st->data = block_get(bytes, &cap);
    if (st->data == NULL) {
      free(st);
      return cp_fail(e, "out of memory allocating %.1f MiB",
                     (double)n * 4 / (1 << 20));
    }
    st->inline_data = 0;
  }
  st->n = (size_t)n;
  st->cap = cap;
  st->refs = 1;
  out->st = st;
  out->offset = 0;
  out->ndim = ndim;
  for (int d = 0; d < ndim; d++) out->shape[d] = shape[d];
  set_contiguous_strides(out);
  return 0;
}

int cp_tensor_zeros(cp_tensor *out, int ndim, const int64_t *shape,
                    cp_err *e) {
  return cp_tensor_full(out, ndim, shape, 0.0f, e);
}

int cp_tensor_full(cp_tensor *out, int ndim, const int64_t *shape, float v,
                   cp_err *e) {
  if (cp_tensor_empty(out, ndim, shape, e)) return -1;
  float *p = cp_tensor_data(out);
  int64_t n = cp_tensor_numel(out);
  if (v == 0.0f && !signbit(v))
    memset(p, 0, (size_t)n * sizeof(float));
  else
    for (int64_t i = 0; i < n; i++) p[i] = v;
  return 0;
}

int cp_tensor_empty4(cp_tensor *out, int64_t a, int64_t b, int64_t c,
                     int64_t d, cp_err *e) {
  int64_t s[4] = {a, b, c, d};
  return cp_tensor_empty(out, 4, s, e);
}

void cp_tensor_release(cp_tensor *t) {
  cp_storage *st = t->st;
  t->st = NULL;
  if (st == NULL) return;
  /* Storages are shared by views; the lab's worker thread may release its
   * own tensors concurrently, so the count is changed atomically. */
  if (__atomic_sub_fetch(&st->refs, 1, __ATOMIC_ACQ_REL) == 0) {
    if (!st->inline_data) block_put(st->data, st->cap);
    free(st);
  }
}

void cp_tensor_share(cp_tensor *out, const cp_tensor *t) {
  *out = *t;
  if (t->st) __atomic_add_fetch(&t->st->refs, 1, __ATOMIC_ACQ_REL);
}

/* ====================================================================== */
/* Inspection                                                              */
/* ====================================================================== */

int64_t cp_tensor_numel(const cp_tensor *t) {
  int64_t n = 1;
  for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
  return n;
}

int cp_tensor_is_contiguous(const cp_tensor *t) {
  /* An empty tensor is contiguous whatever its strides (as in PyTorch);
   * otherwise a fresh (2, 0, 3) tensor would not be, and reshape would
   * clone it forever. */
  if (cp_tensor_numel(t) == 0) return 1;
  int64_t s = 1;
  for (int d = t->ndim - 1; d >= 0; d--) {
    if (t->shape[d] != 1 && t->stride[d] != s) return 0;
    s *= t->shape[d];
  }
  return 1;
}

float *cp_tensor_ptr(const cp_tensor *t, const int64_t *idx) {
  int64_t off = t->offset;
  for (int d = 0; d < t->ndim; d++) off += idx[d] * t->stride[d];
  return t->st->data + off;
}

int cp_tensor_same_shape(const cp_tensor *a, const cp_tensor *b) {
  if (a->ndim != b->ndim) return 0;
  for (int d = 0; d < a->ndim; d++)
    if (a->shape[d] != b->shape[d]) return 0;
  return 1;
}

void cp_tensor_foreach(const cp_tensor *t,
                       void (*fn)(float *p, int64_t i, void *ud), void *ud) {
  int64_t n = cp_tensor_numel(t);
  if (n == 0) return;
  if (cp_tensor_is_contiguous(t)) {
    float *p = cp_tensor_data(t);
    for (int64_t i = 0; i < n; i++) fn(p + i, i, ud);
    return;
  }
  int64_t idx[CP_MAXDIM] = {0};
  int64_t off = t->offset;
  for (int64_t i = 0; i < n; i++) {
    fn(t->st->data + off, i, ud);
    for (int d = t->ndim - 1; d >= 0; d--) {
      idx[d]++;
      off += t->stride[d];
      if (idx[d] < t->shape[d]) break;
      off -= idx[d] * t->stride[d];
      idx[d] = 0;
    }
  }
}

/* ====================================================================== */
/* Views                                                                   */
/* ====================================================================== */

static int check_dim(int dim, int ndim, const char *what, cp_err *e) {
  if (dim < 0 || dim >= ndim)
    return cp_fail(e, "%s: dimension %d out of range (tensor has %d)", what,
                   dim + 1, ndim);
  return 0;
}

/* Can t be viewed with the new shape without copying?  Fills strides. */
static int view_strides(const cp_tensor *t, int ndim, const int64_t *shape,
                        int64_t *stride) {
  if (cp_tensor_is_contiguous(t)) {
    int64_t s = 1;
    for (int d = ndim - 1; d >= 0; d--) {
      stride[d] = s;
      s *= shape[d] > 0 ? shape[d] : 1;
    }
    return 1;
  }
  return 0;
}

int cp_tensor_reshape(cp_tensor *out, const cp_tensor *t, int ndim,
                      const int64_t *shape_in, cp_err *e) {
  memset(out, 0, sizeof *out);
  if (ndim < 0 || ndim > CP_MAXDIM)
    return cp_fail(e, "shape: %d dimensions (at most %d are supported)", ndim,
                   CP_MAXDIM);
  int64_t shape[CP_MAXDIM];
  int infer = -1;
  /* known: the product of the given sizes; nonzero: the same without the
   * zeros, which bounds the strides of an empty result */
  int64_t known = 1, nonzero = 1;
  for (int d = 0; d < ndim; d++) {
    shape[d] = shape_in[d];
    if (shape[d] == -1) {
      if (infer >= 0) return cp_fail(e, "shape: only one dimension can be -1");
      infer = d;
    } else if (shape[d] < 0) {
      return cp_fail(e, "shape: invalid size %lld at dimension %d",
                     (long long)shape[d], d + 1);
    } else if (shape[d] > 0) {
      if (nonzero > INT64_MAX / shape[d])
        return cp_fail(e, "shape: the element count overflows");
      nonzero *= shape[d];
      known *= shape[d];
    } else {
      known = 0;
    }
  }
  int64_t n = cp_tensor_numel(t);
  char b1[160];
  if (infer >= 0) {
    if (known == 0 || n % known != 0)
      return cp_fail(e, "shape '%s' is invalid for input of size %lld",
                     cp_shape_str(ndim, shape_in, b1, sizeof b1),
                     (long long)n);
    shape[infer] = n / known;
  } else if (known != n) {
    return cp_fail(e, "shape '%s' is invalid for input of size %lld",
                   cp_shape_str(ndim, shape, b1, sizeof b1), (long long)n);
  }
  int64_t stride[CP_MAXDIM];
  if (view_strides(t, ndim, shape, stride)) {
    cp_tensor_share(out, t);
    out->ndim = ndim;
    for (int d = 0; d < ndim; d++) {
      out->shape[d] = shape[d];
      out->stride[d] = stride[d];
    }
    return 0;
  }
  cp_tensor tmp;
  if (cp_tensor_clone(&tmp, t, e)) return -1;
  int rc = cp_tensor_reshape(out, &tmp, ndim, shape, e);
  cp_tensor_release(&tmp);
  return rc;
}

int cp_tensor_permute(cp_tensor *out, const cp_tensor *t, const int *perm,
                      cp_err *e) {
  memset(out, 0, sizeof *out);
  int seen[CP_MAXDIM] = {0};
  for (int d = 0; d < t->ndim; d++) {
    if (perm[d] < 0 || perm[d] >= t->ndim)
      return cp_fail(e, "dims: dimension %d out of range (tensor has %d)",
                     perm[d] + 1, t->ndim);
    if (seen[perm[d]]++)
      return cp_fail(e, "dims: dimension %d repeats", perm[d] + 1);
  }
  cp_tensor_share(out, t);
  for (int d = 0; d < t->ndim; d++) {
    out->shape[d] = t->shape[perm[d]];
    out->stride[d] = t->stride[perm[d]];
  }
  return 0;
}

int cp_tensor_transpose(cp_tensor *out, const cp_tensor *t, int a, int b,
                        cp_err *e) {
  memset(out, 0, sizeof *out);
  if (check_dim(a, t->ndim, "dim0", e) || check_dim(b, t->ndim, "dim1", e))
    return -1;
  int perm[CP_MAXDIM];
  for (int d = 0; d < t->ndim; d++) perm[d] = d;
  perm[a] = b;
  perm[b] = a;
  return cp_tensor_permute(out, t, perm, e);
}

int cp_tensor_narrow(cp_tensor *out, const cp_tensor *t, int dim,
                     int64_t start, int64_t len, cp_err *e) {
  memset(out, 0, sizeof *out);
  if (check_dim(dim, t->ndim, "dim", e)) return -1;
  if (start < 0 || len < 0 || start > t->shape[dim] ||
      len > t->shape[dim] - start)
    return cp_fail(e,
                   "range: start %lld length %lld exceeds dimension %d of "
                   "size %lld",
                   (long long)start + 1, (long long)len, dim + 1,
                   (long long)t->shape[dim]);
  cp_tensor_share(out, t);
  out->offset += start * t->stride[dim];
  out->shape[dim] = len;
  return 0;
}

int cp_tensor_unsqueeze(cp_tensor *out, const cp_tensor *t, int dim,
                        cp_err *e) {
  memset(out, 0, sizeof *out);
  if (dim < 0 || dim > t->ndim)
    return cp_fail(e, "dim: dimension %d out of range", dim + 1);
  if (t->ndim >= CP_MAXDIM)
    return cp_fail(e, "dim: at most %d dimensions are supported", CP_MAXDIM);
  cp_tensor_share(out, t);
  for (int d = t->ndim; d > dim; d--) {
    out->shape[d] = t->shape[d - 1];
    out->stride[d] = t->stride[d - 1];
  }
  out->shape[dim] = 1;
  out->stride[dim] = dim < t->ndim ? t->shape[dim] * t->stride[dim] : 1;
  out->ndim = t->ndim + 1;
  return 0;
}

int cp_tensor_squeeze(cp_tensor *out, const cp_tensor *t, int dim,
                      cp_err *e) {
  memset(out, 0, sizeof *out);
  if (check_dim(dim, t->ndim, "dim", e)) return -1;
  if (t->shape[dim] != 1)
    return cp_fail(e, "dim: dimension %d has size %lld, not 1", dim + 1,
                   (long long)t->shape[dim]);
  cp_tensor_share(out, t);
  for (int d = dim; d + 1 < t->ndim; d++) {
    out->shape[d] = t->shape[d + 1];
    out->stride[d] = t->stride[d + 1];
  }
  out->ndim = t->ndim - 1;
  return 0;
}

/* ====================================================================== */
/* Copies                                                                  */
/* ====================================================================== */

/* Copy src into dst elementwise (same shapes, any strides). */
void cp_tensor_copy_into(const cp_tensor *dst, const cp_tensor *src) {
  int64_t n = cp_tensor_numel(src);
  if (n == 0) return;
  if (cp_tensor_is_contiguous(dst) && cp_tensor_is_contiguous(src)) {
    memmove(cp_tensor_data(dst), cp_tensor_data(src),
            (size_t)n * sizeof(float));
    return;
  }
  int nd = src->ndim;
  int64_t idx[CP_MAXDIM] = {0};
  int64_t so = src->offset, dof = dst->offset;
  /* Innermost dimension as a tight loop. */
  int64_t inner = nd ? src->shape[nd - 1] : 1;
  int64_t ss = nd ? src->stride[nd - 1] : 0, ds = nd ? dst->stride[nd - 1] : 0;
  for (int64_t i = 0; i < n; i += inner) {
    const float *sp = src->st->data + so;
    float *dp = dst->st->data + dof;
    for (int64_t k = 0; k < inner; k++) dp[k * ds] = sp[k * ss];
    for (int d = nd - 2; d >= 0; d--) {
      idx[d]++;
      so += src->stride[d];
      dof += dst->stride[d];
      if (idx[d] < src->shape[d]) break;
      so -= idx[d] * src->stride[d];
      dof -= idx[d] * dst->stride[d];
      idx[d] = 0;
    }
  }
}

int cp_tensor_clone(cp_tensor *out, const cp_tensor *t, cp_err *e) {
  if (cp_tensor_empty(out, t->ndim, t->shape, e)) return -1;
  cp_tensor_copy_into(out, t);
  return 0;
}

int cp_tensor_contiguous(cp_tensor *out, const cp_tensor *t, cp_err *e) {
  if (cp_tensor_is_contiguous(t)) {
    cp_tensor_share(out, t);
    return 0;
  }
  return cp_tensor_clone(out, t, e);
}

int cp_tensor_flip(cp_tensor *out, const cp_tensor *t, int ndims,
                   const int *dims, cp_err *e) {
  memset(out, 0, sizeof *out);
  cp_tensor v = *t; /* a borrowed view with negated strides */
  int seen[CP_MAXDIM] = {0};
  for (int i = 0; i < ndims; i++) {
    if (check_dim(dims[i], t->ndim, "dims", e)) return -1;
    if (seen[dims[i]]++)
      return cp_fail(e, "dims: dimension %d appears twice", dims[i] + 1);
    int d = dims[i];
    if (v.shape[d] > 0) v.offset += (v.shape[d] - 1) * v.stride[d];
    v.stride[d] = -v.stride[d];
  }
  return cp_tensor_clone(out, &v, e);
}

int cp_tensor_cat(cp_tensor *out, int n, const cp_tensor *const *ts, int dim,
                  cp_err *e) {
  memset(out, 0, sizeof *out);
  if (n < 1) return cp_fail(e, "tensors: expected a non-empty list");
  const cp_tensor *a = ts[0];
  if (check_dim(dim, a->ndim, "dim", e)) return -1;
  int64_t shape[CP_MAXDIM];
  for (int d = 0; d < a->ndim; d++) shape[d] = a->shape[d];
  shape[dim] = 0;
  for (int i = 0; i < n; i++) {
    const cp_tensor *t = ts[i];
    if (t->ndim != a->ndim)
      return cp_fail(e,
                     "tensors: tensor %d has %d dimensions, tensor 1 has %d",
                     i + 1, t->ndim, a->ndim);
    for (int d = 0; d < a->ndim; d++)
      if (d != dim && t->shape[d] != a->shape[d])
        return cp_fail(e,
                       "tensors: sizes must match except in dimension %d: "
                       "expected %lld but got %lld in dimension %d of tensor "
                       "%d",
                       dim + 1, (long long)a->shape[d],
                       (long long)t->shape[d], d + 1, i + 1);
    shape[dim] += t->shape[dim];
  }
  if (cp_tensor_empty(out, a->ndim, shape, e)) return -1;
  int64_t at = 0;
  for (int i = 0; i < n; i++) {
    cp_tensor part;
    cp_tensor_narrow(&part, out, dim, at, ts[i]->shape[dim], NULL);
    cp_tensor_copy_into(&part, ts[i]);
    cp_tensor_release(&part);
    at += ts[i]->shape[dim];
  }
  return 0;
}

/* ====================================================================== */
/* Arithmetic                                                              */
/* ====================================================================== */

int cp_broadcast_shape(const cp_tensor *a, const cp_tensor *b, int *ndim,
                       int64_t *shape, cp_err *e) {
  int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
  for (int k = 0; k < nd; k++) { /* k counts from the last dimension */
    int da = a->ndim - 1 - k, db = b->ndim - 1 - k;
    int64_t sa = da >= 0 ? a->shape[da] : 1, sb = db >= 0 ? b->shape[db] : 1;
    if (sa != sb && sa != 1 && sb != 1) {
      char b1[160], b2[160];
      return cp_fail(e,
                     "shapes %s and %s cannot be broadcast: the size of "
                     "tensor a (%lld) must match the size of tensor b (%lld) "
                     "at non-singleton dimension %d",
                     cp_shape_str(a->ndim, a->shape, b1, sizeof b1),
                     cp_shape_str(b->ndim, b->shape, b2, sizeof b2),
                     (long long)sa, (long long)sb, nd - k);
    }
    shape[nd - 1 - k] = sa == 1 ? sb : sa;
  }
  *ndim = nd;
  return 0;
}

static inline float apply(cp_binop op, float x, float y) {
  switch (op) {
  case CP_ADD: return x + y;
  case CP_SUB: return x - y;
  case CP_MUL: return x * y;
  default: return x / y;
  }
}

/* A view of t broadcast to (nd, shape): stride 0 on expanded dims. */
static void expand_view(cp_tensor *v, const cp_tensor *t, int nd,
                        const int64_t *shape) {
  *v = *t;
  v->ndim = nd;
  for (int d = nd - 1, s = t->ndim - 1; d >= 0; d--, s--) {
    v->shape[d] = shape[d];
    v->stride[d] = (s >= 0 && t->shape[s] == shape[d]) ? t->stride[s] : 0;
  }
}

int cp_tensor_binop(cp_tensor *out, const cp_tensor *a, const cp_tensor *b,
                    cp_binop op, cp_err *e) {
  memset(out, 0, sizeof *out);
  int nd;
  int64_t shape[CP_MAXDIM];
  if (cp_broadcast_shape(a, b, &nd, shape, e)) return -1;
  if (cp_tensor_empty(out, nd, shape, e)) return -1;
  int64_t n = cp_tensor_numel(out);
  if (n == 0) return 0;
  float *o = cp_tensor_data(out);
  if (cp_tensor_same_shape(a, b) && cp_tensor_is_contiguous(a) &&
      cp_tensor_is_contiguous(b)) {
    const float *x = cp_tensor_data(a), *y = cp_tensor_data(b);
    for (int64_t i = 0; i < n; i++) o[i] = apply(op, x[i], y[i]);
    return 0;
  }
  cp_tensor va, vb;
  expand_view(&va, a, nd, shape);
  expand_view(&vb, b, nd, shape);
  int64_t idx[CP_MAXDIM] = {0};
  int64_t oa = va.offset, ob = vb.offset;
  for (int64_t i = 0; i < n; i++) {
    o[i] = apply(op, va.st->data[oa], vb.st->data[ob]);
    for (int d = nd - 1; d >= 0; d--) {
      idx[d]++;
      oa += va.stride[d];
      ob += vb.stride[d];
      if (idx[d] < shape[d]) break;
      oa -= idx[d] * va.stride[d];
      ob -= idx[d] * vb.stride[d];
      idx[d] = 0;
    }
  }
  return 0;
}

int cp_tensor_binop_scalar(cp_tensor *out, const cp_tensor *a, float s,
                           cp_binop op, int scalar_first, cp_err *e) {
  if (cp_tensor_clone(out, a, e)) return -1;
  float *o = cp_tensor_data(out);
  int64_t n = cp_tensor_numel(out);
  if (scalar_first)
    for (int64_t i = 0; i < n; i++) o[i] = apply(op, s, o[i]);
  else
    for (int64_t i = 0; i < n; i++) o[i] = apply(op, o[i], s);
  return 0;
}

struct reduce { double sum; float min, max; int nan; };

static void reduce_fn(float *p, int64_t i, void *ud) {
  struct reduce *r = ud;
  float v = *p;
  r->sum += v;
  if (isnan(v)) r->nan = 1;
  if (i == 0 || v < r->min) r->min = v;
  if (i == 0 || v > r->max) r->max = v;
}

static struct reduce reduce_all(const cp_tensor *t) {
  struct reduce r = {0, 0, 0, 0};
  cp_tensor_foreach(t, reduce_fn, &r);
  return r;
}

double cp_tensor_sum(const cp_tensor *t) { return reduce_all(t).sum; }
float cp_tensor_min(const cp_tensor *t) {
  struct reduce r = reduce_all(t);
  return r.nan ? NAN : r.min;
}
float cp_tensor_max(const cp_tensor *t) {
  struct reduce r = reduce_all(t);
  return r.nan ? NAN : r.max;
}

static void fill_fn(float *p, int64_t i, void *ud) {
  (void)i;
  *p = *(const float *)ud;
}
void cp_tensor_fill(const cp_tensor *t, float v) {
  cp_tensor_foreach(t, fill_fn, &v);
}

/* ====================================================================== */
/* Random numbers: xoshiro256** seeded through splitmix64                 */
/* ====================================================================== */

static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void cp_rng_seed(cp_rng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++) r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(cp_rng *r) {
  uint64_t *s = r->s;
  uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return out;
}

double cp_rng_uniform(cp_rng *r) {
  return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

double cp_rng_normal(cp_rng *r) {
  /* Box-Muller; 1-u keeps log away from 0. */
  double u = 1.0 - cp_rng_uniform(r), v = cp_rng_uniform(r);
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}
