/*
 * vmacheck kernel oracle helper.
 *
 * Runs scenario steps in a real process tree inside a fixed address arena and reports what the
 * kernel did (VMAs from smaps, pages from pagemap + kpageflags). One command per stdin line, one
 * JSON line per command on stdout; the first line printed is an `env` record.
 *
 * Commands (numbers accept 0x.. hex; page numbers are relative to the arena):
 *   reset | observe | env | ping | quit
 *   <p> mmap <pg> <n> <prot> [anon|shared-anon|file:F@PG|shared-file:F@PG] [noreserve]
 *   <p> munmap <pg> <n>        <p> mprotect <pg> <n> none|r|rw|rx|rwx
 *   <p> madvise <pg> <n> dontneed|dontfork|dofork|wipeonfork|keeponfork
 *   <p> mremap <pg> <n> <newpg> <newn> [dontunmap]
 *   <p> read <pg>   <p> write <pg> <v>   <p> fork <q>   <p> exit
 * Replies: {"ok":true[,"value":N][,"pid":N]} | {"ok":false,"errno":"EEXIST"} |
 *          {"ok":false,"error":"protocol problem"}
 *
 * Design (see the project's kernel-oracle notes): the helper is a child subreaper that ignores
 * SIGCHLD (so every test process is auto-reaped), pins itself (and thereby the tree) to one CPU,
 * disables THP by prctl (inherited, adds no VMA flag), and talks to test process k through a
 * pre-created command/reply pipe pair k. Test processes hold no write end of any command pipe, so
 * they read EOF and exit when the helper dies. A pidfd per test process tells when an exit has
 * finished tearing down the mm.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <dirent.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK 18
#define MADV_KEEPONFORK 19
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

#define ARENA 0x100000000000UL
#define ARENA_PAGES (1L << 20) /* 4 GiB of address space; far more than any scenario uses */
#define PAGE 4096UL
#define MAXP 16
#define NFILES 4
#define FILE_PAGES 64
#define PEEK_MAX 256
#define REPLY_TIMEOUT_MS 10000

/* ---------------------------------------------------------------- wire to test processes */

enum { T_MMAP = 1, T_MUNMAP, T_MPROTECT, T_MADVISE, T_MREMAP, T_READ, T_WRITE, T_FORK, T_EXIT, T_PEEK };

struct tcmd {
	int32_t op, prot, flags, fd, advice, value, child, npages;
	uint64_t addr, len, addr2, len2, off;
	uint32_t pages[PEEK_MAX];
};
struct trep {
	int32_t err, value, n, pad;
	uint8_t bytes[PEEK_MAX];
	uint8_t faulted[PEEK_MAX];
};
_Static_assert(sizeof(struct tcmd) <= 4096, "command must fit PIPE_BUF so writes are atomic");
_Static_assert(sizeof(struct trep) <= 4096, "reply must fit PIPE_BUF so writes are atomic");

static int cmd_r[MAXP], cmd_w[MAXP], rep_r[MAXP], rep_w[MAXP];
static int memfd[NFILES];
static dev_t mf_dev[NFILES];
static ino_t mf_ino[NFILES];
static int file_dirty[NFILES];
static int pidfd[MAXP];
static pid_t pids[MAXP];
static int kflags_fd = -1, kcount_fd = -1, devnull = -1;
static pid_t helper_pid;
static uint64_t zero_pfn; /* PFN of the shared zero page if the probe saw it, else 0 */

/* ---------------------------------------------------------------- output buffer */

static char *out;
static size_t out_len, out_cap;

static void emit(const char *fmt, ...) {
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		size_t room = out_cap - out_len;
		int n = vsnprintf(out + out_len, room, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < room) { out_len += (size_t)n; return; }
		out_cap = out_cap ? out_cap * 2 + (size_t)n : 65536;
		out = realloc(out, out_cap);
		if (!out) _exit(3);
	}
}

static void emit_str(const char *s) {
	emit("\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') emit("\\%c", c);
		else if (c < 0x20) emit("\\u%04x", c);
		else emit("%c", c);
	}
	emit("\"");
}

static void flush_out(void) {
	size_t done = 0;
	while (done < out_len) {
		ssize_t n = write(1, out + done, out_len - done);
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) _exit(0); /* client gone */
		done += (size_t)n;
	}
	out_len = 0;
}

static const char *errname(int e) {
	switch (e) {
	case EEXIST: return "EEXIST"; case ENOMEM: return "ENOMEM"; case EINVAL: return "EINVAL";
	case EFAULT: return "EFAULT"; case EPERM: return "EPERM"; case EAGAIN: return "EAGAIN";
	case EBUSY: return "EBUSY"; case EACCES: return "EACCES"; case ENODEV: return "ENODEV";
	case EBADF: return "EBADF"; case EOVERFLOW: return "EOVERFLOW"; case ETXTBSY: return "ETXTBSY";
	default: { static char b[16]; snprintf(b, sizeof b, "E%d", e); return b; }
	}
}

