"""bench_opencv.py - OpenCV's side of `make bench` (the image-filter anchor).

The cases of bench_filters.c with Debian's python3-opencv and
cv2.setNumThreads(2): an HxWx3 float32 image (OpenCV's layout) filtered by
one k x k kernel for all channels with cv2.filter2D, zero border
(BORDER_CONSTANT), output the input's size; the 15x15 Gaussian with
cv2.sepFilter2D; a 512x512 single-channel 3x3.  Each case is warmed up and
then called for at least MIN_S seconds (BENCH_MIN_MS in the environment,
default 2500) and MIN_REPS calls; prints
"case <name> <median milliseconds>".  Exits 2 when cv2 cannot be imported.
Run with Debian's interpreter: /usr/bin/python3 tests/bench/bench_opencv.py
"""
import os
import statistics
import sys
import time

try:
    import cv2
    import numpy as np
except Exception as exc:  # noqa: BLE001 - any import failure means "no cv2"
    print("bench_opencv: OpenCV not available (%s)" % exc, file=sys.stderr)
    sys.exit(2)

MIN_S = float(os.environ.get("BENCH_MIN_MS", "2500")) / 1e3
MIN_REPS = 11
cv2.setNumThreads(2)
rng = np.random.default_rng(7)


def timed(fn):
    for _ in range(2):
        fn()
    ts = []
    start = time.perf_counter()
    while len(ts) < MIN_REPS or time.perf_counter() - start < MIN_S:
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts) * 1e3


def case(name, fn):
    if len(sys.argv) > 1 and sys.argv[1] != name:
        return
    print("case %s %.4f" % (name, timed(fn)), flush=True)


def main():
    img = rng.random((1080, 1920, 3), dtype=np.float32)
    zero = cv2.BORDER_CONSTANT
    for k in (3, 5, 7, 15, 31):
        ker = (rng.standard_normal((k, k)) / k).astype(np.float32)
        case("cv_%dx%d" % (k, k),
             lambda ker=ker: cv2.filter2D(img, -1, ker, borderType=zero))
    g = cv2.getGaussianKernel(15, -1, cv2.CV_32F)
    case("cv_gauss15", lambda: cv2.sepFilter2D(img, -1, g, g, borderType=zero))
    gray = rng.random((512, 512), dtype=np.float32)
    ker = (rng.standard_normal((3, 3)) / 3).astype(np.float32)
    case("cv_gray512", lambda: cv2.filter2D(gray, -1, ker, borderType=zero))


if __name__ == "__main__":
    main()
