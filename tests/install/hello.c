/* hello.c - a C user of the installed core (tests/install/test_install.sh):
 * cc hello.c $(pkg-config --cflags --libs convplay) */
#include <convplay/convplay.h>
#include <stdio.h>

int main(void) {
  cp_err e;
  cp_tensor x, w, y;
  int64_t xs[4] = {1, 1, 4, 4}, ws[4] = {1, 1, 2, 2};
  if (cp_tensor_empty(&x, 4, xs, &e) || cp_tensor_full(&w, 4, ws, 1, &e))
    return puts(e.msg), 1;
  for (int i = 0; i < 16; i++) cp_tensor_data(&x)[i] = (float)i;
  cp_conv_params p;
  cp_conv_params_default(&p);
  p.stride[0] = p.stride[1] = 2;
  if (cp_conv2d(&y, &x, &w, NULL, &p, &e)) return puts(e.msg), 1;
  for (int i = 0; i < 4; i++) printf("%g ", cp_tensor_data(&y)[i]);
  printf("%s\n", CONVPLAY_VERSION);
  cp_tensor_release(&y);
  p.stride[0] = 0; /* a bad argument is a message, never an abort */
  if (cp_conv2d(&y, &x, &w, NULL, &p, &e)) printf("error: %s\n", e.msg);
  cp_tensor_release(&x);
  cp_tensor_release(&w);
  return 0;
}