static void reply_ok(void) { emit("{\"ok\":true}\n"); }
static void reply_errno(int e) { emit("{\"ok\":false,\"errno\":\"%s\"}\n", errname(e)); }
static void reply_error(const char *fmt, ...) {
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	emit("{\"ok\":false,\"error\":");
	emit_str(msg);
	emit("}\n");
}

/* ---------------------------------------------------------------- small utils */

static int pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }
static int pidfd_kill(int fd, int sig) { return (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0); }

static int read_full(int fd, void *buf, size_t len) {
	size_t done = 0;
	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) return -1;
		done += (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len) {
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) return -1;
		done += (size_t)n;
	}
	return 0;
}

/* Reads a whole (proc) file into a malloc'd NUL-terminated buffer. */
static char *slurp(const char *path, size_t *lenp) {
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return NULL;
	size_t cap = 16384, len = 0;
	char *b = malloc(cap);
	for (;;) {
		if (len + 4096 > cap) { cap *= 2; b = realloc(b, cap); }
		ssize_t n = read(fd, b + len, cap - len - 1);
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) break;
		len += (size_t)n;
	}
	close(fd);
	b[len] = 0;
	if (lenp) *lenp = len;
	return b;
}

static void read_trim(const char *path, char *dst, size_t cap) {
	char *s = slurp(path, NULL);
	dst[0] = 0;
	if (!s) return;
	size_t n = strcspn(s, "\n");
	if (n >= cap) n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = 0;
	free(s);
}

/* "always [madvise] never" -> "madvise" */
static void bracketed(const char *path, char *dst, size_t cap) {
	char line[64];
	read_trim(path, line, sizeof line);
	char *a = strchr(line, '['), *b = a ? strchr(a, ']') : NULL;
	if (!a || !b) { snprintf(dst, cap, "%s", line); return; }
	*b = 0;
	snprintf(dst, cap, "%s", a + 1);
}

static long vmstat(const char *key) {
	char *s = slurp("/proc/vmstat", NULL);
	long v = -1;
	size_t kl = strlen(key);
	for (char *p = s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncmp(p, key, kl) && p[kl] == ' ') { v = atol(p + kl + 1); break; }
	}
	free(s);
	return v;
}

static uint64_t pread_u64(int fd, uint64_t index, int *ok) {
	uint64_t v = 0;
	*ok = pread(fd, &v, 8, (off_t)(index * 8)) == 8;
	return v;
}

/* ---------------------------------------------------------------- test process side */

static sigjmp_buf fault_jmp;
static volatile sig_atomic_t fault_armed;

static void on_fault(int sig) {
	(void)sig;
	if (fault_armed) siglongjmp(fault_jmp, 1);
	_exit(70);
}

/* Reads or writes byte 0 of a page; returns -1 on SIGSEGV/SIGBUS instead of dying. */
static int touch(uint64_t addr, int write, int value) {
	volatile uint8_t *p = (volatile uint8_t *)addr;
	if (sigsetjmp(fault_jmp, 1)) { fault_armed = 0; return -1; }
	fault_armed = 1;
	int v;
	if (write) { *p = (uint8_t)value; v = value; }
	else v = *p;
	fault_armed = 0;
	return v;
}

static void do_tcmd(struct tcmd *c, struct trep *r) {
	switch (c->op) {
	case T_MMAP: {
		void *want = (void *)c->addr;
		void *p = mmap(want, c->len, c->prot, c->flags | MAP_FIXED_NOREPLACE, c->fd, (off_t)c->off);
		if (p == MAP_FAILED) r->err = errno;
		else if (p != want) { munmap(p, c->len); r->err = EEXIST; } /* pre-4.17 semantics */
		break;
	}
	case T_MUNMAP: if (munmap((void *)c->addr, c->len)) r->err = errno; break;
	case T_MPROTECT: if (mprotect((void *)c->addr, c->len, c->prot)) r->err = errno; break;
	case T_MADVISE: if (madvise((void *)c->addr, c->len, c->advice)) r->err = errno; break;
	case T_MREMAP: {
		void *p = mremap((void *)c->addr, c->len, c->len2, c->flags, (void *)c->addr2);
		if (p == MAP_FAILED) r->err = errno;
		break;
	}
	case T_READ: case T_WRITE: {
		int v = touch(c->addr, c->op == T_WRITE, c->value);
		if (v < 0) r->err = EFAULT; else r->value = v;
		break;
	}
	case T_PEEK:
		for (int i = 0; i < c->npages && i < PEEK_MAX; i++) {
			int v = touch(ARENA + (uint64_t)c->pages[i] * PAGE, 0, 0);
			r->bytes[i] = (uint8_t)(v < 0 ? 0 : v);
			r->faulted[i] = v < 0;
		}
		r->n = c->npages;
		break;
	default: r->err = EINVAL;
	}
}

