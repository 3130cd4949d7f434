"""keras_mock.py - a stand-in for the few Keras 3 pieces convplay's Keras
code uses, computed with torch, for gen_code.py (TensorFlow and Keras are
not installed on the build machine).

It follows Keras's documented rules, not convplay's code, so running the
generated Keras text through it checks the text's own arithmetic: NHWC /
HWIO transposes, the flip of an HWIO kernel, masks and kernel masks
broadcast over NHWC, bias on the last axis, the partial-convolution
formula in numpy, and the padding choices:

  Conv2D            padding "valid" (none) or "same" (TensorFlow's SAME:
                    out = ceil(H / s), total T = max((out - 1) s +
                    d (k - 1) + 1 - H, 0), T // 2 before, the rest after);
                    strides > 1 with dilation_rate > 1 refused; groups
  ZeroPadding2D     ((top, bottom), (left, right)) zeros
  Conv2DTranspose   padding "valid" with output_padding op < strides:
                    length (H - 1) s + d (k - 1) + 1 + op, the gradient of
                    a VALID Conv2D (the op extra rows at the bottom, which
                    no window reads, hold only the bias); kernel (kH, kW,
                    filters, in)
  Cropping2D        ((top, bottom), (left, right))
  MaxPooling2D, AveragePooling2D, MaxPooling1D, AveragePooling1D
                    padding "valid" only: the windows that fit whole,
                    out = (H - k) // s + 1; strides default to pool_size
  ops.convert_to_numpy
"""
import types

import numpy as np
import torch
import torch.nn.functional as F


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _nchw(x):
    return torch.from_numpy(np.ascontiguousarray(np.asarray(x, "float32"))
                            ).permute(0, 3, 1, 2)


def _nhwc(t):
    return t.permute(0, 2, 3, 1).contiguous().numpy()


class _Layer:
    def build(self, shape):
        self.built_shape = tuple(shape)

    def set_weights(self, ws):
        self.kernel = np.asarray(ws[0], "float32")
        self.bias = np.asarray(ws[1], "float32") if len(ws) > 1 else None


class Conv2D(_Layer):
    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 dilation_rate=(1, 1), groups=1, use_bias=True):
        self.filters, self.k = filters, _pair(kernel_size)
        self.s, self.d = _pair(strides), _pair(dilation_rate)
        self.padding, self.groups, self.use_bias = padding, groups, use_bias
        if max(self.s) > 1 and max(self.d) > 1:
            raise ValueError("strides > 1 not supported in conjunction with "
                             "dilation_rate > 1")
        assert padding in ("valid", "same")

    def __call__(self, x):
        assert self.kernel.shape == (self.k[0], self.k[1],
                                     np.asarray(x).shape[3] // self.groups,
                                     self.filters), self.kernel.shape
        assert (self.bias is not None) == self.use_bias
        t = _nchw(x)
        if self.padding == "same":
            pads = []
            for i in (1, 0):  # F.pad: last dim first
                n = t.shape[2 + i]
                out = -(-n // self.s[i])
                tot = max((out - 1) * self.s[i] + self.d[i] * (self.k[i] - 1)
                          + 1 - n, 0)
                pads += [tot // 2, tot - tot // 2]
            t = F.pad(t, pads)
        w = torch.from_numpy(self.kernel.copy()).permute(3, 2, 0, 1)
        b = torch.from_numpy(self.bias) if self.bias is not None else None
        return _nhwc(F.conv2d(t, w, b, stride=self.s, dilation=self.d,
                              groups=self.groups))


class Conv2DTranspose(_Layer):
    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 output_padding=None, dilation_rate=(1, 1), use_bias=True):
        self.filters, self.k = filters, _pair(kernel_size)
        self.s, self.d = _pair(strides), _pair(dilation_rate)
        self.op = _pair(output_padding) if output_padding is not None \
            else None
        self.use_bias = use_bias
        assert padding == "valid"
        if max(self.s) > 1 and max(self.d) > 1:
            raise ValueError("strides > 1 not supported in conjunction with "
                             "dilation_rate > 1")
        if self.op is not None and any(o >= s for o, s in zip(self.op,
                                                              self.s)):
            raise ValueError("output_padding must be smaller than strides")

    def __call__(self, x):
        assert self.kernel.shape == (self.k[0], self.k[1], self.filters,
                                     np.asarray(x).shape[3]), \
            self.kernel.shape
        assert (self.bias is not None) == self.use_bias
        op = self.op if self.op is not None else (0, 0)
        w = torch.from_numpy(self.kernel.copy()).permute(3, 2, 0, 1)
        b = torch.from_numpy(self.bias) if self.bias is not None else None
        return _nhwc(F.conv_transpose2d(_nchw(x), w, b, stride=self.s,
                                        output_padding=op,
                                        dilation=self.d))


class ZeroPadding2D:
    def __init__(self, padding):
        (self.t, self.b), (self.l, self.r) = padding

    def __call__(self, x):
        return np.pad(np.asarray(x), ((0, 0), (self.t, self.b),
                                      (self.l, self.r), (0, 0)))


class Cropping2D:
    def __init__(self, cropping):
        (self.t, self.b), (self.l, self.r) = cropping

    def __call__(self, x):
        x = np.asarray(x)
        return x[:, self.t:x.shape[1] - self.b, self.l:x.shape[2] - self.r, :]


class _Pooling:
    def __init__(self, pool_size, strides=None, padding="valid"):
        assert padding == "valid"
        self.k = _pair(pool_size)
        self.s = _pair(strides) if strides is not None else self.k

    def __call__(self, x):
        x = np.asarray(x, "float32")
        if x.ndim == 3:  # (N, L, C): as (N, 1, L, C) with a 1-row window
            k, s = (1, self.k[0]), (1, self.s[0])
            return self._pool(x[:, None], k, s)[:, 0]
        return self._pool(x, self.k, self.s)

    def _pool(self, x, k, s):
        for i in (0, 1):
            if x.shape[1 + i] < k[i]:
                raise ValueError("pool_size larger than the input")
        return _nhwc(self.op(_nchw(x), k, stride=s))


class MaxPooling2D(_Pooling):
    op = staticmethod(F.max_pool2d)


class AveragePooling2D(_Pooling):
    op = staticmethod(F.avg_pool2d)


keras = types.ModuleType("keras")
keras.layers = types.SimpleNamespace(Conv2D=Conv2D,
                                     Conv2DTranspose=Conv2DTranspose,
                                     ZeroPadding2D=ZeroPadding2D,
                                     Cropping2D=Cropping2D,
                                     MaxPooling2D=MaxPooling2D,
                                     AveragePooling2D=AveragePooling2D,
                                     MaxPooling1D=MaxPooling2D,
                                     AveragePooling1D=AveragePooling2D)
keras.ops = types.SimpleNamespace(
    convert_to_numpy=lambda t: np.asarray(t))
