/* code_torch.c - the PyTorch program of a view (torch.nn.functional),
 * see code.h for what it writes and code.c for the shared parts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "viz/code_priv.h"

/* ====================================================================== */
/* PyTorch                                                                 */
/* ====================================================================== */

/* How conv2d's padding is written: the padding= argument (arg), and
 * whether the input needs an F.pad first (returns 1; the padding mode
 * applies when mode is set). */
int vzc_torch_padding(const prob *P, int use_mode, char *arg, size_t n) {
  int mode = use_mode ? P->mode : CP_PAD_ZEROS;
  if (mode == CP_PAD_ZEROS) {
    if (P->req->padspec == CP_PADSPEC_SAME) {
      snprintf(arg, n, "\"same\"");
      return 0;
    }
    if (P->req->padspec == CP_PADSPEC_VALID) {
      snprintf(arg, n, "\"valid\"");
      return 0;
    }
    if (pads_symmetric(P)) {
      vzc_pair(arg, n, P->pad[0], P->pad[2]);
      return 0;
    }
  }
  snprintf(arg, n, "0");
  return !pads_zero(P);
}

static void torch_header(gen *G, const prob *P) {
  const vz_view *v = P->v;
  sb *o = &G->o;
  char xs[96], ws[96];
  vzc_shape(xs, sizeof xs, 4, v->x.shape, "x");
  vzc_shape(ws, sizeof ws, 4, v->w.shape, "x");
  vzc_printf(o, "# PyTorch: what convplay draws (%s of x %s with w %s)\n",
             P->transposed ? "conv_transpose2d" : v->flip ? "true convolution"
             : v->partial ? "partial convolution" : "conv2d", xs, ws);
  if (!v->ok)
    vzc_printf(o, "# convplay shows an error for these parameters, and so "
                  "does PyTorch:\n#   %s\n", v->err);
  vzc_puts(o, "import torch\nimport torch.nn.functional as F\n");
}

static void torch_partial(gen *G, const prob *P, const int64_t ms[4],
                          const char *xin, const char *wexpr,
                          const char *args) {
  const vz_view *v = P->v;
  sb *o = &G->o;
  int multi = v->multi;
  char m1[64];
  if (multi && ms[1] == 1 && P->C > 1) /* one mask for C channels */
    snprintf(m1, sizeof m1, "mask.expand(-1, %lld, -1, -1)", (long long)P->C);
  else
    snprintf(m1, sizeof m1, "%s", multi || ms[1] == 1 ? "mask"
                                                      : "mask[:, :1]");
  int64_t W = (multi ? P->C : 1) * P->kH * P->kW;
  vzc_printf(o, "# partial convolution (NVIDIA PartialConv2d, multi_channel="
                "%s): the mask\n# summed under each window, S, rescales the "
                "output; zero padding, no groups\n",
             multi ? "True" : "False");
  if (multi)
    vzc_printf(o, "ones = torch.ones(%lld, %lld, %lld, %lld)\n",
               (long long)P->O, (long long)P->C, (long long)P->kH,
               (long long)P->kW);
  else
    vzc_printf(o, "ones = torch.ones(1, 1, %lld, %lld)\n", (long long)P->kH,
               (long long)P->kW);
  char parg[64], sarg[32], darg[32], ft[64];
  vzc_pair(sarg, sizeof sarg, P->s[0], P->s[1]);
  vzc_pair(darg, sizeof darg, P->d[0], P->d[1]);
  if (vzc_torch_padding(P, 0, parg, sizeof parg)) {
    fpad_tuple(ft, sizeof ft, P);
    vzc_printf(o, "S = F.conv2d(F.pad(%s, %s), ones, stride=%s, dilation=%s)"
                  "\n", m1, ft, sarg, darg);
  } else {
    vzc_printf(o, "S = F.conv2d(%s, ones, stride=%s, padding=%s, "
                  "dilation=%s)\n", m1, sarg, parg, darg);
  }
  vzc_printf(o, "ratio = %lld / (S + 1e-8) * torch.clamp(S, 0, 1)\n",
             (long long)W);
  vzc_printf(o, "raw = F.conv2d(%s, %s, %s, %s)\n", xin, wexpr,
             v->has_b ? "b" : "None", args);
  if (v->has_b)
    vzc_puts(o, "bb = b.view(1, -1, 1, 1)\n"
                "y = ((raw - bb) * ratio + bb) * torch.clamp(S, 0, 1)\n");
  else
    vzc_puts(o, "y = raw * ratio * torch.clamp(S, 0, 1)\n");
  vzc_puts(o, "new_mask = torch.clamp(S, 0, 1)  # the mask the next layer "
              "gets\n");
}

