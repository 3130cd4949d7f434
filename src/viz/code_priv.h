/* code_priv.h - what code.c, code_torch.c and code_keras.c share
 * (private to the code generator, see code.h). */
#ifndef VZ_CODE_PRIV_H
#define VZ_CODE_PRIV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "viz/code.h"
#include "viz/view_priv.h"

/* A growing string; oom is set (and the text dropped) when memory fails. */
typedef struct sb {
  char *s;
  size_t n, cap;
  int oom;
} sb;

void vzc_put(sb *o, const char *t, size_t len);
void vzc_puts(sb *o, const char *t);
void vzc_printf(sb *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "3" when both are equal, "(3, 1)" otherwise. */
void vzc_pair(char *b, size_t n, int64_t a, int64_t c);
/* "1, 2, 5, 5" (sep ", ") or "1x2x5x5" (sep "x"). */
void vzc_shape(char *b, size_t n, int nd, const int64_t *s, const char *sep);

/* One program being written. */
typedef struct gen {
  sb o;
  vz_code_lang lang;
  int need_b64;               /* the f32() helper is used */
  int need_rand;              /* a seeded random stand-in is used */
} gen;

/* The problem as the code sees it. */
typedef struct prob {
  const vz_view *v;
  const cp_conv_params *req; /* as requested (padspec, mode) */
  int64_t pad[4];             /* resolved sides: top, bottom, left, right */
  int64_t s[2], d[2], op[2], G;
  int64_t kH, kW, C, O;
  int transposed, mode;
} prob;

static inline int pads_symmetric(const prob *P) {
  return P->pad[0] == P->pad[1] && P->pad[2] == P->pad[3];
}
static inline int pads_zero(const prob *P) {
  return !P->pad[0] && !P->pad[1] && !P->pad[2] && !P->pad[3];
}
/* The (left, right, top, bottom) tuple F.pad takes. */
static inline void fpad_tuple(char *b, size_t n, const prob *P) {
  snprintf(b, n, "(%lld, %lld, %lld, %lld)", (long long)P->pad[2],
           (long long)P->pad[3], (long long)P->pad[0], (long long)P->pad[1]);
}

/* x, w, b, mask, M as code (after the helpers they need); ms receives the
 * mask's shape as written. */
void vzc_tensors(gen *G, const prob *P, int64_t ms[4]);

/* One tensor as code: a literal, base64 or a seeded stand-in. */
void vzc_tensor(gen *G, const char *name, const float *d, int nd,
                const int64_t *shape, const char *what);
/* PyTorch's padding= argument for P (1: an F.pad is needed first). */
int vzc_torch_padding(const prob *P, int use_mode, char *arg, size_t n);

void vzc_torch(gen *G, const prob *P);    /* code_torch.c */
void vzc_torch_grad(gen *G, prob *P);     /* a backward view */
void vzc_keras(gen *G, const prob *P);    /* code_keras.c */
/* Why Keras cannot express the view, or NULL when it can. */
const char *vzc_keras_reason(const prob *P, char *b, size_t n);

#endif