static void test_main(int id) __attribute__((noreturn));
static void test_main(int id) {
	for (;;) {
		struct tcmd c;
		struct trep r;
		if (read_full(cmd_r[id], &c, sizeof c)) _exit(0); /* helper gone: EOF */
		memset(&r, 0, sizeof r);
		if (c.op == T_EXIT) _exit(0);
		if (c.op == T_FORK) {
			pid_t pid = fork();
			if (pid == 0) { id = c.child; continue; } /* the child now answers as id `child` */
			if (pid < 0) r.err = errno; else r.value = pid;
		} else {
			do_tcmd(&c, &r);
		}
		if (write_full(rep_w[id], &r, sizeof r)) _exit(0);
	}
}

/* ---------------------------------------------------------------- helper: process tree */

/* Empties a pipe without blocking (the read end is shared with test processes, so it cannot be
 * switched to O_NONBLOCK). Messages are atomic, so whole messages are read. */
static void drain(int fd, size_t msg) {
	char buf[sizeof(struct tcmd) > sizeof(struct trep) ? sizeof(struct tcmd) : sizeof(struct trep)];
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	while (poll(&pf, 1, 0) == 1 && (pf.revents & POLLIN) && read(fd, buf, msg) > 0) {}
}

/* Called once process id is dead: nobody reads cmd[id] any more, so a command it never consumed
 * (it died first) would otherwise be the first thing a later process with this id reads. */
static void forget(int id) {
	if (pidfd[id] >= 0) close(pidfd[id]);
	pidfd[id] = -1;
	pids[id] = 0;
	drain(cmd_r[id], sizeof(struct tcmd));
	drain(rep_r[id], sizeof(struct trep));
}

/* Waits until the task behind pidfd is gone: its mm torn down (pidfd readable happens after
 * exit_mm) and, since everyone auto-reaps, its /proc entry released too. */
static int wait_gone(int id) {
	struct pollfd pf = { .fd = pidfd[id], .events = POLLIN };
	int n;
	do n = poll(&pf, 1, REPLY_TIMEOUT_MS); while (n < 0 && errno == EINTR);
	if (n <= 0) return -1;
	for (int i = 0; i < 1000000 && pidfd_kill(pidfd[id], 0) == 0; i++) sched_yield();
	forget(id);
	return 0;
}

static void kill_tree(void) {
	for (int i = 0; i < MAXP; i++) if (pidfd[i] >= 0) pidfd_kill(pidfd[i], SIGKILL);
	for (int i = 0; i < MAXP; i++) if (pidfd[i] >= 0 && wait_gone(i)) {
		fprintf(stderr, "oracle helper: process %d did not die\n", i);
		_exit(4);
	}
}

static void child_setup(void) {
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != helper_pid) _exit(0); /* helper died before PDEATHSIG was armed */
	for (int i = 0; i < MAXP; i++) { close(cmd_w[i]); close(rep_r[i]); }
	if (kflags_fd >= 0) close(kflags_fd);
	if (kcount_fd >= 0) close(kcount_fd);
	dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2);
	close(devnull);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_fault;
	sa.sa_flags = SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

/* Restores byte 0 of every page of files that a shared mapping may have written. */
static void refill_files(int all) {
	for (int f = 0; f < NFILES; f++) {
		if (!all && !file_dirty[f]) continue;
		for (int k = 0; k < FILE_PAGES; k++) {
			uint8_t b = (uint8_t)((0x80 + k) & 0xff);
			if (pwrite(memfd[f], &b, 1, (off_t)(k * PAGE)) != 1) { perror("oracle helper: pwrite"); _exit(5); }
		}
		file_dirty[f] = 0;
	}
}

static int reset_tree(void) {
	kill_tree();
	refill_files(0);
	pid_t pid = fork();
	if (pid < 0) return -1;
	if (pid == 0) { child_setup(); test_main(0); }
	pids[0] = pid;
	pidfd[0] = pidfd_open(pid);
	return pidfd[0] < 0 ? -1 : 0;
}

/* Sends one command to test process id and waits for its reply (or its death). */
static int transact(int id, struct tcmd *c, struct trep *r) {
	if (write_full(cmd_w[id], c, sizeof *c)) return -1;
	struct pollfd pf[2] = { { .fd = rep_r[id], .events = POLLIN }, { .fd = pidfd[id], .events = POLLIN } };
	for (;;) {
		int n = poll(pf, 2, REPLY_TIMEOUT_MS);
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) return -1;
		if (pf[0].revents & POLLIN) return read_full(rep_r[id], r, sizeof *r);
		if (pf[1].revents) { forget(id); return -1; }
	}
}

/* ---------------------------------------------------------------- helper: command parsing */

static int parse_num(const char *s, long *v) {
	if (!s) return -1;
	char *end;
	errno = 0;
	*v = strtol(s, &end, 0);
	return (errno || *end || end == s) ? -1 : 0;
}

