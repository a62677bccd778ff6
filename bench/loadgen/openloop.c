/*
 * openloop: an open-loop HTTP/1.1 load generator (one thread, epoll, keep-alive connections).
 *
 * Why: a closed loop (wrk) slows down with the server it loads, and a Python generator on the same cores
 * as the system steals the CPU and adds event-loop lag to the figures it reports. Here request i is due
 * at start + i / rate whatever happened before, and its latency is measured from that due time, so a
 * request that waits for a connection is charged for the wait (no coordinated omission).
 *
 * Usage: openloop --host H --port P --rate R --duration S --templates FILE --out FILE
 *                 [--max-conns N] [--timeout S] [--seq-start N] [--mark TEXT]...
 *
 * Templates file: templates one after another, each "T <head_len> <body_len>\n" then the head (request line
 * and headers, each ending in CRLF, without the blank line) and the body. The generator adds Content-Length
 * and replaces every "{{seq}}" in the body by the request's number (seq-start + i). Request i uses template
 * i % count.
 * Output file: one line per request, in order: "seq due_us latency_us status marks error late"; marks has
 * bit k set when the answer's body contains the k-th --mark; error is 0 (answered), 1 (connect failed),
 * 2 (connection closed or reset before a full answer), 3 (timed out), 4 (malformed answer) or 5 (never
 * sent: no connection before the end); late is 1 when the request found every one of --max-conns
 * connections busy at its due time. Stdout: one JSON line of totals and the generator's own CPU time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_MARKS 8
#define MAX_HEAD 65536
#define TIMER_TAG UINT64_MAX
#define SWEEP_NS 20000000LL /* timeouts are checked every 20 ms */
/* The timer wakes the generator at most this often, and each wake-up sends every request then due. Per
 * request, a timer costs a timerfd_settime, a wake-up and a read of the timer: at 10x storm rates (2,500/s)
 * that was a third of the generator's CPU, on the cores the system under test shares. Requests are sent up
 * to this late; latency still counts from each one's due time. */
#define TICK_NS 1000000LL

enum { ERR_NONE, ERR_CONNECT, ERR_CLOSED, ERR_TIMEOUT, ERR_BAD, ERR_NOT_SENT };
enum { C_FREE, C_CONNECTING, C_IDLE, C_BUSY };

typedef struct {
    char *head, *body;
    size_t head_len, body_len;
} Template;

typedef struct {
    int64_t send_ns, done_ns;
    int status;
    uint8_t marks, err, late, retried, done;
} Rec;

typedef struct {
    int fd, state, in_idle, reused, want_out;
    long req;
    char *wbuf, *rbuf;
    size_t wlen, woff, wcap, rlen, rcap;
} Conn;

static struct {
    double rate, duration, timeout;
    long max_conns, seq_start, total;
    Template *tpl;
    long ntpl;
    const char *marks[MAX_MARKS];
    size_t mark_len[MAX_MARKS];
    int nmarks;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    int ep;
    int64_t start;
    Rec *rec;
    Conn *conns;
    long *free_slots, nfree;
    long *idle, nidle;
    long *queue, qhead, qtail, late_upto;
    long open, connecting, peak_open, connects, done, late, sent, retries;
    int64_t last_send;
} G;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t due_ns(long i) { return G.start + (int64_t)llround((double)i * 1e9 / G.rate); }

static void die(const char *what) {
    fprintf(stderr, "openloop: %s: %s\n", what, errno ? strerror(errno) : "invalid");
    exit(2);
}

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) die("out of memory");
    return q;
}

static void reserve(char **buf, size_t *cap, size_t need) {
    if (need <= *cap) return;
    size_t n = *cap ? *cap : 1024;
    while (n < need) n *= 2;
    *buf = xrealloc(*buf, n);
    *cap = n;
}

