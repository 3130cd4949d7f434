/* cpl.h - shared pieces of the Lua bindings (src/lua/wrap_*.c).
 *
 * Tensors live in full userdata of metatable "convplay.tensor" holding a
 * cp_tensor by value; __gc releases its storage reference.  Large storage
 * is malloc'ed by the core, so the binding tells Lua's collector about it
 * (cpl_account): a loop that drops big tensors is collected in time.
 *
 * KEEP-ALIVE, the rule: a C function keeps alive everything it uses until
 * it returns, whatever Lua code (an __index metamethod, a finalizer run by
 * an allocation, a callback) runs meanwhile.  By construction, in one place
 * (keepalive.c):
 *  - every function is registered with cpl_setfuncs / cpl_newlib, which
 *    run it inside a call frame (never luaL_setfuncs / luaL_newlib);
 *  - the frame holds every userdata argument; cpl_totensor and the view
 *    and lab checks add whatever else the function reaches (a tensor in an
 *    option table or a list, a tensor converted from a nested table) with
 *    cpl_keep; a string kept past any call
 *    back into Lua is held with cpl_keepstring (or copied);
 *  - a release (__gc, __close, :close()) calls cpl_release_later first:
 *    while an open frame uses the object, its release waits for the end
 *    of that frame, so `__close` from Lua only drops Lua's claim and the
 *    C code's pointers stay valid until it returns.
 * Errors unwind through the frame (it calls the function under pcall and
 * re-raises), so nothing is left held after an error either.
 *
 * Errors: every failure is a Lua error whose message names the function,
 * the argument and the reason, e.g.
 *   "conv.conv2d: bad argument #3 'opts.stride': non-positive stride ..."
 */
#ifndef CPL_H
#define CPL_H

#include <lauxlib.h>
#include <lua.h>

#include "core/conv.h"
#include "core/geometry.h"
#include "core/tensor.h"

#define CPL_TENSOR "convplay.tensor"

/* ---- keep-alive (keepalive.c) ----------------------------------------- */
/* luaL_setfuncs(L, l, 0) with each function run inside a call frame. */
void cpl_setfuncs(lua_State *L, const luaL_Reg *l);
#define cpl_newlib(L, l) (luaL_newlibtable(L, l), cpl_setfuncs(L, l))
/* Hold the userdata or string at idx until the current call returns
 * (anchored against the collector, its release postponed). */
void cpl_keep(lua_State *L, int idx);
/* lua_tostring that stays valid until the current call returns. */
const char *cpl_keepstring(lua_State *L, int idx);
/* Hold p for reading: the current call reads its internals through raw
 * pointers while it creates Lua values (a finalizer or metamethod may run
 * then).  Until it returns, cpl_held_elsewhere(p) is 1 in any call nested
 * inside it, and such calls refuse to change or use p. */
void cpl_hold(lua_State *L, const void *p);
int cpl_held_elsewhere(const void *p);
/* In a release function: if an open call still uses ud, remember
 * release(ud) for when it returns and give 1; else 0 (release now). */
int cpl_release_later(void *ud, void (*release)(void *ud));

/* ---- tensors --------------------------------------------------------------- */
/* A new userdata holding an empty tensor, pushed on the stack. */
cp_tensor *cpl_newtensor(lua_State *L);
/* Push t (takes over its reference; t is left empty). */
void cpl_pushtensor(lua_State *L, cp_tensor *t);
cp_tensor *cpl_checktensor(lua_State *L, int idx);
cp_tensor *cpl_totensor(lua_State *L, int idx); /* NULL if not a tensor */
/* The tensor at stack index idx, argument #arg of fname (for methods, as
 * lauxlib counts: self is not counted).  Raises
 * "fname: bad argument #arg 'what': tensor expected, got nil". */
cp_tensor *cpl_checktensor_arg(lua_State *L, int idx, int arg,
                               const char *fname, const char *what);
/* The value at stack index idx as a tensor; a number or nested table is
 * converted (the new tensor is left on the stack top).  Errors read
 * "fname: bad argument #arg 'what': reason". */
cp_tensor *cpl_checktensorlike(lua_State *L, int idx, const char *fname,
                                int arg, const char *what);

/* Tell the collector about n freshly allocated external bytes. */
void cpl_account(lua_State *L, size_t n);

/* Raise "fname: reason" (reason from a core cp_err). */
int cpl_error(lua_State *L, const char *fname, const cp_err *e);
/* Raise "fname: bad argument #arg 'what': reason". */
int cpl_argerror(lua_State *L, const char *fname, int arg, const char *what,
                 const char *fmt, ...);

/* Integer argument that must be a whole number in [lo, hi]. */
lua_Integer cpl_checkint(lua_State *L, int idx, const char *fname,
                         const char *what, lua_Integer lo, lua_Integer hi);
/* The same for the value at stack index idx that belongs to argument #arg
 * (a table entry or option field): errors name #arg, not the stack slot. */
lua_Integer cpl_checkint_arg(lua_State *L, int idx, int arg,
                             const char *fname, const char *what,
                             lua_Integer lo, lua_Integer hi);

/* A pixel coordinate or size: a number, NaN refused, clamped to +-1e6 (far
 * off any surface) so the conversion to int is always defined. */
int cpl_checkcoord(lua_State *L, int idx);

/* ---- conv options -------------------------------------------------------- */
/* Parse a PyTorch-style option table at idx (may be nil/none) into p.
 * transposed selects conv_transpose2d's accepted keys.  bias (if the table
 * has one) is returned through *bias (borrowed, anchored by the table). */
void cpl_conv_opts(lua_State *L, int idx, const char *fname, int transposed,
                   cp_conv_params *p, cp_tensor **bias);

