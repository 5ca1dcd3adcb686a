// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
//
// Periscope agent: the kernel side. Captures the payload of a host's TCP connections from
// syscall tracepoints and the plaintext of OpenSSL's SSL_read/SSL_write from uprobes, and
// hands it to userspace through one BPF ring buffer.
//
// Only program types this kernel family accepts are used: tracepoints (syscalls) and
// uprobes/uretprobes. No kprobe, fentry/fexit or LSM.
//
// Design:
// - A connection is (tgid, fd, start_ns); `conns` remembers its addresses, its role
//   (accept -> server, connect -> client, otherwise decided by userspace from the listening
//   ports) and a byte offset per (source, direction). Every data event carries its offset,
//   so a lost or truncated event shows up in userspace as a jump: a Gap, never silent.
// - Payload is copied in chunks of at most `chunk_size` bytes, at most `max_chunks` chunks
//   per call; the rest is counted as truncated (the offset still advances by it).
// - TLS: while a thread is inside SSL_read/SSL_write/SSL_do_handshake, its socket
//   syscalls tie the SSL object to the fd (`ssl_fds`) and mark the connection as TLS, after
//   which syscall payload (ciphertext) of that connection is no longer sent.
// - Losses (ring buffer full) are counted per CPU in `stats`.
//
// Rebuild with ./build.sh (which also records the hashes checked by CI).

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define CHUNK_MAX 16384
#define MAX_CHUNKS 16
#define MAX_IOV 8
#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define MSG_PEEK 2
#define EINPROGRESS 115

// Set by the loader before load (.rodata).
const volatile __u32 agent_tgid = 0;
const volatile __u32 chunk_size = CHUNK_MAX;
const volatile __u32 max_chunks = 4;
const volatile __u8 capture_outbound = 0;
const volatile __u8 filter_ports = 0;
const volatile __u8 filter_comms = 0;
const volatile __u8 filter_cgroups = 0;
// Wake the reader when this much is waiting (the loader sets a quarter of the ring).
const volatile __u64 wakeup_bytes = 256 * 1024;

enum { EV_DATA = 1, EV_CLOSE = 2 };
enum { SRC_SYSCALL = 0, SRC_SSL = 1 };
enum { IO_IN = 0, IO_OUT = 1 };
enum { ROLE_UNKNOWN = 0, ROLE_SERVER = 1, ROLE_CLIENT = 2 };
enum { FLAG_TRUNCATED = 1, FLAG_NO_FD = 2 };

// Stat slots (per-CPU array).
enum {
    ST_EVENTS = 0,
    ST_LOST_EVENTS = 1,
    ST_LOST_BYTES = 2,
    ST_TRUNC_EVENTS = 3,
    ST_TRUNC_BYTES = 4,
    ST_SSL_NO_FD = 5,
    ST_CONNS = 6,
    ST_LOST_CLOSE = 7,
    ST_MAX = 8,
};

// The wire format read by src/event.rs: little endian, fixed offsets (checked below).
struct event {
    __u64 ts;         // 0  bpf_ktime_get_ns
    __u64 conn_start; // 8  identifies the connection with tgid and fd
    __u64 seq;        // 16 offset of data[0] in (source, iodir)
    __u64 total;      // 24 bytes the call moved (data + truncated)
    __u32 tgid;       // 32
    __u32 fd;         // 36
    __u32 len;        // 40 bytes in data
    __u32 flags;      // 44
    __u16 lport;      // 48 host order
    __u16 rport;      // 50 host order
    __u8 family;      // 52
    __u8 kind;        // 53
    __u8 source;      // 54
    __u8 iodir;       // 55
    __u8 role;        // 56
    __u8 pad[7];      // 57
    __u8 laddr[16];   // 64
    __u8 raddr[16];   // 80
    char comm[16];    // 96
    __u8 data[CHUNK_MAX]; // 112
};
_Static_assert(__builtin_offsetof(struct event, data) == 112, "event header is 112 bytes");
#define HDR_LEN 112

struct conn_key {
    __u32 tgid;
    __u32 fd;
};

struct conn {
    __u64 start;
    __u64 seq[2][2]; // [source][iodir]
    __u16 lport, rport;
    __u8 family, role, tls, skip;
    __u8 laddr[16];
    __u8 raddr[16];
};

