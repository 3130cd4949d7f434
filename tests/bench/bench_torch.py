"""bench_torch.py - PyTorch's side of `make bench`.

Runs the same cases as bench.c with torch.nn.functional on the CPU, with
torch.set_num_threads(2) (the target machine has 2 cores, and convplay uses
both), under torch.no_grad().  Each case is warmed up, then timed REPS
times; prints "case <name> <median milliseconds>" per line.  Exits 2 with a
message on stderr when torch cannot be imported.
Run with Debian's interpreter: /usr/bin/python3 tests/bench/bench_torch.py
"""
import os
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except Exception as exc:  # noqa: BLE001 - any import failure means "no torch"
    print("bench_torch: PyTorch not available (%s)" % exc, file=sys.stderr)
    sys.exit(2)

REPS = 11
torch.set_num_threads(2)
torch.manual_seed(42)


MIN_S = float(os.environ.get("BENCH_MIN_MS", "500")) / 1e3


def timed(fn, reps=REPS, warm=2):
    """Median of at least reps calls and MIN_S seconds (as convplay's
    bench_median), after warm-up calls."""
    for _ in range(warm):
        fn()
    ts = []
    start = time.perf_counter()
    while len(ts) < 4000 and (len(ts) < reps or time.perf_counter() - start < MIN_S):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e3


def case(name, fn, reps=REPS, warm=2):
    if len(sys.argv) > 1 and sys.argv[1] != name:
        return
    print("case %s %.4f" % (name, timed(fn, reps, warm)), flush=True)


def main():
    r = torch.randn
    with torch.no_grad():
        img = r(1, 3, 1080, 1920)
        w = r(3, 3, 3, 3)
        case("image3x3", lambda: F.conv2d(img, w, padding=1))
        for k in (3, 7, 15):
            wd = r(3, 1, k, k)
            # 15x15 depthwise takes seconds per call here: fewer repetitions.
            slow = k == 15
            case("dw%dx%d" % (k, k),
                 lambda wd=wd: F.conv2d(img, wd, padding="same", groups=3),
                 reps=7 if slow else REPS, warm=1 if slow else 2)
        g = r(1, 1, 512, 512)
        for k in (3, 5):
            wk = r(1, 1, k, k)
            case("gray512_%dx%d" % (k, k), lambda wk=wk: F.conv2d(g, wk),
                 reps=31)
        x = r(1, 64, 56, 56)
        w = r(64, 64, 3, 3)
        case("resnet64", lambda: F.conv2d(x, w, padding=1), reps=31)
        x = r(8, 32, 64, 64)
        w = r(32, 32, 3, 3)
        case("batch8_s2d2",
             lambda: F.conv2d(x, w, stride=2, dilation=2, padding=2), reps=31)
        x = r(1, 64, 28, 28)
        w = r(64, 32, 4, 4)
        case("convT64to32",
             lambda: F.conv_transpose2d(x, w, stride=2, padding=1), reps=31)
        # issue 11: gradients (grad_input + grad_weight, as convplay's
        # conv2d_backward; its grad_bias is a sum on top), pooling, unfold
        x, w, gy = r(1, 64, 56, 56), r(64, 64, 3, 3), r(1, 64, 56, 56)
        case("conv2d_bwd64", lambda: torch.ops.aten.convolution_backward(
            gy, x, w, [64], [1, 1], [1, 1], [1, 1], False, [0, 0], 1,
            [True, True, False]), reps=21)
        x = r(1, 64, 112, 112)
        case("maxpool3x3s2", lambda: F.max_pool2d(x, 3, 2, 1), reps=21)
        x = r(1, 3, 1080, 1920)
        case("avgpool2x2", lambda: F.avg_pool2d(x, 2), reps=21)
        x = r(1, 3, 224, 224)
        case("unfold3x3", lambda: F.unfold(x, 3), reps=21)


if __name__ == "__main__":
    main()