static int parse_proc(const char *s, long *v) {
	if (s && (*s == 'P' || *s == 'p')) s++;
	return parse_num(s, v) || *v < 0 || *v >= MAXP ? -1 : 0;
}

static int parse_prot(const char *s) {
	if (!s) return -1;
	if (!strcmp(s, "none")) return PROT_NONE;
	int p = 0;
	for (; *s; s++) {
		if (*s == 'r') p |= PROT_READ;
		else if (*s == 'w') p |= PROT_WRITE;
		else if (*s == 'x') p |= PROT_EXEC;
		else if (*s != '-') return -1;
	}
	return p;
}

static int parse_advice(const char *s) {
	static const struct { const char *n; int v; } t[] = {
		{ "dontneed", MADV_DONTNEED }, { "dontfork", MADV_DONTFORK }, { "dofork", MADV_DOFORK },
		{ "wipeonfork", MADV_WIPEONFORK }, { "keeponfork", MADV_KEEPONFORK },
		{ "hugepage", MADV_HUGEPAGE }, { "nohugepage", MADV_NOHUGEPAGE }, { "free", MADV_FREE },
		{ "cold", 20 }, { "pageout", 21 },
	};
	for (size_t i = 0; s && i < sizeof t / sizeof t[0]; i++) if (!strcmp(s, t[i].n)) return t[i].v;
	return -1;
}

static int in_arena(long pg, long n) { return pg >= 0 && n >= 0 && pg <= ARENA_PAGES && n <= ARENA_PAGES - pg; }

/* Parses "anon", "shared-anon", "file:F@PG", "shared-file:F@PG" into flags/fd/offset. */
static int parse_backing(const char *s, struct tcmd *c, int *shared_file) {
	*shared_file = -1;
	if (!s || !strcmp(s, "anon")) { c->flags = MAP_PRIVATE | MAP_ANONYMOUS; c->fd = -1; return 0; }
	if (!strcmp(s, "shared-anon") || !strcmp(s, "shanon")) { c->flags = MAP_SHARED | MAP_ANONYMOUS; c->fd = -1; return 0; }
	int shared = !strncmp(s, "shared-file:", 12);
	if (!shared && strncmp(s, "file:", 5)) return -1;
	const char *spec = s + (shared ? 12 : 5);
	char *at, *end;
	long f = strtol(spec, &at, 0);
	if (at == spec || *at != '@' || f < 0 || f >= NFILES) return -1;
	long fpg = strtol(at + 1, &end, 0);
	if (end == at + 1 || *end || fpg < 0 || fpg > (1L << 30)) return -1;
	c->flags = shared ? MAP_SHARED : MAP_PRIVATE;
	c->fd = memfd[f];
	c->off = (uint64_t)fpg * PAGE;
	if (shared) *shared_file = (int)f;
	return 0;
}

/* Fills *c from the step tokens; returns NULL or a protocol error message. */
static const char *build_step(char **tok, int nt, struct tcmd *c, int *shared_file) {
	const char *op = tok[1];
	long pg = 0, n = 0, a = 0, b = 0;
	memset(c, 0, sizeof *c);
	*shared_file = -1;
	if (!strcmp(op, "exit")) { c->op = T_EXIT; return nt == 2 ? NULL : "usage: <p> exit"; }
	if (!strcmp(op, "fork")) {
		if (nt != 3 || parse_proc(tok[2], &a)) return "usage: <p> fork <q> (q < 16)";
		c->op = T_FORK; c->child = (int)a; return NULL;
	}
	if (nt < 3 || parse_num(tok[2], &pg)) return "bad page number";
	if (!strcmp(op, "read") || !strcmp(op, "write")) {
		c->op = !strcmp(op, "read") ? T_READ : T_WRITE;
		if (c->op == T_WRITE && (nt != 4 || parse_num(tok[3], &a) || a < 0 || a > 255)) return "usage: <p> write <pg> <byte>";
		if (c->op == T_READ && nt != 3) return "usage: <p> read <pg>";
		if (!in_arena(pg, 1)) return "page outside the arena";
		c->addr = ARENA + (uint64_t)pg * PAGE; c->value = (int)a;
		return NULL;
	}
	if (nt < 4 || parse_num(tok[3], &n)) return "bad page count";
	if (!in_arena(pg, n)) return "range outside the arena";
	c->addr = ARENA + (uint64_t)pg * PAGE; c->len = (uint64_t)n * PAGE;
	if (!strcmp(op, "munmap")) { c->op = T_MUNMAP; return nt == 4 ? NULL : "usage: <p> munmap <pg> <n>"; }
	if (!strcmp(op, "mprotect")) {
		c->op = T_MPROTECT; c->prot = parse_prot(nt == 5 ? tok[4] : NULL);
		return c->prot < 0 ? "usage: <p> mprotect <pg> <n> <prot>" : NULL;
	}
	if (!strcmp(op, "madvise")) {
		c->op = T_MADVISE; c->advice = parse_advice(nt == 5 ? tok[4] : NULL);
		return c->advice < 0 ? "usage: <p> madvise <pg> <n> <advice>" : NULL;
	}
	if (!strcmp(op, "mmap")) {
		c->op = T_MMAP;
		c->prot = parse_prot(nt >= 5 ? tok[4] : NULL);
		if (c->prot < 0) return "bad prot";
		int i = 5;
		const char *backing = (i < nt && strcmp(tok[i], "noreserve")) ? tok[i++] : NULL;
		if (parse_backing(backing, c, shared_file)) return "bad backing (anon|shared-anon|file:F@PG|shared-file:F@PG)";
		if (i < nt && !strcmp(tok[i], "noreserve")) { c->flags |= MAP_NORESERVE; i++; }
		return i == nt ? NULL : "trailing tokens after mmap";
	}
	if (!strcmp(op, "mremap")) {
		if (nt < 6 || parse_num(tok[4], &a) || parse_num(tok[5], &b)) return "usage: <p> mremap <pg> <n> <newpg> <newn> [dontunmap]";
		if (!in_arena(a, b)) return "new range outside the arena";
		int dontunmap = nt == 7 && !strcmp(tok[6], "dontunmap");
		if (nt > 6 && !dontunmap) return "trailing tokens after mremap";
		c->op = T_MREMAP; c->addr2 = ARENA + (uint64_t)a * PAGE; c->len2 = (uint64_t)b * PAGE;
		/* Same start page: in-place resize (flags 0); otherwise an explicit move. DONTUNMAP
		 * without a move is passed on as is, so the kernel answers it (EINVAL). */
		c->flags = (a == pg ? 0 : MREMAP_MAYMOVE | MREMAP_FIXED) | (dontunmap ? MREMAP_DONTUNMAP : 0);
		return NULL;
	}
	return "unknown command";
}

