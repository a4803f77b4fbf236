/*
 * udp-batch: a UDP receive socket that hands datagrams to JavaScript in batches.
 *
 * Why: node:dgram makes one Buffer, one rinfo object with an address string and one JS call per
 * datagram, and reads them with one recvmsg each. On this project's machines that caps a do-nothing
 * receiver near 100 k datagrams/s, below what a flow exporter (or a flood of export) sends, where
 * nfcapd and pmacct keep up. Here the socket is read with recvmmsg(2), up to `batch` datagrams a
 * system call, into one buffer JavaScript allocated once; a metadata array gives each datagram's
 * length and source; JavaScript is called once per batch. Nothing is allocated per datagram.
 *
 * It is built with Node-API only (ABI-stable: the same binary loads in Node 20, 22 and 24) plus
 * libuv's poll handle for readiness on Node's own event loop. Optional: when it is not built,
 * `palisade collect` uses node:dgram and says so.
 *
 * JS API (src/sources/flow-listen/batch-socket.ts wraps it):
 *   open(family 4|6, host, port, rcvbuf) -> handle      throws Error with .code = "EADDRINUSE" ...
 *   address(handle) -> [host, port]
 *   rcvbuf(handle) -> bytes granted (getsockopt, as node:dgram's getRecvBufferSize reports)
 *   start(handle, data: ArrayBuffer, slot, meta: Int32Array, batch, onBatch(n))
 *   close(handle)
 * Datagram i of a batch is at data[i*slot .. i*slot+len); meta[i*META+0] = length kept,
 * +1 = length sent (larger when cut at the slot), +2 = source port, +3 = family (4 or 6),
 * +4..+7 = source address bytes (IPv4 in +4 as a big-endian uint32; IPv6 as four big-endian words).
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define META 8
/* Batches read per readiness callback before giving the event loop back (fairness with timers). */
#define MAX_ROUNDS 16

typedef struct Reader {
  int fd;
  int family;
  int closed;
  int ext_alive;
  int poll_alive;
  uv_poll_t poll;
  napi_env env;
  napi_ref on_batch;
  napi_ref data_ref;
  napi_ref meta_ref;
  napi_async_context async;
  uint8_t *data;
  size_t slot;
  int32_t *meta;
  unsigned batch;
  struct mmsghdr *msgs;
  struct iovec *iov;
  struct sockaddr_storage *from;
} Reader;

static napi_value throw_errno(napi_env env, int err, const char *what) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, uv_err_name(-err), msg);
  return NULL;
}

static Reader *reader_of(napi_env env, napi_value v) {
  Reader *r = NULL;
  if (napi_get_value_external(env, v, (void **)&r) != napi_ok || r == NULL) {
    napi_throw_type_error(env, NULL, "not a udp-batch handle");
    return NULL;
  }
  return r;
}

static void free_batch(Reader *r) {
  free(r->msgs);
  free(r->iov);
  free(r->from);
  r->msgs = NULL;
  r->iov = NULL;
  r->from = NULL;
}

static void drop_refs(Reader *r) {
  napi_env env = r->env;
  if (r->on_batch) napi_delete_reference(env, r->on_batch);
  if (r->data_ref) napi_delete_reference(env, r->data_ref);
  if (r->meta_ref) napi_delete_reference(env, r->meta_ref);
  if (r->async) napi_async_destroy(env, r->async);
  r->on_batch = r->data_ref = r->meta_ref = NULL;
  r->async = NULL;
}

/* The Reader lives until both its JS handle (the external) and its poll handle are gone. */
static void maybe_free(Reader *r) {
  if (r->ext_alive || r->poll_alive) return;
  free_batch(r);
  free(r);
}

static void on_poll_closed(uv_handle_t *h) {
  Reader *r = (Reader *)h->data;
  r->poll_alive = 0;
  maybe_free(r);
}

/* Close once: stop polling, let go of the JS buffers and callback, close the descriptor. */
static void reader_close(Reader *r) {
  if (r->closed) return;
  r->closed = 1;
  drop_refs(r);
  close(r->fd);
  r->fd = -1;
  if (r->poll_alive) {
    uv_poll_stop(&r->poll);
    uv_close((uv_handle_t *)&r->poll, on_poll_closed);
  }
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  Reader *r = (Reader *)data;
  r->env = env;
  reader_close(r); /* collected without close(): the socket goes with it */
  r->ext_alive = 0;
  maybe_free(r);
}