void vzc_torch(gen *G, const prob *P) {
  const vz_view *v = P->v;
  sb *o = &G->o;
  int64_t ms[4] = {0};
  torch_header(G, P);
  vzc_tensors(G, P, ms);
  /* the input factor */
  const char *xin = v->has_mask ? "x * mask" : "x";
  char sarg[32], darg[32], parg[64], ft[64], args[256];
  vzc_pair(sarg, sizeof sarg, P->s[0], P->s[1]);
  vzc_pair(darg, sizeof darg, P->d[0], P->d[1]);
  /* the weight */
  const char *wexpr = v->has_kmask ? "w * M" : "w";
  if (v->flip) {
    vzc_printf(o, "wk = torch.flip(%s, dims=[2, 3])  # true convolution: the "
                  "kernel turned 180 degrees\n", wexpr);
    wexpr = "wk";
  }
  if (P->transposed) {
    char oparg[32], tparg[32];
    int crop = !pads_symmetric(P);
    int64_t q[2] = {P->op[0], P->op[1]};
    if (crop) {
      /* unequal sides: no padding, then crop top/left and what is left of
       * bottom/right after output_padding */
      for (int i = 0; i < 2; i++) {
        int64_t after = P->pad[2 * i + 1];
        q[i] = P->op[i] > after ? P->op[i] - after : 0;
      }
      snprintf(tparg, sizeof tparg, "0");
    } else {
      vzc_pair(tparg, sizeof tparg, P->pad[0], P->pad[2]);
    }
    vzc_pair(oparg, sizeof oparg, q[0], q[1]);
    vzc_printf(o, "y = F.conv_transpose2d(%s, %s, %s, stride=%s, padding=%s,"
                  " output_padding=%s,\n                       groups=%lld, "
                  "dilation=%s)\n",
               xin, wexpr, v->has_b ? "b" : "None", sarg, tparg, oparg,
               (long long)P->G, darg);
    if (crop && v->ok)
      vzc_printf(o, "y = y[:, :, %lld:%lld, %lld:%lld]  # padding top %lld, "
                    "bottom %lld, left %lld, right %lld\n",
                 (long long)P->pad[0], (long long)(P->pad[0] + v->g.OH),
                 (long long)P->pad[2], (long long)(P->pad[2] + v->g.OW),
                 (long long)P->pad[0], (long long)P->pad[1],
                 (long long)P->pad[2], (long long)P->pad[3]);
  } else {
    if (vzc_torch_padding(P, 1, parg, sizeof parg)) {
      fpad_tuple(ft, sizeof ft, P);
      if (P->mode != CP_PAD_ZEROS)
        vzc_printf(o, "xp = F.pad(%s, %s, mode=\"%s\")  # (left, right, top, "
                      "bottom), as nn.Conv2d(padding_mode=\"%s\") pads\n",
                   xin, ft, cp_padmode_name((cp_padmode)P->mode),
                   cp_padmode_name((cp_padmode)P->mode));
      else
        vzc_printf(o, "xp = F.pad(%s, %s)  # zeros (left, right, top, "
                      "bottom): unequal sides\n", xin, ft);
      xin = "xp";
    } else if (P->mode != CP_PAD_ZEROS) {
      vzc_printf(o, "# padding_mode=\"%s\" pads nothing: the padding is 0\n",
                 cp_padmode_name((cp_padmode)P->mode));
    }
    snprintf(args, sizeof args, "stride=%s, padding=%s, dilation=%s, "
             "groups=%lld", sarg, parg, darg, (long long)P->G);
    if (v->partial) {
      torch_partial(G, P, ms, xin, wexpr, args);
    } else {
      vzc_printf(o, "y = F.conv2d(%s, %s, %s,\n             %s)\n", xin, wexpr,
                 v->has_b ? "b" : "None", args);
      if (v->cmpview) /* viz.compare: the convolution beside it */
        vzc_printf(o, "yc = F.conv2d(%s, torch.flip(%s, dims=[2, 3]), %s,\n"
                      "              %s)  # convolution: the kernel turned "
                      "180 degrees\n", xin, wexpr, v->has_b ? "b" : "None",
                   args);
    }
  }
  if (v->ok) {
    int64_t ys[4] = {v->g.N, v->g.O, v->g.OH, v->g.OW};
    char yx[96];
    vzc_shape(yx, sizeof yx, 4, ys, "x");
    vzc_printf(o, "print(y)  # %s (N, C_out, H_out, W_out), as convplay's "
                  "output panel\n", yx);
    if (v->cmpview)
      vzc_puts(o, "print(yc)  # the convolution\n"
                  "print(int((~torch.isclose(y, yc, rtol=1e-5, atol=1e-6))"
                  ".sum()), \"output cells differ\")  # beyond rounding\n");
  } else {
    vzc_puts(o, "print(y)\n");
  }
}