static void load_templates(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) die(path);
    size_t head_len, body_len;
    while (fscanf(f, "T %zu %zu", &head_len, &body_len) == 2) {
        if (fgetc(f) != '\n') die("templates: expected a newline after the sizes");
        G.tpl = xrealloc(G.tpl, (size_t)(G.ntpl + 1) * sizeof(Template));
        Template *t = &G.tpl[G.ntpl++];
        t->head = xrealloc(NULL, head_len + 1);
        t->body = xrealloc(NULL, body_len + 1);
        t->head_len = head_len;
        t->body_len = body_len;
        if (fread(t->head, 1, head_len, f) != head_len || fread(t->body, 1, body_len, f) != body_len)
            die("templates: file shorter than its sizes");
    }
    if (!feof(f) || G.ntpl == 0) die("templates: no template, or trailing garbage");
    fclose(f);
}

/* The request for number i into c->wbuf: the head, Content-Length, the body with {{seq}} replaced. */
static void build_request(Conn *c, long i) {
    static const char ph[] = "{{seq}}";
    const size_t phl = sizeof ph - 1;
    const Template *t = &G.tpl[i % G.ntpl];
    char seq[32];
    int seql = snprintf(seq, sizeof seq, "%ld", G.seq_start + i);
    size_t body_len = t->body_len;
    for (const char *p = t->body, *end = t->body + t->body_len; (p = memmem(p, (size_t)(end - p), ph, phl));
         p += phl)
        body_len = body_len - phl + (size_t)seql;
    reserve(&c->wbuf, &c->wcap, t->head_len + body_len + 64);
    memcpy(c->wbuf, t->head, t->head_len);
    size_t n = t->head_len;
    n += (size_t)sprintf(c->wbuf + n, "Content-Length: %zu\r\n\r\n", body_len);
    const char *p = t->body, *end = t->body + t->body_len;
    for (const char *hit; (hit = memmem(p, (size_t)(end - p), ph, phl)); p = hit + phl) {
        memcpy(c->wbuf + n, p, (size_t)(hit - p));
        n += (size_t)(hit - p);
        memcpy(c->wbuf + n, seq, (size_t)seql);
        n += (size_t)seql;
    }
    memcpy(c->wbuf + n, p, (size_t)(end - p));
    c->wlen = n + (size_t)(end - p);
    c->woff = 0;
}

static void finish(long i, int status, int marks, int err) {
    Rec *r = &G.rec[i];
    if (r->done) return;
    r->done = 1;
    r->done_ns = now_ns();
    r->status = status;
    r->marks = (uint8_t)marks;
    r->err = (uint8_t)err;
    G.done++;
}