static void fill_meta(Reader *r, unsigned n) {
  for (unsigned i = 0; i < n; i++) {
    int32_t *m = r->meta + (size_t)i * META;
    unsigned sent = r->msgs[i].msg_len;
    m[0] = (int32_t)(sent > r->slot ? r->slot : sent);
    m[1] = (int32_t)sent;
    struct sockaddr_storage *s = &r->from[i];
    if (s->ss_family == AF_INET6) {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)s;
      const uint8_t *b = a->sin6_addr.s6_addr;
      m[2] = ntohs(a->sin6_port);
      /* A v4-mapped source on a dual-stack socket is an IPv4 exporter. */
      if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
        m[3] = 4;
        m[4] = (int32_t)(((uint32_t)b[12] << 24) | ((uint32_t)b[13] << 16) | ((uint32_t)b[14] << 8) | b[15]);
      } else {
        m[3] = 6;
        for (int w = 0; w < 4; w++)
          m[4 + w] = (int32_t)(((uint32_t)b[4 * w] << 24) | ((uint32_t)b[4 * w + 1] << 16) | ((uint32_t)b[4 * w + 2] << 8) | b[4 * w + 3]);
      }
    } else {
      struct sockaddr_in *a = (struct sockaddr_in *)s;
      m[2] = ntohs(a->sin_port);
      m[3] = 4;
      m[4] = (int32_t)ntohl(a->sin_addr.s_addr);
    }
    /* Re-arm for the next call: recvmmsg overwrites msg_namelen. */
    r->msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
  }
}

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  Reader *r = (Reader *)h->data;
  if (status < 0 || r->closed) return;
  napi_env env = r->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, n_value, global, result;
  napi_get_global(env, &global);
  for (int round = 0; round < MAX_ROUNDS && !r->closed; round++) {
    int n = recvmmsg(r->fd, r->msgs, r->batch, MSG_DONTWAIT, NULL);
    if (n <= 0) break; /* EAGAIN: drained; other errors (ECONNREFUSED is not possible unconnected) retried on the next wake */
    fill_meta(r, (unsigned)n);
    if (napi_get_reference_value(env, r->on_batch, &cb) != napi_ok || cb == NULL) break;
    napi_create_uint32(env, (uint32_t)n, &n_value);
    /* make_callback: runs microtasks and async hooks after the call, as any libuv callback into JS must. */
    napi_status st = napi_make_callback(env, r->async, global, cb, 1, &n_value, &result);
    if (st == napi_pending_exception) {
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      napi_fatal_exception(env, exc);
      break;
    }
    if ((unsigned)n < r->batch) break;
  }
  napi_close_handle_scope(env, scope);
}

static int parse_addr(int family, const char *host, int port, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  if (family == 6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) return EINVAL;
    *len = sizeof *a;
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1) return EINVAL;
    *len = sizeof *a;
  }
  return 0;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t family = 4, port = 0, rcvbuf = 0;
  char host[64];
  size_t hl = 0;
  if (argc < 4 || napi_get_value_int32(env, argv[0], &family) != napi_ok || napi_get_value_string_utf8(env, argv[1], host, sizeof host, &hl) != napi_ok ||
      napi_get_value_int32(env, argv[2], &port) != napi_ok || napi_get_value_int32(env, argv[3], &rcvbuf) != napi_ok) {
    napi_throw_type_error(env, NULL, "open(family, host, port, rcvbuf)");
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t sl;
  if (parse_addr(family, host, port, &ss, &sl) != 0) return throw_errno(env, EINVAL, "bad address");
  int fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, errno, "socket");
  if (family == 6) {
    int off = 0; /* dual stack, as node:dgram's ipv6Only: false */
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  }
  if (bind(fd, (struct sockaddr *)&ss, sl) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, e, "bind");
  }
  if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf); /* capped by rmem_max; rcvbuf() says what was granted */
  Reader *r = calloc(1, sizeof *r);
  if (r == NULL) {
    close(fd);
    return throw_errno(env, ENOMEM, "open");
  }
  r->fd = fd;
  r->family = family;
  r->ext_alive = 1;
  r->env = env;
  napi_value ext;
  if (napi_create_external(env, r, finalize, NULL, &ext) != napi_ok) {
    close(fd);
    free(r);
    return NULL;
  }
  return ext;
}

static napi_value js_address(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Reader *r = argc ? reader_of(env, argv[0]) : NULL;
  if (r == NULL || r->closed) return NULL;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname(r->fd, (struct sockaddr *)&ss, &sl) != 0) return throw_errno(env, errno, "getsockname");
  char text[INET6_ADDRSTRLEN] = "";
  int port = 0;
  if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    port = ntohs(a->sin6_port);
  } else {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    port = ntohs(a->sin_port);
  }
  napi_value out, h, p;
  napi_create_array_with_length(env, 2, &out);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &h);
  napi_create_int32(env, port, &p);
  napi_set_element(env, out, 0, h);
  napi_set_element(env, out, 1, p);
  return out;
}