// A syscall between enter and exit.
struct call {
    __u64 buf;   // buffer, iovec array or msghdr
    __u32 fd;
    __u32 count; // iovcnt for vectored calls
    __u8 vec;    // 0 plain buffer, 1 iovec array, 2 msghdr
    __u8 peek;
};

// An SSL call between entry and return.
struct ssl_call {
    __u64 ssl;
    __u64 buf;
    __u64 size_ptr; // *_ex forms: where the byte count is written
    __u8 is_read;
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 8 * 1024 * 1024);
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 65536);
    __type(key, struct conn_key);
    __type(value, struct conn);
} conns SEC(".maps");

// Descriptors that are not TCP sockets (files, pipes, UDP, unix sockets), remembered so
// that their reads and writes cost one lookup. Kept apart from `conns` so that a process
// churning through files cannot push tracked connections out of the LRU.
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 65536);
    __type(key, struct conn_key);
    __type(value, __u8);
} others SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 16384);
    __type(key, __u64);
    __type(value, struct call);
} calls SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 16384);
    __type(key, __u64);
    __type(value, struct ssl_call);
} ssl_calls SEC(".maps");

// SSL* -> fd, learnt from the syscalls an SSL call makes; keyed by (tgid << 64 | ssl) folded.
struct ssl_key {
    __u64 tgid;
    __u64 ssl;
};
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 65536);
    __type(key, struct ssl_key);
    __type(value, __u32);
} ssl_fds SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, __u16);
    __type(value, __u8);
} ports SEC(".maps");

struct comm_key {
    char comm[16];
};
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, struct comm_key);
    __type(value, __u8);
} comms SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, __u64);
    __type(value, __u8);
} cgroups SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, ST_MAX);
    __type(key, __u32);
    __type(value, __u64);
} stats SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct event);
} scratch SEC(".maps");

static __always_inline void stat_add(__u32 slot, __u64 v)
{
    __u64 *p = bpf_map_lookup_elem(&stats, &slot);
    if (p)
        *p += v;
}

// The struct sock behind `fd` of the current task, or NULL when fd is not a socket.
static __always_inline struct sock *fd_to_sock(__u32 fd)
{
    struct task_struct *task = (struct task_struct *)bpf_get_current_task();
    struct files_struct *files = BPF_CORE_READ(task, files);
    if (!files)
        return NULL;
    struct fdtable *fdt = BPF_CORE_READ(files, fdt);
    if (!fdt)
        return NULL;
    unsigned int max = BPF_CORE_READ(fdt, max_fds);
    if (fd >= max)
        return NULL;
    struct file **fds = BPF_CORE_READ(fdt, fd);
    struct file *f = NULL;
    bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
    if (!f)
        return NULL;
    umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
    if ((mode & S_IFMT) != S_IFSOCK)
        return NULL;
    struct socket *sock = BPF_CORE_READ(f, private_data);
    if (!sock)
        return NULL;
    return BPF_CORE_READ(sock, sk);
}

static __always_inline int selected(struct conn *c)
{
    if (filter_ports) {
        __u16 p = c->role == ROLE_CLIENT ? c->rport : c->lport;
        if (!bpf_map_lookup_elem(&ports, &p)) {
            if (c->role != ROLE_UNKNOWN || !bpf_map_lookup_elem(&ports, &c->rport))
                return 0;
        }
    }
    if (filter_comms) {
        struct comm_key k = {};
        bpf_get_current_comm(&k.comm, sizeof(k.comm));
        if (!bpf_map_lookup_elem(&comms, &k))
            return 0;
    }
    if (filter_cgroups) {
        __u64 id = bpf_get_current_cgroup_id();
        if (!bpf_map_lookup_elem(&cgroups, &id))
            return 0;
    }
    return 1;
}