/* What an option table says beyond cp_conv_params. */
typedef struct cpl_conv_extra {
  int channels_last;  /* data_format = "channels_last" */
  int multi_channel;  /* partial_conv2d's multi_channel */
  int has_out_pad;    /* output_padding was given */
  int has_out_size;   /* transposed: output_size was given */
  int64_t out_size[2];/* its (h, w) */
} cpl_conv_extra;
/* cpl_conv_opts with the extras (no key check: the caller's). */
void cpl_conv_opts_ex(lua_State *L, int idx, const char *fname,
                      int transposed, cp_conv_params *p, cp_tensor **bias,
                      cpl_conv_extra *x);

/* The keys present in the option table at idx over the parameters p
 * holds already (v:set, the lab): same parser, same messages; arg numbers
 * the table in messages (1 for a method's opts). */
void cpl_conv_opts_over(lua_State *L, int idx, int arg, const char *fname,
                        cp_conv_params *p);

/* Raise "fname: bad argument #arg 'opts': unknown option 'k' (known: ...)"
 * for a key of the table at idx not in allowed (NULL-terminated); nil/none
 * passes, a non-table is an error. */
void cpl_check_keys(lua_State *L, int idx, const char *fname, int arg,
                    const char *const *allowed);

/* ---- more ops (src/lua/wrap_ops.c) --------------------------------------- */
/* Set gradients, unfold/fold, pooling and the 1-D ops into the table on
 * the stack top (the conv module). */
void cpl_conv_ops(lua_State *L);
/* tensor.matmul(a, b) and t:matmul(u). */
int cpl_tensor_matmul(lua_State *L);
int cpl_tensor_matmul_method(lua_State *L);

/* ---- module openers -------------------------------------------------------- */
int luaopen_tensor(lua_State *L);
int luaopen_conv(lua_State *L);
int luaopen_image(lua_State *L);
int luaopen_viz(lua_State *L);
/* viz.lab (src/lua/wrap_lab.c), registered by luaopen_viz. */
int cpl_viz_lab(lua_State *L);
/* Push the table of kernel presets (image.kernels; src/lua/wrap_kernels.c). */
int cpl_push_kernels(lua_State *L);
/* The `convplay` module (src/lua/init.c): require "convplay" from any
 * Lua 5.4; "convplay.tensor" etc. return its parts. */
int luaopen_convplay(lua_State *L);
int luaopen_convplay_tensor(lua_State *L);
int luaopen_convplay_conv(lua_State *L);
int luaopen_convplay_image(lua_State *L);
int luaopen_convplay_viz(lua_State *L);
/* The host: the module, plus each part as a global and package.loaded[name]. */
void cpl_openlibs(lua_State *L, int headless);

/* ---- a prompt beside the window (the host's -i; src/lua/viz_loop.c) ------ */
/* fn(L, event) is called when a window loop starts, every frame, and when
 * it ends; it returns CPL_IDLE_* flags.  HIDE and SHOW (L is NULL) bracket
 * a message the loop prints on stderr.  NULL removes it. */
enum { CPL_IDLE_START, CPL_IDLE_POLL, CPL_IDLE_END, CPL_IDLE_HIDE,
       CPL_IDLE_SHOW };
#define CPL_IDLE_RAN 1  /* code ran: views may have changed, redraw */
#define CPL_IDLE_QUIT 2 /* leave the loop (end of input) */
typedef int (*cpl_idle_fn)(lua_State *L, int event);
void cpl_viz_set_idle(cpl_idle_fn fn);

/* ---- pooling options (wrap_ops.c) ------------------------------------- */
/* Kernel (stack slot 2) and options (slot 3) of a pooling call, as
 * conv.max_pool2d / avg_pool2d / max_pool1d / avg_pool1d read them (dims 1:
 * the sizes go to W of an H = 1 problem).  keys: the option keys allowed
 * (NULL: the op's own); ret_idx (max only) receives return_indices. */
void cpl_pool_args(lua_State *L, const char *fname, cp_pool_kind kind,
                   int dims, cp_pool_params *p, int *ret_idx,
                   const char *const *keys);

/* Kernel (slot 3) and options (slot 4) of max_unpool2d(x, indices, k
 * [, opts]) as conv.max_unpool2d reads them; keys: allowed option keys
 * (NULL: the op's own).  Returns 1 with o = (h, w) when output_size is
 * given, else 0. */
int cpl_unpool_args(lua_State *L, const char *fname,
                    const char *const *keys, cp_pool_params *p, int64_t *o);

/* ---- 1-D convolution arguments (wrap_ops.c) ---------------------------- */
/* What conv.conv1d / conv_transpose1d read from (x, w [, opts]) at stack
 * slots 1-3, as the H = 1 problem the 2-D code computes. */
typedef struct cpl_conv1d {
  cp_conv_params p;           /* pad[2..3], stride[1], dilation[1] set */
  cp_tensor *bias;            /* or NULL (anchored on the stack) */
  cp_tensor *x, *w;           /* (N, C, 1, L) / (C, 1, L) and (O, C/G, 1, k):
                               * userdata on the stack */
  int causal;                 /* padding = "causal" */
  int channels_last;          /* data_format = "channels_last" */
} cpl_conv1d;
/* keys: the option keys allowed (NULL: the op's own). */
void cpl_conv1d_args(lua_State *L, const char *fname, int T,
                     const char *const *keys, cpl_conv1d *a);
/* Say a 2-D geometry message the 1-D way ([a, b, 1, c] -> [a, b, c]). */
void cpl_msg_1d(char *msg);

#endif