static napi_value js_rcvbuf(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Reader *r = argc ? reader_of(env, argv[0]) : NULL;
  if (r == NULL || r->closed) return NULL;
  int v = 0;
  socklen_t l = sizeof v;
  if (getsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &v, &l) != 0) return throw_errno(env, errno, "getsockopt");
  napi_value out;
  napi_create_int32(env, v, &out);
  return out;
}

static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 6) {
    napi_throw_type_error(env, NULL, "start(handle, data, slot, meta, batch, onBatch)");
    return NULL;
  }
  Reader *r = reader_of(env, argv[0]);
  if (r == NULL) return NULL;
  if (r->closed || r->poll_alive) {
    napi_throw_error(env, "ERR_STATE", r->closed ? "closed" : "already started");
    return NULL;
  }
  void *data = NULL;
  size_t data_len = 0;
  uint32_t slot = 0, batch = 0;
  napi_typedarray_type tt;
  size_t meta_len = 0, meta_off = 0;
  void *meta = NULL;
  napi_value meta_ab;
  napi_valuetype cbt;
  if (napi_get_arraybuffer_info(env, argv[1], &data, &data_len) != napi_ok || napi_get_value_uint32(env, argv[2], &slot) != napi_ok ||
      napi_get_typedarray_info(env, argv[3], &tt, &meta_len, &meta, &meta_ab, &meta_off) != napi_ok || tt != napi_int32_array ||
      napi_get_value_uint32(env, argv[4], &batch) != napi_ok || napi_typeof(env, argv[5], &cbt) != napi_ok || cbt != napi_function || slot == 0 || batch == 0 ||
      (size_t)slot * batch > data_len || (size_t)batch * META > meta_len) {
    napi_throw_type_error(env, NULL, "start: data must hold batch*slot bytes, meta batch*8 int32s, onBatch a function");
    return NULL;
  }
  r->data = data;
  r->slot = slot;
  r->meta = meta;
  r->batch = batch;
  r->msgs = calloc(batch, sizeof *r->msgs);
  r->iov = calloc(batch, sizeof *r->iov);
  r->from = calloc(batch, sizeof *r->from);
  if (!r->msgs || !r->iov || !r->from) {
    free_batch(r);
    return throw_errno(env, ENOMEM, "start");
  }
  for (unsigned i = 0; i < batch; i++) {
    r->iov[i].iov_base = r->data + (size_t)i * slot;
    r->iov[i].iov_len = slot;
    r->msgs[i].msg_hdr.msg_iov = &r->iov[i];
    r->msgs[i].msg_hdr.msg_iovlen = 1;
    r->msgs[i].msg_hdr.msg_name = &r->from[i];
    r->msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
  }
  /* Hold the buffers so they cannot be collected while the kernel writes into them. */
  napi_create_reference(env, argv[1], 1, &r->data_ref);
  napi_create_reference(env, argv[3], 1, &r->meta_ref);
  napi_create_reference(env, argv[5], 1, &r->on_batch);
  napi_value name;
  napi_create_string_utf8(env, "palisade:udp-batch", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &r->async);
  uv_loop_t *loop = NULL;
  napi_get_uv_event_loop(env, (struct uv_loop_s **)&loop);
  int rc = uv_poll_init(loop, &r->poll, r->fd);
  if (rc != 0) {
    drop_refs(r);
    free_batch(r);
    return throw_errno(env, -rc, "uv_poll_init");
  }
  r->poll.data = r;
  r->poll_alive = 1;
  rc = uv_poll_start(&r->poll, UV_READABLE, on_readable);
  if (rc != 0) {
    napi_throw_error(env, uv_err_name(rc), "uv_poll_start failed");
    reader_close(r);
    return NULL;
  }
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Reader *r = argc ? reader_of(env, argv[0]) : NULL;
  if (r == NULL || r->closed) return NULL;
  r->env = env;
  reader_close(r);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor d[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"address", NULL, js_address, NULL, NULL, NULL, napi_default, NULL},
      {"rcvbuf", NULL, js_rcvbuf, NULL, NULL, NULL, napi_default, NULL},
      {"start", NULL, js_start, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof d / sizeof d[0], d);
  napi_value meta;
  napi_create_uint32(env, META, &meta);
  napi_set_named_property(env, exports, "META", meta);
  return exports;
}