// Creates the entry of (tgid, fd), or records in `others` that it is not a TCP socket
// (then returns NULL).
static __always_inline struct conn *conn_create(struct conn_key *k, __u8 role)
{
    __u8 one = 1;
    struct sock *sk = fd_to_sock(k->fd);
    if (!sk) {
        bpf_map_update_elem(&others, k, &one, BPF_ANY);
        return NULL;
    }
    __u16 proto = BPF_CORE_READ(sk, sk_protocol);
    __u16 type = BPF_CORE_READ(sk, sk_type);
    __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
    if (proto != IPPROTO_TCP || type != 1 /* SOCK_STREAM */ ||
        (family != AF_INET && family != AF_INET6)) {
        bpf_map_update_elem(&others, k, &one, BPF_ANY);
        return NULL;
    }
    struct conn c = {};
    c.start = bpf_ktime_get_ns();
    c.role = role;
    c.family = family;
    c.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
    c.rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
    if (family == AF_INET) {
        __u32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
        __u32 r = BPF_CORE_READ(sk, __sk_common.skc_daddr);
        __builtin_memcpy(c.laddr, &l, 4);
        __builtin_memcpy(c.raddr, &r, 4);
    } else {
        BPF_CORE_READ_INTO(&c.laddr, sk, __sk_common.skc_v6_rcv_saddr);
        BPF_CORE_READ_INTO(&c.raddr, sk, __sk_common.skc_v6_daddr);
    }
    if (k->tgid == agent_tgid)
        c.skip = 1;
    else if (role == ROLE_CLIENT && !capture_outbound)
        c.skip = 1;
    else if (!selected(&c))
        c.skip = 1;
    else
        stat_add(ST_CONNS, 1);
    // A descriptor number reused for a socket (accept after a file was closed by exit).
    bpf_map_delete_elem(&others, k);
    bpf_map_update_elem(&conns, k, &c, BPF_ANY);
    return bpf_map_lookup_elem(&conns, k);
}

static __always_inline struct conn *conn_get(struct conn_key *k)
{
    struct conn *c = bpf_map_lookup_elem(&conns, k);
    if (c)
        return c;
    if (bpf_map_lookup_elem(&others, k))
        return NULL;
    return conn_create(k, ROLE_UNKNOWN);
}

static __always_inline void fill_header(struct event *e, struct conn_key *k, struct conn *c,
                                        __u8 kind, __u8 src, __u8 iodir)
{
    e->ts = bpf_ktime_get_ns();
    e->conn_start = c->start;
    e->tgid = k->tgid;
    e->fd = k->fd;
    e->flags = 0;
    e->lport = c->lport;
    e->rport = c->rport;
    e->family = c->family;
    e->kind = kind;
    e->source = src;
    e->iodir = iodir;
    e->role = c->role;
    __builtin_memcpy(e->laddr, c->laddr, 16);
    __builtin_memcpy(e->raddr, c->raddr, 16);
    bpf_get_current_comm(&e->comm, sizeof(e->comm));
}

// Wake the reader only when a batch is waiting: one wakeup per record costs the traced
// services a context switch each. The reader polls with a timeout, so a quiet ring is still
// drained within that timeout.
static __always_inline __u64 wakeup_flag(void)
{
    return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
                                                                         : BPF_RB_NO_WAKEUP;
}

static __always_inline int send_chunk(struct event *e, __u64 n, const void *src)
{
    // 64-bit compare on the register passed to the helper, so the verifier sees the bound.
    if (n > CHUNK_MAX)
        n = CHUNK_MAX;
    asm volatile("" : "+r"(n));
    if (n > CHUNK_MAX)
        return -1;
    if (bpf_probe_read_user(e->data, n, src) != 0)
        return -1;
    e->len = n;
    if (bpf_ringbuf_output(&events, e, HDR_LEN + n, wakeup_flag()) != 0) {
        stat_add(ST_LOST_EVENTS, 1);
        stat_add(ST_LOST_BYTES, n);
        return -1;
    }
    stat_add(ST_EVENTS, 1);
    return 0;
}

// Sends `total` bytes found at `buf` (vec == 0), in an iovec array of `count` entries
// (vec == 1) or behind a user_msghdr (vec == 2).
// Progress of one emit() through its buffer or iovec array, one bpf_loop step at a time.
struct emit_state {
    __u64 buf, total, base, sent, cur, cur_len;
    __u32 vec, count, iov_i, chunks, csize, maxc;
};

// The state lives in a per-CPU map rather than on the stack: the verifier does not track
// values in map memory, so every iteration of the bpf_loop body looks the same to it and
// verification converges at once (on the stack, 24 iterations took seconds per program).
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct emit_state);
} emit_states SEC(".maps");

