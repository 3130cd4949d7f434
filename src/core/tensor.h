/* tensor.h - float32 strided tensors over refcounted storage.
 *
 * A tensor is a view: storage + offset + shape + strides (in elements).
 * Dimensions and indices here are 0-based; the Lua binding converts.
 * Shapes are outermost first (NCHW for images, OIHW for conv weights).
 *
 * OWNERSHIP, the one rule: every cp_tensor value that a function fills in
 * ("out" parameters) holds one reference to its storage, and whoever holds
 * the cp_tensor calls cp_tensor_release() exactly once.  Views (reshape of a
 * contiguous tensor, permute, transpose, narrow, select) share storage;
 * clone, contiguous-of-a-strided-view, flip and every arithmetic op copy.
 * On failure an out parameter is left empty (st == NULL), so releasing it is
 * harmless.
 *
 * Storage memory comes from a small pool of recently freed large blocks:
 * touching fresh pages is slow on the target machines, so an output of the
 * same size as one just freed reuses the warm block.
 */
#ifndef CP_TENSOR_H
#define CP_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define CP_MAXDIM 8

typedef struct cp_storage {
  float *data;                /* n floats; 64-byte aligned from 64 KiB */
  size_t n;                   /* element count */
  size_t cap;                 /* allocated bytes (>= 4*n) */
  int refs;                   /* references held by tensors */
  int inline_data;            /* data lives in the same block as this */
} cp_storage;

typedef struct cp_tensor {
  cp_storage *st;             /* NULL for an empty (released) tensor */
  int64_t offset;             /* first element, in elements */
  int ndim;                   /* 0 .. CP_MAXDIM (0 = scalar) */
  int64_t shape[CP_MAXDIM];   /* sizes, outermost first */
  int64_t stride[CP_MAXDIM];  /* strides in elements */
} cp_tensor;

/* ---- creation and lifetime ---------------------------------------------- */

/* Contiguous tensor with uninitialised values.  Checks each size >= 0, the
 * element count and byte size for overflow, and a sanity cap on memory. */
int cp_tensor_empty(cp_tensor *out, int ndim, const int64_t *shape, cp_err *e);
int cp_tensor_zeros(cp_tensor *out, int ndim, const int64_t *shape, cp_err *e);
int cp_tensor_full(cp_tensor *out, int ndim, const int64_t *shape, float v,
                   cp_err *e);
/* 4-D convenience. */
int cp_tensor_empty4(cp_tensor *out, int64_t a, int64_t b, int64_t c,
                     int64_t d, cp_err *e);
void cp_tensor_release(cp_tensor *t);
/* A new reference to the same view. */
void cp_tensor_share(cp_tensor *out, const cp_tensor *t);

/* Largest tensor the core will allocate, in bytes (default 8 GiB). */
void cp_tensor_set_limit(size_t bytes);
size_t cp_tensor_limit(void);
/* Bytes of live storage (for the binding's GC pressure). */
size_t cp_tensor_live_bytes(void);
/* Drop the pool of cached free blocks. */
void cp_tensor_trim_pool(void);

/* ---- inspection ----------------------------------------------------------- */
int64_t cp_tensor_numel(const cp_tensor *t);
int cp_tensor_is_contiguous(const cp_tensor *t);
static inline float *cp_tensor_data(const cp_tensor *t) {
  return t->st->data + t->offset;
}
/* Element at a 0-based multi-index (no bounds check: callers check). */
float *cp_tensor_ptr(const cp_tensor *t, const int64_t *idx);
/* Same shape? */
int cp_tensor_same_shape(const cp_tensor *a, const cp_tensor *b);
/* "[2, 3, 4]" into buf. */
const char *cp_shape_str(int ndim, const int64_t *shape, char *buf,
                         size_t n);

/* ---- views (share storage) ----------------------------------------------- */
/* -1 in shape means "infer".  Copies only if t is not viewable that way. */
int cp_tensor_reshape(cp_tensor *out, const cp_tensor *t, int ndim,
                      const int64_t *shape, cp_err *e);
int cp_tensor_permute(cp_tensor *out, const cp_tensor *t, const int *perm,
                      cp_err *e);
int cp_tensor_transpose(cp_tensor *out, const cp_tensor *t, int a, int b,
                        cp_err *e);
int cp_tensor_narrow(cp_tensor *out, const cp_tensor *t, int dim,
                     int64_t start, int64_t len, cp_err *e);
/* Insert a size-1 dimension at position dim (0..ndim). */
int cp_tensor_unsqueeze(cp_tensor *out, const cp_tensor *t, int dim,
                        cp_err *e);
/* Remove size-1 dimension dim. */
int cp_tensor_squeeze(cp_tensor *out, const cp_tensor *t, int dim, cp_err *e);

/* ---- copies --------------------------------------------------------------- */
int cp_tensor_clone(cp_tensor *out, const cp_tensor *t, cp_err *e);
/* Shares when t is already contiguous, copies otherwise. */
int cp_tensor_contiguous(cp_tensor *out, const cp_tensor *t, cp_err *e);
/* dims[ndims]: dimensions to reverse. */
int cp_tensor_flip(cp_tensor *out, const cp_tensor *t, int ndims,
                   const int *dims, cp_err *e);
int cp_tensor_cat(cp_tensor *out, int n, const cp_tensor *const *ts, int dim,
                  cp_err *e);
/* Copy values of src into dst (same shape; any strides). */
void cp_tensor_copy_into(const cp_tensor *dst, const cp_tensor *src);

/* ---- arithmetic ----------------------------------------------------------- */
typedef enum { CP_ADD, CP_SUB, CP_MUL, CP_DIV } cp_binop;
/* Elementwise with PyTorch broadcasting. */
int cp_tensor_binop(cp_tensor *out, const cp_tensor *a, const cp_tensor *b,
                    cp_binop op, cp_err *e);
int cp_tensor_binop_scalar(cp_tensor *out, const cp_tensor *a, float s,
                           cp_binop op, int scalar_first, cp_err *e);
/* Broadcast shape of a and b into shape/ndim. */
int cp_broadcast_shape(const cp_tensor *a, const cp_tensor *b, int *ndim,
                       int64_t *shape, cp_err *e);
double cp_tensor_sum(const cp_tensor *t);
/* min/max: NaN if any NaN (as torch); caller ensures numel > 0. */
float cp_tensor_min(const cp_tensor *t);
float cp_tensor_max(const cp_tensor *t);
void cp_tensor_fill(const cp_tensor *t, float v);

/* ---- random numbers (reproducible, seedable) ------------------------------ */
typedef struct cp_rng { uint64_t s[4]; } cp_rng;
void cp_rng_seed(cp_rng *r, uint64_t seed);
double cp_rng_uniform(cp_rng *r);   /* [0, 1) */
double cp_rng_normal(cp_rng *r);    /* mean 0, sd 1 */

/* Iterate over every element of t in row-major order: calls fn(ptr, i, ud). */
void cp_tensor_foreach(const cp_tensor *t,
                       void (*fn)(float *p, int64_t i, void *ud), void *ud);

#endif