static void cmd_step(char **tok, int nt) {
	long p;
	if (parse_proc(tok[0], &p)) { reply_error("bad process id '%s'", tok[0]); return; }
	struct tcmd c;
	struct trep r;
	int shared_file;
	const char *err = build_step(tok, nt, &c, &shared_file);
	if (err) { reply_error("%s", err); return; }
	int id = (int)p;
	if (pidfd[id] < 0) { reply_error("process %d does not exist", id); return; }
	if (c.op == T_FORK && pidfd[c.child] >= 0) { reply_error("process %d already exists", c.child); return; }
	if (shared_file >= 0) file_dirty[shared_file] = 1;
	if (c.op == T_EXIT) {
		if (write_full(cmd_w[id], &c, sizeof c) || wait_gone(id)) { reply_error("process %d did not exit", id); return; }
		reply_ok();
		return;
	}
	if (transact(id, &c, &r)) { reply_error("process %d died", id); return; }
	if (r.err) { reply_errno(r.err); return; }
	if (c.op == T_FORK) {
		pids[c.child] = r.value;
		pidfd[c.child] = pidfd_open(r.value);
		if (pidfd[c.child] < 0) { reply_error("pidfd_open failed"); return; }
		emit("{\"ok\":true,\"pid\":%d}\n", r.value);
	} else if (c.op == T_READ) {
		emit("{\"ok\":true,\"value\":%d}\n", r.value);
	} else {
		reply_ok();
	}
}

/* ---------------------------------------------------------------- helper: observe */

struct vma { uint64_t s, e, off; char perm[8]; char file[64]; char flags[160]; };

static void file_label(unsigned maj, unsigned min, unsigned long ino, const char *perm, const char *name, char *dst, size_t cap) {
	for (int f = 0; f < NFILES; f++)
		if (ino && ino == mf_ino[f] && makedev(maj, min) == mf_dev[f]) { snprintf(dst, cap, "%d", f); return; }
	if (!ino && !*name) { dst[0] = 0; return; }
	if (perm[3] == 's' && !strncmp(name, "/dev/zero", 9)) { snprintf(dst, cap, "shmem"); return; }
	snprintf(dst, cap, "%s", *name ? name : "?");
}