static long emit_step(__u32 i, void *ctx)
{
    __u32 zero = 0;
    struct emit_state *st = bpf_map_lookup_elem(&emit_states, &zero);
    if (!st)
        return 1;
    if (st->sent >= st->total)
        return 1;
    if (st->cur_len == 0) {
        if (!st->vec || st->iov_i >= st->count || st->iov_i >= MAX_IOV)
            return 1;
        struct iovec iov = {};
        if (bpf_probe_read_user(&iov, sizeof(iov), (void *)(st->buf + st->iov_i * sizeof(iov))) != 0)
            return 1;
        st->iov_i++;
        st->cur = (__u64)iov.iov_base;
        st->cur_len = iov.iov_len;
        if (st->cur_len > st->total - st->sent)
            st->cur_len = st->total - st->sent;
        return 0;
    }
    if (st->chunks >= st->maxc)
        return 1;
    struct event *e = bpf_map_lookup_elem(&scratch, &zero);
    if (!e)
        return 1;
    __u64 n = st->cur_len > st->csize ? st->csize : st->cur_len;
    e->seq = st->base + st->sent;
    send_chunk(e, n, (const void *)st->cur);
    st->chunks++;
    st->sent += n;
    st->cur += n;
    st->cur_len -= n;
    return 0;
}

// What to send; passed by pointer because BPF functions take at most five arguments.
struct emit_args {
    __u64 buf;
    __u64 total;
    __u32 tgid;
    __u32 fd;
    __u32 src;
    __u32 iodir;
    __u32 vec;
    __u32 count;
};

// A global (not inlined) function: the verifier checks it once instead of once per caller,
// which keeps the load time of its callers low.
__noinline int emit(struct emit_args *a, struct conn *c)
{
    __u32 zero = 0;
    if (!a || !c)
        return 0;
    struct conn_key key = {.tgid = a->tgid, .fd = a->fd};
    struct conn_key *k = &key;
    __u32 src = a->src & 1, iodir = a->iodir & 1, vec = a->vec, count = a->count;
    __u64 buf = a->buf, total = a->total;
    struct event *e = bpf_map_lookup_elem(&scratch, &zero);
    if (!e)
        return 0;
    fill_header(e, k, c, EV_DATA, src, iodir);
    __u64 base = __sync_fetch_and_add(&c->seq[src][iodir], total);
    e->total = total;

    if (vec == 2) {
        struct user_msghdr msg = {};
        if (bpf_probe_read_user(&msg, sizeof(msg), (void *)buf) != 0)
            return 0;
        buf = (__u64)msg.msg_iov;
        count = msg.msg_iovlen;
        vec = 1;
    }

    struct emit_state *st = bpf_map_lookup_elem(&emit_states, &zero);
    if (!st)
        return 0;
    __u32 csize = chunk_size, maxc = max_chunks;
    if (csize == 0 || csize > CHUNK_MAX)
        csize = CHUNK_MAX;
    if (maxc > MAX_CHUNKS)
        maxc = MAX_CHUNKS;
    *st = (struct emit_state){.buf = buf, .total = total, .base = base, .cur = buf,
                              .cur_len = vec ? 0 : total, .vec = vec, .count = count,
                              .csize = csize, .maxc = maxc};
    if (total > (__u64)maxc * csize)
        e->flags |= FLAG_TRUNCATED;
    bpf_loop(MAX_CHUNKS + MAX_IOV, emit_step, NULL, 0);
    __u64 sent = st->sent;
    if (sent < total) {
        stat_add(ST_TRUNC_EVENTS, 1);
        stat_add(ST_TRUNC_BYTES, total - sent);
    }
    return 0;
}

static __always_inline void emit_close(struct conn_key *k, struct conn *c)
{
    __u32 zero = 0;
    struct event *e = bpf_map_lookup_elem(&scratch, &zero);
    if (!e)
        return;
    fill_header(e, k, c, EV_CLOSE, SRC_SYSCALL, IO_IN);
    e->seq = 0;
    e->total = 0;
    e->len = 32;
    __builtin_memcpy(e->data, c->seq, 32);
    if (bpf_ringbuf_output(&events, e, HDR_LEN + 32, wakeup_flag()) != 0) {
        stat_add(ST_LOST_EVENTS, 1);
        stat_add(ST_LOST_CLOSE, 1);
        return;
    }
    stat_add(ST_EVENTS, 1);
}

// ---------------------------------------------------------------- syscalls

static __always_inline __u64 tid(void)
{
    return bpf_get_current_pid_tgid();
}

static __always_inline int is_agent(void)
{
    return (bpf_get_current_pid_tgid() >> 32) == agent_tgid;
}