static void set_events(Conn *c, int want_out) {
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (want_out ? EPOLLOUT : 0), .data.u64 = (uint64_t)(c - G.conns)};
    if (epoll_ctl(G.ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl");
    c->want_out = want_out;
}

static void close_conn(Conn *c) {
    if (c->state == C_FREE) return;
    if (c->state == C_CONNECTING) G.connecting--;
    close(c->fd);
    c->fd = -1;
    c->state = C_FREE;
    c->req = -1;
    c->rlen = 0;
    G.open--;
    G.free_slots[G.nfree++] = c - G.conns;
}

static void make_idle(Conn *c) {
    c->state = C_IDLE;
    c->req = -1;
    c->rlen = 0;
    if (c->want_out) set_events(c, 0);
    if (!c->in_idle) {
        c->in_idle = 1;
        G.idle[G.nidle++] = c - G.conns;
    }
}

static void open_conn(void) {
    long slot = G.free_slots[--G.nfree];
    Conn *c = &G.conns[slot];
    int fd = socket(G.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    c->state = C_CONNECTING;
    c->req = -1;
    c->reused = 0;
    c->rlen = 0;
    G.open++;
    G.connecting++;
    G.connects++;
    if (G.open > G.peak_open) G.peak_open = G.open;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.u64 = (uint64_t)slot};
    c->want_out = 1;
    if (epoll_ctl(G.ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
    if (connect(fd, (struct sockaddr *)&G.addr, G.addr_len) < 0 && errno != EINPROGRESS) {
        /* EPOLLERR reports it on the next wait */
    }
}

/* A connection could not be made: the oldest waiting request fails with it (so a refusing server cannot
 * make the generator open connections forever). */
static void connect_failed(Conn *c) {
    close_conn(c);
    if (G.qhead < G.qtail) finish(G.queue[G.qhead++], 0, 0, ERR_CONNECT);
}

/* The connection broke with request c->req on it. A kept-alive connection that breaks before a single
 * byte of the answer came back is most likely one the server closed while idle: the request goes again,
 * once, on another connection (clientReference makes a repeated purchase safe); else it fails with err. */
static void lost(Conn *c, int err) {
    long i = c->req;
    int again = i >= 0 && c->reused && c->rlen == 0 && !G.rec[i].retried;
    close_conn(c);
    if (i < 0) return;
    if (again) {
        G.rec[i].retried = 1;
        G.retries++;
        G.queue[--G.qhead] = i; /* every request in flight left the queue's head once, so the slot is free */
    } else {
        finish(i, 0, 0, err);
    }
}

static void flush_write(Conn *c);

static void assign(Conn *c, long i) {
    c->state = C_BUSY;
    c->req = i;
    c->rlen = 0;
    build_request(c, i);
    if (!G.rec[i].send_ns) G.sent++;
    G.rec[i].send_ns = now_ns();
    G.last_send = G.rec[i].send_ns;
    flush_write(c);
}

static void flush_write(Conn *c) {
    while (c->woff < c->wlen) {
        ssize_t n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
        if (n > 0) {
            c->woff += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->want_out) set_events(c, 1);
            return;
        }
        lost(c, ERR_CLOSED);
        return;
    }
    if (c->want_out) set_events(c, 0);
}

/* Hand waiting requests to idle connections, open connections for the rest (up to the cap), and mark as
 * late the ones that must wait because the cap is reached. */
static void dispatch(void) {
    while (G.qhead < G.qtail && G.nidle > 0) {
        Conn *c = &G.conns[G.idle[--G.nidle]];
        c->in_idle = 0;
        if (c->state != C_IDLE) continue;
        c->reused = 1;
        assign(c, G.queue[G.qhead++]);
    }
    long waiting = G.qtail - G.qhead;
    while (waiting > G.connecting && G.open < G.max_conns) open_conn();
    if (waiting > G.connecting && G.open >= G.max_conns) {
        for (long k = G.late_upto > G.qhead ? G.late_upto : G.qhead; k < G.qtail; k++) {
            Rec *r = &G.rec[G.queue[k]];
            if (!r->late) {
                r->late = 1;
                G.late++;
            }
        }
        G.late_upto = G.qtail;
    }
}

static int find_crlf(const char *p, size_t n, size_t *at) {
    const char *hit = memmem(p, n, "\r\n", 2);
    if (!hit) return 0;
    *at = (size_t)(hit - p);
    return 1;
}

/* Chunked body starting at b (n bytes so far): 1 and the decoded body copied to out when complete, 0 when
 * more is needed, -1 when malformed. *used is the encoded length. */
static int chunked(const char *b, size_t n, char *out, size_t *out_len, size_t *used) {
    size_t pos = 0, len = 0;
    for (;;) {
        size_t eol;
        if (!find_crlf(b + pos, n - pos, &eol)) return n - pos > 1024 ? -1 : 0;
        char *endp;
        unsigned long size = strtoul(b + pos, &endp, 16);
        if (endp == b + pos) return -1;
        pos += eol + 2;
        if (size == 0) { /* trailers, then a blank line */
            for (;;) {
                if (!find_crlf(b + pos, n - pos, &eol)) return 0;
                pos += eol + 2;
                if (eol == 0) break;
            }
            *out_len = len;
            *used = pos;
            return 1;
        }
        if (n - pos < size + 2) return 0;
        if (out) memmove(out + len, b + pos, size);
        len += size;
        pos += size + 2;
    }
}

static int header_is(const char *line, size_t n, const char *name) {
    size_t k = strlen(name);
    return n > k && strncasecmp(line, name, k) == 0 && line[k] == ':';
}

static int value_has(const char *line, size_t n, const char *word) {
    const char *colon = memchr(line, ':', n);
    size_t k = strlen(word);
    for (const char *p = colon + 1; p + k <= line + n; p++)
        if (strncasecmp(p, word, k) == 0) return 1;
    return 0;
}

/* Try to complete the answer in c->rbuf. 1: complete (status, marks and keep-alive set), 0: need more,
 * -1: malformed. At eof an answer without a length ends here. */
static int parse(Conn *c, int eof, int *status, int *marks, int *keep) {
    char *buf = c->rbuf;
    const char *end_head = memmem(buf, c->rlen, "\r\n\r\n", 4);
    if (!end_head) return c->rlen > MAX_HEAD || eof ? -1 : 0;
    size_t head_len = (size_t)(end_head - buf) + 4;
    int minor, st;
    if (sscanf(buf, "HTTP/1.%d %3d", &minor, &st) != 2) return -1;
    long clen = -1;
    int is_chunked = 0, close = minor == 0, ka = 0;
    size_t pos = 0, eol;
    find_crlf(buf, head_len, &pos);
    for (pos += 2; pos < head_len - 2 && find_crlf(buf + pos, head_len - pos, &eol); pos += eol + 2) {
        const char *line = buf + pos;
        if (header_is(line, eol, "content-length"))
            clen = strtol(memchr(line, ':', eol) + 1, NULL, 10);
        else if (header_is(line, eol, "transfer-encoding") && value_has(line, eol, "chunked"))
            is_chunked = 1;
        else if (header_is(line, eol, "connection")) {
            if (value_has(line, eol, "close")) close = 1;
            if (value_has(line, eol, "keep-alive")) ka = 1;
        }
    }
    if (minor == 0 && ka) close = 0;
    char *body = buf + head_len;
    size_t have = c->rlen - head_len, body_len, used;
    if ((st >= 100 && st < 200) || st == 204 || st == 304) {
        body_len = used = 0;
    } else if (is_chunked) {
        size_t decoded;
        int r = chunked(body, have, NULL, &decoded, &used);
        if (r <= 0) return r < 0 ? -1 : (eof ? -1 : 0);
        chunked(body, have, body, &body_len, &used); /* decoding in place only moves bytes backwards */
    } else if (clen >= 0) {
        if (have < (size_t)clen) return eof ? -1 : 0;
        body_len = used = (size_t)clen;
    } else {
        if (!eof) return 0;
        body_len = used = have;
        close = 1;
    }
    *marks = 0;
    for (int k = 0; k < G.nmarks; k++)
        if (memmem(body, body_len, G.marks[k], G.mark_len[k])) *marks |= 1 << k;
    *status = st;
    *keep = !close && !eof && used == have; /* bytes past the answer: no pipelining here, so drop the conn */
    return 1;
}

static void on_readable(Conn *c) {
    int eof = 0;
    for (;;) {
        reserve(&c->rbuf, &c->rcap, c->rlen + 4096);
        ssize_t n = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
        if (n > 0) {
            c->rlen += (size_t)n;
            if (c->rlen < c->rcap) break; /* short read: most likely all there is */
            continue;
        }
        if (n == 0) {
            eof = 1;
            break;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        lost(c, ERR_CLOSED);
        return;
    }
    if (c->state != C_BUSY) { /* an idle connection: the server closed it (or spoke out of turn) */
        close_conn(c);
        return;
    }
    if (c->woff < c->wlen) { /* an answer before the whole request was written: take it as it comes */
        c->woff = c->wlen;
    }
    int status, marks, keep;
    int r = parse(c, eof, &status, &marks, &keep);
    if (r == 0) return;
    if (r < 0) {
        lost(c, eof && c->rlen == 0 ? ERR_CLOSED : ERR_BAD);
        return;
    }
    long i = c->req;
    finish(i, status, marks, ERR_NONE);
    if (keep)
        make_idle(c);
    else
        close_conn(c);
}

static void on_event(Conn *c, uint32_t events) {
    if (c->state == C_FREE) return; /* closed earlier in this batch of events */
    if (c->state == C_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err || (events & (EPOLLERR | EPOLLHUP))) {
            connect_failed(c);
            return;
        }
        if (!(events & EPOLLOUT)) return;
        G.connecting--;
        make_idle(c);
        return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) {
        on_readable(c);
        return;
    }
    if ((events & EPOLLOUT) && c->state == C_BUSY) flush_write(c);
}

static void sweep_timeouts(int64_t now) {
    int64_t limit = (int64_t)(G.timeout * 1e9);
    for (long k = 0; k < G.max_conns; k++) {
        Conn *c = &G.conns[k];
        if (c->state == C_BUSY && now - G.rec[c->req].send_ns > limit) {
            long i = c->req;
            close_conn(c);
            finish(i, 0, 0, ERR_TIMEOUT);
        }
    }
}

static void arm(int tfd, int64_t at) {
    struct itimerspec its = {.it_value = {.tv_sec = at / 1000000000LL, .tv_nsec = at % 1000000000LL}};
    if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) die("timerfd_settime");
}

static void resolve(const char *host, const char *port) {
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc) {
        fprintf(stderr, "openloop: %s:%s: %s\n", host, port, gai_strerror(rc));
        exit(2);
    }
    memcpy(&G.addr, res->ai_addr, res->ai_addrlen);
    G.addr_len = res->ai_addrlen;
    freeaddrinfo(res);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void usage(void) {
    fprintf(stderr, "usage: openloop --host H --port P --rate R --duration S --templates FILE --out FILE "
                    "[--max-conns N] [--timeout S] [--seq-start N] [--mark TEXT]...\n");
    exit(2);
}

static void report(const char *out_path) {
    FILE *out = fopen(out_path, "w");
    if (!out) die(out_path);
    static char obuf[1 << 20];
    setvbuf(out, obuf, _IOFBF, sizeof obuf);
    int64_t *lags = xrealloc(NULL, (size_t)G.total * sizeof *lags);
    long nlags = 0, errors = 0;
    for (long i = 0; i < G.total; i++) {
        Rec *r = &G.rec[i];
        int64_t due = due_ns(i);
        if (r->send_ns) lags[nlags++] = r->send_ns - due;
        errors += r->err != ERR_NONE;
        fprintf(out, "%ld %lld %lld %d %u %u %u\n", G.seq_start + i, (long long)((due - G.start) / 1000),
                (long long)((r->done_ns - due) / 1000), r->status, r->marks, r->err, r->late);
    }
    if (fclose(out)) die(out_path);
    qsort(lags, (size_t)nlags, sizeof *lags, cmp_i64);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double span = G.last_send ? (double)(G.last_send - G.start) / 1e9 : 0;
    printf("{\"requests\":%ld,\"sent\":%ld,\"retries\":%ld,\"errors\":%ld,\"late\":%ld,\"peak_connections\":%ld,\"connects\":%ld,"
           "\"send_span_s\":%.3f,\"elapsed_s\":%.3f,\"send_lag_p50_ms\":%.3f,\"send_lag_p99_ms\":%.3f,"
           "\"send_lag_max_ms\":%.3f,\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f}\n",
           G.total, G.sent, G.retries, errors, G.late, G.peak_open, G.connects, span, (double)(now_ns() - G.start) / 1e9,
           nlags ? lags[nlags / 2] / 1e6 : 0, nlags ? lags[(long)(nlags * 0.99)] / 1e6 : 0,
           nlags ? lags[nlags - 1] / 1e6 : 0, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
           ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
    free(lags);
}

static void parse_args(int argc, char **argv, const char **host, const char **port, const char **tpl,
                       const char **out) {
    G.max_conns = 4000;
    G.timeout = 30;
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k];
        if (k + 1 >= argc) usage();
        const char *v = argv[++k];
        if (!strcmp(a, "--host")) *host = v;
        else if (!strcmp(a, "--port")) *port = v;
        else if (!strcmp(a, "--rate")) G.rate = atof(v);
        else if (!strcmp(a, "--duration")) G.duration = atof(v);
        else if (!strcmp(a, "--templates")) *tpl = v;
        else if (!strcmp(a, "--out")) *out = v;
        else if (!strcmp(a, "--max-conns")) G.max_conns = atol(v);
        else if (!strcmp(a, "--timeout")) G.timeout = atof(v);
        else if (!strcmp(a, "--seq-start")) G.seq_start = atol(v);
        else if (!strcmp(a, "--mark") && G.nmarks < MAX_MARKS) {
            G.marks[G.nmarks] = v;
            G.mark_len[G.nmarks++] = strlen(v);
        } else usage();
    }
    if (!*host || !*port || !*tpl || !*out || G.rate <= 0 || G.duration <= 0 || G.max_conns < 1 || G.timeout <= 0)
        usage();
}