/* Parses /proc/PID/smaps into the VMAs that lie inside the arena. */
static int read_vmas(pid_t pid, struct vma **vp, int *np) {
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/smaps", pid);
	char *s = slurp(path, NULL);
	if (!s) return -1;
	int n = 0, cap = 16, cur = -1;
	struct vma *v = malloc(sizeof *v * (size_t)cap);
	for (char *line = s; *line;) {
		char *nl = strchr(line, '\n');
		if (nl) *nl = 0;
		unsigned long st, en, off, ino;
		unsigned maj, min;
		char perm[8];
		int pos = 0;
		if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %n", &st, &en, perm, &off, &maj, &min, &ino, &pos) == 7) {
			cur = -1;
			if (st >= ARENA && st < ARENA + (uint64_t)ARENA_PAGES * PAGE) {
				if (n == cap) { cap *= 2; v = realloc(v, sizeof *v * (size_t)cap); }
				cur = n++;
				v[cur].s = st; v[cur].e = en; v[cur].off = off;
				snprintf(v[cur].perm, sizeof v[cur].perm, "%s", perm);
				file_label(maj, min, ino, perm, line + pos, v[cur].file, sizeof v[cur].file);
				v[cur].flags[0] = 0;
			}
		} else if (cur >= 0 && !strncmp(line, "VmFlags:", 8)) {
			char *f = line + 8;
			while (*f == ' ') f++;
			size_t l = strlen(f);
			while (l && f[l - 1] == ' ') f[--l] = 0;
			snprintf(v[cur].flags, sizeof v[cur].flags, "%s", f);
		}
		if (!nl) break;
		line = nl + 1;
	}
	free(s);
	*vp = v;
	*np = n;
	return 0;
}

/* Asks process id to read byte 0 of the given pages (all present and readable, so no fault). */
static int peek(int id, const uint32_t *pages, int n, int *content) {
	for (int at = 0; at < n; at += PEEK_MAX) {
		struct tcmd c;
		struct trep r;
		memset(&c, 0, sizeof c);
		c.op = T_PEEK;
		c.npages = n - at < PEEK_MAX ? n - at : PEEK_MAX;
		memcpy(c.pages, pages + at, sizeof(uint32_t) * (size_t)c.npages);
		if (transact(id, &c, &r)) return -1;
		for (int i = 0; i < c.npages; i++) content[at + i] = r.faulted[i] ? -1 : r.bytes[i];
	}
	return 0;
}

static int observe_proc(int id) {
	struct vma *v;
	int nv;
	if (read_vmas(pids[id], &v, &nv)) return -1;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/pagemap", pids[id]);
	int pm = open(path, O_RDONLY | O_CLOEXEC);
	if (pm < 0) { free(v); return -1; }
	long total = 0;
	for (int i = 0; i < nv; i++) total += (long)((v[i].e - v[i].s) / PAGE);
	uint64_t *ent = calloc((size_t)total + 1, 8);
	uint32_t *peekpg = malloc(sizeof(uint32_t) * ((size_t)total + 1));
	int *content = malloc(sizeof(int) * ((size_t)total + 1));
	int *peekidx = malloc(sizeof(int) * ((size_t)total + 1));
	int *pc = NULL, npeek = 0, rc = -1;
	long k = 0;
	for (int i = 0; i < nv; i++) {
		long cnt = (long)((v[i].e - v[i].s) / PAGE);
		if (pread(pm, ent + k, (size_t)cnt * 8, (off_t)(v[i].s / PAGE * 8)) != cnt * 8) goto fail;
		for (long j = 0; j < cnt; j++, k++) {
			content[k] = -1;
			if ((ent[k] >> 63) & 1 && v[i].perm[0] == 'r') {
				peekidx[npeek] = (int)k;
				peekpg[npeek++] = (uint32_t)((v[i].s - ARENA) / PAGE + (uint64_t)j);
			}
		}
	}
	close(pm);
	pm = -1;
	pc = malloc(sizeof(int) * ((size_t)npeek + 1));
	if (peek(id, peekpg, npeek, pc)) goto fail;
	for (int i = 0; i < npeek; i++) content[peekidx[i]] = pc[i];
	emit("{\"id\":%d,\"pid\":%d,\"vmas\":[", id, pids[id]);
	for (int i = 0; i < nv; i++) {
		emit("%s{\"s\":%lu,\"e\":%lu,\"perm\":\"%s\",\"off\":%lu,\"file\":", i ? "," : "",
		     (unsigned long)((v[i].s - ARENA) / PAGE), (unsigned long)((v[i].e - ARENA) / PAGE), v[i].perm,
		     (unsigned long)(v[i].off / PAGE));
		emit_str(v[i].file);
		emit(",\"flags\":");
		emit_str(v[i].flags);
		emit("}");
	}
	emit("],\"pages\":[");
	k = 0;
	for (int i = 0; i < nv; i++) {
		long cnt = (long)((v[i].e - v[i].s) / PAGE);
		for (long j = 0; j < cnt; j++, k++) {
			uint64_t e = ent[k], pfn = e & ((1ULL << 55) - 1);
			int present = (int)((e >> 63) & 1);
			unsigned long pg = (unsigned long)((v[i].s - ARENA) / PAGE + (uint64_t)j);
			emit("%s{\"pg\":%lu,\"p\":%d,\"sw\":%d,\"g\":%d,\"f\":%d,\"x\":%d", k ? "," : "", pg, present,
			     (int)((e >> 62) & 1), (int)((e >> 58) & 1), (int)((e >> 61) & 1), (int)((e >> 56) & 1));
			if (present) {
				int okf = 0, okc = 0;
				uint64_t fl = kflags_fd >= 0 && pfn ? pread_u64(kflags_fd, pfn, &okf) : 0;
				uint64_t cntv = kcount_fd >= 0 && pfn ? pread_u64(kcount_fd, pfn, &okc) : 0;
				int anon = okf && ((fl >> 12) & 1);
				int zero = (okf && ((fl >> 24) & 1)) || (zero_pfn && pfn == zero_pfn);
				emit(",\"pfn\":%llu,\"anon\":%d,\"ax\":%d,\"zero\":%d,\"thp\":%d,\"ksm\":%d", (unsigned long long)pfn,
				     anon, anon && ((fl >> 34) & 1), zero, okf && ((fl >> 22) & 1), okf && ((fl >> 21) & 1));
				if (okc) emit(",\"mc\":%llu", (unsigned long long)cntv);
				if (content[k] >= 0) emit(",\"c\":%d", content[k]);
			}
			emit("}");
		}
	}
	emit("]}");
	rc = 0;
fail:
	if (pm >= 0) close(pm);
	free(v); free(ent); free(peekpg); free(content); free(peekidx); free(pc);
	return rc;
}