/* The backward view (view_grad.c): autograd on the forward conv2d, the
 * gradient the view steps through printed.  v->x may share grad_output
 * (grad_input mode): the forward input is v->fx, the parameters v->req's
 * with the padding v->g resolved. */
void vzc_torch_grad(gen *G, prob *P) {
  const vz_view *v = P->v;
  sb *o = &G->o;
  P->transposed = 0;
  P->mode = v->req.mode;
  P->C = v->fx.shape[1];
  P->O = v->w.shape[0];
  const char *what = v->grad == VZ_GRAD_INPUT    ? "grad_input"
                     : v->grad == VZ_GRAD_WEIGHT ? "grad_weight"
                                                 : "grad_bias";
  char xs[96], ws[96];
  vzc_shape(xs, sizeof xs, 4, v->fx.shape, ", ");
  vzc_shape(ws, sizeof ws, 4, v->w.shape, ", ");
  vzc_printf(o, "# PyTorch: what convplay draws (%s of conv2d of x (%s) with "
                "w (%s))\n", what, xs, ws);
  if (!v->ok)
    vzc_printf(o, "# convplay shows an error for these parameters:\n#   %s\n",
               v->err);
  vzc_puts(o, "import torch\nimport torch.nn.functional as F\n");
  sb body = G->o;
  G->o = (sb){0};
  vzc_tensor(G, "x", cp_tensor_data(&v->fx), 4, v->fx.shape, "input");
  vzc_tensor(G, "w", cp_tensor_data(&v->w), 4, v->w.shape, "weight");
  vzc_tensor(G, "gy", cp_tensor_data(&v->gy), 4, v->gy.shape, "grad_output");
  sb tens = G->o;
  G->o = body;
  if (G->need_b64)
    vzc_puts(o, "import base64\n\n\ndef f32(text, *shape):  # exact float32 "
                "values (little-endian bytes)\n"
                "    return torch.frombuffer(bytearray(base64.b64decode(text)),"
                " dtype=torch.float32).reshape(shape)\n\n");
  vzc_puts(o, "\n");
  if (G->need_rand) vzc_puts(o, "torch.manual_seed(0)\n");
  if (tens.s) vzc_put(o, tens.s, tens.n);
  free(tens.s);
  if (tens.oom) o->oom = 1;
  vzc_printf(o, "\nx.requires_grad_()\nw.requires_grad_()\nb = torch.zeros("
                "%lld, requires_grad=True)\n", (long long)P->O);
  char sarg[32], darg[32], parg[64], ft[64];
  vzc_pair(sarg, sizeof sarg, P->s[0], P->s[1]);
  vzc_pair(darg, sizeof darg, P->d[0], P->d[1]);
  const char *xin = "x";
  if (vzc_torch_padding(P, 1, parg, sizeof parg)) {
    fpad_tuple(ft, sizeof ft, P);
    if (P->mode != CP_PAD_ZEROS)
      vzc_printf(o, "xp = F.pad(x, %s, mode=\"%s\")  # (left, right, top, "
                    "bottom)\n", ft, cp_padmode_name((cp_padmode)P->mode));
    else
      vzc_printf(o, "xp = F.pad(x, %s)  # zeros (left, right, top, bottom)"
                    "\n", ft);
    xin = "xp";
  }
  vzc_printf(o, "y = F.conv2d(%s, w, b, stride=%s, padding=%s, dilation=%s, "
                "groups=%lld)\n", xin, sarg, parg, darg, (long long)P->G);
  vzc_printf(o, "y.backward(gy)\nprint(%s.grad)  # %s, as convplay's %s "
                "panel\n",
             v->grad == VZ_GRAD_INPUT ? "x" : v->grad == VZ_GRAD_WEIGHT ? "w"
                                                                       : "b",
             what, what);
}
