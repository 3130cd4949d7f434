/* keepalive.c - every binding call keeps alive what it uses (see cpl.h).
 *
 * Each registered C function runs behind guard(): a call frame, kept on the
 * C stack and linked from a thread-local list, records the full userdata
 * the function uses (its arguments, and anything cpl_keep adds: a tensor
 * from an option table, a string kept past a Lua call).  Arguments are
 * anchored by the guard's own stack slots, kept values by registry
 * references, so the collector cannot free them.  A release function
 * (__gc, __close, :close()) asks cpl_release_later first: while an open
 * frame uses the object its release is postponed to the end of the last
 * such frame.  The guard calls the real function under lua_pcall, so the
 * frame is closed on errors too, then re-raises the error unchanged.
 *
 * Frames nest strictly (a binding call cannot yield), so one list per OS
 * thread holds every open frame of every Lua state that thread runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpl.h"

#define INLINE_KEEP 8
#define CPL_HOLD_MAX 4

typedef struct frame {
  struct frame *up;           /* the enclosing open frame */
  int n, cap;                 /* objects recorded, capacity */
  const void **obj;           /* the objects (userdata or string pointers) */
  int *ref;                   /* registry reference, or LUA_NOREF */
  lua_State *L;               /* the state the references live in */
  const void *inl_obj[INLINE_KEEP];
  int inl_ref[INLINE_KEEP];
  const void *held[CPL_HOLD_MAX]; /* read through raw pointers (cpl_hold) */
  int nheld;
} frame;

typedef struct deferred {
  void *ud;                   /* the object whose release waits */
  void (*release)(void *ud);
} deferred;

static _Thread_local frame *top;
static _Thread_local deferred *pending;
static _Thread_local int npending, cappending;

static int frame_has(const frame *f, const void *p) {
  for (int i = 0; i < f->n; i++)
    if (f->obj[i] == p) return 1;
  return 0;
}

static int in_use(const void *p) {
  for (const frame *f = top; f; f = f->up)
    if (frame_has(f, p)) return 1;
  return 0;
}

/* Record p in f (ref: registry reference or LUA_NOREF); -1 if out of
 * memory. */
static int frame_add(frame *f, const void *p, int ref) {
  if (f->n == f->cap) {
    int cap = f->cap * 2;
    const void **obj = malloc(sizeof *obj * (size_t)cap);
    int *rf = malloc(sizeof *rf * (size_t)cap);
    if (!obj || !rf) {
      free(obj);
      free(rf);
      return -1;
    }
    memcpy(obj, f->obj, sizeof *obj * (size_t)f->n);
    memcpy(rf, f->ref, sizeof *rf * (size_t)f->n);
    if (f->obj != f->inl_obj) {
      free(f->obj);
      free(f->ref);
    }
    f->obj = obj, f->ref = rf, f->cap = cap;
  }
  f->obj[f->n] = p;
  f->ref[f->n] = ref;
  f->n++;
  return 0;
}

/* Run the postponed releases no open frame needs any more. */
static void run_pending(void) {
  int k = 0;
  for (int i = 0; i < npending; i++) {
    if (in_use(pending[i].ud)) {
      pending[k++] = pending[i];
    } else {
      pending[i].release(pending[i].ud);
    }
  }
  npending = k;
  if (npending == 0) {
    free(pending);
    pending = NULL;
    cappending = 0;
  }
}

static void frame_close(frame *f) {
  top = f->up;
  run_pending();
  for (int i = 0; i < f->n; i++)
    if (f->ref[i] != LUA_NOREF) luaL_unref(f->L, LUA_REGISTRYINDEX, f->ref[i]);
  if (f->obj != f->inl_obj) {
    free(f->obj);
    free(f->ref);
  }
}

/* "mod.field" for a function stored in a loaded module (as lauxlib's
 * pushglobalfuncname); pushes the name or nothing. */
static int push_module_name(lua_State *L, int fn) {
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  int loaded = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, loaded)) {
    if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TTABLE) {
      int mod = lua_gettop(L);
      lua_pushnil(L);
      while (lua_next(L, mod)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_rawequal(L, -1, fn)) {
          const char *m = lua_tostring(L, mod - 1);
          if (strcmp(m, "_G") == 0)
            lua_pushstring(L, lua_tostring(L, -2));
          else
            lua_pushfstring(L, "%s.%s", m, lua_tostring(L, -2));
          lua_replace(L, loaded);
          lua_settop(L, loaded);
          return 1;
        }
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 1);
  }
  lua_settop(L, loaded - 1);
  return 0;
}

/* luaL_argerror names the function and counts arguments from what it
 * sees at level 0: the real function, called by the guard, has no name
 * and is never a method.  The guard can tell both, so an error raised as
 * "bad argument #N to '?' (...)" is rewritten as lauxlib would have. */