static void cmd_observe(void) {
	size_t mark = out_len;
	emit("{\"ok\":true,\"migr\":%ld,\"procs\":[", vmstat("pgmigrate_success"));
	int first = 1;
	for (int id = 0; id < MAXP; id++) {
		if (pidfd[id] < 0) continue;
		if (!first) emit(",");
		first = 0;
		if (observe_proc(id)) { out_len = mark; reply_error("observing process %d failed", id); return; }
	}
	emit("]}\n");
}

/* ---------------------------------------------------------------- helper: environment */

/* Faults a fresh private anon page in by reading it and looks at what got mapped. Stock kernels
 * map the shared zero page; some (PVM guests with pvm_no_zero_page=1) allocate a real page. */
static void probe_zero_page(int *zero, const char **method) {
	volatile uint8_t *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	*zero = 0; *method = "failed";
	if (p == MAP_FAILED) return;
	(void)p[0];
	(void)p[PAGE];
	int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC), ok0 = 0, ok1 = 0;
	uint64_t e0 = pm >= 0 ? pread_u64(pm, (uint64_t)p / PAGE, &ok0) : 0;
	uint64_t e1 = pm >= 0 ? pread_u64(pm, (uint64_t)p / PAGE + 1, &ok1) : 0;
	if (pm >= 0) close(pm);
	uint64_t pfn0 = e0 & ((1ULL << 55) - 1), pfn1 = e1 & ((1ULL << 55) - 1);
	int okf = 0;
	uint64_t fl = kflags_fd >= 0 && pfn0 ? pread_u64(kflags_fd, pfn0, &okf) : 0;
	if (!ok0 || !ok1 || !((e0 >> 63) & 1)) *method = "failed";
	else if (okf) { *zero = (int)((fl >> 24) & 1); *method = "kpageflags"; }
	else if (pfn0) { *zero = pfn0 == pfn1; *method = "pfn"; }
	else { *zero = !((e0 >> 56) & 1); *method = "exclusive-bit"; } /* zero page is never counted */
	if (*zero && pfn0) zero_pfn = pfn0;
	munmap((void *)p, 2 * PAGE);
}

static void emit_mthp(void) {
	DIR *d = opendir("/sys/kernel/mm/transparent_hugepage");
	int first = 1;
	emit("[");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, "hugepages-", 10)) continue;
		char path[512], mode[64];
		snprintf(path, sizeof path, "/sys/kernel/mm/transparent_hugepage/%s/enabled", de->d_name);
		bracketed(path, mode, sizeof mode);
		if (!*mode || !strcmp(mode, "never")) continue; /* some sizes exist only for shmem */
		emit("%s\"%s:%s\"", first ? "" : ",", de->d_name + 10, mode);
		first = 0;
	}
	if (d) closedir(d);
	emit("]");
}

static int env_zero, env_cpu;
static const char *env_zero_method;