int main(int argc, char **argv) {
    const char *host = NULL, *port = NULL, *tpl_path = NULL, *out_path = NULL;
    parse_args(argc, argv, &host, &port, &tpl_path, &out_path);
    signal(SIGPIPE, SIG_IGN);
    load_templates(tpl_path);
    resolve(host, port);

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)G.max_conns + 64) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)G.max_conns + 64 ? (rlim_t)G.max_conns + 64
                                                                                             : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    G.total = (long)ceil(G.rate * G.duration - 1e-6);
    G.rec = calloc((size_t)G.total, sizeof(Rec));
    G.queue = xrealloc(NULL, (size_t)G.total * sizeof(long));
    G.conns = calloc((size_t)G.max_conns, sizeof(Conn));
    G.free_slots = xrealloc(NULL, (size_t)G.max_conns * sizeof(long));
    G.idle = xrealloc(NULL, (size_t)G.max_conns * sizeof(long));
    if (!G.rec || !G.conns) die("out of memory");
    for (long k = 0; k < G.max_conns; k++) {
        G.conns[k].fd = -1;
        G.conns[k].req = -1;
        G.free_slots[G.nfree++] = G.max_conns - 1 - k;
    }

    G.ep = epoll_create1(EPOLL_CLOEXEC);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (G.ep < 0 || tfd < 0) die("epoll/timerfd");
    struct epoll_event tev = {.events = EPOLLIN, .data.u64 = TIMER_TAG};
    if (epoll_ctl(G.ep, EPOLL_CTL_ADD, tfd, &tev) < 0) die("epoll_ctl");

    struct epoll_event events[512];
    G.start = now_ns();
    int64_t schedule_end = G.start + (int64_t)(G.duration * 1e9);
    int64_t give_up_waiting = schedule_end + (int64_t)(G.timeout * 1e9);
    int64_t next_sweep = G.start + SWEEP_NS, armed = -1;
    long next = 0;
    while (G.done < G.total) {
        int64_t now = now_ns();
        while (next < G.total && due_ns(next) <= now) G.queue[G.qtail++] = next++;
        if (now >= give_up_waiting)
            while (G.qhead < G.qtail) finish(G.queue[G.qhead++], 0, 0, ERR_NOT_SENT);
        dispatch();
        if (now >= next_sweep) {
            sweep_timeouts(now);
            next_sweep = now + SWEEP_NS;
        }
        if (G.done >= G.total) break;
        int64_t wake = next_sweep;
        if (next < G.total && due_ns(next) < wake) wake = due_ns(next) > now + TICK_NS ? due_ns(next) : now + TICK_NS;
        if (wake != armed) {
            arm(tfd, wake);
            armed = wake;
        }
        int n = epoll_wait(G.ep, events, 512, -1);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int k = 0; k < n; k++) {
            if (events[k].data.u64 == TIMER_TAG) {
                uint64_t ticks;
                if (read(tfd, &ticks, sizeof ticks) < 0) { /* nothing to do */
                }
                armed = -1;
                continue;
            }
            on_event(&G.conns[events[k].data.u64], events[k].events);
        }
    }
    report(out_path);
    return 0;
}
