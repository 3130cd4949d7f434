/* partial.c - partial convolution built from cp_conv2d. */
#include "partial.h"

#include "geometry.h"

#include <string.h>

int cp_partial_conv2d(cp_tensor *out, cp_tensor *new_mask, const cp_tensor *x,
                      const cp_tensor *mask, const cp_tensor *w,
                      const cp_tensor *bias, const cp_conv_params *p,
                      int multi_channel, cp_err *e) {
  char b1[160], b2[160];
  memset(out, 0, sizeof *out);
  memset(new_mask, 0, sizeof *new_mask);
  int unbatched = x->ndim == 3;
  if (x->ndim != 3 && x->ndim != 4)
    return cp_fail(e,
                   "input: Expected 3D (unbatched) or 4D (batched) input, but "
                   "got input of size: %s",
                   cp_shape_str(x->ndim, x->shape, b1, sizeof b1));
  if (w->ndim != 4)
    return cp_fail(e, "weight: expected a 4-D weight, got size %s",
                   cp_shape_str(w->ndim, w->shape, b1, sizeof b1));
  if (mask->ndim != x->ndim)
    return cp_fail(e, "mask: expected %d dimensions like the input, got %s",
                   x->ndim, cp_shape_str(mask->ndim, mask->shape, b1, sizeof b1));
  int cd = unbatched ? 0 : 1; /* channel dimension */
  int64_t want_c = multi_channel ? x->shape[cd] : 1;
  int ok = mask->shape[cd] == want_c &&
           mask->shape[cd + 1] == x->shape[cd + 1] &&
           mask->shape[cd + 2] == x->shape[cd + 2] &&
           (unbatched || mask->shape[0] == x->shape[0] || mask->shape[0] == 1);
  if (!ok)
    return cp_fail(e,
                   "mask: shape %s does not fit input %s (multi_channel=%s "
                   "wants %s channel%s and the input's height and width)",
                   cp_shape_str(mask->ndim, mask->shape, b1, sizeof b1),
                   cp_shape_str(x->ndim, x->shape, b2, sizeof b2),
                   multi_channel ? "true" : "false",
                   multi_channel ? "the input's" : "1",
                   multi_channel ? "s" : "");

  cp_tensor xm = {0}, raw = {0}, ones = {0}, S = {0};
  int rc = -1;
  /* raw = conv2d(x * mask, w, b) with the layer's own padding mode. */
  if (cp_tensor_binop(&xm, x, mask, CP_MUL, e)) goto done;
  if (cp_conv2d(&raw, &xm, w, bias, p, e)) goto done;
  /* S = conv2d(mask, ones): zero padding, groups 1. */
  int64_t O = w->shape[0];
  int64_t oshape[4] = {multi_channel ? O : 1, want_c, w->shape[2], w->shape[3]};
  if (cp_tensor_full(&ones, 4, oshape, 1.0f, e)) goto done;
  cp_conv_params mp = *p;
  mp.groups = 1;
  mp.mode = CP_PAD_ZEROS;
  if (cp_conv2d(&S, mask, &ones, NULL, &mp, e)) goto done;
  float Wsum = (float)(want_c * w->shape[2] * w->shape[3]);

  if (cp_tensor_empty(out, raw.ndim, raw.shape, e)) goto done;
  if (cp_tensor_empty(new_mask, S.ndim, S.shape, e)) goto done;
  {
    const float *r = cp_tensor_data(&raw), *s = cp_tensor_data(&S);
    float *o = cp_tensor_data(out), *nm = cp_tensor_data(new_mask);
    cp_tensor bc = {0};
    if (bias && cp_tensor_contiguous(&bc, bias, e)) goto done;
    const float *b = bias ? cp_tensor_data(&bc) : NULL;
    int64_t N = unbatched ? 1 : raw.shape[0];
    int64_t OO = raw.shape[cd], plane = raw.shape[cd + 1] * raw.shape[cd + 2];
    int64_t SN = unbatched ? 1 : S.shape[0], SC = S.shape[cd];
    for (int64_t n = 0; n < N; n++)
      for (int64_t oc = 0; oc < OO; oc++)
        for (int64_t k = 0; k < plane; k++) {
          float sv = s[((SN == 1 ? 0 : n) * SC + (SC == 1 ? 0 : oc)) * plane + k];
          float clampS = sv < 0 ? 0.0f : sv > 1 ? 1.0f : sv;
          float ratio = cp_partial_ratio(Wsum, sv);
          float bv = b ? b[oc] : 0.0f;
          int64_t at = (n * OO + oc) * plane + k;
          o[at] = ((r[at] - bv) * ratio + bv) * clampS;
        }
    int64_t ns = cp_tensor_numel(&S);
    for (int64_t k = 0; k < ns; k++) {
      float sv = s[k];
      nm[k] = sv < 0 ? 0.0f : sv > 1 ? 1.0f : sv;
    }
    cp_tensor_release(&bc);
  }
  rc = 0;
done:
  if (rc) {
    cp_tensor_release(out);
    cp_tensor_release(new_mask);
  }
  cp_tensor_release(&S);
  cp_tensor_release(&ones);
  cp_tensor_release(&raw);
  cp_tensor_release(&xm);
  return rc;
}