// While the thread is inside an SSL call, the syscall ties the SSL object to fd and marks
// the connection as TLS. Returns 1 when that happened (the payload is ciphertext).
static __always_inline int note_ssl(__u32 fd)
{
    __u64 id = tid();
    struct ssl_call *s = bpf_map_lookup_elem(&ssl_calls, &id);
    if (!s)
        return 0;
    struct ssl_key sk = {.tgid = id >> 32, .ssl = s->ssl};
    bpf_map_update_elem(&ssl_fds, &sk, &fd, BPF_ANY);
    struct conn_key k = {.tgid = id >> 32, .fd = fd};
    struct conn *c = conn_get(&k);
    if (c)
        c->tls = 1;
    return 1;
}

static __always_inline int enter_io(__u64 fd, __u64 buf, __u32 count, __u8 vec, __u8 peek)
{
    if (is_agent())
        return 0;
    if (note_ssl((__u32)fd))
        return 0;
    // Descriptors already known as uninteresting (files, pipes, filtered sockets) cost one
    // lookup and no update.
    struct conn_key k = {.tgid = bpf_get_current_pid_tgid() >> 32, .fd = (__u32)fd};
    if (bpf_map_lookup_elem(&others, &k))
        return 0;
    struct conn *c = bpf_map_lookup_elem(&conns, &k);
    if (c && (c->skip || c->tls))
        return 0;
    struct call call = {.buf = buf, .fd = (__u32)fd, .count = count, .vec = vec, .peek = peek};
    __u64 id = tid();
    bpf_map_update_elem(&calls, &id, &call, BPF_ANY);
    return 0;
}