static void cmd_env(void) {
	struct utsname u;
	uname(&u);
	char thp[64], shmem_thp[64], ksm[16], oc[16], pvm[16];
	bracketed("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof thp);
	bracketed("/sys/kernel/mm/transparent_hugepage/shmem_enabled", shmem_thp, sizeof shmem_thp);
	read_trim("/sys/kernel/mm/ksm/run", ksm, sizeof ksm);
	read_trim("/proc/sys/vm/overcommit_memory", oc, sizeof oc);
	read_trim("/sys/module/kernel/parameters/pvm_no_zero_page", pvm, sizeof pvm);
	emit("{\"env\":true,\"release\":");
	emit_str(u.release);
	emit(",\"zeroPage\":%s,\"zeroPageMethod\":\"%s\",\"zeroPfn\":%llu,\"pvmNoZeroPage\":", env_zero ? "true" : "false",
	     env_zero_method, (unsigned long long)zero_pfn);
	emit_str(pvm);
	emit(",\"thp\":");
	emit_str(thp);
	emit(",\"shmemThp\":");
	emit_str(shmem_thp);
	emit(",\"mthp\":");
	emit_mthp();
	emit(",\"thpDisabled\":%s,\"ksm\":%d,\"overcommit\":%d,\"kpage\":%s,\"root\":%s,\"migr\":%ld,\"cpu\":%d,"
	     "\"helperPid\":%d,\"arena\":\"0x%lx\",\"arenaPages\":%ld,\"maxProcs\":%d,\"files\":%d,\"filePages\":%d}\n",
	     prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1 ? "true" : "false", atoi(ksm), atoi(oc),
	     kflags_fd >= 0 ? "true" : "false", geteuid() == 0 ? "true" : "false", vmstat("pgmigrate_success"), env_cpu,
	     helper_pid, ARENA, ARENA_PAGES, MAXP, NFILES, FILE_PAGES);
}

/* ---------------------------------------------------------------- helper: main loop */

static char inbuf[1 << 16];
static size_t in_len, in_pos;

/* Returns the next stdin line; flushes replies only when about to block, so a pipelined batch
 * of commands costs one write in each direction. */
static char *next_line(void) {
	for (;;) {
		char *nl = memchr(inbuf + in_pos, '\n', in_len - in_pos);
		if (nl) { *nl = 0; char *l = inbuf + in_pos; in_pos = (size_t)(nl - inbuf) + 1; return l; }
		memmove(inbuf, inbuf + in_pos, in_len - in_pos);
		in_len -= in_pos; in_pos = 0;
		if (in_len == sizeof inbuf) in_len = 0; /* overlong line: drop it */
		struct pollfd pf = { .fd = 0, .events = POLLIN };
		if (poll(&pf, 1, 0) <= 0) flush_out();
		ssize_t n = read(0, inbuf + in_len, sizeof inbuf - in_len);
		if (n < 0 && errno == EINTR) continue;
		if (n <= 0) return NULL;
		in_len += (size_t)n;
	}
}

static void setup(void) {
	helper_pid = getpid();
	const char *cpu = getenv("ORACLE_CPU");
	env_cpu = cpu && *cpu ? atoi(cpu) : 0;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(env_cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set)) {
		printf("{\"ok\":false,\"error\":\"cannot pin to cpu %d: %s\"}\n", env_cpu, strerror(errno));
		exit(2);
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	signal(SIGCHLD, SIG_IGN); /* auto-reap every test process (inherited by all of them) */
	signal(SIGPIPE, SIG_IGN);
	kflags_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	kcount_fd = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int f = 0; f < NFILES; f++) {
		char name[32];
		struct stat st;
		snprintf(name, sizeof name, "vmacheck-file%d", f);
		memfd[f] = memfd_create(name, 0);
		if (memfd[f] < 0 || ftruncate(memfd[f], (off_t)(FILE_PAGES * PAGE)) || fstat(memfd[f], &st)) {
			printf("{\"ok\":false,\"error\":\"memfd: %s\"}\n", strerror(errno));
			exit(2);
		}
		mf_dev[f] = st.st_dev; mf_ino[f] = st.st_ino;
	}
	refill_files(1);
	for (int i = 0; i < MAXP; i++) {
		int c[2], r[2];
		if (pipe(c) || pipe(r)) { printf("{\"ok\":false,\"error\":\"pipe: %s\"}\n", strerror(errno)); exit(2); }
		cmd_r[i] = c[0]; cmd_w[i] = c[1]; rep_r[i] = r[0]; rep_w[i] = r[1];
		pidfd[i] = -1;
	}
	probe_zero_page(&env_zero, &env_zero_method);
}

int main(void) {
	setup();
	cmd_env();
	flush_out();
	if (reset_tree()) { printf("{\"ok\":false,\"error\":\"cannot create process 0\"}\n"); return 2; }
	char *line;
	while ((line = next_line())) {
		char *hash = strchr(line, '#');
		if (hash) *hash = 0;
		char *tok[16];
		int nt = 0;
		for (char *t = strtok(line, " \t\r"); t && nt < 16; t = strtok(NULL, " \t\r")) tok[nt++] = t;
		if (nt == 0) continue;
		if (!strcmp(tok[0], "reset")) {
			if (reset_tree()) reply_error("reset failed"); else emit("{\"ok\":true,\"pid\":%d}\n", pids[0]);
		} else if (!strcmp(tok[0], "observe")) cmd_observe();
		else if (!strcmp(tok[0], "env")) cmd_env();
		else if (!strcmp(tok[0], "ping")) reply_ok();
		else if (!strcmp(tok[0], "quit")) break;
		else if (nt >= 2) cmd_step(tok, nt);
		else reply_error("unknown command '%s'", tok[0]);
	}
	kill_tree();
	reply_ok();
	flush_out();
	return 0;
}