static void fix_argerror(lua_State *L) {
  const char *m = lua_tostring(L, -1);
  int arg = 0, off = 0;
  if (m == NULL || sscanf(m, "bad argument #%d to '?' (%n", &arg, &off) != 1 ||
      off == 0)
    return;
  lua_Debug ar;
  if (!lua_getstack(L, 0, &ar) || !lua_getinfo(L, "nf", &ar)) return;
  int fn = lua_gettop(L);
  const char *name = ar.name;
  if (ar.namewhat && strcmp(ar.namewhat, "method") == 0) {
    arg--;
    if (arg == 0) {
      lua_pushfstring(L, "calling '%s' on bad self (%s", name ? name : "?",
                      m + off);
      lua_replace(L, fn - 1);
      lua_settop(L, fn - 1);
      return;
    }
  }
  if (name == NULL && push_module_name(L, fn)) name = lua_tostring(L, -1);
  lua_pushfstring(L, "bad argument #%d to '%s' (%s", arg, name ? name : "?",
                  m + off);
  lua_replace(L, fn - 1);
  lua_settop(L, fn - 1);
}

static int guard(lua_State *L) {
  int n = lua_gettop(L);
  luaL_checkstack(L, n + LUA_MINSTACK, "too many arguments");
  frame f;
  f.up = top;
  f.n = 0;
  f.cap = INLINE_KEEP;
  f.obj = f.inl_obj;
  f.ref = f.inl_ref;
  f.L = L;
  f.nheld = 0;
  for (int i = 1; i <= n; i++)
    if (lua_type(L, i) == LUA_TUSERDATA &&
        frame_add(&f, lua_touserdata(L, i), LUA_NOREF)) {
      if (f.obj != f.inl_obj) free(f.obj), free(f.ref);
      return luaL_error(L, "not enough memory");
    }
  /* The originals at 1..n stay in this frame: they anchor the arguments
   * whatever the callee does with its own copies. */
  lua_pushvalue(L, lua_upvalueindex(1));
  for (int i = 1; i <= n; i++) lua_pushvalue(L, i);
  top = &f;
  int rc = lua_pcall(L, n, LUA_MULTRET, 0);
  frame_close(&f);
  if (rc != LUA_OK) {
    if (lua_type(L, -1) == LUA_TSTRING) fix_argerror(L);
    return lua_error(L);
  }
  return lua_gettop(L) - n;
}

void cpl_keep(lua_State *L, int idx) {
  frame *f = top;
  if (f == NULL) return; /* not inside a binding call: nothing to outlive */
  int t = lua_type(L, idx);
  if (t != LUA_TUSERDATA && t != LUA_TSTRING) return;
  const void *p = t == LUA_TSTRING ? (const void *)lua_tostring(L, idx)
                                   : lua_touserdata(L, idx);
  if (frame_has(f, p)) return;
  lua_pushvalue(L, idx);
  int ref = luaL_ref(L, LUA_REGISTRYINDEX);
  if (frame_add(f, p, ref)) {
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    luaL_error(L, "not enough memory");
  }
}

void cpl_hold(lua_State *L, const void *p) {
  frame *f = top;
  if (f == NULL) return; /* not inside a binding call: no Lua runs nested */
  for (int i = 0; i < f->nheld; i++)
    if (f->held[i] == p) return;
  if (f->nheld == CPL_HOLD_MAX) luaL_error(L, "too many objects held");
  f->held[f->nheld++] = p;
}

int cpl_held_elsewhere(const void *p) {
  for (const frame *f = top ? top->up : NULL; f; f = f->up)
    for (int i = 0; i < f->nheld; i++)
      if (f->held[i] == p) return 1;
  return 0;
}

const char *cpl_keepstring(lua_State *L, int idx) {
  const char *s = lua_tostring(L, idx);
  if (s) cpl_keep(L, idx);
  return s;
}

int cpl_release_later(void *ud, void (*release)(void *ud)) {
  if (!in_use(ud)) return 0;
  for (int i = 0; i < npending; i++)
    if (pending[i].ud == ud) return 1;
  if (npending == cappending) {
    int cap = cappending ? cappending * 2 : 8;
    deferred *p = realloc(pending, sizeof *p * (size_t)cap);
    /* Without memory to remember it the object is simply not released
     * now; its __gc releases it once nothing refers to it. */
    if (p == NULL) return 1;
    pending = p, cappending = cap;
  }
  pending[npending].ud = ud;
  pending[npending].release = release;
  npending++;
  return 1;
}

void cpl_setfuncs(lua_State *L, const luaL_Reg *l) {
  for (; l->name; l++) {
    if (l->func == NULL) {
      lua_pushboolean(L, 0); /* a placeholder, as luaL_setfuncs */
    } else if (strcmp(l->name, "__gc") == 0) {
      /* A finalizer only runs on an unreachable object: nothing to hold. */
      lua_pushcfunction(L, l->func);
    } else {
      lua_pushcfunction(L, l->func);
      lua_pushcclosure(L, guard, 1);
    }
    lua_setfield(L, -2, l->name);
  }
}
