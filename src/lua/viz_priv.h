/* viz_priv.h - what wrap_viz.c (views) and viz_loop.c (the window loop,
 * drawing for scripts) share.  Private to the viz binding. */
#ifndef CPL_VIZ_PRIV_H
#define CPL_VIZ_PRIV_H

#include "cpl.h"
#include "viz/show.h"
#include "viz/stack.h"
#include "viz/view.h"

#define VIEW_MT "convplay.view"
#define VIEWS_KEY "convplay.viz.views"   /* views created (window mode) */
#define PAGES_KEY "convplay.viz.pages"   /* views the loop shows */

typedef struct lview {
  vz_view *v;                 /* a step-through view, or NULL */
  vz_show *sh;                /* static grids, or NULL */
  vz_stack *st;               /* a stack of layers, or NULL */
} lview;


/* Registry flag convplay.headless (set by the host). */
int cplv_headless(lua_State *L);
/* Fonts loaded, or a Lua error "fname: reason". */
int cplv_fonts(lua_State *L, const char *fname);
/* Option fields of the table at opts (nil/none: the default).  Errors name
 * argument #opts of fname and the field: "fname: bad argument #3
 * 'opts.width': ...". */
int cplv_opt_int(lua_State *L, int opts, const char *key, int dflt,
                 const char *fname, int lo, int hi);
int cplv_opt_bool(lua_State *L, int opts, const char *key, int dflt);
const char *cplv_opt_string(lua_State *L, int opts, const char *key,
                            const char *fname);
/* opts[key] as one of names (NULL-terminated): its index, or -1 when
 * absent; any other string is an error listing the choices. */
int cplv_opt_choice(lua_State *L, int opts, const char *fname,
                    const char *key, const char *const *names);
/* opts.view of a transposed view: 1 "scatter" (the default), 0 "gather". */
int cplv_opt_scatter(lua_State *L, int opts, const char *fname);

/* A list of the n integers a[i] + add, pushed. */
void cplv_push_ints(lua_State *L, const int64_t *a, int n, int64_t add);

/* The text and panel boxes a canvas recorded (see v:layout()), as the
 * array part of the table on top of the stack. */
void cplv_push_boxes(lua_State *L, const vz_canvas *s);

/* The lab's window (lab:run, viz.lab), with the prompt beside it when the
 * host runs one. */
typedef struct vz_lab vz_lab;
int cplv_lab_run(lua_State *L, vz_lab *lb, char *err, size_t n);

/* viz_loop.c: viz.run, viz._after_script, viz.current and the drawing
 * functions (viz.clear, rect, line, text, grid, size, screenshot, time). */
extern const luaL_Reg cplv_loop_funcs[];
void cplv_loop_open(void);

/* A new view userdata (empty) on the stack; remember it for the window
 * loop (window mode only). */
lview *cplv_newview(lua_State *L);
void cplv_register_view(lua_State *L, int idx);

/* wrap_vizops.c: the views of pooling and 1-D ops, and what v:state adds
 * for a pooling view (the table on top of the stack). */
int cplv_max_pool2d(lua_State *L);
int cplv_avg_pool2d(lua_State *L);
int cplv_max_pool1d(lua_State *L);
int cplv_avg_pool1d(lua_State *L);
int cplv_conv1d(lua_State *L);
int cplv_max_unpool2d(lua_State *L);
int cplv_conv_transpose1d(lua_State *L);
void cplv_pool_state(lua_State *L, const vz_view *v, const vz_view_state *s,
                     const vz_view_unit *u);
/* v:set{...} (table at 2) of a pooling or 1-D view (s: its state): its own
 * keys; returns as v:set does. */
int cplv_set_special(lua_State *L, vz_view *v, const vz_view_state *s);
/* What v:set returns after the change (rc: 0, or -1 when the view now
 * shows an error): true, or false and the reason. */
int cplv_set_result(lua_State *L, vz_view *v, int rc);

/* wrap_vizstack.c: viz.stack, and s:hover / s:state of a stack page. */
int cplv_stack(lua_State *L);
int cplv_stack_hover(lua_State *L, vz_stack *st);
int cplv_stack_state(lua_State *L, vz_stack *st);
/* s:mouse(x, y): hover what the last drawn frame shows there; returns
 * the grid (0 input) and the 1-based row, col, or nil. */
int cplv_stack_mouse(lua_State *L, vz_stack *st);
/* s:layout()'s `grids` field (the table on top): each grid of the frame
 * just drawn, {x, y, cell, rows, cols}. */
void cplv_stack_grids(lua_State *L, const vz_stack *st);

#endif