static __always_inline int exit_io(long ret, __u8 iodir)
{
    __u64 id = tid();
    struct call *call = bpf_map_lookup_elem(&calls, &id);
    if (!call)
        return 0;
    struct call a = *call;
    bpf_map_delete_elem(&calls, &id);
    if (ret <= 0 || a.peek)
        return 0;
    struct conn_key k = {.tgid = id >> 32, .fd = a.fd};
    struct conn *c = conn_get(&k);
    if (!c || c->skip)
        return 0;
    if (c->tls) {
        // Ciphertext: keep the offset moving only for the SSL source.
        return 0;
    }
    struct emit_args ea = {.buf = a.buf, .total = (__u64)ret, .tgid = k.tgid, .fd = k.fd,
                           .src = SRC_SYSCALL, .iodir = iodir, .vec = a.vec, .count = a.count};
    emit(&ea, c);
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_read")
int enter_read(struct trace_event_raw_sys_enter *ctx)
{
    return enter_io(ctx->args[0], ctx->args[1], 0, 0, 0);
}
SEC("tracepoint/syscalls/sys_exit_read")
int exit_read(struct trace_event_raw_sys_exit *ctx) { return exit_io(ctx->ret, IO_IN); }

SEC("tracepoint/syscalls/sys_enter_write")
int enter_write(struct trace_event_raw_sys_enter *ctx)
{
    return enter_io(ctx->args[0], ctx->args[1], 0, 0, 0);
}
SEC("tracepoint/syscalls/sys_exit_write")
int exit_write(struct trace_event_raw_sys_exit *ctx) { return exit_io(ctx->ret, IO_OUT); }

SEC("tracepoint/syscalls/sys_enter_recvfrom")
int enter_recvfrom(struct trace_event_raw_sys_enter *ctx)
{
    return enter_io(ctx->args[0], ctx->args[1], 0, 0, (ctx->args[3] & MSG_PEEK) != 0);
}
SEC("tracepoint/syscalls/sys_exit_recvfrom")
int exit_recvfrom(struct trace_event_raw_sys_exit *ctx) { return exit_io(ctx->ret, IO_IN); }

SEC("tracepoint/syscalls/sys_enter_sendto")
int enter_sendto(struct trace_event_raw_sys_enter *ctx)
{
    return enter_io(ctx->args[0], ctx->args[1], 0, 0, 0);
}
SEC("tracepoint/syscalls/sys_exit_sendto")
int exit_sendto(struct trace_event_raw_sys_exit *ctx) { return exit_io(ctx->ret, IO_OUT); }

SEC("tracepoint/syscalls/sys_enter_readv")
int enter_readv(struct trace_event_raw_sys_enter *ctx)
{
    return enter_io(ctx->args[0], ctx->args[1], (__u32)ctx->args[2], 1, 0);
}
SEC("tracepoint/syscalls/sys_exit_readv")
int exit_readv(struct trace_event_raw_sys_exit *ctx) { return exit_io(ctx->ret, IO_IN); }

SEC("tracepoint/syscalls/sys_enter_writev")
int enter_writev(struct trace_event_raw_sys_enter *ctx)
{
    return enter_io(ctx->args[0], ctx->args[1], (__u32)ctx->args[2], 1, 0);
}
SEC("tracepoint/syscalls/sys_exit_writev")
int exit_writev(struct trace_event_raw_sys_exit *ctx) { return exit_io(ctx->ret, IO_OUT); }

SEC("tracepoint/syscalls/sys_enter_recvmsg")
int enter_recvmsg(struct trace_event_raw_sys_enter *ctx)
{
    return enter_io(ctx->args[0], ctx->args[1], 0, 2, (ctx->args[2] & MSG_PEEK) != 0);
}
SEC("tracepoint/syscalls/sys_exit_recvmsg")
int exit_recvmsg(struct trace_event_raw_sys_exit *ctx) { return exit_io(ctx->ret, IO_IN); }

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int enter_sendmsg(struct trace_event_raw_sys_enter *ctx)
{
    return enter_io(ctx->args[0], ctx->args[1], 0, 2, 0);
}
SEC("tracepoint/syscalls/sys_exit_sendmsg")
int exit_sendmsg(struct trace_event_raw_sys_exit *ctx) { return exit_io(ctx->ret, IO_OUT); }

// sendfile moves bytes we cannot copy: the offset advances, userspace reports a Gap.
SEC("tracepoint/syscalls/sys_enter_sendfile64")
int enter_sendfile(struct trace_event_raw_sys_enter *ctx)
{
    if (is_agent())
        return 0;
    struct call call = {.fd = (__u32)ctx->args[0], .vec = 3};
    __u64 id = tid();
    bpf_map_update_elem(&calls, &id, &call, BPF_ANY);
    return 0;
}
SEC("tracepoint/syscalls/sys_exit_sendfile64")
int exit_sendfile(struct trace_event_raw_sys_exit *ctx)
{
    __u64 id = tid();
    struct call *call = bpf_map_lookup_elem(&calls, &id);
    if (!call)
        return 0;
    __u32 fd = call->fd;
    bpf_map_delete_elem(&calls, &id);
    if (ctx->ret <= 0)
        return 0;
    struct conn_key k = {.tgid = id >> 32, .fd = fd};
    struct conn *c = bpf_map_lookup_elem(&conns, &k);
    if (!c || c->skip || c->tls)
        return 0;
    __sync_fetch_and_add(&c->seq[SRC_SYSCALL][IO_OUT], (__u64)ctx->ret);
    stat_add(ST_TRUNC_BYTES, (__u64)ctx->ret);
    return 0;
}

// accept/accept4: the returned fd is an inbound connection.
static __always_inline int exit_accept_common(long ret)
{
    if (ret < 0 || is_agent())
        return 0;
    struct conn_key k = {.tgid = tid() >> 32, .fd = (__u32)ret};
    conn_create(&k, ROLE_SERVER);
    return 0;
}
SEC("tracepoint/syscalls/sys_exit_accept4")
int exit_accept4(struct trace_event_raw_sys_exit *ctx) { return exit_accept_common(ctx->ret); }
SEC("tracepoint/syscalls/sys_exit_accept")
int exit_accept(struct trace_event_raw_sys_exit *ctx) { return exit_accept_common(ctx->ret); }

SEC("tracepoint/syscalls/sys_enter_connect")
int enter_connect(struct trace_event_raw_sys_enter *ctx)
{
    if (is_agent())
        return 0;
    struct call call = {.fd = (__u32)ctx->args[0], .vec = 4};
    __u64 id = tid();
    bpf_map_update_elem(&calls, &id, &call, BPF_ANY);
    return 0;
}
SEC("tracepoint/syscalls/sys_exit_connect")
int exit_connect(struct trace_event_raw_sys_exit *ctx)
{
    __u64 id = tid();
    struct call *call = bpf_map_lookup_elem(&calls, &id);
    if (!call)
        return 0;
    __u32 fd = call->fd;
    bpf_map_delete_elem(&calls, &id);
    if (ctx->ret != 0 && ctx->ret != -EINPROGRESS)
        return 0;
    struct conn_key k = {.tgid = id >> 32, .fd = fd};
    conn_create(&k, ROLE_CLIENT);
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int enter_close(struct trace_event_raw_sys_enter *ctx)
{
    if (is_agent())
        return 0;
    struct conn_key k = {.tgid = tid() >> 32, .fd = (__u32)ctx->args[0]};
    struct conn *c = bpf_map_lookup_elem(&conns, &k);
    if (!c) {
        bpf_map_delete_elem(&others, &k);
        return 0;
    }
    if (!c->skip)
        emit_close(&k, c);
    bpf_map_delete_elem(&conns, &k);
    return 0;
}

// ---------------------------------------------------------------- OpenSSL

static __always_inline int ssl_enter(void *ssl, void *buf, void *size_ptr, __u8 is_read)
{
    if (is_agent())
        return 0;
    struct ssl_call s = {.ssl = (__u64)ssl, .buf = (__u64)buf, .size_ptr = (__u64)size_ptr,
                         .is_read = is_read};
    __u64 id = tid();
    bpf_map_update_elem(&ssl_calls, &id, &s, BPF_ANY);
    return 0;
}

static __always_inline int ssl_exit(long ret, int ex)
{
    __u64 id = tid();
    struct ssl_call *sp = bpf_map_lookup_elem(&ssl_calls, &id);
    if (!sp)
        return 0;
    struct ssl_call s = *sp;
    bpf_map_delete_elem(&ssl_calls, &id);
    if (s.buf == 0)
        return 0; // SSL_do_handshake: only the fd binding mattered
    __u64 n = 0;
    if (ex) {
        if (ret != 1 || !s.size_ptr)
            return 0;
        bpf_probe_read_user(&n, sizeof(n), (void *)s.size_ptr);
    } else {
        if (ret <= 0)
            return 0;
        n = (__u64)ret;
    }
    if (n == 0)
        return 0;
    struct ssl_key sk = {.tgid = id >> 32, .ssl = s.ssl};
    __u32 *fdp = bpf_map_lookup_elem(&ssl_fds, &sk);
    if (!fdp) {
        stat_add(ST_SSL_NO_FD, 1);
        return 0;
    }
    struct conn_key k = {.tgid = id >> 32, .fd = *fdp};
    struct conn *c = conn_get(&k);
    if (!c || c->skip)
        return 0;
    c->tls = 1;
    struct emit_args ea = {.buf = s.buf, .total = n, .tgid = k.tgid, .fd = k.fd, .src = SRC_SSL,
                           .iodir = s.is_read ? IO_IN : IO_OUT};
    emit(&ea, c);
    return 0;
}

SEC("uprobe")
int BPF_KPROBE(ssl_read_enter, void *ssl, void *buf, int num) { return ssl_enter(ssl, buf, 0, 1); }
SEC("uretprobe")
int BPF_KRETPROBE(ssl_read_exit, int ret) { return ssl_exit(ret, 0); }

SEC("uprobe")
int BPF_KPROBE(ssl_write_enter, void *ssl, void *buf, int num) { return ssl_enter(ssl, buf, 0, 0); }
SEC("uretprobe")
int BPF_KRETPROBE(ssl_write_exit, int ret) { return ssl_exit(ret, 0); }

SEC("uprobe")
int BPF_KPROBE(ssl_read_ex_enter, void *ssl, void *buf, __u64 num, void *readbytes)
{
    return ssl_enter(ssl, buf, readbytes, 1);
}
SEC("uretprobe")
int BPF_KRETPROBE(ssl_read_ex_exit, int ret) { return ssl_exit(ret, 1); }

SEC("uprobe")
int BPF_KPROBE(ssl_write_ex_enter, void *ssl, void *buf, __u64 num, void *written)
{
    return ssl_enter(ssl, buf, written, 0);
}
SEC("uretprobe")
int BPF_KRETPROBE(ssl_write_ex_exit, int ret) { return ssl_exit(ret, 1); }

SEC("uprobe")
int BPF_KPROBE(ssl_handshake_enter, void *ssl) { return ssl_enter(ssl, 0, 0, 0); }
SEC("uretprobe")
int BPF_KRETPROBE(ssl_handshake_exit, int ret) { return ssl_exit(ret, 0); }
